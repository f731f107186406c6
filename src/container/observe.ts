/**
 * Reconciling recorded state with the host: a container recorded as running whose process
 * is gone, and whose monitor is gone too (kill -9 of the shim or the CLI), is reported and
 * recorded as exited with code 255, since nobody saw its real exit status.
 *
 * @module
 */

import { isProcessAlive } from "../state/proc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";

/** The exit code recorded when a container died unobserved (Docker reports 255 too). */
export const UNKNOWN_EXIT_CODE = 255;

/** True when the container's PID 1 is alive. */
export function isRunning(state: ContainerState): boolean {
  return state.status === "running" && isProcessAlive(state.pid, state.pidStartTime);
}

/** True when the process that records this container's exit is still there. */
export function hasMonitor(state: ContainerState): boolean {
  return isProcessAlive(state.monitorPid, state.monitorStartTime);
}

/**
 * The truth about a container now. Persists the correction when it finds a dead container
 * that nobody is left to record, so every later command agrees.
 */
export function observe(store: StateStore, state: ContainerState): ContainerState {
  const unobserved = (s: ContainerState) =>
    (s.status === "running" || (s.status === "created" && s.pid !== undefined)) &&
    !isProcessAlive(s.pid, s.pidStartTime) && !hasMonitor(s);
  if (!unobserved(state)) return state;
  return store.withLock(state.id, () => {
    const s = store.read(state.id);
    if (!s || !unobserved(s)) return s ?? state;
    s.status = "exited";
    s.exitCode ??= UNKNOWN_EXIT_CODE;
    s.finishedAt ??= new Date().toISOString();
    delete s.pid;
    delete s.pidStartTime;
    store.write(s);
    return s;
  });
}
