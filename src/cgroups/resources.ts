/**
 * The one translation of a container's limits into cgroup files, v1 and v2 side by side
 * (as crun's cgroup-resources.c: `write_memory`, `write_cpu`, ...). Pure: it says which
 * file of which controller gets which value, in the order they must be written; the
 * managers only find the directories and write.
 *
 * @module
 */

import type { ResourceLimits } from "../config/limits.ts";
import { DEFAULT_CPU_PERIOD_US } from "../util/units.ts";

/** Which file set to write: cgroup v1's per-controller files or v2's unified ones. */
export type CgroupVersion = "v1" | "v2";

/** One value for one cgroup file. */
export interface LimitFile {
  /** The controller whose directory holds the file (v1) or that provides it (v2). */
  controller: string;
  /** The file's name, e.g. `memory.max`. */
  file: string;
  /** What to write, as the kernel spells it. */
  value: string;
  /**
   * The file may be absent without harm: the value asks for what the kernel does anyway
   * (unlimited swap where swap accounting is off).
   */
  optional?: boolean;
  /** Why the file may be absent although its controller is there, to say if it is. */
  unsupported?: string;
  /**
   * The file written instead where `file` is absent (the same setting under another I/O
   * scheduler's name: `blkio.bfq.weight` for `blkio.weight`), as runc does.
   */
  fallback?: { file: string; value: string };
}

/** The kernel's range for cgroup v1 `cpu.shares`; values outside are clamped to it. */
export const CPU_SHARES_RANGE = { min: 2, max: 262_144 } as const;

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
  return Math.min(CPU_SHARES_RANGE.max, Math.max(CPU_SHARES_RANGE.min, Math.trunc(shares)));
}

/**
 * Converts cgroup v1 `cpu.shares` to cgroup v2 `cpu.weight` as runc does:
 * `1 + ((shares - 2) * 9999) / 262142` in integers, so 2 maps to 1 and 262144 to 10000.
 * 0 (unset) stays 0; other values are first clamped to the kernel's 2..262144.
 *
 * @example
 * ```ts
 * sharesToWeight(1024); // 39
 * ```
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((clampCpuShares(shares) - 2) * 9999) / 262142);
}

/**
 * The `pids.max` value for a pids limit: the number, or `max` for 0 or less.
 *
 * @example
 * ```ts
 * pidsMaxValue(-1); // "max"
 * ```
 */
export function pidsMaxValue(limit: number): string {
  return limit > 0 ? String(limit) : "max";
}

const NO_SWAP_ACCOUNTING = (file: string) =>
  `this kernel does not support memory swap limit (no ${file}: swap accounting is off; ` +
  "boot with swapaccount=1)";

/** Memory, then swap: on v1 the kernel keeps memsw >= memory at every write. */
function memoryFiles(l: ResourceLimits, v: CgroupVersion): LimitFile[] {
  const out: LimitFile[] = [];
  const memory = l.memoryBytes ?? 0, swap = l.memorySwapBytes ?? 0;
  if (memory > 0) {
    const file = v === "v1" ? "memory.limit_in_bytes" : "memory.max";
    out.push({ controller: "memory", file, value: String(memory) });
  }
  if (swap !== 0) {
    // Docker's value counts memory plus swap, as v1's memsw; v2's swap.max is swap alone.
    const file = v === "v1" ? "memory.memsw.limit_in_bytes" : "memory.swap.max";
    const value = v === "v1"
      ? String(swap)
      : swap === -1
      ? "max"
      : String(Math.max(0, swap - memory));
    out.push({
      controller: "memory",
      file,
      value,
      optional: swap === -1,
      unsupported: NO_SWAP_ACCOUNTING(file),
    });
  }
  const reservation = l.memoryReservationBytes ?? 0;
  if (reservation > 0) {
    // v2's memory.low protects that much from reclaim, which is what Docker maps it to.
    const file = v === "v1" ? "memory.soft_limit_in_bytes" : "memory.low";
    out.push({ controller: "memory", file, value: String(reservation) });
  }
  if (l.oomKillDisable && v === "v1") {
    out.push({ controller: "memory", file: "memory.oom_control", value: "1" });
  }
  return out;
}

/**
 * The CFS quota and period in force: `--cpus` (Docker's NanoCpus) as a quota per 100 ms, as
 * Docker's daemon converts it, or `--cpu-quota` and `--cpu-period` as given.
 */
function cfsOf(l: ResourceLimits): { quota: number; period: number } {
  const nano = l.nanoCpus ?? 0;
  if (nano > 0) {
    return {
      quota: Math.floor(nano / (1e9 / DEFAULT_CPU_PERIOD_US)),
      period: DEFAULT_CPU_PERIOD_US,
    };
  }
  return { quota: l.cpuQuotaUs ?? 0, period: l.cpuPeriodUs ?? 0 };
}

/** The CFS period before the quota (v1): a quota is checked against the period in force. */
function cpuFiles(l: ResourceLimits, v: CgroupVersion): LimitFile[] {
  const out: LimitFile[] = [];
  const cfs = cfsOf(l);
  const quota = cfs.quota, period = cfs.period || DEFAULT_CPU_PERIOD_US;
  if (quota !== 0 || cfs.period !== 0) {
    if (v === "v1") {
      out.push({ controller: "cpu", file: "cpu.cfs_period_us", value: String(period) });
      if (quota !== 0) {
        out.push({
          controller: "cpu",
          file: "cpu.cfs_quota_us",
          value: String(quota > 0 ? quota : -1),
        });
      }
    } else {
      out.push({
        controller: "cpu",
        file: "cpu.max",
        value: `${quota > 0 ? quota : "max"} ${period}`,
      });
    }
  }
  if ((l.cpuShares ?? 0) > 0) {
    out.push(
      v === "v1"
        ? { controller: "cpu", file: "cpu.shares", value: String(clampCpuShares(l.cpuShares!)) }
        : { controller: "cpu", file: "cpu.weight", value: String(sharesToWeight(l.cpuShares!)) },
    );
  }
  return out;
}

/**
 * Converts a blkio weight (10..1000) to cgroup v2's `io.weight` (1..10000) as runc does:
 * `1 + (weight - 10) * 9999 / 990` in integers.
 *
 * @example
 * ```ts
 * blkioToIoWeight(500); // 4950
 * ```
 */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The block I/O weight: v1's `blkio.weight` (CFQ) or else `blkio.bfq.weight`; v2's
 * `io.bfq.weight` (the same scale) or else `io.weight`, converted. runc's choices.
 */
function blkioFiles(l: ResourceLimits, v: CgroupVersion): LimitFile[] {
  const weight = l.blkioWeight ?? 0;
  if (weight <= 0) return [];
  const value = String(weight);
  return [
    v === "v1"
      ? {
        controller: "blkio",
        file: "blkio.weight",
        value,
        fallback: { file: "blkio.bfq.weight", value },
      }
      : {
        controller: "io",
        file: "io.bfq.weight",
        value,
        fallback: { file: "io.weight", value: String(blkioToIoWeight(weight)) },
      },
  ];
}

/**
 * The files and values that apply `limits` on a cgroup of `version`, in the order they
 * must be written. Unset and zero fields (Docker's defaults) give no file.
 *
 * @example
 * ```ts
 * limitFiles({ memoryBytes: 64 << 20, cpuShares: 1024 }, "v2");
 * // [{ controller: "memory", file: "memory.max", value: "67108864" },
 * //  { controller: "cpu", file: "cpu.weight", value: "39" }]
 * ```
 */
export function limitFiles(limits: ResourceLimits, version: CgroupVersion): LimitFile[] {
  const out = [...memoryFiles(limits, version), ...cpuFiles(limits, version)];
  if (limits.cpusetCpus !== undefined) {
    out.push({ controller: "cpuset", file: "cpuset.cpus", value: limits.cpusetCpus });
  }
  if (limits.cpusetMems !== undefined) {
    out.push({ controller: "cpuset", file: "cpuset.mems", value: limits.cpusetMems });
  }
  if (limits.pidsLimit !== undefined) {
    out.push({ controller: "pids", file: "pids.max", value: pidsMaxValue(limits.pidsLimit) });
  }
  out.push(...blkioFiles(limits, version));
  return out;
}
