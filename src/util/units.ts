/**
 * Parsing the sizes and CPU amounts users type (`-m 256m`, `--cpus 0.5`), with Docker's
 * rules and Docker's messages.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

const BINARY_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a memory size as Docker's RAMInBytes does: binary units, optional `b`/`ib`
 * suffix, case-insensitive, fractions allowed (`1.5g`).
 *
 * @example
 * ```ts
 * parseMemorySize("256m"); // 268435456
 * ```
 */
export function parseMemorySize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(s) ??
    /^\s*(\d+(?:\.\d+)?)\s*(b)\s*$/i.exec(s);
  if (!m) throw new UsageError(`invalid size: '${s}'`);
  const bytes = Math.floor(Number(m[1]) * BINARY_UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid size: '${s}': too large`);
  return bytes;
}

/** The CFS period Docker uses for `--cpus`. */
export const CPU_PERIOD_US = 100_000;

/**
 * Parses `--cpus` into a CFS quota and period, refusing what Docker refuses.
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
  if (!/^\s*\d*\.?\d+\s*$/.test(s)) {
    throw new UsageError(`invalid argument "${s}" for "--cpus": not a number`);
  }
  const cpus = Number(s);
  if (cpus < 0.01 || cpus > available) {
    throw new UsageError(
      `range of CPUs is from 0.01 to ${
        available.toFixed(2)
      }, as there are only ${available} CPUs available`,
    );
  }
  return { quotaUs: Math.round(cpus * CPU_PERIOD_US), periodUs: CPU_PERIOD_US };
}

/**
 * Validates a cpuset list such as `0-2,4` and returns it normalised (no spaces).
 *
 * @example
 * ```ts
 * parseCpuset("0-1, 3"); // "0-1,3"
 * ```
 */
export function parseCpuset(s: string): string {
  const value = s.replace(/\s+/g, "");
  const ok = value !== "" && value.split(",").every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    return m !== null && (m[2] === undefined || Number(m[2]) >= Number(m[1]));
  });
  if (!ok) throw new UsageError(`invalid value "${s}" for cpuset cpus`);
  return value;
}

/**
 * Converts cgroup v1 `cpu.shares` to cgroup v2 `cpu.weight`, as runc does.
 *
 * @example
 * ```ts
 * sharesToWeight(1024); // 39
 * ```
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}
