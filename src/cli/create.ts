/**
 * `m-docker create [OPTIONS] IMAGE [COMMAND] [ARG...]`: `run`'s flags (less those about
 * attaching: `-d`, `--sig-proxy`), the same request, a container left `created` for `start`.
 * The work is loaded only when the command runs.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import type { CliContext } from "./context.ts";
import type { CreateFlags } from "./create_impl.ts";
import { runAliases, runFlags } from "./run.ts";

const { detach: _detach, sigProxy: _sigProxy, ...createFlagTable } = runFlags;
const { d: _d, ...createAliasTable } = runAliases;

/** The flags `create` takes; also used to find where the image name starts. */
export const createFlags = createFlagTable;

/** Single-letter aliases, as Docker's. */
export const createAliases = createAliasTable;

/** The `create` command. */
export const createCommand = buildCommand<CreateFlags, [string, ...string[]], CliContext>({
  loader: async () => (await import("./create_impl.ts")).default,
  parameters: {
    flags: createFlags,
    aliases: createAliases,
    positional: {
      kind: "array",
      parameter: { brief: "IMAGE [COMMAND] [ARG...]", parse: String, placeholder: "IMAGE" },
      minimum: 1,
    },
  },
  docs: { brief: "Create a new container" },
});
