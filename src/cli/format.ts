/**
 * Docker's `--format` for lists (docker/cli's formatter.Context): `table` and a template
 * for aligned columns under a header row made from the same template, `json` for one JSON
 * object per line, any other template for one line per item.
 *
 * @module
 */

import {
  executeTemplate,
  type FunctionMap,
  goMap,
  parseTemplate,
  type Template,
  TemplateError,
} from "../util/go_template.ts";
import { DOCKER_TABLE, tabwrite } from "../util/tabwriter.ts";
import { ExitCodeError } from "../util/errors.ts";

/** A `--format` that is a table: it starts with "table", as Docker's `Format.IsTable`. */
export function isTableFormat(format: string): boolean {
  return format.startsWith("table");
}

/**
 * The template a format stands for (docker/cli's `templateString`): `json` is `{{json .}}`,
 * a `table` prefix goes, surrounding spaces go, and `\t` and `\n` typed as two characters
 * become a tab and a newline.
 */
export function templateString(format: string): string {
  if (format === "table") return "";
  if (format === "json") return "{{json .}}";
  const body = isTableFormat(format) ? format.slice("table".length) : format;
  return body.replace(/^ +| +$/g, "").replaceAll("\\t", "\t").replaceAll("\\n", "\n");
}

/** Parses a format's template; a bad one is Docker's `template parsing error: ...`, exit 1. */
export function parseFormat(format: string): Template {
  try {
    return parseTemplate(templateString(format));
  } catch (e) {
    throw templateError(e);
  }
}

function templateError(e: unknown, prefix = "template parsing error: "): unknown {
  return e instanceof TemplateError ? new ExitCodeError(`${prefix}${e.message}`, 1) : e;
}

const keep = (v: unknown) => v;

/**
 * docker/cli's `HeaderFunctions`: in the header row, functions leave the column names as
 * they are (`pad` alone still pads, so that headers line up with their columns).
 */
const HEADER_FUNCTIONS: FunctionMap = {
  json: keep,
  split: keep,
  join: keep,
  title: keep,
  lower: keep,
  upper: keep,
  truncate: keep,
};

/**
 * Docker's SubHeaderContext: field name to column name, and `.Label "a.b-c"` heads a label
 * column with the key's last dotted part, "-" and "_" as spaces.
 */
function headerContext(headers: Record<string, string>): Record<string, unknown> {
  return goMap({
    ...headers,
    Label: (name: unknown) => String(name).split(".").pop()!.replace(/[-_]/g, " "),
  });
}

/**
 * Renders `items` with `format` as `docker ... --format` does: each item's line (the
 * template's output and a newline), then for a table the header row from `headers` and all
 * of it aligned by Docker's tabwriter. A template that fails on an item prints nothing
 * and is `template parsing error: ...`.
 *
 * @example
 * ```ts
 * renderList("table {{.ID}}\t{{.Name}}", [{ ID: "1", Name: "web" }], { ID: "ID", Name: "NAME" });
 * // "ID        NAME\n1         web\n"
 * ```
 */
export function renderList(
  format: string,
  items: unknown[],
  headers: Record<string, string>,
): string {
  const tmpl = parseFormat(format);
  let body = "";
  for (const item of items) {
    try {
      body += executeTemplate(tmpl, item) + "\n";
    } catch (e) {
      throw templateError(e);
    }
  }
  if (!isTableFormat(format)) return body;
  let header = "";
  try {
    header = executeTemplate(tmpl, headerContext(headers), { functions: HEADER_FUNCTIONS });
  } catch {
    // Docker ignores a header that does not render.
  }
  return tabwrite(`${header}\n${body}`, DOCKER_TABLE);
}

/**
 * `inspect --format` (docker/cli's TemplateInspector): the template's output and a newline
 * for each document it renders, or one empty line when none did; `json` is the documents
 * as one compact JSON array. The documents it fails on are returned as errors (Docker
 * prints the others and exits 1); a template that does not parse is exit code 64.
 */
export function renderInspect(
  format: string,
  docs: unknown[],
): { output: string; errors: Error[] } {
  if (format === "json") return { output: JSON.stringify(docs) + "\n", errors: [] };
  let tmpl: Template;
  try {
    tmpl = parseTemplate(format);
  } catch (e) {
    throw e instanceof TemplateError
      ? new ExitCodeError(`template parsing error: ${e.message}`, 64)
      : e;
  }
  let output = "";
  const errors: Error[] = [];
  for (const doc of docs) {
    try {
      output += executeTemplate(tmpl, doc) + "\n";
    } catch (e) {
      errors.push(templateError(e) as Error);
    }
  }
  return { output: output === "" ? "\n" : output, errors };
}
