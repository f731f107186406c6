/**
 * The markers that tell the Go-template engine (go_template.ts) Go's kinds apart in
 * JSON-like data: `goStruct`, `goMap`, `goNil`. Their own module so that a command can build
 * its rows as Go values (images' `*formatter.imageContext`) without loading the engine,
 * about 50 KB, which it needs only for a `--format` (see go_template.ts for what each kind
 * means to a template).
 *
 * @module
 */

const STRUCT = Symbol("go.struct");
const MAP = Symbol("go.map");

/** Marks `fields` as a Go struct of type `typeName` (for its error messages). */
export function goStruct<T extends object>(typeName: string, fields: T): T {
  Object.defineProperty(fields, STRUCT, { value: typeName, enumerable: false });
  return fields;
}

/** Marks `entries` as a Go map whose missing entries `index` reads as `zero`. */
export function goMap<T extends object>(entries: T, zero?: unknown): T {
  Object.defineProperty(entries, MAP, { value: { zero }, enumerable: false, configurable: true });
  return entries;
}

const NIL = Symbol("go.nil");

/**
 * A nil Go slice (`kind` "slice") or map ("map", whose missing entries `index` reads as
 * `zero`): empty to templates, so `{{.X}}` prints `[]` or `map[]` as Go's fmt does for a
 * typed nil, where `json` writes `null`.
 */
export function goNil(kind: "slice" | "map", zero?: unknown): unknown[] | Record<string, never> {
  const v = kind === "slice" ? [] : goMap({}, zero);
  Object.defineProperty(v, NIL, { value: true, enumerable: false });
  return v;
}

/** Whether `v` is a nil slice or map made by `goNil`. */
export function isNil(v: unknown): boolean {
  return v !== null && typeof v === "object" && (v as { [NIL]?: boolean })[NIL] === true;
}

/** The Go type name `goStruct` gave `v`, if any. */
export function structType(v: unknown): string | undefined {
  return v !== null && typeof v === "object" ? (v as { [STRUCT]?: string })[STRUCT] : undefined;
}

/** What `goMap` recorded for `v` (the zero of its missing entries), if it is a Go map. */
export function mapInfo(v: unknown): { zero: unknown } | undefined {
  return v !== null && typeof v === "object"
    ? (v as { [MAP]?: { zero: unknown } })[MAP]
    : undefined;
}
