/**
 * The hidden `__complete WORD...` command that the completion scripts call: given the words
 * typed after `m-docker`, the last one being the word under the cursor (possibly empty), it
 * prints one candidate a line, `VALUE<TAB>DESCRIPTION`. Commands and flags come from
 * stricli's own route table and flag definitions (its `proposeCompletions`), names of
 * containers and images from the positional parameters' `proposeCompletions` (names.ts).
 *
 * @module
 */

import { type Application, proposeCompletions } from "@stricli/core";
import { openEngine } from "../engine.ts";
import { defaultRoots } from "../state/roots.ts";
import { escapeTrailingCommand, parseGlobalOptions } from "./argv.ts";
import type { CliContext } from "./context.ts";

/** The word that runs this command; not in the route table, so never in `--help`. */
export const COMPLETE_COMMAND = "__complete";

/** The global options `argv.ts` parses by hand, which stricli does not know. */
const GLOBAL_FLAGS: Array<[string, string]> = [
  ["--root", "Root of persisted data (images, containers' layers and logs)"],
  ["--state", "Root of runtime state"],
  ["--debug", "Enable debug output"],
];

/**
 * The candidates for the last of `words`: `trailing` names the commands whose arguments
 * after the first positional are another program's (`run IMAGE CMD...`), where nothing is
 * proposed, so that the shell completes file names.
 */
export async function completions(
  app: Application<CliContext>,
  words: string[],
  trailing: Record<string, Set<string>>,
  stdio: CliContext["process"],
): Promise<Array<[string, string]>> {
  if (words.length === 0) words = [""];
  const partial = words[words.length - 1];
  let parsed;
  try {
    parsed = parseGlobalOptions(words.slice(0, -1));
  } catch {
    return []; // a global option still waiting for its value: a path
  }
  const { options, rest } = parsed;
  if (rest.length === 0 && partial.startsWith("-")) {
    const globals = GLOBAL_FLAGS.filter(([f]) => f.startsWith(partial));
    if (partial.startsWith("--")) return globals;
  }
  const flags = trailing[rest[0]];
  if (flags) {
    // After the image (or container), the words are the command's own.
    const escaped = escapeTrailingCommand([...rest.slice(1), "\0"], flags);
    const dash = escaped.indexOf("--");
    if (dash >= 0 && escaped[dash + 1] !== "\0") return [];
  }
  const defaults = defaultRoots();
  const engine = openEngine({
    root: options.root ?? defaults.root,
    state: options.state ?? defaults.state,
  });
  const ctx: CliContext = { process: stdio, engine, debug: false };
  const proposed = await proposeCompletions(app, [...rest, partial], ctx);
  const seen = new Set<string>();
  const out: Array<[string, string]> = [];
  for (const c of proposed) {
    // stricli offers `--` (end of flags) everywhere; nobody completes to it.
    if (c.completion === "--" || seen.has(c.completion)) continue;
    // Flags only once a dash is typed, as Docker's scripts: a bare TAB lists names.
    if (c.kind === "argument:flag" && !partial.startsWith("-")) continue;
    seen.add(c.completion);
    out.push([c.completion, c.brief.replace(/\s+/g, " ")]);
  }
  return out;
}
