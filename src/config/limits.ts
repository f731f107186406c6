/**
 * A container's resource limits as plain data (already parsed numbers, independent of the
 * cgroup version) and the one validator for them, with Docker's rules and Docker's
 * messages. Validated once at the edge, then trusted: the cgroup layer only translates them
 * into its files.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";
import {
  cpuListRanges,
  cpusAvailable,
  invalidCpusetMessage,
  unavailableCpusMessage,
} from "../util/units.ts";

/**
 * Limits for one container. Absent fields (and, as in Docker's HostConfig, zero values)
 * leave the kernel's default in place.
 */
export interface ResourceLimits {
  /** Docker's `Memory`: memory limit in bytes (0: none). */
  memoryBytes?: number;
  /** Docker's `MemorySwap`: memory plus swap in bytes (0: unset), -1 for unlimited swap. */
  memorySwapBytes?: number;
  /** Docker's `MemoryReservation`: the soft limit reclaim aims for under pressure (0: none). */
  memoryReservationBytes?: number;
  /**
   * Docker's `OomKillDisable`: the kernel pauses the container at its memory limit instead
   * of killing a process (cgroup v1 only: v2 has no such switch).
   */
  oomKillDisable?: boolean;
  /**
   * Docker's `NanoCpus` (`--cpus`): CPUs in billionths, applied as a CFS quota per 100 ms
   * period; exclusive with `cpuQuotaUs` and `cpuPeriodUs` (0: unset).
   */
  nanoCpus?: number;
  /** Docker's `CpuQuota` (`--cpu-quota`): CFS quota in µs per period (0: unset, -1: unlimited). */
  cpuQuotaUs?: number;
  /** Docker's `CpuPeriod` (`--cpu-period`): CFS period in µs (0: unset, the kernel's 100000). */
  cpuPeriodUs?: number;
  /** Docker's `CpuShares`: relative weight on the cgroup v1 scale (0: default). */
  cpuShares?: number;
  /** Docker's `CpusetCpus`: the CPUs the container may run on, as a list such as `0-1,3`. */
  cpusetCpus?: string;
  /** Docker's `CpusetMems` (an OCI bundle's `cpu.mems`): the memory nodes, as a list such as `0`. */
  cpusetMems?: string;
  /** Docker's `PidsLimit`: most tasks at once; 0 or less (Docker's -1) means unlimited. */
  pidsLimit?: number;
  /** Docker's `BlkioWeight` (`--blkio-weight`): relative block I/O weight, 10..1000 (0: default). */
  blkioWeight?: number;
}

/** What of the host the limits are checked against: data, so the validator stays pure. */
export interface HostResources {
  /**
   * The CPUs a container can be given, as a cpuset list (`0-1`): the caller's own cpuset.
   * Absent: `cpusetCpus` is not checked against the host.
   */
  cpus?: string;
}

/** The smallest memory limit Docker accepts (6 MiB): less and the container cannot start. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const INTEGER_FIELDS: ReadonlyArray<[keyof ResourceLimits, string]> = [
  ["memoryBytes", "memory limit"],
  ["memorySwapBytes", "memory+swap limit"],
  ["memoryReservationBytes", "memory reservation"],
  ["nanoCpus", "number of CPUs"],
  ["cpuQuotaUs", "CPU quota"],
  ["cpuPeriodUs", "CPU period"],
  ["cpuShares", "CPU shares"],
  ["pidsLimit", "pids limit"],
  ["blkioWeight", "blkio weight"],
];

/**
 * Checks a container's limits as Docker's daemon does before creating anything, and throws
 * an `InvalidConfigError` with Docker's message for the first problem. `host` supplies what
 * the limits must fit (the CPUs available); without it those checks are skipped.
 *
 * @example
 * ```ts
 * validateLimits({ memoryBytes: 1024 }); // throws "Minimum memory limit allowed is 6MB"
 * validateLimits({ cpusetCpus: "99" }, { cpus: "0-1" }); // throws "Requested CPUs are not..."
 * ```
 */
export function validateLimits(l: ResourceLimits, host: HostResources = {}): void {
  for (const [key, what] of INTEGER_FIELDS) {
    const value = l[key];
    if (value !== undefined && !Number.isSafeInteger(value)) {
      throw new InvalidConfigError(`limits.${key}`, `invalid ${what}: ${value}: not an integer`);
    }
  }
  const memory = l.memoryBytes ?? 0, swap = l.memorySwapBytes ?? 0;
  if (memory < 0) {
    throw new InvalidConfigError("limits.memoryBytes", `invalid memory limit: ${memory}`);
  }
  if (memory > 0 && memory < MIN_MEMORY_BYTES) {
    throw new InvalidConfigError("limits.memoryBytes", "Minimum memory limit allowed is 6MB");
  }
  if (swap < -1) {
    throw new InvalidConfigError("limits.memorySwapBytes", `invalid memory+swap limit: ${swap}`);
  }
  if (swap > 0 && memory === 0) {
    throw new InvalidConfigError(
      "limits.memorySwapBytes",
      "You should always set the Memory limit when using Memoryswap limit, see usage",
    );
  }
  if (swap > 0 && swap < memory) {
    throw new InvalidConfigError(
      "limits.memorySwapBytes",
      "Minimum memoryswap limit should be larger than memory limit, see usage",
    );
  }
  const reservation = l.memoryReservationBytes ?? 0;
  if (reservation < 0) {
    throw new InvalidConfigError(
      "limits.memoryReservationBytes",
      `invalid memory reservation: ${reservation}`,
    );
  }
  if (reservation > 0 && reservation < MIN_MEMORY_BYTES) {
    throw new InvalidConfigError(
      "limits.memoryReservationBytes",
      "Minimum memory reservation allowed is 6MB",
    );
  }
  if (memory > 0 && reservation > memory) {
    throw new InvalidConfigError(
      "limits.memoryReservationBytes",
      "Minimum memory limit can not be less than memory reservation limit, see usage",
    );
  }
  // The kernel refuses a quota or period under 1 ms and a period over 1 s.
  const quota = l.cpuQuotaUs ?? 0, period = l.cpuPeriodUs ?? 0;
  // --cpus sets both itself (Docker checks this first).
  if ((l.nanoCpus ?? 0) > 0 && period > 0) {
    throw new InvalidConfigError(
      "limits.cpuPeriodUs",
      "Conflicting options: Nano CPUs and CPU Period cannot both be set",
    );
  }
  if ((l.nanoCpus ?? 0) > 0 && quota > 0) {
    throw new InvalidConfigError(
      "limits.cpuQuotaUs",
      "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
    );
  }
  if ((l.nanoCpus ?? 0) < 0) {
    throw new InvalidConfigError("limits.nanoCpus", `invalid number of CPUs: ${l.nanoCpus}`);
  }
  if (quota > 0 && quota < 1000) {
    throw new InvalidConfigError(
      "limits.cpuQuotaUs",
      "CPU cfs quota can not be less than 1ms (i.e. 1000)",
    );
  }
  if (quota < -1) throw new InvalidConfigError("limits.cpuQuotaUs", `invalid CPU quota: ${quota}`);
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw new InvalidConfigError(
      "limits.cpuPeriodUs",
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  if (l.cpuShares !== undefined && l.cpuShares < 0) {
    throw new InvalidConfigError(
      "limits.cpuShares",
      `invalid CPU shares: ${l.cpuShares}: must be 0 (default) or more`,
    );
  }
  const weight = l.blkioWeight ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000)) {
    throw new InvalidConfigError("limits.blkioWeight", "Range of blkio weight is from 10 to 1000");
  }
  if (l.cpusetMems !== undefined && cpuListRanges(l.cpusetMems) === undefined) {
    throw new InvalidConfigError(
      "limits.cpusetMems",
      `Invalid value ${l.cpusetMems} for cpuset mems`,
    );
  }
  if (l.cpusetCpus !== undefined) {
    const requested = cpuListRanges(l.cpusetCpus);
    if (requested === undefined) {
      throw new InvalidConfigError("limits.cpusetCpus", invalidCpusetMessage(l.cpusetCpus));
    }
    const available = host.cpus === undefined ? undefined : cpuListRanges(host.cpus);
    // An unreadable host list checks nothing: the kernel still refuses what it lacks.
    if (available !== undefined && !cpusAvailable(requested, available)) {
      throw new InvalidConfigError(
        "limits.cpusetCpus",
        unavailableCpusMessage(l.cpusetCpus, host.cpus!.trim()),
      );
    }
  }
}
