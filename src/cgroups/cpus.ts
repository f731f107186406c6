/**
 * Which CPUs a new container's cgroup can be given: those of the cgroup it will be made
 * under. A child cpuset must be a subset of its parent's, so this is what `cpusetCpus` is
 * checked against before anything is created, as Docker checks against its own.
 *
 * @module
 */

import { type CgroupFs, realCgroupFs } from "./fs.ts";
import {
  detectCgroupLayout,
  ownCgroupDir,
  ownPathInV1Mount,
  parseCgroupMounts,
  parseProcCgroup,
  v1Mounts,
} from "./detect.ts";
import { parentDir } from "./common.ts";

/** Options for `availableCpus`; all default to this host's. */
export interface AvailableCpusOptions {
  /** The container's cgroup parent: an absolute one is placed from the hierarchy's root. */
  parent?: string;
  /** Where the cgroup filesystems are mounted; default `/sys/fs/cgroup`. */
  cgroupRoot?: string;
  /** The text of /proc/self/cgroup (for tests). */
  procSelfCgroup?: string;
  /** The text of /proc/self/mountinfo (for tests). */
  mountinfo?: string;
  /** File access (a fake in tests). */
  fs?: CgroupFs;
}

/** The host's online CPUs, the answer when no cpuset controller says otherwise. */
const ONLINE_CPUS = "/sys/devices/system/cpu/online";

/**
 * The CPUs a container may be given, as a cpuset list (`0-1`): the effective CPUs of the
 * caller's own cpuset cgroup (of the hierarchy's root for an absolute `parent`), else the
 * host's online CPUs; undefined if none of these can be read. Never throws: it only feeds
 * a check that the kernel would make anyway.
 *
 * @example
 * ```ts
 * availableCpus(); // "0-1"
 * ```
 */
export function availableCpus(opts: AvailableCpusOptions = {}): string | undefined {
  const fs = opts.fs ?? realCgroupFs;
  const read = (path: string) => {
    try {
      return fs.exists(path) ? fs.read(path).trim() || undefined : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    const root = (opts.cgroupRoot ?? "/sys/fs/cgroup").replace(/\/+$/, "");
    const mountinfo = opts.mountinfo ?? Deno.readTextFileSync("/proc/self/mountinfo");
    const own = parseProcCgroup(
      opts.procSelfCgroup ?? Deno.readTextFileSync("/proc/self/cgroup"),
    );
    const mounts = parseCgroupMounts(mountinfo);
    const absolute = opts.parent?.startsWith("/") ?? false;
    let dir: string | undefined, files: string[];
    if (detectCgroupLayout(root, mountinfo) === "v2") {
      const mount = mounts.find((m) => m.mountPoint === root);
      dir = !mount || absolute ? root : ownCgroupDir(mount, own.get("") ?? "/");
      files = ["cpuset.cpus.effective"];
    } else {
      const mount = v1Mounts(root, mounts).find((m) => m.options.includes("cpuset"));
      const ownPath = mount && ownPathInV1Mount(mount, own);
      if (mount && ownPath !== undefined) {
        dir = absolute ? mount.mountPoint : ownCgroupDir(mount, ownPath);
      }
      files = ["cpuset.effective_cpus", "cpuset.cpus"];
    }
    // Up to the root: on v2, a cgroup without the cpuset controller has no cpuset files,
    // and then its nearest ancestor's apply.
    for (let d = dir; d !== undefined && d.length >= root.length; d = parentDir(d)) {
      for (const file of files) {
        const cpus = read(`${d}/${file}`);
        if (cpus !== undefined) return cpus;
      }
      if (d === root) break;
    }
  } catch {
    // No cgroup information: fall back to the host's CPUs.
  }
  return read(ONLINE_CPUS);
}
