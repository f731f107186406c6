/**
 * What of a container's limits this host's cgroups can apply, checked before the limits are
 * used, as Docker's daemon checks its sysinfo: a setting the kernel lacks (block I/O weight
 * without CFQ or BFQ, as on these machines) is discarded with Docker's warning rather than
 * failing the command.
 *
 * @module
 */

import type { ResourceLimits } from "../config/limits.ts";
import { detectCgroupLayout, parseCgroupMounts, v1Mounts } from "./detect.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";

/** Docker's warning for `--blkio-weight` where the kernel cannot weight block I/O. */
export const BLKIO_WEIGHT_DISCARDED =
  "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.";

/**
 * Whether containers' block I/O can be weighted here. v1: the blkio hierarchy's root has
 * `blkio.weight` (CFQ) or `blkio.bfq.weight` (BFQ), as Docker's sysinfo looks. v2: the `io`
 * controller is available at the root.
 */
export function blkioWeightSupported(
  cgroupRoot = "/sys/fs/cgroup",
  mountinfo = Deno.readTextFileSync("/proc/self/mountinfo"),
  fs: CgroupFs = realCgroupFs,
): boolean {
  const layout = detectCgroupLayout(cgroupRoot, mountinfo);
  if (layout === "v2") {
    const file = `${cgroupRoot}/cgroup.controllers`;
    return fs.exists(file) && fs.read(file).split(/\s+/).includes("io");
  }
  const blkio = v1Mounts(cgroupRoot, parseCgroupMounts(mountinfo))
    .find((m) => m.options.includes("blkio"));
  if (!blkio) return false;
  return ["blkio.weight", "blkio.bfq.weight"].some((f) => fs.exists(`${blkio.mountPoint}/${f}`));
}

/** What the host can apply of some limits, and Docker's warning for each setting dropped. */
export interface SupportedLimits {
  limits: ResourceLimits;
  warnings: string[];
}

/**
 * `limits` without what this host cannot apply (Docker's "... discarded." warnings). The
 * probe is only made for a setting that is asked for.
 *
 * @example
 * ```ts
 * discardUnsupportedLimits({ blkioWeight: 300 }, { blkioWeight: () => false });
 * // { limits: { blkioWeight: 0 }, warnings: ["Your kernel does not support Block I/O ..."] }
 * ```
 */
export function discardUnsupportedLimits(
  limits: ResourceLimits,
  probes: { blkioWeight: () => boolean } = { blkioWeight: () => blkioWeightSupported() },
): SupportedLimits {
  if ((limits.blkioWeight ?? 0) > 0 && !probes.blkioWeight()) {
    return { limits: { ...limits, blkioWeight: 0 }, warnings: [BLKIO_WEIGHT_DISCARDED] };
  }
  return { limits, warnings: [] };
}
