/**
 * Docker's `--filter KEY=VALUE` arguments (the daemon's filters.Args): parsing, checking
 * the keys a command accepts, and its ways of matching values. Pure.
 *
 * @module
 */

import { ExitCodeError } from "./errors.ts";

/** Filter values by key, in the order given. */
export type Filters = Map<string, string[]>;

/**
 * Parses `--filter` arguments as docker/cli's FilterOpt does: `name=value`, the name
 * lower-cased and both sides trimmed; an argument without "=" is refused.
 */
export function parseFilters(args: readonly string[]): Filters {
  const filters: Filters = new Map();
  for (const arg of args) {
    if (arg === "") continue;
    const i = arg.indexOf("=");
    if (i < 0) {
      // A flag's value error, which Docker's CLI reports before running anything: 125.
      throw new ExitCodeError(
        `invalid argument "${arg}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
        125,
      );
    }
    const key = arg.slice(0, i).trim().toLowerCase();
    const values = filters.get(key) ?? [];
    const value = arg.slice(i + 1).trim();
    if (!values.includes(value)) values.push(value);
    filters.set(key, values);
  }
  return filters;
}

/** Refuses a key that is not `accepted`: Docker's `invalid filter 'KEY'`, exit 1. */
export function validateFilters(filters: Filters, accepted: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!accepted.includes(key)) throw new ExitCodeError(`invalid filter '${key}'`, 1);
  }
}

/** An invalid value: `invalid filter 'KEY=[V1 V2]'`, as the daemon's invalidFilter prints it. */
export function invalidValue(key: string, values: readonly string[]): ExitCodeError {
  return new ExitCodeError(`invalid filter '${key}=[${values.join(" ")}]'`, 1);
}

/**
 * `Match`: true when no value is given for `key`, or one equals `source` or matches it as
 * an (unanchored) regular expression; a value that is not one is skipped.
 */
export function matches(filters: Filters, key: string, source: string): boolean {
  const values = filters.get(key);
  if (!values || values.length === 0) return true;
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}

/** `ExactMatch`: true when no value is given for `key`, or one equals `source`. */
export function exactMatches(filters: Filters, key: string, source: string): boolean {
  const values = filters.get(key);
  return !values || values.length === 0 || values.includes(source);
}

/**
 * `MatchKVList`: every `KEY` or `KEY=VALUE` given must be among `labels` (labels filters
 * are an AND, where other keys' values are an OR).
 */
export function matchesLabels(
  filters: Filters,
  key: string,
  labels: Record<string, string>,
): boolean {
  const values = filters.get(key);
  if (!values || values.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return values.every((v) => {
    const i = v.indexOf("=");
    const k = i < 0 ? v : v.slice(0, i);
    if (!Object.hasOwn(labels, k)) return false;
    return i < 0 || labels[k] === v.slice(i + 1);
  });
}

/**
 * `GetBoolOrDefault`: a filter that is true, false (1/true, 0/false) or absent; any other
 * value, or both, is `invalid filter 'KEY=[...]'`.
 */
export function boolFilter(filters: Filters, key: string, fallback: boolean): boolean {
  const values = filters.get(key);
  if (!values) return fallback;
  const no = values.includes("0") || values.includes("false");
  const yes = values.includes("1") || values.includes("true");
  if (no === yes) throw invalidValue(key, values);
  return yes;
}

/**
 * Go's `path.Match` as a regular expression: `*` any run of characters but "/", `?` one of
 * them, `[...]` a class (`[^...]` negated), `\` escapes.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return /(?!)/; // Go: ErrBadPattern, which matches nothing
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\(?!.)/g, "\\\\")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
