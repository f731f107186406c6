/**
 * Where the host's cgroups are: the layout (v1, v2 or hybrid) and the mounted hierarchies,
 * read from /proc/self/mountinfo, and the caller's own cgroup in each, read from
 * /proc/self/cgroup. Pure functions of those texts, so they are tested with samples.
 *
 * @module
 */

import type { CgroupLayout } from "./types.ts";
import type { CgroupFsPlan } from "../config/init.ts";

/** One mounted cgroup filesystem, from a /proc/self/mountinfo line. */
export interface CgroupMount {
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory`. */
  mountPoint: string;
  /** Which cgroup of the hierarchy appears at the mount point (`/` unless bind-mounted). */
  root: string;
  /** `cgroup` (v1) or `cgroup2`. */
  fsType: "cgroup" | "cgroup2";
  /** Superblock options; on v1 they name the controllers (`memory`, `name=systemd`). */
  options: string[];
}

/** Undoes mountinfo's octal escapes (`\040` is a space). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * The cgroup filesystems in a /proc/self/mountinfo text. When a mount point appears twice,
 * the later mount hides the earlier one, so only the last is kept.
 *
 * @example
 * ```ts
 * parseCgroupMounts("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory");
 * // [{ mountPoint: "/sys/fs/cgroup/memory", root: "/", fsType: "cgroup", options: [...] }]
 * ```
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const byMountPoint = new Map<string, CgroupMount>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const before = line.slice(0, sep).split(" ");
    if (before.length < 5) continue;
    const [fsType, , superOptions = ""] = line.slice(sep + 3).split(" ");
    const mountPoint = unescapeMountPath(before[4]);
    // Delete first: a later mount over the same point hides the earlier one, and the map
    // keeps mount order.
    byMountPoint.delete(mountPoint);
    if (fsType === "cgroup" || fsType === "cgroup2") {
      byMountPoint.set(mountPoint, {
        mountPoint,
        root: unescapeMountPath(before[3]),
        fsType,
        options: superOptions.split(","),
      });
    }
  }
  return [...byMountPoint.values()];
}

/** The v1 hierarchies mounted directly under `cgroupRoot`, as `memory` or `cpu,cpuacct`. */
export function v1Mounts(cgroupRoot: string, mounts: CgroupMount[]): CgroupMount[] {
  return mounts.filter((m) =>
    m.fsType === "cgroup" && m.mountPoint.startsWith(`${cgroupRoot}/`) &&
    !m.mountPoint.slice(cgroupRoot.length + 1).includes("/")
  );
}

/**
 * Reads the cgroup layout from the mount table: `v2` when `cgroupRoot` itself is cgroup2,
 * `hybrid` when v1 hierarchies sit beside a cgroup2 at `<cgroupRoot>/unified`, else `v1`.
 *
 * @example
 * ```ts
 * detectCgroupLayout(); // "hybrid" on these machines
 * ```
 */
export function detectCgroupLayout(
  cgroupRoot = "/sys/fs/cgroup",
  mountinfo = Deno.readTextFileSync("/proc/self/mountinfo"),
): CgroupLayout {
  const mounts = parseCgroupMounts(mountinfo);
  const at = (dir: string) => mounts.find((m) => m.mountPoint === dir)?.fsType;
  if (at(cgroupRoot) === "cgroup2") return "v2";
  if (v1Mounts(cgroupRoot, mounts).length > 0) {
    return at(`${cgroupRoot}/unified`) === "cgroup2" ? "hybrid" : "v1";
  }
  throw new Error(
    `no cgroup filesystem is mounted at ${cgroupRoot}: mount cgroup2 there ` +
      `(mount -t cgroup2 none ${cgroupRoot}) or the cgroup v1 controllers under it`,
  );
}

/**
 * Parses /proc/self/cgroup into hierarchy controllers (`memory`, `cpu,cpuacct`,
 * `name=systemd`; `""` for the v2 hierarchy) and the caller's cgroup path in each.
 *
 * @example
 * ```ts
 * parseProcCgroup("4:memory:/session\n0::/\n").get("memory"); // "/session"
 * ```
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const first = line.indexOf(":"), second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    out.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return out;
}

/**
 * The directory of the caller's own cgroup in a mounted hierarchy: the mount point plus the
 * caller's path below the mount's root. Throws when the caller's cgroup is not visible
 * through that mount, rather than guess a place that may lie outside it.
 *
 * @example
 * ```ts
 * ownCgroupDir({ mountPoint: "/sys/fs/cgroup/memory", root: "/", ... }, "/session");
 * // "/sys/fs/cgroup/memory/session"
 * ```
 */
export function ownCgroupDir(mount: CgroupMount, ownPath: string): string {
  const root = mount.root.replace(/\/+$/, "");
  let rel: string;
  if (root === "") rel = ownPath;
  else if (ownPath === root || ownPath.startsWith(`${root}/`)) rel = ownPath.slice(root.length);
  else {
    throw new Error(
      `${mount.mountPoint} shows cgroup ${mount.root}, which does not contain this ` +
        `process's cgroup ${ownPath}: cannot place a container's cgroup under it`,
    );
  }
  return `${mount.mountPoint}${rel.replace(/\/+$/, "")}`;
}

/** The caller's path in a v1 mount: its /proc/self/cgroup line with the mount's controllers. */
export function ownPathInV1Mount(
  mount: CgroupMount,
  own: Map<string, string>,
): string | undefined {
  for (const [controllers, path] of own) {
    if (controllers === "") continue;
    if (controllers.split(",").every((c) => mount.options.includes(c))) return path;
  }
  return undefined;
}

/**
 * What the container gets at /sys/fs/cgroup, from the host's mount table: cgroup2 on a v2
 * host; on v1 and hybrid hosts each v1 hierarchy under `cgroupRoot` (the hybrid's empty
 * `unified` is left out, as Docker does), with only the options that name its controllers.
 */
export function cgroupFsPlan(
  mountinfo: string,
  cgroupRoot = "/sys/fs/cgroup",
): CgroupFsPlan | undefined {
  let layout;
  try {
    layout = detectCgroupLayout(cgroupRoot, mountinfo);
  } catch {
    return undefined; // no cgroups mounted: nothing to show either
  }
  if (layout === "v2") return { version: 2 };
  const hierarchies = v1Mounts(cgroupRoot, parseCgroupMounts(mountinfo)).map((m) => ({
    dir: m.mountPoint.slice(cgroupRoot.length + 1),
    // Not rw, xattr or release_agent=: the superblock's own settings, not the container's.
    options: m.options.filter((o) =>
      /^[a-z_]+$/.test(o) && !NOT_CONTROLLERS.has(o) ||
      o.startsWith("name=")
    ).join(","),
  }));
  return { version: 1, hierarchies };
}

/** Superblock options of a v1 hierarchy that name no controller. */
const NOT_CONTROLLERS = new Set(["rw", "ro", "xattr", "noprefix", "clone_children", "none"]);
