/**
 * Reconciling recorded state with the host, and writing the correction: a container
 * recorded as running whose process is gone, and whose monitor is gone too (kill -9 of the
 * shim or the CLI), is reported and recorded as exited with code 255, since nobody saw its
 * real exit status; one started with `--rm` is removed then, as its monitor would have.
 *
 * The commands that only look (`ps`, `inspect`, `logs`, `exec`) reconcile every container
 * they show, and almost never find resources to give back; so the code that gives them back
 * (cleanup.ts: cgroups, volumes, mounts; network_table.ts: the network table, nftables) loads
 * with `await import(...)` only when a container has some to give back.
 *
 * @module
 */

import { isProcessAlive } from "../state/proc.ts";
import { ROLE } from "./reexec.ts";
import {
  type ContainerEntry,
  isDead,
  NoSuchContainerError,
  type StateStore,
} from "../state/store.ts";
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
 * True when the network table under `state.networkDir` may still hold an address or a port
 * of `state`: its text names the container. Read without the table's code or its lock (the
 * table is replaced whole by rename, so the text is one version of it); a record written
 * before the container died is there, so "no" is certain. The full check, under the lock,
 * is releaseContainer's, which loads only when this says "maybe".
 */
export function mayHoldNetwork(state: ContainerState): boolean {
  if (!state.networkDir) return false;
  try {
    return Deno.readTextFileSync(`${state.networkDir}/networks.json`).includes(state.id);
  } catch (e) {
    // No table: nothing to release. Any other failure is releaseContainer's to report.
    return !(e instanceof Deno.errors.NotFound);
  }
}

/**
 * Corrects a container's recorded state from the host's facts, when the process that
 * should have recorded them died: a command that started unrecorded is recorded running; a
 * container whose process is gone is recorded exited. Writes the correction (under the
 * container's lock, on its state as it is then), so every later command agrees, and
 * returns the state as it now stands; null when the container is gone: it was started with
 * `--rm` and has now been removed, as its monitor would have done. What a dead container
 * without a monitor still holds (addresses, ports; an `--rm` one's cgroup, rootfs, volumes)
 * is given back before this returns.
 */
export async function reconcile(
  store: StateStore,
  state: ContainerState,
): Promise<ContainerState | null> {
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
  if (exited.status !== "exited") return exited;
  if (!hasMonitor(exited) && mayHoldNetwork(exited)) {
    (await import("./network_table.ts")).releaseContainer(exited);
  }
  if (exited.spec.autoRemove) {
    store.writeTombstone(exited.id, exited.exitCode ?? UNKNOWN_EXIT_CODE);
    (await import("./cleanup.ts")).destroyContainer(store, exited.id);
    return null;
  }
  return exited;
}

/**
 * Finds a container by reference and reconciles it; a `--rm` container that this removes is
 * reported as no such container, since it is gone.
 */
export async function resolveReconciled(
  store: StateStore,
  ref: string,
): Promise<ContainerState> {
  const found = await reconcile(store, store.resolve(ref));
  if (!found) throw new NoSuchContainerError(ref);
  return found;
}

/**
 * Every container of `store`, reconciled, in the store's order: dead ones (unusable state)
 * as they are, `--rm` ones that this removes left out. One after another, not all at once:
 * each correction takes its container's lock, and a repair the network table's.
 */
export async function reconciledEntries(store: StateStore): Promise<ContainerEntry[]> {
  const out: ContainerEntry[] = [];
  for (const c of store.entries()) {
    const now = isDead(c) ? c : await reconcile(store, c);
    if (now) out.push(now);
  }
  return out;
}
