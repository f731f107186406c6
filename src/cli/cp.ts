/**
 * `m-docker cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-` and
 * `m-docker cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH`. The work is in `cp_impl.ts`.
 *
 * Imported statically, not through Stricli's lazy `loader`: the bundled build runs under
 * `deno run`, which fetches every statically named dynamic import at start-up anyway, and
 * the extra split points cut the shared code into more chunks that every process (init and
 * the shim too) then opens: measured, the lazy form cost `run --rm` about 20 ms of CPU.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import impl from "./cp_impl.ts";
import type { CliContext } from "./context.ts";
import type { CpFlags } from "./cp_impl.ts";

/** The `cp` command. */
export const cpCommand = buildCommand<CpFlags, [string, string], CliContext>({
  func: impl,
  parameters: {
    flags: {
      archive: {
        kind: "boolean",
        optional: true,
        brief: "Archive mode (copy all uid/gid information)",
      },
      followLink: {
        kind: "boolean",
        optional: true,
        brief: "Always follow symbol link in SRC_PATH",
      },
    },
    aliases: { a: "archive", L: "followLink" },
    positional: {
      kind: "tuple",
      parameters: [
        {
          brief: "Source: CONTAINER:SRC_PATH, a host path, or - (a tar stream on stdin)",
          parse: String,
          placeholder: "SRC",
        },
        {
          brief: "Destination: CONTAINER:DEST_PATH, a host path, or - (a tar stream on stdout)",
          parse: String,
          placeholder: "DEST",
        },
      ],
    },
  },
  docs: { brief: "Copy files/folders between a container and the local filesystem" },
});
