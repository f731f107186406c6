/**
 * What both cgroup managers do the same way: create a directory path level by level
 * (remembering what they made, to undo it), write the limits' files, list and kill the
 * processes of a cgroup and of the cgroups nested in it, and remove it.
 *
 * @module
 */

import type { CgroupFs } from "./fs.ts";
import { CgroupUnsupportedError, CgroupWriteError } from "./errors.ts";
import { type CgroupVersion, type LimitFile, limitFiles } from "./resources.ts";
import type { ResourceLimits } from "../config/limits.ts";

export { parseProcCgroup } from "./detect.ts";

/** The directory above `dir`. */
export function parentDir(dir: string): string {
  return dir.slice(0, dir.lastIndexOf("/"));
}

/**
 * Creates `dir` and any missing parents below `stopAt`, calling `onCreate` for each new
 * level from the top down. Returns the directories it created, deepest last; on failure
 * removes them again and throws.
 *
 * @example
 * ```ts
 * mkdirLevels(fs, "/sys/fs/cgroup/pids", "/sys/fs/cgroup/pids/m-docker/m-docker-<id>");
 * ```
 */
export function mkdirLevels(
  fs: CgroupFs,
  stopAt: string,
  dir: string,
  onCreate: (created: string) => void = () => {},
): string[] {
  const missing: string[] = [];
  for (let d = dir; d.length > stopAt.length && !fs.exists(d); d = parentDir(d)) {
    missing.unshift(d);
  }
  const created: string[] = [];
  try {
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
  } catch (e) {
    removeQuietly(fs, created);
    throw e;
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

/**
 * Runs `attempt` (a whole create) again, up to three times in all, if it failed while the
 * parent of one of `dirs` vanished: a concurrent failed create, or a cleanup, may rmdir a
 * shared parent between our mkdirs.
 */
export function retryIfParentsVanish(
  fs: CgroupFs,
  dirs: string[],
  attempt: () => void,
): void {
  for (let n = 1;; n++) {
    try {
      return attempt();
    } catch (e) {
      const vanished = dirs.some((d) => !fs.exists(parentDir(d)));
      if (n >= 3 || !vanished) throw e;
    }
  }
}

/**
 * Writes the limits' files in order. `dirOf` gives the directory that holds a controller's
 * files, or undefined when this cgroup has none; `lacking` says why a file that must be
 * written is not there. A missing optional file is skipped: its value is the default.
 *
 * @example
 * ```ts
 * writeLimitFiles(fs, limitFiles(limits, "v2"), () => dir, (f) => `no ${f.controller}`);
 * ```
 */
export function writeLimitFiles(
  fs: CgroupFs,
  files: LimitFile[],
  dirOf: (controller: string) => string | undefined,
  lacking: (file: LimitFile, dir: string | undefined) => string,
): void {
  for (const f of files) {
    const dir = dirOf(f.controller);
    let path = dir === undefined ? undefined : `${dir}/${f.file}`;
    let value = f.value;
    if (path !== undefined && f.fallback && !fs.exists(path)) {
      const other = `${dir}/${f.fallback.file}`;
      if (fs.exists(other)) [path, value] = [other, f.fallback.value];
    }
    if (path === undefined || !fs.exists(path)) {
      if (f.optional) continue;
      const why = (dir !== undefined && f.unsupported) || lacking(f, dir);
      throw new CgroupUnsupportedError(f.controller, f.file, why);
    }
    try {
      fs.write(path, value);
    } catch (e) {
      if (!(e instanceof CgroupWriteError)) throw e;
      throw new CgroupWriteError(e.path, e.value, e.errno, {
        detail: e.message,
        cause: e,
        appliesLimit: true,
      });
    }
  }
}

/**
 * The files of `next` that an update must write: those whose value differs from what
 * `previous` wrote (or that `previous` did not write at all), in `limitFiles`' order.
 *
 * @example
 * ```ts
 * changedLimitFiles({ pidsLimit: 10 }, { pidsLimit: 20, cpuShares: 512 }, "v2");
 * // [{ controller: "cpu", file: "cpu.weight", ... }, { controller: "pids", file: "pids.max", value: "20" }]
 * ```
 */
export function changedLimitFiles(
  previous: ResourceLimits,
  next: ResourceLimits,
  version: CgroupVersion,
): LimitFile[] {
  const before = new Map(limitFiles(previous, version).map((f) => [f.file, f.value]));
  return limitFiles(next, version).filter((f) => before.get(f.file) !== f.value);
}

/**
 * Polls `done` every millisecond until it holds, for at most `timeoutMs`; false if it never
 * did. For kernel state that settles asynchronously (a freezer reaching FROZEN).
 */
export function waitSync(done: () => boolean, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() > deadline) return false;
    sleepSync(1);
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

/**
 * A cgroup and every cgroup nested in it (made by a program inside the container), parents
 * before children; nothing if it is gone.
 */
export function cgroupTree(fs: CgroupFs, dir: string): string[] {
  let children: string[];
  try {
    children = fs.readdir(dir);
  } catch (e) {
    if (!fs.exists(dir)) return [];
    throw e;
  }
  return [dir, ...children.flatMap((c) => cgroupTree(fs, `${dir}/${c}`))];
}

/** The processes in the cgroups `dirs` and in those nested in them, each once, sorted. */
export function procsInTrees(fs: CgroupFs, dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    for (const d of cgroupTree(fs, dir)) for (const pid of readProcs(fs, d)) pids.add(pid);
  }
  return [...pids].sort((a, b) => a - b);
}

/** Sleeps synchronously (these managers run where awaiting is not an option). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Sends `signal` to each process, ignoring those that are already gone. */
export function signalEach(pids: number[], signal: Deno.Signal): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, signal);
    } catch {
      // Exited meanwhile.
    }
  }
}

/** How `killUntilEmpty` stops the processes from forking while they are being killed. */
export interface Freezer {
  freeze(): void;
  thaw(): void;
}

/**
 * SIGKILLs every process in the cgroups `dirs` (and those nested in them) until they are
 * empty, for at most `timeoutMs`. With a `freezer`, the processes are stopped first, so
 * none can fork a child we would miss.
 */
export function killUntilEmpty(
  fs: CgroupFs,
  dirs: string[],
  freezer?: Freezer,
  timeoutMs = 5000,
): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Most cgroups are empty by the time they are destroyed: no freeze for those.
    let pids = procsInTrees(fs, dirs);
    if (pids.length === 0) return;
    if (freezer) {
      freezer.freeze();
      try {
        pids = procsInTrees(fs, dirs);
        signalEach(pids, "SIGKILL");
      } finally {
        // A frozen process cannot die: the kill takes effect when it is thawed.
        freezer.thaw();
      }
    } else {
      signalEach(pids, "SIGKILL");
    }
    if (Date.now() > deadline) {
      throw new Error(`cgroup ${dirs[0]}: processes ${pids.join(", ")} did not die`);
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

/**
 * Removes the cgroups `dirs` with one rmdir apiece when each is empty and has no children:
 * what a container leaves once its PID 1 has exited (and, with it, its PID namespace). True
 * when all are gone (missing ones count); false at the first still in use, after which the
 * caller kills and removes the usual way (killUntilEmpty, removeCgroupTree), which skips
 * what this removed. Why: that way reads every hierarchy's tree and cgroup.procs twice, 1.5-2
 * ms of every `run --rm` and `rm` on v1's nine hierarchies, for what is nearly always empty.
 */
export function removeIfEmpty(fs: CgroupFs, dirs: readonly string[]): boolean {
  for (const dir of dirs) {
    try {
      fs.rmdir(dir);
    } catch {
      if (fs.exists(dir)) return false;
    }
  }
  return true;
}

/** Removes a cgroup and the cgroups nested in it, deepest first. Gone already is fine. */
export function removeCgroupTree(fs: CgroupFs, dir: string): void {
  for (const d of cgroupTree(fs, dir).reverse()) rmdirWithRetry(fs, d);
}

/** The number after `key` in a flat-keyed file such as memory.events (`oom_kill 1`). */
export function readCounter(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}
