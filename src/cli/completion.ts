/**
 * `m-docker completion bash|zsh|fish`: prints a shell completion script. The script is
 * loaded lazily, so that no other command pays for it.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import type { CliContext } from "./context.ts";

const SHELL_NAMES = ["bash", "zsh", "fish"];

/** The `completion` command. */
export const completionCommand = buildCommand<Record<never, never>, [string], CliContext>({
  loader: async () => (await import("./completion_scripts.ts")).default,
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Shell: bash, zsh or fish",
        parse: String,
        placeholder: "SHELL",
        proposeCompletions: (partial: string) => SHELL_NAMES.filter((s) => s.startsWith(partial)),
      }],
    },
  },
  docs: { brief: "Generate the autocompletion script for the specified shell" },
});
