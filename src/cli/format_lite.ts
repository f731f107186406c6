/**
 * `--format` for the observation commands (stats, events, info, version, system df) until
 * the Go-template engine of issue 11 is merged: `json`, `table` (the default columns), and
 * templates made only of text and `{{.Field.Sub}}` / `{{json .}}` / `{{json .Field}}`
 * actions, with a `table ` prefix for a header line. Anything else is refused with a clear
 * error rather than printed wrong. When the template engine lands, `renderFormat` should
 * call it.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { formatTable } from "../util/table.ts";

/** A value found by a dotted path (`.Actor.ID`), or undefined. */
function lookup(obj: unknown, path: string): unknown {
  let v = obj;
  for (const k of path.split(".").filter((p) => p !== "")) {
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}

/** How Go's text/template prints a value: maps as map[k:v], nil as <no value>. */
function goString(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (typeof v === "object") {
    if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : 1);
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(" ")}]`;
  }
  return String(v);
}

const ACTION = /\{\{-?\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*-?\}\}/g;

/** Docker's escapes in a format given on the command line: `\t` and `\n`. */
function unescape(s: string): string {
  return s.replaceAll("\\t", "\t").replaceAll("\\n", "\n");
}

/** Renders one object with a template (no `table` prefix); `toJson` serialises `{{json .}}`. */
export function renderTemplate(
  template: string,
  obj: unknown,
  toJson: (v: unknown) => string = (v) => JSON.stringify(v ?? null),
): string {
  const t = unescape(template);
  const leftover = t.replace(ACTION, "");
  if (leftover.includes("{{")) {
    throw new UsageError(
      `template: unsupported action in "${template}": this command takes {{.Field}} and {{json .}}`,
    );
  }
  return t.replace(ACTION, (_, json: string | undefined, path: string) => {
    const v = path === "." ? obj : lookup(obj, path.slice(1));
    return json ? (path === "." ? toJson(v) : JSON.stringify(v ?? null)) : goString(v);
  });
}

/**
 * Renders rows for `--format`: `json` gives one JSON object per line; `table TEMPLATE` a
 * header (the field names mapped through `headers`) and aligned rows; any other template one
 * line per object. `toJson` serialises a whole object (for `json` and `{{json .}}`).
 * Returns the lines.
 */
export function renderFormat(
  format: string,
  objects: readonly unknown[],
  headers: Record<string, string> = {},
  toJson: (v: unknown) => string = (v) => JSON.stringify(v),
): string[] {
  if (format === "json") return objects.map((o) => toJson(o));
  if (format.startsWith("table ")) {
    const template = unescape(format.slice(6));
    const cells = (o: unknown) => renderTemplate(template, o, toJson).split("\t");
    const head = template.replace(ACTION, (_, _json, path: string) => {
      const field = path.slice(1);
      return headers[field] ?? field.toUpperCase();
    }).split("\t");
    return formatTable(head, objects.map(cells)).split("\n");
  }
  return objects.map((o) => renderTemplate(format, o, toJson));
}
