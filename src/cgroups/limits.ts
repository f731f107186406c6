/**
 * Resource limits as the runtime understands them: already parsed and validated numbers,
 * independent of cgroup version. The managers translate them into cgroup files.
 *
 * @module
 */

/** Limits for one container. Absent fields are left at the kernel's default. */
export interface ResourceLimits {
  /** `-m`: memory limit in bytes. */
  memoryBytes?: number;
  /** `--memory-swap`: memory plus swap in bytes; -1 for unlimited swap. */
  memorySwapBytes?: number;
  /** `--cpus`: CFS quota and period in microseconds. */
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  /** `--cpu-shares`: relative weight (cgroup v1 scale, converted on v2). */
  cpuShares?: number;
  /** `--cpuset-cpus`: a CPU list such as `0-1,3`. */
  cpusetCpus?: string;
  /** `--pids-limit`: most tasks at once; 0 or less means unlimited. */
  pidsLimit?: number;
}
