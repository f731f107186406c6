/**
 * `m-docker volume create|ls|inspect|rm|prune`: the flags and docs only; each command's body
 * is loaded when it runs (src/cli/volume_impl.ts), so that other commands do not pay for it.
 *
 * @module
 */

import { listFlag, stringFlag } from "./params.ts";
import { buildCommand, buildRouteMap } from "@stricli/core";
import type { CliContext } from "./context.ts";
import type {
  VolumeCreateFlags,
  VolumeInspectFlags,
  VolumeLsFlags,
  VolumePruneFlags,
  VolumeRmFlags,
} from "./volume_impl.ts";

const impl = () => import("./volume_impl.ts");
const names = {
  kind: "array",
  parameter: { brief: "Volume name", parse: String, placeholder: "VOLUME" },
  minimum: 1,
} as const;

const createCommand = buildCommand<VolumeCreateFlags, [string?], CliContext>({
  loader: async () => (await impl()).createVolumeCommand,
  parameters: {
    flags: {
      driver: { ...stringFlag, brief: "Specify volume driver name (local)" },
      label: { ...listFlag, brief: "Set metadata for a volume" },
      opt: { ...listFlag, brief: "Set driver specific options" },
      name: { ...stringFlag, brief: "Specify volume name", hidden: true },
    },
    aliases: { d: "driver", o: "opt" },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Volume name", parse: String, placeholder: "VOLUME", optional: true }],
    },
  },
  docs: { brief: "Create a volume" },
});

const lsCommand = buildCommand<VolumeLsFlags, [], CliContext>({
  loader: async () => (await impl()).lsVolumesCommand,
  parameters: {
    flags: {
      quiet: { kind: "boolean", optional: true, brief: "Only display volume names" },
      filter: { ...listFlag, brief: "Provide filter values (name=, label=, dangling=, driver=)" },
      format: { ...stringFlag, brief: "Format output using a Go template" },
    },
    aliases: { q: "quiet", f: "filter" },
  },
  docs: { brief: "List volumes" },
});

const inspectCommand = buildCommand<VolumeInspectFlags, string[], CliContext>({
  loader: async () => (await impl()).inspectVolumesCommand,
  parameters: {
    flags: { format: { ...stringFlag, brief: "Format output using a Go template" } },
    aliases: { f: "format" },
    positional: names,
  },
  docs: { brief: "Display detailed information on one or more volumes" },
});

const rmCommand = buildCommand<VolumeRmFlags, string[], CliContext>({
  loader: async () => (await impl()).rmVolumesCommand,
  parameters: {
    flags: {
      force: { kind: "boolean", optional: true, brief: "Do not fail on volumes that do not exist" },
    },
    aliases: { f: "force" },
    positional: names,
  },
  docs: { brief: "Remove one or more volumes" },
});

const pruneCommand = buildCommand<VolumePruneFlags, [], CliContext>({
  loader: async () => (await impl()).pruneVolumesCommand,
  parameters: {
    flags: {
      force: { kind: "boolean", optional: true, brief: "Do not prompt for confirmation" },
      all: {
        kind: "boolean",
        optional: true,
        brief: "Remove all unused volumes, not just anonymous ones",
      },
      filter: { ...listFlag, brief: "Provide filter values (label=)" },
    },
    aliases: { f: "force", a: "all" },
  },
  docs: { brief: "Remove unused local volumes" },
});

/** The `volume` command group. */
export const volumeRoutes = buildRouteMap({
  routes: {
    create: createCommand,
    ls: lsCommand,
    list: lsCommand,
    inspect: inspectCommand,
    rm: rmCommand,
    remove: rmCommand,
    prune: pruneCommand,
  },
  docs: { brief: "Manage volumes" },
});
