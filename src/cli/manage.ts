/**
 * `rename`, `pause`, `unpause`, `update` and `container prune`: their flags and help. The
 * bodies (manage_impl.ts) load only when one of them runs. Every failure exits 1, as
 * Docker's commands other than `run` and `create` do.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import type { CliContext } from "./context.ts";
import type { UpdateFlags } from "./manage_impl.ts";
import { containerRefs, pruneFlags } from "./params.ts";
import { runFlags } from "./run.ts";

const impl = () => import("./manage_impl.ts");

/** `rename CONTAINER NEW_NAME` */
export const renameCommand = buildCommand<Record<never, never>, [string, string], CliContext>({
  loader: async () => (await impl()).rename,
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Container name or ID", parse: String, placeholder: "CONTAINER" },
        { brief: "Its new name", parse: String, placeholder: "NEW_NAME" },
      ],
    },
  },
  docs: { brief: "Rename a container" },
});

/** `pause CONTAINER...` */
export const pauseCommand = buildCommand<Record<never, never>, string[], CliContext>({
  loader: async () => (await impl()).pause,
  parameters: { flags: {}, positional: containerRefs },
  docs: { brief: "Pause all processes within one or more containers" },
});

/** `unpause CONTAINER...` */
export const unpauseCommand = buildCommand<Record<never, never>, string[], CliContext>({
  loader: async () => (await impl()).unpause,
  parameters: { flags: {}, positional: containerRefs },
  docs: { brief: "Unpause all processes within one or more containers" },
});

/** `update [OPTIONS] CONTAINER...` */
export const updateCommand = buildCommand<UpdateFlags, string[], CliContext>({
  loader: async () => (await impl()).update,
  parameters: {
    // `run`'s parsers, so that values read the same in both.
    flags: {
      memory: { ...runFlags.memory, brief: "Memory limit" },
      memorySwap: runFlags.memorySwap,
      memoryReservation: runFlags.memoryReservation,
      cpus: runFlags.cpus,
      cpuPeriod: runFlags.cpuPeriod,
      cpuQuota: runFlags.cpuQuota,
      cpuShares: runFlags.cpuShares,
      cpusetCpus: runFlags.cpusetCpus,
      pidsLimit: {
        ...runFlags.pidsLimit,
        brief: "Tune container pids limit (set -1 for unlimited)",
      },
      blkioWeight: runFlags.blkioWeight,
      restart: { ...runFlags.restart, brief: "Restart policy to apply when a container exits" },
    },
    aliases: { m: "memory", c: "cpuShares" },
    positional: containerRefs,
  },
  docs: { brief: "Update configuration of one or more containers" },
});

/** `container prune [-f] [--filter F]` */
export const containerPruneCommand = buildCommand<
  { force?: boolean; filter?: string[] },
  [],
  CliContext
>({
  loader: async () => (await impl()).prune,
  parameters: pruneFlags('Provide filter values (e.g. "until=<timestamp>")'),
  docs: { brief: "Remove all stopped containers" },
});
