/**
 * `m-docker stats [--no-stream] [--no-trunc] [-a] [--format F] [CONTAINER...]`: live
 * resource usage, with Docker's columns. The work is in `stats_impl.ts` (imported statically:
 * see cp.ts for why).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import impl from "./stats_impl.ts";
import type { CliContext } from "./context.ts";
import type { StatsFlags } from "./stats_impl.ts";

/** The `stats` command. */
export const statsCommand = buildCommand<StatsFlags, string[], CliContext>({
  func: impl,
  parameters: {
    flags: {
      all: {
        kind: "boolean",
        optional: true,
        brief: "Show all containers (default shows just running)",
      },
      noStream: {
        kind: "boolean",
        optional: true,
        brief: "Disable streaming stats and only pull the first result",
      },
      noTrunc: { kind: "boolean", optional: true, brief: "Do not truncate output" },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a template ('table', 'json', or 'table {{.Name}}\\t...')",
      },
    },
    aliases: { a: "all" },
    positional: {
      kind: "array",
      parameter: { brief: "Container name or ID", parse: String, placeholder: "CONTAINER" },
    },
  },
  docs: { brief: "Display a live stream of container(s) resource usage statistics" },
});
