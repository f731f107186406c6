/**
 * Reconciling recorded state with the host, and writing the correction: a container
 * recorded as running whose process is gone, and whose monitor is gone too (kill -9 of the
 * shim or the CLI), is reported and recorded as exited with code 255, since nobody saw its
 * real exit status; one started with `--rm` is removed then, as its monitor would have.
 *
 * @module
 */

import { isProcessAlive } from "../state/proc.ts";
import { ROLE } from "./reexec.ts";
import { NoSuchContainerError, type StateStore } from "../state/store.ts";
import { destroyContainer } from "./cleanup.ts";
import { releaseContainer } from "./network_table.ts";
import type { ContainerState } from "../state/types.ts";
import { recordContainerEvent } from "../state/events.ts";

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
 * Corrects a container's recorded state from the host's facts, when the process that
 * should have recorded them died: a command that started unrecorded is recorded running; a
 * container whose process is gone is recorded exited. Writes the correction (under the
 * container's lock, on its state as it is then), so every later command agrees, and
 * returns the state as it now stands; null when the container is gone: it was started with
 * `--rm` and has now been removed, as its monitor would have done.
 */
export function reconcile(store: StateStore, state: ContainerState): ContainerState | null {
  // The CLI or shim died between init's exec and recording it: the command runs.
  const startedUnrecorded = (s: ContainerState) =>
    s.status === "created" && s.pid !== undefined && !hasMonitor(s) &&
    isProcessAlive(s.pid, s.pidStartTime) && !isStillInit(s.pid);
  if (startedUnrecorded(state)) {
    state = store.update(state.id, (s) => {
      if (!startedUnrecorded(s)) return false;
      s.status = "running";
      s.startedAt ??= new Date().toISOString();
    }) ?? state;
  }
  const unobserved = (s: ContainerState) =>
    (s.status === "running" || (s.status === "created" && s.pid !== undefined)) &&
    !isProcessAlive(s.pid, s.pidStartTime) && !hasMonitor(s);
  if (!unobserved(state)) return state;
  let died = false;
  const exited = store.update(state.id, (s) => {
    if (!unobserved(s)) return false;
    died = true;
    s.status = "exited";
    delete s.paused;
    s.exitCode ??= UNKNOWN_EXIT_CODE;
    s.finishedAt ??= new Date().toISOString();
    delete s.pid;
    delete s.pidStartTime;
    delete s.networking;
  }) ?? state;
  // Nobody saw it die: the one that records the correction says so, once.
  if (died) {
    recordContainerEvent(store.dir, exited, "die", {
      exitCode: String(exited.exitCode ?? UNKNOWN_EXIT_CODE),
    });
  }
  if (exited.status === "exited" && !hasMonitor(exited)) releaseContainer(exited);
  if (exited.status === "exited" && exited.spec.autoRemove) {
    store.writeTombstone(exited.id, exited.exitCode ?? UNKNOWN_EXIT_CODE);
    destroyContainer(store, exited.id);
    return null;
  }
  return exited;
}

/**
 * Finds a container by reference and reconciles it; a `--rm` container that this removes is
 * reported as no such container, since it is gone.
 */
export function resolveReconciled(store: StateStore, ref: string): ContainerState {
  const found = reconcile(store, store.resolve(ref));
  if (!found) throw new NoSuchContainerError(ref);
  return found;
}
