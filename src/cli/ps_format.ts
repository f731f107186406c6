/**
 * `ps --format`: the container fields as docker/cli's ContainerContext under the Go template
 * engine, loaded only when a custom format is given (the default table needs neither).
 *
 * @module
 */

import { ExitCodeError } from "../util/errors.ts";
import { executeTemplate, goStruct, parseTemplate, TemplateError } from "../util/go_template.ts";
import { renderList } from "./format.ts";
import { PS_HEADERS } from "./ps_headers.ts";

/** The containers rendered with `format` (a table or not), as Docker's formatter does. */
export function renderPs(format: string, fields: readonly object[]): string {
  return renderList(
    format,
    fields.map((f) => goStruct("*formatter.ContainerContext", f)),
    PS_HEADERS,
  );
}

/**
 * Docker's ps checks a --format before listing: it must parse, and run on an empty
 * container ("failed to parse template" / "failed to execute template", exit 1).
 */
export function checkFormat(format: string): boolean {
  let usesSize = false;
  try {
    const tmpl = parseTemplate(format);
    const probe = goStruct("*formatter.ContainerContext", {
      ...Object.fromEntries(Object.keys(PS_HEADERS).map((k) => [k, () => ""])),
      Size: () => {
        usesSize = true;
        return "";
      },
      Label: () => "",
      Platform: () => null,
    });
    try {
      executeTemplate(tmpl, probe);
    } catch (e) {
      if (e instanceof TemplateError) {
        throw new ExitCodeError(`failed to execute template: ${e.message}`, 1);
      }
      throw e;
    }
  } catch (e) {
    if (e instanceof TemplateError) {
      throw new ExitCodeError(`failed to parse template: ${e.message}`, 1);
    }
    throw e;
  }
  return usesSize;
}
