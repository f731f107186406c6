/**
 * Choosing and printing events as `docker events` does: Docker's timestamps for `--since`
 * and `--until` (durations, Unix seconds, RFC 3339 and its shorter forms), its filters
 * (`type`, `event`, `container`, `image`, `label`), and its line format. Pure functions over
 * `EngineEvent`s; `events.ts` keeps the journal.
 *
 * @module
 */

import type { EngineEvent } from "./events.ts";
import { UsageError } from "../util/errors.ts";
import { parseGoDuration } from "../util/docker_time.ts";

export { parseGoDuration };

/**
 * Docker's `GetTimestamp`: a time given to `--since`/`--until`, in nanoseconds since the
 * epoch. A Go duration is that long before `now`; digits (with up to nine decimals) are Unix
 * seconds; otherwise an RFC 3339 date or date-time, local time when it names no zone.
 */
export function parseTimestamp(value: string, now: number = Date.now()): bigint {
  const d = parseGoDuration(value);
  if (d !== null && value !== "0") return BigInt(now) * 1_000_000n - BigInt(Math.round(d));
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) {
    return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? "").padEnd(9, "0") || "0");
  }
  const t =
    /^(\d{4}-\d\d-\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d\d:\d\d)?$/
      .exec(value);
  if (!t) throw new UsageError(`failed to parse value as time or duration: "${value}"`);
  const [, date, hh = "00", mm = "00", ss = "00", frac = "", zone] = t;
  const iso = `${date}T${hh}:${mm}:${ss}${zone ? zone.toUpperCase() : ""}`;
  const ms = Date.parse(iso); // no zone: local time, as Docker's ParseInLocation
  if (Number.isNaN(ms)) {
    throw new UsageError(`failed to parse value as time or duration: "${value}"`);
  }
  return BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, "0") || "0");
}

/** The filters `docker events` accepts. */
const FILTER_KEYS = new Set([
  "container",
  "event",
  "image",
  "label",
  "type",
  "network",
  "volume",
  "scope",
]);

/** `--filter` values by key: values of one key are alternatives, keys must all match. */
export type EventFilters = Map<string, string[]>;

/** Parses `--filter KEY=VALUE` arguments; an unknown key is Docker's "Invalid filter". */
export function parseEventFilters(args: readonly string[]): EventFilters {
  const out: EventFilters = new Map();
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const key = arg.slice(0, eq).toLowerCase().trim(), value = arg.slice(eq + 1).trim();
    if (!FILTER_KEYS.has(key)) throw new UsageError(`Invalid filter '${key}'`);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** `busybox` and `busybox:latest` are the same image; so are `docker.io/library/...` forms. */
function imageNames(ref: string): string[] {
  const bare = ref.replace(/^(docker\.io\/)?(library\/)?/, "");
  return /:[^/]+$|@/.test(bare) ? [bare] : [bare, `${bare}:latest`];
}

/** True when `e` passes every filter. */
export function eventMatches(e: EngineEvent, filters: EventFilters): boolean {
  const attrs = e.Actor.Attributes;
  for (const [key, values] of filters) {
    const ok = values.some((v) => {
      switch (key) {
        case "type":
          return e.Type === v;
        case "event":
          // `health_status` matches `health_status: healthy` too, as Docker's.
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case "container":
          // moby's fuzzyMatchName: the value is the ID or the name, or a prefix of either.
          return e.Type === "container" && v.length > 0 &&
            (e.Actor.ID.startsWith(v) || (attrs.name ?? "").startsWith(v));
        case "image": {
          const want = imageNames(v);
          return (e.Type === "image" && (e.Actor.ID === v || want.includes(attrs.name ?? ""))) ||
            (e.Type === "container" && imageNames(attrs.image ?? "").some((n) => want.includes(n)));
        }
        case "label": {
          const eq = v.indexOf("=");
          return eq < 0 ? v in attrs : attrs[v.slice(0, eq)] === v.slice(eq + 1);
        }
        case "network":
          return e.Type === "network" && (e.Actor.ID === v || attrs.name === v);
        case "volume":
          return e.Type === "volume" && (e.Actor.ID === v || attrs.name === v);
        case "scope":
          return e.scope === v;
      }
      return false;
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * Go's `RFC3339NanoFixed` (`2006-01-02T15:04:05.000000000Z07:00`) of a time in nanoseconds,
 * in the local zone as Docker prints it: `Z` for UTC, else the offset.
 */
export function formatEventTime(nano: bigint): string {
  const ms = Number(nano / 1_000_000n);
  const offsetMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const frac = (nano % 1_000_000_000n).toString().padStart(9, "0");
  if (offsetMin === 0) return `${local}.${frac}Z`;
  const sign = offsetMin < 0 ? "-" : "+", abs = Math.abs(offsetMin);
  const zone = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${
    String(abs % 60).padStart(2, "0")
  }`;
  return `${local}.${frac}${sign}${zone}`;
}

/**
 * Docker's default line for an event:
 * `2024-01-01T00:00:00.000000000Z container start ID (image=busybox, name=web)`, the
 * attributes sorted by key.
 */
export function formatEventLine(e: EngineEvent): string {
  const attrs = Object.keys(e.Actor.Attributes).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`);
  const tail = attrs.length > 0 ? ` (${attrs.join(", ")})` : "";
  return `${formatEventTime(BigInt(e.timeNano))} ${e.Type} ${e.Action} ${e.Actor.ID}${tail}`;
}
