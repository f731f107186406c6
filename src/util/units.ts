/**
 * Parsing the sizes and CPU amounts users type (`-m 256m`, `--cpus 0.5`,
 * `--cpuset-cpus 0-1,3`), with Docker's rules and Docker's messages, and the one unit
 * conversion the cgroup v2 manager needs.
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

/** The CFS period Docker uses for `--cpus`, in microseconds. */
export const CPU_PERIOD_US = 100_000;

/**
 * Parses `--cpus` into a CFS quota and period (period 100000 µs, as Docker), refusing
 * what Docker refuses: not a decimal number, more than nanosecond precision, and anything
 * outside 0.01 to the number of CPUs (`available`, by default this machine's).
 *
 * @example
 * ```ts
 * parseCpus("0.5"); // { quotaUs: 50000, periodUs: 100000 }
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
  if (nanoCpus < 1e7 || nanoCpus > available * 1e9) {
    throw new UsageError(
      `range of CPUs is from 0.01 to ${available}.00, as there are only ${available} CPUs ` +
        "available",
    );
  }
  return { quotaUs: Math.floor(nanoCpus / (1e9 / CPU_PERIOD_US)), periodUs: CPU_PERIOD_US };
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
  let highest = -1;
  const ok = value !== "" && value.split(",").every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) return false;
    const first = Number(m[1]), last = Number(m[2] ?? m[1]);
    highest = Math.max(highest, last);
    return last >= first;
  });
  if (!ok) throw new UsageError(`Invalid value ${s} for cpuset cpus`);
  if (available !== undefined && highest >= available) {
    throw new UsageError(
      `Requested CPUs are not available - requested ${value}, available: ` +
        (available === 1 ? "0" : `0-${available - 1}`),
    );
  }
  return value;
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
  const clamped = Math.min(262_144, Math.max(2, Math.trunc(shares)));
  return 1 + Math.floor(((clamped - 2) * 9999) / 262142);
}
