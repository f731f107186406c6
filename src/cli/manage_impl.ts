/**
 * The bodies of `rename`, `pause`, `unpause`, `update` and `container prune` (see
 * manage.ts): flags to library calls, Docker's output. Every failure exits 1.
 *
 * @module
 */

import { confirm } from "./prompt.ts";
import { CgroupUnsupportedError, CgroupWriteError } from "../cgroups/errors.ts";
import { pauseContainer, unpauseContainer } from "../container/pause.ts";
import { PRUNE_FILTERS, pruneContainers, pruneFilter } from "../container/prune.ts";
import { parseFilters } from "../util/filters.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { renameContainer } from "../container/rename.ts";
import { UpdateConflictError, updateContainer } from "../container/update.ts";
import { humanSize } from "../util/humanize.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { action, type CliContext, println, reportError } from "./context.ts";
import { cliMessage } from "./limit_errors.ts";
import type { RestartPolicy } from "../config/container.ts";
import { nanoCpusOf } from "./run.ts";

/** `update`'s flags as parsed. */
export interface UpdateFlags {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  cpus?: { quotaUs: number; periodUs: number };
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  restart?: RestartPolicy;
}

type NoFlags = Record<never, never>;
const FAILED = 1;

/** Runs `fn` for each reference, printing those that succeeded, as Docker's CLI does. */
async function each(
  ctx: CliContext,
  refs: string[],
  fn: (ref: string) => void | Promise<void>,
): Promise<number> {
  let status = 0;
  for (const ref of refs) {
    try {
      await fn(ref);
      println(ctx, ref);
    } catch (e) {
      reportError(ctx, e);
      status = FAILED;
    }
  }
  return status;
}

/** `rename CONTAINER NEW_NAME`: prints nothing, as Docker's. */
export const rename = action(function (this: CliContext, _f: NoFlags, ref: string, name: string) {
  renameContainer(this.engine.containers, ref, name);
});

/** `pause CONTAINER...` */
export const pause = action(function (this: CliContext, _f: NoFlags, ...refs: string[]) {
  const store = this.engine.containers;
  return each(this, refs, async (ref) => {
    pauseContainer(store, (await resolveReconciled(store, ref)).id);
  });
});

/** `unpause CONTAINER...` */
export const unpause = action(function (this: CliContext, _f: NoFlags, ...refs: string[]) {
  const store = this.engine.containers;
  return each(this, refs, async (ref) => {
    unpauseContainer(store, (await resolveReconciled(store, ref)).id);
  });
});

/** `update [OPTIONS] CONTAINER...` */
export const update = action(async function (
  this: CliContext,
  flags: UpdateFlags,
  ...refs: string[]
) {
  if (Object.values(flags).every((v) => v === undefined)) {
    throw new UsageError("you must provide one or more flags when using this command");
  }
  const store = this.engine.containers;
  const change = {
    limits: {
      memoryBytes: flags.memory,
      memorySwapBytes: flags.memorySwap,
      memoryReservationBytes: flags.memoryReservation,
      nanoCpus: nanoCpusOf(flags.cpus),
      cpuQuotaUs: flags.cpuQuota,
      cpuPeriodUs: flags.cpuPeriod,
      cpuShares: flags.cpuShares,
      cpusetCpus: flags.cpusetCpus,
      pidsLimit: flags.pidsLimit,
      blkioWeight: flags.blkioWeight,
    },
    restart: flags.restart,
  };
  // Docker prints the daemon's warnings on stdout, after the containers updated.
  const warnings: string[] = [];
  const status = await each(this, refs, async (ref) => {
    const id = (await resolveReconciled(store, ref)).id;
    try {
      updateContainer(store, id, change, warnings);
    } catch (e) {
      // Docker names the container for what its update step refused or the kernel did.
      const wrapped = e instanceof UpdateConflictError || e instanceof CgroupWriteError ||
        e instanceof CgroupUnsupportedError;
      if (!wrapped) throw e;
      throw new ExitCodeError(`Cannot update container ${id}: ${cliMessage(e)}`, FAILED);
    }
  });
  if (warnings.length > 0) println(this, warnings.join("\n"));
  return status;
});

/** `container prune [-f] [--filter F]`: Docker's report, or nothing if the user says no. */
export const prune = action(async function (
  this: CliContext,
  flags: { force?: boolean; filter?: string[] },
) {
  const warning = "WARNING! This will remove all stopped containers.\n" +
    "Are you sure you want to continue?";
  // Declining is not an error for Docker: it prints nothing more and exits 0.
  if (!flags.force && !(await confirm(this, warning))) return 0;
  // The daemon checks the filters once the user has said yes, as Docker's.
  const keep = pruneFilter(parseFilters(flags.filter ?? []), PRUNE_FILTERS.container);
  const report = await pruneContainers(this.engine.containers, keep);
  if (report.deleted.length > 0) {
    println(this, ["Deleted Containers:", ...report.deleted, ""].join("\n"));
  }
  println(this, `Total reclaimed space: ${humanSize(report.reclaimedBytes, 4)}`);
  return 0;
});
