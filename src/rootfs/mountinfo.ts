/**
 * Reading /proc/self/mountinfo (proc(5)): which mounts sit at or below a path, with the
 * per-mount flags a remount has to repeat. Needed where mount_setattr(2) is missing and
 * each submount has to be made read-only by itself.
 *
 * @module
 */

import { MS } from "../../ffi/libc.ts";

/** One line of mountinfo, the parts m-docker uses. */
export interface MountInfo {
  id: number;
  parent: number;
  /** Where it is mounted, unescaped, as the reading process sees it. */
  mountPoint: string;
  /** The per-mount options (field 6), such as `rw,nosuid,relatime`. */
  options: string[];
  fstype: string;
}

/** mountinfo escapes space, tab, newline and backslash as `\ooo`. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo text; lines it cannot read are an error, not skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  return text.split("\n").filter((l) => l !== "").map((line) => {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0) throw new Error(`unreadable mountinfo line: ${line}`);
    return {
      id: Number(f[0]),
      parent: Number(f[1]),
      mountPoint: unescape(f[4]),
      options: f[5].split(","),
      fstype: f[dash + 1],
    };
  });
}

/** The mounts at `path` and below it, in mountinfo's order (parents before children). */
export function mountsUnder(mounts: readonly MountInfo[], path: string): MountInfo[] {
  const base = path === "/" ? "/" : path.replace(/\/+$/, "");
  const prefix = base === "/" ? "/" : `${base}/`;
  return mounts.filter((m) => m.mountPoint === base || m.mountPoint.startsWith(prefix));
}

const LOCKABLE: Record<string, number> = {
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
};

/**
 * The MS_* flags a bind remount must pass to keep a mount's other per-mount options: such a
 * remount sets all of them at once, so leaving one out clears it.
 */
export function perMountFlags(m: MountInfo): number {
  return m.options.reduce((flags, o) => flags | (LOCKABLE[o] ?? 0), 0);
}
