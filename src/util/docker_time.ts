/**
 * Times as Docker's CLI reads and prints them: `--since`/`--until` values (a Go duration
 * such as `10m` or `1h30m`, an RFC 3339 date or time with or without a zone, or a Unix
 * timestamp with up to nine decimals: moby's client `GetTimestamp`), and the fixed
 * nine-digit RFC 3339 form of `logs -t`. Times are nanoseconds since the epoch, as bigint
 * (a double cannot hold them exactly).
 *
 * @module
 */

import { parseGoDuration as goDuration } from "./duration.ts";

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** Go's `time.ParseDuration` (util/duration.ts) in nanoseconds; null when it is not one. */
export function parseGoDuration(s: string): number | null {
  try {
    return goDuration(s);
  } catch {
    return null;
  }
}

/** A time of day and date, as matched by `TIME_RE`, to nanoseconds (offset in minutes). */
function toNanos(
  parts: { y: number; mo: number; d: number; h: number; mi: number; s: number; frac: string },
  offsetMinutes: number,
  value: string,
): bigint {
  const { y, mo, d, h, mi, s, frac } = parts;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`parsing time ${JSON.stringify(value)}: ${what} out of range`);
  };
  check(mo >= 1 && mo <= 12, "month");
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  check(d >= 1 && d <= days, "day");
  check(h < 24, "hour");
  check(mi < 60, "minute");
  check(s < 60, "second");
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000;
  const ns = BigInt((frac + "000000000").slice(0, 9));
  return BigInt(ms) * NS_PER_MS + ns;
}

/** Parses `YYYY-MM-DD[THH[:MM[:SS[.fff]]]][Z|±hh:mm]` into its parts. */
const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/;

function parseRfc3339Like(value: string, localOffsetMinutes: number): bigint {
  const m = TIME_RE.exec(value);
  if (!m) {
    throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let offset = localOffsetMinutes;
  if (zone && zone !== "Z" && zone !== "z") {
    const sign = zone[0] === "-" ? -1 : 1;
    offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  } else if (zone) offset = 0;
  return toNanos(
    {
      y: Number(y),
      mo: Number(mo),
      d: Number(d),
      h: Number(h ?? 0),
      mi: Number(mi ?? 0),
      s: Number(s ?? 0),
      frac: frac ?? "",
    },
    offset,
    value,
  );
}

/** moby's `parseTimestamp`: `SECONDS[.FRACTION]`, or null. */
function parseUnix(value: string): bigint | null {
  const m = /^([+-]?\d+)(?:\.([+-]?\d+))?$/.exec(value);
  if (!m) return null;
  const sec = BigInt(m[1]);
  if (m[2] === undefined) return sec * NS_PER_S;
  const digits = m[2].replace(/^[+-]/, "");
  const ns = BigInt(Math.trunc(Number(m[2]) * Math.pow(10, 9 - digits.length)));
  return sec * NS_PER_S + ns;
}

/**
 * A `--since`/`--until` value as Docker's CLI reads it, relative to `now`: a Go duration
 * counts back from now (to the second, as Docker's does), a time without a zone is local.
 * Throws Docker's message for a value that is none of these.
 */
export function parseDockerTime(value: string, now: Date = new Date()): bigint {
  const d = value !== "0" ? parseGoDuration(value) : null;
  if (d !== null) {
    const ms = now.getTime() - d / 1e6;
    return BigInt(Math.floor(ms / 1000)) * NS_PER_S;
  }
  const inLocation = !/[zZ+]/.test(value) && value.split("-").length - 1 !== 3;
  try {
    return parseRfc3339Like(value, inLocation ? -now.getTimezoneOffset() : 0);
  } catch (e) {
    if (value.includes("-")) throw e;
    const unix = parseUnix(value);
    if (unix === null) {
      throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
    }
    return unix;
  }
}

/** Parses a log entry's time (RFC 3339 with up to nine decimals); null when it is damaged. */
export function parseLogTime(s: string): bigint | null {
  try {
    return parseRfc3339Like(s, 0);
  } catch {
    return null;
  }
}

/** Docker's `RFC3339NanoFixed`, in UTC: `2024-01-02T03:04:05.000000006Z`. */
export function formatNanoFixed(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const frac = (ns % NS_PER_S).toString().padStart(9, "0");
  return new Date(Number(ms)).toISOString().slice(0, 19) + "." + frac + "Z";
}

let lastNow = 0n;

/**
 * The wall-clock time in nanoseconds, with the sub-millisecond part of the monotonic clock,
 * never going backwards within this process (a log's entries must stay in order for
 * `--since`).
 */
export function nowNanos(): bigint {
  const subMs = Math.floor((performance.now() % 1) * 1e6);
  let ns = BigInt(Date.now()) * NS_PER_MS + BigInt(subMs);
  if (ns <= lastNow) ns = lastNow + 1n;
  lastNow = ns;
  return ns;
}
