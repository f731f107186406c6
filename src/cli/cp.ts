/**
 * `m-docker cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-` and
 * `m-docker cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH`. The work is in `cp_impl.ts`.
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
