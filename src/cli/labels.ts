/**
 * `--label KEY[=VALUE]` and `--label-file FILE` of `run` and `create`, read as Docker's CLI
 * reads them (docker/cli's `opts.ValidateLabel`, `kvfile.Parse` and `ReadKVStrings`): the
 * files first, then the flags, a later key overriding an earlier one.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

const WHITESPACE = /[ \t]/;

/**
 * Checks one `--label` value as Docker does: a key that is not empty and has no blanks.
 *
 * @example
 * ```ts
 * validateLabel("com.example.tier=web"); // "com.example.tier=web"
 * validateLabel("=web"); // throws: invalid label '=web': empty name
 * ```
 */
export function validateLabel(value: string): string {
  const key = value.split("=", 1)[0].replace(/^[ \t]+/, "");
  const why = key === ""
    ? `invalid label '${value}': empty name`
    : WHITESPACE.test(key)
    ? `label '${key}' contains whitespaces`
    : undefined;
  if (why) throw new UsageError(`invalid argument "${value}" for "-l, --label" flag: ${why}`);
  return value;
}

/**
 * The `KEY=VALUE` lines of a label file's text: blank lines and `#` comments skipped,
 * leading blanks trimmed, a line without `=` dropped (labels have no environment to take a
 * value from), a key with blanks refused with Docker's message.
 *
 * @example
 * ```ts
 * parseLabelFile("f", "# c\na=1\nbare\n"); // ["a=1"]
 * ```
 */
export function parseLabelFile(path: string, text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const key = eq < 0 ? line : line.slice(0, eq);
    const fail = (why: string) => {
      throw new UsageError(`--label-file: invalid env file (${path}): ${why}`);
    };
    if (key === "") fail(`no variable name on line '${line}'`);
    if (WHITESPACE.test(key)) fail(`variable '${key}' contains whitespaces`);
    if (eq >= 0) out.push(line);
  }
  return out;
}

/**
 * The labels of `--label-file`s and `--label`s, as one map: files first, then flags; a
 * `KEY` without `=` is an empty label.
 *
 * @example
 * ```ts
 * requestLabels([], ["a=1", "b", "a=2"]); // { a: "2", b: "" }
 * ```
 */
export function requestLabels(
  files: string[],
  flags: string[],
  read: (path: string) => string = (p) => Deno.readTextFileSync(p),
): Record<string, string> {
  const fromFiles = files.flatMap((f) => {
    let text: string;
    try {
      text = read(f);
    } catch (e) {
      throw new UsageError(`--label-file: open ${f}: ${(e as Error).message}`);
    }
    return parseLabelFile(f, text);
  });
  const labels: Record<string, string> = {};
  for (const kv of [...fromFiles, ...flags.map(validateLabel)]) {
    const eq = kv.indexOf("=");
    labels[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? "" : kv.slice(eq + 1);
  }
  return labels;
}
