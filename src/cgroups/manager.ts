/**
 * Cgroups behind one interface: v1, v2, and the hybrid layout (v1 controllers with an
 * empty cgroup2 beside them), detected at run time. A container's cgroup is created with
 * its limits before its process runs, joined by its init, and removed with it.
 *
 * Where: `<parent>/m-docker-<id>` in each hierarchy. A relative parent (the default,
 * `m-docker`) nests under the caller's own cgroup in each hierarchy, like runc's relative
 * cgroupsPath, so m-docker never creates cgroups outside the cgroup it was started in; an
 * absolute one is relative to the hierarchy's root as this process sees it.
 *
 * @module
 */

import { InvalidConfigError } from "../config/errors.ts";
import type { CgroupLayout, CgroupManager, ChildPlacement } from "./types.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";
import {
  type CgroupMount,
  detectCgroupLayout,
  ownCgroupDir,
  ownPathInV1Mount,
  parseCgroupMounts,
  parseProcCgroup,
  v1Mounts,
} from "./detect.ts";
import { CgroupV1Manager } from "./v1.ts";
import { CgroupV2Manager, type DeviceFilterLoader } from "./v2.ts";

export { warmUpCgroupMigration } from "./join.ts";
export {
  type CgroupLayout,
  type CgroupManager,
  type ChildPlacement,
  detectCgroupLayout,
  parseProcCgroup,
};

/** The default parent of containers' cgroups, relative to the caller's own cgroup. */
export const DEFAULT_CGROUP_PARENT = "m-docker";

/**
 * Checks a cgroup parent: path segments only, no `.` or `..`, no empty segments. Throws
 * `InvalidConfigError` for `cgroupParent`.
 *
 * @example
 * ```ts
 * validateCgroupParent("/m-docker/web"); // fine
 * validateCgroupParent("../up"); // throws InvalidConfigError
 * ```
 */
export function validateCgroupParent(parent: string): void {
  const segments = parent.replace(/^\//, "").split("/");
  if (
    parent === "" ||
    segments.some((s) => s === "" || s === "." || s === ".." || /[\0\n]/.test(s))
  ) {
    throw new InvalidConfigError(
      "cgroupParent",
      `invalid cgroup parent "${parent}": use a path such as "m-docker" or "/m-docker/web", ` +
        `without ".." or empty segments`,
    );
  }
}

/**
 * Where a container's cgroup goes in one hierarchy: under `ownDir` (the caller's own cgroup
 * there) for a relative parent, under `mountPoint` for an absolute one.
 *
 * @example
 * ```ts
 * containerCgroupDir("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/s", "m-docker", "ab");
 * // "/sys/fs/cgroup/memory/s/m-docker/m-docker-ab"
 * ```
 */
export function containerCgroupDir(
  mountPoint: string,
  ownDir: string,
  parent: string,
  id: string,
): string {
  const base = parent.startsWith("/") ? mountPoint : ownDir;
  const p = parent.replace(/^\/+|\/+$/g, "");
  return `${base.replace(/\/+$/, "")}/${p}/m-docker-${id}`;
}

/** Options for `newCgroupManager`; all but `id` default to this host's. */
export interface NewCgroupOptions {
  /** The container's ID (64 hex digits): its cgroup is `m-docker-<id>`. */
  id: string;
  /** The parent of the container's cgroup; default `m-docker`, relative to the caller's own. */
  parent?: string;
  /**
   * The cgroup's own path instead of `parent`/m-docker-<id> (an OCI bundle's
   * `linux.cgroupsPath`): absolute, under each hierarchy's root; relative, under the
   * caller's own cgroup, as runc places it.
   */
  path?: string;
  /** Where the cgroup filesystems are mounted; default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
  /** The text of /proc/self/cgroup (for tests). */
  procSelfCgroup?: string;
  /** The text of /proc/self/mountinfo (for tests). */
  mountinfo?: string;
  /** The layout, if already known. */
  layout?: CgroupLayout;
  /** File access (a fake in tests). */
  fs?: CgroupFs;
  /** v2: how the device program is attached; bpf(2) with the real `fs` (a fake in tests). */
  deviceFilter?: DeviceFilterLoader;
}

/**
 * A manager for a new container's cgroup. Only computes paths: nothing is created until
 * `create`. Throws `InvalidConfigError` for a bad parent.
 *
 * @example
 * ```ts
 * const cg = newCgroupManager({ id, parent: "m-docker" });
 * cg.create({ memoryBytes: 64 << 20 });
 * ```
 */
export function newCgroupManager(opts: NewCgroupOptions): CgroupManager {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.id)) {
    throw new Error(`invalid container id for a cgroup name: "${opts.id}"`);
  }
  const parent = opts.parent ?? DEFAULT_CGROUP_PARENT;
  validateCgroupParent(opts.path ?? parent);
  const root = (opts.cgroupRoot ?? "/sys/fs/cgroup").replace(/\/+$/, "");
  const mountinfo = opts.mountinfo ?? Deno.readTextFileSync("/proc/self/mountinfo");
  const layout = opts.layout ?? detectCgroupLayout(root, mountinfo);
  const own = parseProcCgroup(opts.procSelfCgroup ?? Deno.readTextFileSync("/proc/self/cgroup"));
  const mounts = parseCgroupMounts(mountinfo);
  const fs = opts.fs ?? realCgroupFs;
  const place = (mount: CgroupMount, ownPath: string) => {
    const own = () => ownCgroupDir(mount, ownPath);
    if (opts.path === undefined) {
      return containerCgroupDir(
        mount.mountPoint,
        parent.startsWith("/") ? mount.mountPoint : own(),
        parent,
        opts.id,
      );
    }
    const base = opts.path.startsWith("/") ? mount.mountPoint : own();
    return `${base.replace(/\/+$/, "")}/${opts.path.replace(/^\/+|\/+$/g, "")}`;
  };

  if (layout === "v2") {
    const mount = mounts.find((m) => m.mountPoint === root && m.fsType === "cgroup2") ??
      { mountPoint: root, root: "/", fsType: "cgroup2", options: [] };
    const paths = { unified: place(mount, own.get("") ?? "/") };
    return new CgroupV2Manager(paths, fs, root, opts.deviceFilter);
  }
  const paths: Record<string, string> = {};
  const mountPoints: Record<string, string> = {};
  for (const mount of v1Mounts(root, mounts)) {
    // A hierarchy this process is not listed in is not one it belongs to: leave it alone.
    const ownPath = ownPathInV1Mount(mount, own);
    if (ownPath === undefined) continue;
    const name = mount.mountPoint.slice(root.length + 1);
    paths[name] = place(mount, ownPath);
    mountPoints[name] = mount.mountPoint;
  }
  if (Object.keys(paths).length === 0) {
    throw new Error(`no cgroup v1 hierarchy of this process is mounted under ${root}`);
  }
  return new CgroupV1Manager(paths, fs, layout, mountPoints);
}

/**
 * Reopens a container's cgroup from its persisted layout and paths, in any process.
 *
 * @example
 * ```ts
 * openCgroupManager(state.cgroup.layout, state.cgroup.paths).destroy();
 * ```
 */
export function openCgroupManager(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs = realCgroupFs,
  deviceFilter?: DeviceFilterLoader,
): CgroupManager {
  return layout === "v2"
    ? new CgroupV2Manager(paths, fs, undefined, deviceFilter)
    : new CgroupV1Manager(paths, fs, layout);
}
