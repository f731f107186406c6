/**
 * Go's `time.Duration` as Docker's flags take and print it: `ParseDuration` ("100ms",
 * "1m30s", "4.5s") and `Duration.String` ("1m30s", "100ms", "0s"). Durations are integer
 * nanoseconds held in a double, exact up to about 104 days, which is far more than any
 * healthcheck interval.
 *
 * @module
 */

const NS = 1, US = 1e3, MS = 1e6, S = 1e9, M = 60e9, H = 3600e9;

const UNITS: Record<string, number> = {
  ns: NS,
  us: US,
  "\u00b5s": US, // micro sign
  "\u03bcs": US, // Greek mu
  ms: MS,
  s: S,
  m: M,
  h: H,
};

/**
 * Parses a Go duration into nanoseconds, with Go's error messages: `time: invalid duration
 * "x"`, `time: missing unit in duration "10"`, `time: unknown unit "x" in duration "1x"`.
 *
 * @example
 * ```ts
 * parseGoDuration("1m30s"); // 90_000_000_000
 * parseGoDuration("100ms"); // 100_000_000
 * ```
 */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== "") {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const [whole, int, frac] = [num[0], num[1], num[2] ?? ""];
    if (int === "" && frac === "") throw new Error(`time: invalid duration ${quoted}`);
    s = s.slice(whole.length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = UNITS[unit];
    if (scale === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    }
    s = s.slice(unit.length);
    // Whole nanoseconds, as Go keeps them: the fraction is truncated below one.
    total += Number(int || "0") * scale + Math.trunc(Number(`0.${frac || "0"}`) * scale);
  }
  if (total > 2 ** 63) throw new Error(`time: invalid duration ${quoted}`);
  return sign * total;
}

/**
 * A duration in nanoseconds as Go's `Duration.String` prints it: "1h0m0s", "1m30s", "1.5s",
 * "100ms", "1.5µs", "0s". Docker's messages quote durations this way.
 *
 * @example
 * ```ts
 * formatGoDuration(90e9); // "1m30s"
 * formatGoDuration(1e8); // "100ms"
 * ```
 */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let n = Math.abs(Math.trunc(ns));
  if (n < S) {
    // Below a second: one unit, with a fraction.
    const [unit, scale] = n < US ? ["ns", NS] : n < MS ? ["\u00b5s", US] : ["ms", MS];
    return `${sign}${fraction(n, scale)}${unit}`;
  }
  const h = Math.floor(n / H);
  n -= h * H;
  const m = Math.floor(n / M);
  n -= m * M;
  const secs = `${fraction(n, S)}s`;
  if (h > 0) return `${sign}${h}h${m}m${secs}`;
  if (m > 0) return `${sign}${m}m${secs}`;
  return `${sign}${secs}`;
}

/** `n / scale` in decimal, with trailing zeros of the fraction dropped. */
function fraction(n: number, scale: number): string {
  const whole = Math.floor(n / scale);
  const rest = n - whole * scale;
  if (rest === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
