/**
 * Parsing the sizes and CPU amounts users type (`-m 256m`, `--cpus 0.5`,
 * `--cpuset-cpus 0-1,3`), with Docker's rules and Docker's messages. The CPU list grammar
 * and its messages are also the config layer's (src/config/limits.ts), which builds on them.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** Docker's binary units (RAMInBytes): k is 1024, m 1024², up to p. */
const BINARY_UNITS: Record<string, number> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** A plain decimal number: `12`, `1.5`, `.5`, `5.`; no sign, no exponent. */
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/;

/**
 * Parses a memory size as Docker's RAMInBytes does: a decimal number, then optionally one
 * space and a unit `b`, `k`, `m`, `g`, `t` or `p` (case-insensitive, binary multiples),
 * which may be followed by `i`, `b` or `ib` (`256mb`, `2GiB`). Fractions are truncated to
 * whole bytes. Throws `UsageError` naming the input for anything else.
 *
 * @example
 * ```ts
 * parseMemorySize("256m"); // 268435456
 * parseMemorySize("1.5g"); // 1610612736
 * ```
 */
export function parseMemorySize(s: string): number {
  const m = /^(.*?) ?([a-zA-Z]*)$/.exec(s);
  const number = m?.[1] ?? "", suffix = (m?.[2] ?? "").toLowerCase();
  if (!DECIMAL.test(number)) throw new UsageError(`invalid size: '${s}'`);
  let multiplier = 1;
  if (suffix !== "" && suffix !== "b") {
    const unit = BINARY_UNITS[suffix[0]];
    if (unit === undefined || !["", "i", "b", "ib"].includes(suffix.slice(1))) {
      throw new UsageError(`invalid size: '${s}': unknown unit '${m?.[2]}'`);
    }
    multiplier = unit;
  }
  const bytes = Math.floor(Number(number) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid size: '${s}': too large`);
  return bytes;
}

/** The CFS period Docker uses for `--cpus`, and the kernel's default, in microseconds. */
export const DEFAULT_CPU_PERIOD_US = 100_000;

/**
 * Parses `--cpus` into a CFS quota and period (period 100000 µs, as Docker), refusing
 * what Docker refuses: not a decimal number, more than nanosecond precision, and anything
 * outside 0.01 to the number of CPUs (`available`, by default this machine's). `0` means
 * no CPU limit, as Docker's NanoCPUs 0: quota and period 0, which limits read as unset.
 *
 * @example
 * ```ts
 * parseCpus("0.5"); // { quotaUs: 50000, periodUs: 100000 }
 * parseCpus("0"); // { quotaUs: 0, periodUs: 0 }
 * ```
 */
export function parseCpus(s: string, available = navigator.hardwareConcurrency): {
  quotaUs: number;
  periodUs: number;
} {
  if (!DECIMAL.test(s)) {
    throw new UsageError(`invalid argument "${s}" for "--cpus": not a decimal number`);
  }
  // Exact arithmetic in nano-CPUs, as Docker's NanoCPUs: 0.29 * 100000 in floating point
  // is 28999.999..., which would truncate to the wrong quota.
  const [whole, fraction = ""] = s.split(".");
  if (fraction.replace(/0+$/, "").length > 9) {
    throw new UsageError(`invalid argument "${s}" for "--cpus": value is too precise`);
  }
  const nanoCpus = Number(whole || "0") * 1e9 + Number(fraction.padEnd(9, "0").slice(0, 9));
  if (nanoCpus === 0) return { quotaUs: 0, periodUs: 0 };
  if (nanoCpus < 1e7 || nanoCpus > available * 1e9) {
    throw new UsageError(
      `range of CPUs is from 0.01 to ${available}.00, as there are only ${available} CPUs ` +
        "available",
    );
  }
  return {
    quotaUs: Math.floor(nanoCpus / (1e9 / DEFAULT_CPU_PERIOD_US)),
    periodUs: DEFAULT_CPU_PERIOD_US,
  };
}

/** A CPU list's ranges: first and last CPU of each, as written. */
export type CpuRanges = Array<[first: number, last: number]>;

/**
 * The ranges of a cpuset list such as `0-2,4` (spaces ignored), or `undefined` if the
 * kernel would not parse it.
 *
 * @example
 * ```ts
 * cpuListRanges("0-1, 3"); // [[0, 1], [3, 3]]
 * cpuListRanges("1-0"); // undefined
 * ```
 */
export function cpuListRanges(s: string): CpuRanges | undefined {
  const value = s.replace(/\s+/g, "");
  if (value === "") return undefined;
  const ranges: CpuRanges = [];
  for (const part of value.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) return undefined;
    const first = Number(m[1]), last = Number(m[2] ?? m[1]);
    if (last < first) return undefined;
    ranges.push([first, last]);
  }
  return ranges;
}

/**
 * Whether every CPU of `requested` is in `available` (both as ranges). Ranges are
 * compared, not expanded, so that `0-4294967295` costs nothing.
 *
 * @example
 * ```ts
 * cpusAvailable([[0, 2]], [[0, 1], [2, 3]]); // true
 * ```
 */
export function cpusAvailable(requested: CpuRanges, available: CpuRanges): boolean {
  // Merge adjacent and overlapping ranges, so that a request spanning two of them fits.
  const merged: CpuRanges = [];
  for (const [first, last] of [...available].sort((a, b) => a[0] - b[0])) {
    const top = merged[merged.length - 1];
    if (top && first <= top[1] + 1) top[1] = Math.max(top[1], last);
    else merged.push([first, last]);
  }
  return requested.every(([first, last]) => merged.some(([a, b]) => a <= first && last <= b));
}

/** Docker's message for a CPU list that does not parse. */
export function invalidCpusetMessage(s: string): string {
  return `Invalid value ${s} for cpuset cpus`;
}

/** Docker's message for CPUs the host cannot give. */
export function unavailableCpusMessage(requested: string, available: string): string {
  return `Requested CPUs are not available - requested ${requested}, available: ${available}`;
}

/**
 * Validates a cpuset list such as `0-2,4` and returns it normalised (no spaces). With
 * `available` (a CPU count), CPUs the machine lacks are refused as Docker refuses them.
 *
 * @example
 * ```ts
 * parseCpuset("0-1, 3"); // "0-1,3"
 * ```
 */
export function parseCpuset(s: string, available?: number): string {
  const value = s.replace(/\s+/g, "");
  const ranges = cpuListRanges(value);
  if (ranges === undefined) throw new UsageError(invalidCpusetMessage(s));
  if (available !== undefined && !cpusAvailable(ranges, [[0, available - 1]])) {
    throw new UsageError(
      unavailableCpusMessage(value, available === 1 ? "0" : `0-${available - 1}`),
    );
  }
  return value;
}
