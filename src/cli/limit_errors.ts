/**
 * The CLI's words for a limit the cgroup layer could not apply: the cgroup layer names the
 * file it wrote (`cpuset.cpus`), and this table names the `run` flag that asked for it
 * (`--cpuset-cpus`), v1 and v2 files alike.
 *
 * @module
 */

import { CgroupUnsupportedError, CgroupWriteError } from "../cgroups/errors.ts";

/** The flag behind each cgroup file a container's options are written to. */
export const FLAG_OF_CGROUP_FILE: Readonly<Record<string, string>> = {
  "memory.limit_in_bytes": "--memory",
  "memory.max": "--memory",
  "memory.memsw.limit_in_bytes": "--memory-swap",
  "memory.swap.max": "--memory-swap",
  "cpu.cfs_period_us": "--cpus",
  "cpu.cfs_quota_us": "--cpus",
  "cpu.max": "--cpus",
  "cpu.shares": "--cpu-shares",
  "cpu.weight": "--cpu-shares",
  "cpuset.cpus": "--cpuset-cpus",
  "pids.max": "--pids-limit",
  "blkio.weight": "--blkio-weight",
  "io.bfq.weight": "--blkio-weight",
  // Enabling controllers fails where the parent cgroup holds processes.
  "cgroup.subtree_control": "--cgroup-parent",
};

/**
 * The message to print for an error: a cgroup limit that failed says which flag set it
 * (`--cpuset-cpus cannot be applied: write ...: Invalid argument`); anything else is its
 * own message.
 *
 * @example
 * ```ts
 * cliMessage(new CgroupWriteError("/sys/fs/cgroup/x/pids.max", "5", 16, { appliesLimit: true }));
 * // "--pids-limit cannot be applied: write /sys/fs/cgroup/x/pids.max: Device or resource busy"
 * ```
 */
export function cliMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // Only the writes of limits: the cgroup layer writes cpuset.cpus of its own too.
  const file = (e instanceof CgroupWriteError &&
      (e.appliesLimit || e.file === "cgroup.subtree_control")) ||
      e instanceof CgroupUnsupportedError
    ? e.file
    : undefined;
  const flag = file === undefined ? undefined : FLAG_OF_CGROUP_FILE[file];
  return flag === undefined ? e.message : `${flag} cannot be applied: ${e.message}`;
}
