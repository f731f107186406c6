/**
 * Cgroups behind one interface: v1, v2, and the hybrid layout (v1 controllers with an
 * empty cgroup2 beside them), detected at run time. A container's cgroup is created with
 * its limits before its process runs, joined by its init, and removed with it.
 *
 * Where: `<parent>/m-docker-<id>`. A relative parent (the default, `m-docker`) nests under
 * the caller's own cgroup in each hierarchy, like runc's relative cgroupsPath, so m-docker
 * never creates cgroups outside the cgroup it was started in; an absolute one is relative
 * to the hierarchy's root.
 *
 * @module
 */

import { close, O, open, writeAsync } from "../../ffi/libc.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";
import { parseProcCgroup } from "./common.ts";

export { parseProcCgroup };
import type { ResourceLimits } from "./limits.ts";
import { UsageError } from "../util/errors.ts";
import { CgroupV1Manager, v1Hierarchies } from "./v1.ts";
import { CgroupV2Manager } from "./v2.ts";

/** How the host's cgroups are mounted. */
export type CgroupLayout = "v1" | "v2" | "hybrid";

/** One container's cgroup, in every hierarchy it spans. */
export interface CgroupManager {
  readonly layout: CgroupLayout;
  /**
   * Absolute directories of this container's cgroup, keyed by hierarchy (v1: the mount's
   * directory name such as `memory`; v2: `unified`). Persisted so any process can reopen it.
   */
  readonly paths: Record<string, string>;
  /** Creates the cgroup and writes the limits; on failure removes what it made, and throws. */
  create(limits: ResourceLimits): void;
  /** Moves a process (all its threads) into the cgroup. */
  addProcess(pid: number): void;
  /** True when the kernel's OOM killer killed a process in this cgroup. */
  oomKilled(): boolean;
  /** The processes in the cgroup. */
  pids(): number[];
  /** Kills every process in the cgroup and waits (bounded) until it is empty. */
  killAll(): void;
  /** Kills what is left and removes the cgroup. Missing directories are fine. */
  destroy(): void;
  /**
   * Moves the calling thread (v1; on v2 the whole process, since v2 places processes, not
   * threads) into the cgroup, so that what it spawns starts there. Returns how to go back.
   */
  enterCallingThread(): () => void;
}

/** The default parent of containers' cgroups, relative to the caller's own cgroup. */
export const DEFAULT_CGROUP_PARENT = "m-docker";

/** Reads the layout from the mount table. */
export function detectCgroupLayout(
  cgroupRoot = "/sys/fs/cgroup",
  mounts = Deno.readTextFileSync("/proc/self/mounts"),
): CgroupLayout {
  const types = new Map<string, string>();
  for (const line of mounts.split("\n")) {
    const [, target, type] = line.split(" ");
    if (type === "cgroup" || type === "cgroup2") types.set(target, type);
  }
  if (types.get(cgroupRoot) === "cgroup2") return "v2";
  const hasV1 = [...types.values()].includes("cgroup");
  if (hasV1 && types.get(`${cgroupRoot}/unified`) === "cgroup2") return "hybrid";
  if (hasV1) return "v1";
  throw new Error(`no cgroup filesystem is mounted under ${cgroupRoot}`);
}

/** Checks a `--cgroup-parent` value: path segments only, no `..`, no empty segments. */
export function validateCgroupParent(parent: string): void {
  const segments = parent.replace(/^\//, "").split("/");
  if (
    parent === "" ||
    segments.some((s) => s === "" || s === "." || s === ".." || /[\0\n]/.test(s))
  ) {
    throw new UsageError(
      `invalid cgroup parent "${parent}": use a path such as "m-docker" or "/m-docker/web", without ".."`,
    );
  }
}

/** Where a container's cgroup goes in one hierarchy mounted at `mount`. */
export function containerCgroupDir(
  mount: string,
  ownPath: string,
  parent: string,
  id: string,
): string {
  const base = parent.startsWith("/") ? "" : ownPath.replace(/\/$/, "");
  const p = parent.replace(/^\/+|\/+$/g, "");
  return `${mount}${base}/${p}/m-docker-${id}`;
}

/** Options for `newCgroupManager`. */
export interface NewCgroupOptions {
  id: string;
  parent?: string;
  cgroupRoot?: string;
  procSelfCgroup?: string;
  mounts?: string;
  layout?: CgroupLayout;
  fs?: CgroupFs;
}

/** A manager for a new container's cgroup (nothing is created until `create`). */
export function newCgroupManager(opts: NewCgroupOptions): CgroupManager {
  const parent = opts.parent ?? DEFAULT_CGROUP_PARENT;
  validateCgroupParent(parent);
  const root = opts.cgroupRoot ?? "/sys/fs/cgroup";
  const mounts = opts.mounts ?? Deno.readTextFileSync("/proc/self/mounts");
  const layout = opts.layout ?? detectCgroupLayout(root, mounts);
  const own = parseProcCgroup(opts.procSelfCgroup ?? Deno.readTextFileSync("/proc/self/cgroup"));
  const fs = opts.fs ?? realCgroupFs;
  if (layout === "v2") {
    const dir = containerCgroupDir(root, own.get("") ?? "/", parent, opts.id);
    return new CgroupV2Manager({ unified: dir }, fs, root);
  }
  const paths: Record<string, string> = {};
  for (const h of v1Hierarchies(root, mounts)) {
    const ownPath = [...own.entries()].find(([controllers]) =>
      controllers !== "" && controllers.split(",").every((c) =>
        h.options.includes(c)
      )
    )?.[1] ?? "/";
    paths[h.name] = containerCgroupDir(h.mount, ownPath, parent, opts.id);
  }
  return new CgroupV1Manager(paths, fs, layout);
}

/** Reopens a container's cgroup from its persisted layout and paths. */
export function openCgroupManager(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs = realCgroupFs,
): CgroupManager {
  return layout === "v2" ? new CgroupV2Manager(paths, fs) : new CgroupV1Manager(paths, fs, layout);
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
