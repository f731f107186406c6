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
  goNil,
  parseTemplate,
  type Template,
  TemplateError,
} from "../util/go_template.ts";
import { DOCKER_TABLE, tabwrite } from "../util/tabwriter.ts";
import { ExitCodeError } from "../util/errors.ts";

export { goTime } from "../util/go_time.ts";

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

/**
 * The fields of Docker's inspect types (moby api/types: container, image, network,
 * volume) that are Go slices and maps, by path (`*` for every entry of a map): where the
 * document has `null` or nothing, Docker's typed value is a nil slice or map, which
 * `{{.X}}` prints as `[]` or `map[]` and `{{json .X}}` as `null` (a nil pointer such as
 * `HostConfig.PidsLimit` or an endpoint's `IPAMConfig` stays `<nil>`).
 */
const NIL_SLICES = [
  "Args",
  "Mounts",
  "State.Health.Log",
  "HostConfig.Binds",
  "HostConfig.CapAdd",
  "HostConfig.CapDrop",
  "HostConfig.SecurityOpt",
  "HostConfig.GroupAdd",
  "HostConfig.Ulimits",
  "HostConfig.Devices",
  "HostConfig.DeviceCgroupRules",
  "HostConfig.Dns",
  "HostConfig.DnsSearch",
  "HostConfig.DnsOptions",
  "HostConfig.ExtraHosts",
  "HostConfig.Links",
  "Config.Cmd",
  "Config.Entrypoint",
  "Config.Env",
  "Config.OnBuild",
  "Config.Shell",
  "NetworkSettings.Networks.*.Links",
  "NetworkSettings.Networks.*.Aliases",
  "NetworkSettings.Networks.*.DNSNames",
  "RepoTags",
  "RepoDigests",
  "RootFS.Layers",
  "IPAM.Config",
];
const NIL_MAPS: Array<[string, unknown?]> = [
  ["Config.Labels", ""],
  ["Config.ExposedPorts"],
  ["Config.Volumes"],
  ["HostConfig.PortBindings"],
  ["HostConfig.Tmpfs", ""],
  ["HostConfig.Sysctls", ""],
  ["HostConfig.LogConfig.Config", ""],
  ["NetworkSettings.Ports"],
  ["NetworkSettings.Networks"],
  ["GraphDriver.Data", ""],
  ["IPAM.Options", ""],
  ["Labels", ""],
  ["Options", ""],
];

/** The objects at `path` in `doc` and the key to read there (`*`: every key). */
function slots(doc: unknown, path: string): Array<[Record<string, unknown>, string]> {
  const parts = path.split(".");
  let here: unknown[] = [doc];
  for (const part of parts.slice(0, -1)) {
    here = here.flatMap((v) => {
      if (!v || typeof v !== "object" || Array.isArray(v)) return [];
      const o = v as Record<string, unknown>;
      return part === "*" ? Object.values(o) : [o[part]];
    });
  }
  const last = parts.at(-1)!;
  return here.filter((v): v is Record<string, unknown> =>
    !!v && typeof v === "object" && !Array.isArray(v)
  ).map((o) => [o, last]);
}

/** Whether `o` has the section a path starts with (no nils made up for another kind). */
function hasRoot(doc: Record<string, unknown>, path: string): boolean {
  const first = path.split(".")[0];
  return path.includes(".") ? doc[first] !== undefined && doc[first] !== null : true;
}

/**
 * A copy of an inspect document whose parts are typed as in Docker's Go types, so that
 * templates treat them as Go does: maps (a missing key prints `<no value>`, `index` of
 * one is "" for labels, `map[k:v]`, `json` sorts them), and nil slices and maps where the
 * document has null or nothing (NIL_SLICES, NIL_MAPS).
 */
function markGoMaps(original: Record<string, unknown>): Record<string, unknown> {
  const doc = structuredClone(original);
  // Top-level fields only where the document is of a kind that has them.
  const container = "Path" in doc, image = "RootFS" in doc;
  const volumeOrNetwork = "Mountpoint" in doc || "IPAM" in doc;
  const topLevel: Record<string, boolean> = {
    Args: container,
    Mounts: container,
    RepoTags: image,
    RepoDigests: image,
    Labels: volumeOrNetwork,
    Options: volumeOrNetwork,
  };
  for (const path of NIL_SLICES) {
    if (!hasRoot(doc, path) || topLevel[path] === false) continue;
    for (const [o, k] of slots(doc, path)) {
      if (o[k] === null || o[k] === undefined) o[k] = goNil("slice");
    }
  }
  for (const [path, zero] of NIL_MAPS) {
    if (!hasRoot(doc, path) || topLevel[path] === false) continue;
    for (const [o, k] of slots(doc, path)) {
      if (o[k] === null || o[k] === undefined) o[k] = goNil("map", zero);
    }
  }
  const at = (path: string[], zero?: unknown) => {
    let v: unknown = doc;
    for (const k of path) {
      v = v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
    }
    if (v && typeof v === "object" && !Array.isArray(v)) goMap(v, zero);
  };
  at(["Config", "Labels"], "");
  at(["Config", "ExposedPorts"]);
  at(["HostConfig", "PortBindings"]);
  at(["HostConfig", "Tmpfs"], "");
  at(["HostConfig", "Sysctls"], "");
  at(["NetworkSettings", "Networks"]);
  at(["NetworkSettings", "Ports"]);
  at(["GraphDriver", "Data"], "");
  at(["Labels"], "");
  at(["Containers"]);
  at(["Options"], "");
  return doc;
}

/**
 * `inspect --format F` of `docs`: `json` as the documents are (nulls and all), a template
 * on them typed as Go's (markGoMaps). What `printInspect` (./inspect_print.ts) loads this
 * module, and the template engine, for.
 */
export function renderInspectDocs(
  format: string,
  docs: Record<string, unknown>[],
): { output: string; errors: Error[] } {
  return renderInspect(format, format === "json" ? docs : docs.map(markGoMaps));
}
