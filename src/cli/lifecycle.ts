/**
 * `stop`, `kill`, `rm` and `wait`: commands that act on containers by name or ID, one
 * after another, printing each reference that succeeded (as Docker does).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { SIGNALS } from "../../ffi/libc.ts";
import { reconcile, resolveReconciled } from "../container/reconcile.ts";
import { removeContainer } from "../container/remove.ts";
import { signalContainer, stopContainer, waitForExit } from "../container/signal.ts";
import { containerRefs, stopTimeFlags } from "./params.ts";
import { action, type CliContext, println, reportError } from "./context.ts";
import { parseSignal } from "./signals.ts";
import { isDead } from "../state/store.ts";
import { UsageError } from "../util/errors.ts";

/**
 * Runs `fn` for each reference, printing the ones that succeeded; errors are reported and
 * the rest still run. Returns the exit code.
 */
export async function eachContainer(
  ctx: CliContext,
  names: string[],
  fn: (ref: string) => void | Promise<void>,
): Promise<number> {
  let status = 0;
  for (const ref of names) {
    try {
      await fn(ref);
      println(ctx, ref);
    } catch (e) {
      status = reportError(ctx, e);
    }
  }
  return status;
}

/** `stop [-t SECONDS] CONTAINER...` */
export const stopCommand = buildCommand<{ time?: number }, string[], CliContext>({
  func: action(async function (this: CliContext, flags: { time?: number }, ...names: string[]) {
    const store = this.engine.containers;
    return await eachContainer(this, names, async (ref) => {
      await stopContainer(store, store.resolve(ref), flags.time);
    });
  }),
  parameters: {
    ...stopTimeFlags,
    positional: containerRefs,
  },
  docs: { brief: "Stop one or more running containers" },
});

/** `kill [-s SIGNAL] CONTAINER...` */
export const killCommand = buildCommand<{ signal?: string }, string[], CliContext>({
  func: action(async function (this: CliContext, flags: { signal?: string }, ...names: string[]) {
    const store = this.engine.containers;
    return await eachContainer(this, names, async (ref) => {
      try {
        // Docker's CLI passes the signal on as typed and dockerd parses it first, for each
        // container: a bad one is an error of the command (1), not of its flags (125).
        const signal = flags.signal === undefined ? SIGNALS.SIGKILL : parseSignal(flags.signal);
        signalContainer(store, await resolveReconciled(store, ref), signal);
      } catch (e) {
        // dockerd's kill route says which container every failure is about.
        throw new UsageError(`cannot kill container: ${ref}: ${(e as Error).message}`);
      }
    });
  }),
  parameters: {
    flags: {
      signal: { kind: "parsed", parse: String, optional: true, brief: "Signal to send" },
    },
    aliases: { s: "signal" },
    positional: containerRefs,
  },
  docs: { brief: "Kill one or more running containers" },
});

/** `rm [-f] CONTAINER...` */
export const rmCommand = buildCommand<{ force?: boolean; volumes?: boolean }, string[], CliContext>(
  {
    func: action(async function (
      this: CliContext,
      flags: { force?: boolean; volumes?: boolean },
      ...names: string[]
    ) {
      const store = this.engine.containers;
      return await eachContainer(this, names, async (ref) => {
        const c = store.resolveEntry(ref); // a dead container can be removed too
        const current = isDead(c) ? c : await reconcile(store, c);
        if (current) {
          await removeContainer(store, current, flags.force ?? false, {
            anonymousVolumes: flags.volumes,
            ref,
          });
        }
      });
    }),
    parameters: {
      flags: {
        force: {
          kind: "boolean",
          optional: true,
          brief: "Force the removal of a running container",
        },
        volumes: {
          kind: "boolean",
          optional: true,
          brief: "Remove anonymous volumes associated with the container",
        },
      },
      aliases: { f: "force", v: "volumes" },
      positional: containerRefs,
    },
    docs: { brief: "Remove one or more containers" },
  },
);

/** `wait CONTAINER...`: prints each exit code. */
export const waitCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: action(async function (this: CliContext, _flags: Record<never, never>, ...names: string[]) {
    const store = this.engine.containers;
    let status = 0;
    for (const ref of names) {
      try {
        const state = store.resolve(ref);
        while (!(await waitForExit(store, state.id, 60_000)));
        // Removed by --rm meanwhile: its exit code stays behind for a minute.
        const code = store.read(state.id)?.exitCode ?? store.readTombstone(state.id);
        if (code === null) {
          throw new Error(`container ${state.id} was removed before its exit was seen`);
        }
        println(this, String(code));
      } catch (e) {
        status = reportError(this, e);
      }
    }
    return status;
  }),
  parameters: { flags: {}, positional: containerRefs },
  docs: { brief: "Block until one or more containers stop, then print their exit codes" },
});
