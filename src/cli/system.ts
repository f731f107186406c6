/**
 * `m-docker info`, `version`, `system df`, `system prune` and `system info`: the engine as a
 * whole. The work is in `system_impl.ts`, loaded only when one of them runs.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import type { CliContext } from "./context.ts";
import type { FormatFlags, PruneFlags } from "./system_impl.ts";

const formatFlag = {
  format: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "Format output using a template ('json', or '{{.Field}}')",
  },
} as const;

/** The `info` command. */
export const infoCommand = buildCommand<FormatFlags, [], CliContext>({
  loader: async () => (await import("./system_impl.ts")).info,
  parameters: { flags: formatFlag },
  docs: { brief: "Display system-wide information" },
});

/** The `version` command. */
export const versionCommand = buildCommand<FormatFlags, [], CliContext>({
  loader: async () => (await import("./system_impl.ts")).version,
  parameters: { flags: formatFlag },
  docs: { brief: "Show the m-docker version information" },
});

const dfCommand = buildCommand<FormatFlags, [], CliContext>({
  loader: async () => (await import("./system_impl.ts")).df,
  parameters: { flags: formatFlag },
  docs: { brief: "Show docker disk usage" },
});

const pruneCommand = buildCommand<PruneFlags, [], CliContext>({
  loader: async () => (await import("./system_impl.ts")).prune,
  parameters: {
    flags: {
      all: {
        kind: "boolean",
        optional: true,
        brief: "Remove all unused images not just dangling ones",
      },
      force: { kind: "boolean", optional: true, brief: "Do not prompt for confirmation" },
      volumes: { kind: "boolean", optional: true, brief: "Prune volumes" },
    },
    aliases: { a: "all", f: "force" },
  },
  docs: { brief: "Remove unused data" },
});

/** `system df|prune|info`. */
export const systemRoutes = buildRouteMap({
  routes: { df: dfCommand, prune: pruneCommand, info: infoCommand },
  docs: { brief: "Manage m-docker" },
});
