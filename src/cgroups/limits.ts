/**
 * Resource limits as the runtime understands them: already parsed numbers, independent of
 * cgroup version, validated once at the edge with Docker's rules and messages. The
 * managers translate them into cgroup files.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { parseCpuset } from "../util/units.ts";

/** Limits for one container. Absent fields are left at the kernel's default. */
export interface ResourceLimits {
  /** `-m`: memory limit in bytes (0: none). */
  memoryBytes?: number;
  /** `--memory-swap`: memory plus swap in bytes, as Docker's; -1 for unlimited swap. */
  memorySwapBytes?: number;
  /** `--cpus`: the CFS quota in microseconds per period. */
  cpuQuotaUs?: number;
  /** The CFS period; 100000 (Docker's) when a quota is set without one. */
  cpuPeriodUs?: number;
  /** `--cpu-shares`: relative weight on the cgroup v1 scale (0: default), converted on v2. */
  cpuShares?: number;
  /** `--cpuset-cpus`: a CPU list such as `0-1,3`. */
  cpusetCpus?: string;
  /** `--pids-limit`: most tasks at once; 0 or less (Docker's -1) means unlimited. */
  pidsLimit?: number;
}

/** The smallest memory limit Docker accepts (6 MiB): less and the container cannot start. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

/** The CFS period used when only a quota is given (Docker's and the kernel's default). */
export const DEFAULT_CPU_PERIOD_US = 100_000;

/** The kernel's range for cgroup v1 `cpu.shares`; values outside are clamped to it. */
export const CPU_SHARES_RANGE = { min: 2, max: 262_144 } as const;

function integer(name: string, value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw new UsageError(`invalid ${name}: ${value}: not an integer`);
  }
}

/**
 * Checks a container's limits as Docker does before creating anything, and throws a
 * `UsageError` with Docker's message for the first problem.
 *
 * @example
 * ```ts
 * validateResourceLimits({ memoryBytes: 1024 }); // throws "Minimum memory limit allowed is 6MB"
 * ```
 */
export function validateResourceLimits(l: ResourceLimits): void {
  integer("memory limit", l.memoryBytes);
  integer("memory+swap limit", l.memorySwapBytes);
  integer("CPU quota", l.cpuQuotaUs);
  integer("CPU period", l.cpuPeriodUs);
  integer("CPU shares", l.cpuShares);
  integer("pids limit", l.pidsLimit);
  if (l.memoryBytes !== undefined) {
    if (l.memoryBytes < 0) throw new UsageError(`invalid memory limit: ${l.memoryBytes}`);
    if (l.memoryBytes > 0 && l.memoryBytes < MIN_MEMORY_BYTES) {
      throw new UsageError("Minimum memory limit allowed is 6MB");
    }
  }
  if (l.memorySwapBytes !== undefined && l.memorySwapBytes !== -1) {
    if (l.memoryBytes === undefined || l.memoryBytes === 0) {
      throw new UsageError(
        "You should always set the Memory limit when using Memoryswap limit, see usage",
      );
    }
    if (l.memorySwapBytes < l.memoryBytes) {
      throw new UsageError(
        "Minimum memoryswap limit should be larger than memory limit, see usage",
      );
    }
  }
  // The kernel refuses a quota or period under 1 ms and a period over 1 s.
  if (l.cpuQuotaUs !== undefined && l.cpuQuotaUs !== -1 && l.cpuQuotaUs < 1000) {
    throw new UsageError("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  if (l.cpuPeriodUs !== undefined && (l.cpuPeriodUs < 1000 || l.cpuPeriodUs > 1_000_000)) {
    throw new UsageError(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  }
  if (l.cpuShares !== undefined && l.cpuShares < 0) {
    throw new UsageError(`invalid CPU shares: ${l.cpuShares}: must be 0 (default) or more`);
  }
  if (l.cpusetCpus !== undefined) parseCpuset(l.cpusetCpus);
}

/**
 * `cpu.shares` as the kernel will hold it: clamped to 2..262144, as v1 does silently; the
 * v2 conversion needs the same range.
 *
 * @example
 * ```ts
 * clampCpuShares(1); // 2
 * ```
 */
export function clampCpuShares(shares: number): number {
  return Math.min(CPU_SHARES_RANGE.max, Math.max(CPU_SHARES_RANGE.min, shares));
}

/**
 * The `pids.max` value for a `--pids-limit`: the number, or `max` for 0 or less.
 *
 * @example
 * ```ts
 * pidsMaxValue(-1); // "max"
 * ```
 */
export function pidsMaxValue(limit: number): string {
  return limit > 0 ? String(limit) : "max";
}
