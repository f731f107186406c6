/**
 * What both cgroup managers do the same way: create a directory path level by level
 * (remembering what they made, to undo it), empty a cgroup of processes, and remove it.
 *
 * @module
 */

import type { CgroupFs } from "./fs.ts";

/**
 * Creates `dir` and any missing parents below `stopAt`, calling `onCreate` for each new
 * level from the top down. Returns the directories it created, deepest last.
 */
export function mkdirLevels(
  fs: CgroupFs,
  stopAt: string,
  dir: string,
  onCreate: (created: string) => void = () => {},
): string[] {
  const missing: string[] = [];
  for (let d = dir; d.length > stopAt.length && !fs.exists(d); d = d.slice(0, d.lastIndexOf("/"))) {
    missing.unshift(d);
  }
  const created: string[] = [];
  for (const d of missing) {
    try {
      fs.mkdir(d);
    } catch (e) {
      // A concurrent container may have made the shared parent meanwhile.
      if (!fs.exists(d)) throw e;
      continue;
    }
    created.push(d);
    onCreate(d);
  }
  return created;
}

/** Removes directories, deepest first, ignoring those already gone or still in use. */
export function removeQuietly(fs: CgroupFs, dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      fs.rmdir(d);
    } catch {
      // In use by a sibling container, or already gone.
    }
  }
}

/** The PIDs listed in a cgroup.procs file, or none if the cgroup is gone. */
export function readProcs(fs: CgroupFs, dir: string): number[] {
  try {
    return fs.read(`${dir}/cgroup.procs`).split("\n").filter((l) => l).map(Number);
  } catch (e) {
    // Removed meanwhile (a concurrent `rm -f` and the shim both clean up): it is empty.
    if (!fs.exists(dir)) return [];
    throw e;
  }
}

/** Sleeps synchronously (these managers run where awaiting is not an option). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * SIGKILLs every process in `dir` until it is empty, for at most `timeoutMs`. `freeze` and
 * `thaw`, when given, stop the processes first so none can fork while being killed.
 */
export function killAllIn(
  fs: CgroupFs,
  dir: string,
  freeze?: () => void,
  thaw?: () => void,
  timeoutMs = 5000,
): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = readProcs(fs, dir);
    if (pids.length === 0) return;
    freeze?.();
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    thaw?.();
    if (Date.now() > deadline) {
      throw new Error(`cgroup ${dir}: processes ${pids.join(", ")} did not die`);
    }
    sleepSync(5);
  }
}

/** rmdir, retrying briefly while the kernel still counts dying tasks in the cgroup. */
export function rmdirWithRetry(fs: CgroupFs, dir: string, timeoutMs = 2000): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!fs.exists(dir)) return;
    try {
      fs.rmdir(dir);
      return;
    } catch (e) {
      if (!fs.exists(dir)) return;
      if (Date.now() > deadline) throw e;
      sleepSync(5);
    }
  }
}

/** Parses /proc/self/cgroup: hierarchy controllers (`""` for v2) to the caller's path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const first = line.indexOf(":"), second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    out.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return out;
}
