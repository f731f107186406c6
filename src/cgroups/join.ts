/**
 * Getting a new process into a container's existing cgroup, from its persisted layout and
 * paths alone: what `exec` (and a direct start's child) needs, without either cgroup
 * manager. Why its own module: the managers (v1's, and v2's with its BPF device filter
 * compiler: a 40 KB chunk) cost every `exec` about 1.3 ms of CPU to load (measured), and
 * loading only the layout's manager by a dynamic import made exec slower still (a dynamic
 * import costs about 0.5 ms here). runc's exec, likewise, only writes the cgroup's files.
 * The managers' `childPlacement` and `enterForSpawning` are these functions, so both ways
 * place a process the same.
 *
 * Also `warmUpCgroupMigration`, which both exec and start use.
 *
 * @module
 */

import { close, O, open, writeAsync } from "../../ffi/libc.ts";
import type { CgroupLayout, ChildPlacement } from "./types.ts";
import type { CgroupFs } from "./fs.ts";
import { parseProcCgroup } from "./detect.ts";

/**
 * How a child that ffi/nsclone.ts spawns starts in the cgroup with no one migrating it:
 * v1's `tasks` files, which the child writes "0" to (a thread that names itself so moves
 * without the global threadgroup lock), or v2's directory, which clone3 is given.
 *
 * @example
 * ```ts
 * childPlacementOf("v2", { unified: "/sys/fs/cgroup/m-docker/m-docker-ab" });
 * // { bornIn: "/sys/fs/cgroup/m-docker/m-docker-ab" }
 * ```
 */
export function childPlacementOf(
  layout: CgroupLayout,
  paths: Record<string, string>,
): ChildPlacement {
  if (layout === "v2") return { bornIn: paths.unified };
  return { tasksFiles: Object.values(paths).map((dir) => `${dir}/tasks`) };
}

/** A v1 hierarchy's mount point: the one recorded, or the path up to the hierarchy's name. */
export function v1MountOf(
  paths: Record<string, string>,
  name: string,
  mountPoints: Record<string, string> = {},
): string {
  const dir = paths[name];
  return mountPoints[name] ?? dir.slice(0, dir.indexOf(`/${name}/`) + name.length + 1);
}

/**
 * Moves the calling thread (v1) or this process (v2) into the cgroup, so that what it
 * spawns next is born there; returns the move back.
 *
 * @example
 * ```ts
 * const leave = enterCgroupForSpawning(state.cgroup.layout, state.cgroup.paths, realCgroupFs);
 * try { spawn(); } finally { leave(); }
 * ```
 */
export function enterCgroupForSpawning(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs,
  root = "/sys/fs/cgroup",
  mountPoints: Record<string, string> = {},
): () => void {
  if (layout === "v2") {
    const own = Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)?.[1] ?? "/";
    const back = `${root}${own === "/" ? "" : own}/cgroup.procs`;
    fs.write(`${paths.unified}/cgroup.procs`, String(Deno.pid));
    return () => fs.write(back, String(Deno.pid));
  }
  // "0", not our tid: a thread that names itself so moves without the global threadgroup
  // lock (see childPlacementOf), and only this thread moves either way.
  const own = parseProcCgroup(Deno.readTextFileSync("/proc/thread-self/cgroup"));
  const back: string[] = [];
  for (const [name, dir] of Object.entries(paths)) {
    const mount = v1MountOf(paths, name, mountPoints);
    const entry = [...own].find(([c]) => c !== "" && c.replace(/^name=/, "") === name);
    if (entry) back.push(`${mount}${entry[1] === "/" ? "" : entry[1]}/tasks`);
    fs.write(`${dir}/tasks`, "0");
  }
  return () => {
    for (const file of back) fs.write(file, "0");
  };
}

/**
 * Moves this process into the cgroup it is already in, in one hierarchy, asynchronously.
 *
 * Why: any write to cgroup.procs takes the kernel's global cgroup-migration lock, whose
 * first taking waits for an RCU grace period (10-20 ms measured here); later writes within
 * a grace period are fast (~0.1 ms). Doing this no-op move while init boots makes the real
 * join afterwards cheap. Failure is harmless: the join is merely slower.
 */
export function warmUpCgroupMigration(cgroupRoot = "/sys/fs/cgroup"): Promise<void> {
  try {
    const own = parseProcCgroup(Deno.readTextFileSync("/proc/self/cgroup"));
    let dir: string | undefined;
    for (const [controllers, path] of own) {
      if (controllers === "") continue;
      dir = `${cgroupRoot}/${controllers.replace(/^name=/, "")}${path === "/" ? "" : path}`;
      break;
    }
    const unified = own.get("") ?? "/";
    dir ??= `${cgroupRoot}${unified === "/" ? "" : unified}`;
    // One write on a worker thread, started now: the caller goes on while it waits.
    const fd = open(`${dir}/cgroup.procs`, O.WRONLY | O.CLOEXEC);
    return writeAsync(fd, new TextEncoder().encode(String(Deno.pid))).then(() => close(fd));
  } catch {
    return Promise.resolve(); // only an optimisation
  }
}
