/**
 * Reconciling recorded state with the host: a container recorded as running whose process
 * is gone, and whose monitor is gone too (kill -9 of the shim or the CLI), is reported and
 * recorded as exited with code 255, since nobody saw its real exit status.
 *
 * @module
 */

import { isProcessAlive } from "../state/proc.ts";
import { ROLE } from "./reexec.ts";
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

/** True when `pid` is still m-docker's init, i.e. it has not exec'd the command yet. */
function isStillInit(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(ROLE.init);
  } catch {
    return false;
  }
}

/**
 * The truth about a container now, when the process that should have recorded it died:
 * a command that started unrecorded is running; a container whose process is gone is
 * exited. Persists the correction, so every later command agrees.
 */
export function observe(store: StateStore, state: ContainerState): ContainerState {
  // The CLI or shim died between init's exec and recording it: the command runs.
  const startedUnrecorded = (s: ContainerState) =>
    s.status === "created" && s.pid !== undefined && !hasMonitor(s) &&
    isProcessAlive(s.pid, s.pidStartTime) && !isStillInit(s.pid);
  if (startedUnrecorded(state)) {
    state = store.withLock(state.id, () => {
      const s = store.read(state.id);
      if (!s || !startedUnrecorded(s)) return s ?? state;
      s.status = "running";
      s.startedAt ??= new Date().toISOString();
      store.write(s);
      return s;
    });
  }
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
