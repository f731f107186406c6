/**
 * `--format` for the observation commands (stats, events, info, version, system df), on
 * the Go-template engine (`src/util/go_template.ts`, through `./format.ts`): `json` gives one
 * JSON object per line made by the command's own serialiser, `table TEMPLATE` a header and
 * aligned rows, any other template one line per object.
 *
 * @module
 */

import { executeTemplate, goMap } from "../util/go_template.ts";
import { parseFormat, renderList } from "./format.ts";
import { ExitCodeError } from "../util/errors.ts";

/** The fields that are Go maps in Docker's types: they print as `map[k:v]`. */
const MAP_FIELDS = new Set(["Attributes", "Labels", "Options"]);

/** A copy of `v` with its map-typed fields marked for the template engine (see goMap). */
function withGoMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withGoMaps);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = MAP_FIELDS.has(k) && typeof x === "object" && x !== null && !Array.isArray(x)
      ? goMap({ ...x }, "")
      : withGoMaps(x);
  }
  return out;
}

/** Renders one object with a template, as Docker's `--format` for a single document. */
export function renderTemplate(template: string, obj: unknown): string {
  try {
    return executeTemplate(parseFormat(template), withGoMaps(obj));
  } catch (e) {
    if (e instanceof ExitCodeError) throw e;
    throw new ExitCodeError(`template: ${(e as Error).message}`, 1);
  }
}

/**
 * Renders rows for `--format` and returns the lines. `headers` maps field names to the
 * column titles of a `table` format; `toJson` serialises a whole object for `json`.
 */
export function renderFormat(
  format: string,
  objects: readonly unknown[],
  headers: Record<string, string> = {},
  toJson: (v: unknown) => string = (v) => JSON.stringify(v),
): string[] {
  // The command's own serialiser for the whole object: events print timeNano as a number.
  if (format === "json" || /^\{\{\s*json\s+\.\s*\}\}$/.test(format)) {
    return objects.map((o) => toJson(o));
  }
  // A field with no title of its own is headed by its name in capitals.
  const titles: Record<string, string> = {};
  for (const o of objects) {
    if (typeof o === "object" && o !== null) {
      for (const k of Object.keys(o)) titles[k] = k.toUpperCase();
    }
  }
  Object.assign(titles, headers);
  return renderList(format, objects.map(withGoMaps), titles).replace(/\n$/, "").split("\n");
}
