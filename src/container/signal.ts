/**
 * Sending signals to a running container, and `stop`: the stop signal, a grace period,
 * then SIGKILL, because a PID 1 without a handler ignores SIGTERM (DESIGN.md).
 *
 * @module
 */

import { kill } from "../../ffi/libc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { UsageError } from "../util/errors.ts";
import { hasMonitor, isRunning, reconcile } from "./reconcile.ts";
import { recordExit } from "./exit.ts";
import { markStopRequested } from "./restart.ts";
import { resumeAfterSignal } from "./pause.ts";
import { recordContainerEvent } from "../state/events.ts";

/** The container is not running, so it cannot be signalled. */
export class NotRunningError extends UsageError {
  constructor(id: string) {
    super(`container ${id} is not running`); // dockerd's words
  }
}

/**
 * Sends `signal` to the container's PID 1. A signal that ends the container counts as the
 * user stopping it, so `store` marks it against its restart policy first.
 */
export function signalContainer(store: StateStore, state: ContainerState, signal: number): void {
  if (!isRunning(state)) throw new NotRunningError(state.id);
  const ends = signal === 9 || signal === state.spec.stopSignal;
  if (ends) markStopRequested(store, state.id);
  if (!kill(state.pid!, signal)) throw new NotRunningError(state.id);
  // At once, before the monitor can reap it and record `die` (Docker's order: kill, die).
  recordContainerEvent(store.dir, state, "kill", { signal: String(signal) });
  // A paused container gets a signal that ends it when it thaws; others wait, as Docker's.
  if (ends) resumeAfterSignal(store, state.id);
}

/** Waits until the container is no longer recorded as running, up to `ms`. */
export async function waitForExit(store: StateStore, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = store.read(id);
    if (!s || s.status !== "running") return true;
    if (!isRunning(s)) {
      // Dead, but its monitor may still be recording the exit.
      if (!hasMonitor(s)) {
        await reconcile(store, s);
        return true;
      }
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Stops a container: its stop signal, then SIGKILL after `timeoutSeconds`. Stopping a
 * container that is not running is not an error (as Docker).
 */
export async function stopContainer(
  store: StateStore,
  state: ContainerState,
  timeoutSeconds = state.spec.stopTimeout,
): Promise<void> {
  // Even when it is not running: it may be between two runs of its restart policy.
  markStopRequested(store, state.id);
  if (!isRunning(state)) {
    await reconcile(store, state);
    return;
  }
  // Docker's order: kill (the stop signal), kill (9, if it came to that), die, stop.
  // Each recorded before its signal, so that the monitor's `die` cannot come first.
  const killed = (signal: number) => {
    recordContainerEvent(store.dir, state, "kill", { signal: String(signal) });
    kill(state.pid!, signal);
  };
  killed(state.spec.stopSignal);
  resumeAfterSignal(store, state.id);
  if (!await waitForExit(store, state.id, timeoutSeconds * 1000)) {
    killed(9);
    if (!await waitForExit(store, state.id, 10_000)) {
      // The monitor did not record the exit: record it here so the container is not stuck.
      recordExit(store, state.id, { pid: state.pid!, exitCode: 137, signal: 9 });
    }
  }
  recordContainerEvent(store.dir, state, "stop");
}
