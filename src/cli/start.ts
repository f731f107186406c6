/**
 * `start [-a] [-i] CONTAINER...` and `restart [-t SECONDS] CONTAINER...`: an exited
 * container runs again with the same configuration and read-write layer.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { abandonShim, handOverToShim, spawnShim } from "../container/detach.ts";
import { ForegroundStdio, runForeground } from "../container/foreground.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { prepareStart } from "../container/restart.ts";
import { stopContainer } from "../container/signal.ts";
import { SignalProxy } from "../container/signal_proxy.ts";
import { abandonInit, remappedInit, spawnInit } from "../container/start.ts";
import { netnsPlanFor } from "../container/network_spec.ts";
import type { Engine } from "../engine.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { containerRefs, stopTimeFlags } from "./params.ts";
import { action, type CliContext, CliError } from "./context.ts";
import { eachContainer } from "./lifecycle.ts";
import { recordContainerEvent } from "../state/events.ts";

/** Starts one container under a new shim; a running one is left as it is. */
async function startInBackground(engine: Engine, ref: string): Promise<void> {
  const store = engine.containers;
  const found = await resolveReconciled(store, ref);
  if (found.paused) {
    throw new ExitCodeError("cannot start a paused container, try unpause instead", 1);
  }
  // The shim boots while the container's cgroup is made again.
  const shim = spawnShim(
    store,
    found.spec.tty,
    netnsPlanFor(store, found.spec),
    remappedInit(engine.roots.root, found.spec.userns),
  );
  let state;
  try {
    state = await prepareStart(store, found.id, shim.pid);
  } catch (e) {
    abandonShim(shim);
    throw e;
  }
  if (!state) {
    abandonShim(shim); // already running: nothing to do, as in Docker
    return;
  }
  handOverToShim(store, state, shim);
}

/** `start [-a] [-i] CONTAINER...` */
export const startCommand = buildCommand<
  { attach?: boolean; interactive?: boolean },
  string[],
  CliContext
>({
  func: action(async function (this: CliContext, flags, ...names: string[]) {
    if (!flags.attach && !flags.interactive) {
      const failed: string[] = [];
      await eachContainer(this, names, async (ref) => {
        try {
          await startInBackground(this.engine, ref);
        } catch (e) {
          failed.push(ref);
          throw e;
        }
      });
      // Docker's CLI ends with this line after each failure's own.
      if (failed.length > 0) {
        throw new CliError(`failed to start containers: ${failed.join(", ")}`);
      }
      return 0;
    }
    if (names.length !== 1) {
      throw new CliError("you cannot start and attach multiple containers at once");
    }
    const store = this.engine.containers;
    using signals = new SignalProxy();
    const found = await resolveReconciled(store, names[0]);
    const interactive = flags.interactive ?? false;
    const stdio = new ForegroundStdio({
      tty: found.spec.tty,
      interactive,
      logged: (found.spec.logConfig?.type ?? "json-file") !== "none",
    });
    let init;
    try {
      init = spawnInit(
        stdio.plan,
        netnsPlanFor(store, found.spec),
        undefined,
        remappedInit(this.engine.roots.root, found.spec.userns),
      );
    } finally {
      stdio.spawned();
    }
    const state = await prepareStart(store, found.id, Deno.pid);
    if (!state) {
      stdio.close();
      abandonInit(init);
      throw new UsageError(`container ${found.name} is already running`);
    }
    return await runForeground(
      store,
      { ...state, spec: { ...state.spec, interactive } },
      init,
      signals,
      stdio,
    );
  }),
  parameters: {
    flags: {
      attach: {
        kind: "boolean",
        optional: true,
        brief: "Attach STDOUT/STDERR and forward signals",
      },
      interactive: { kind: "boolean", optional: true, brief: "Attach container's STDIN" },
    },
    aliases: { a: "attach", i: "interactive" },
    positional: containerRefs,
  },
  docs: { brief: "Start one or more stopped containers" },
});

/** `restart [-t SECONDS] CONTAINER...` */
export const restartCommand = buildCommand<{ time?: number }, string[], CliContext>({
  func: action(async function (this: CliContext, flags, ...names: string[]) {
    const store = this.engine.containers;
    return await eachContainer(this, names, async (ref) => {
      const state = await resolveReconciled(store, ref);
      await stopContainer(store, state, flags.time);
      await startInBackground(this.engine, ref);
      recordContainerEvent(store.dir, state, "restart");
    });
  }),
  parameters: {
    ...stopTimeFlags,
    positional: containerRefs,
  },
  docs: { brief: "Restart one or more containers" },
});
