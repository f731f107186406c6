/**
 * `m-docker info`, `version`, `system df`, `system prune` and `system info`: the engine as a
 * whole. The work is in `system_impl.ts`.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import type { CliContext } from "./context.ts";
import { pruneFlags } from "./params.ts";
import * as impl from "./system_impl.ts";
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
  func: impl.info,
  parameters: { flags: formatFlag },
  docs: { brief: "Display system-wide information" },
});

/** The `version` command. */
export const versionCommand = buildCommand<FormatFlags, [], CliContext>({
  func: impl.version,
  parameters: { flags: formatFlag },
  docs: { brief: "Show the m-docker version information" },
});

const dfCommand = buildCommand<FormatFlags, [], CliContext>({
  func: impl.df,
  parameters: { flags: formatFlag },
  docs: { brief: "Show docker disk usage" },
});

const prune = pruneFlags('Provide filter values (e.g. "label=<key>=<value>")');

const pruneCommand = buildCommand<PruneFlags, [], CliContext>({
  func: impl.prune,
  parameters: {
    flags: {
      all: {
        kind: "boolean",
        optional: true,
        brief: "Remove all unused images not just dangling ones",
      },
      force: prune.flags.force,
      volumes: { kind: "boolean", optional: true, brief: "Prune volumes" },
      filter: prune.flags.filter,
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
