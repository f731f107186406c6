/**
 * What happens when a container's PID 1 exits: the monitor (CLI or shim) records the exit
 * code and whether the kernel's OOM killer struck, releases the cgroup, and removes the
 * container if it was started with `--rm`.
 *
 * @module
 */

import { openCgroupManager } from "../cgroups/manager.ts";
import type { WaitResult } from "../../ffi/libc.ts";
import { DeadContainerError, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { destroyCgroup, destroyContainer } from "./cleanup.ts";
import { releaseContainer } from "./network_table.ts";
import { recordContainerEvent } from "../state/events.ts";

function oomKilled(state: ContainerState): boolean {
  if (Object.keys(state.cgroup.paths).length === 0) return false;
  try {
    return openCgroupManager(state.cgroup.layout, state.cgroup.paths).oomKilled();
  } catch {
    return false;
  }
}

/**
 * Records a container's exit. Returns the state as recorded, or null if the container was
 * removed meanwhile (by `rm -f`) or was removed now because of `--rm`.
 */
export function recordExit(
  store: StateStore,
  id: string,
  result: WaitResult,
): ContainerState | null {
  let state: ContainerState | null;
  try {
    // Only the fields the exit decides: a concurrent `stop`'s stopRequested stays.
    state = store.update(id, (s) => {
      s.oomKilled = oomKilled(s);
      // The cgroup goes before the exit is written: whoever sees "exited" (a `start` racing
      // a `stop`, say) may create it again, and must not have it removed from under it.
      if (!s.spec.autoRemove) {
        try {
          destroyCgroup(s.cgroup);
        } catch {
          // rm retries; the exit itself is recorded.
        }
      }
      // Said before the exit is written: whoever waits for "exited" (stop) and then says
      // what it did comes after, as in Docker's order (die, then stop).
      if (s.oomKilled) recordContainerEvent(store.dir, s, "oom");
      recordContainerEvent(store.dir, s, "die", { exitCode: String(result.exitCode) });
      s.status = "exited";
      delete s.paused;
      s.exitCode = result.exitCode;
      s.finishedAt = new Date().toISOString();
      // Docker's monitor, stopping, leaves it "unhealthy" (for compatibility, moby says).
      if (s.health) s.health.status = "unhealthy";
      delete s.networking;
      delete s.pid;
      delete s.pidStartTime;
      delete s.monitorPid;
      delete s.monitorStartTime;
      // A --rm container's exit is removed with it right after: a crash in between finds it
      // running (reconciled as exited) or dead, and removable either way (see Durability).
    }, (s) => s.spec.autoRemove ? "none" : "durable");
  } catch (e) {
    // Its state became unusable while it ran: `ps -a` shows it dead, `rm -f` removes it.
    if (e instanceof DeadContainerError) return null;
    throw e;
  }
  if (!state) return null;
  // Its address and ports are free again; the veth went with its namespace.
  releaseContainer(state);
  if (state.spec.autoRemove) {
    store.writeTombstone(id, result.exitCode);
    destroyContainer(store, id);
    return null;
  }
  return state;
}

/**
 * Records that starting an existing container failed (its init reported an error, or its
 * shim died first): the container stays, exited, with the error to show, as Docker keeps a
 * container whose start failed; only the cgroup made for this start goes. `run` removes a
 * container whose first start failed itself. A container removed meanwhile stays removed.
 */
export function recordFailedStart(
  store: StateStore,
  id: string,
  error: string,
  exitCode: number,
): void {
  try {
    store.update(id, (s) => {
      try {
        destroyCgroup(s.cgroup);
      } catch {
        // rm retries; the failure itself is recorded.
      }
      s.status = "exited";
      delete s.paused;
      delete s.networking;
      s.error = error;
      s.exitCode = exitCode;
      s.finishedAt = new Date().toISOString();
      delete s.pid;
      delete s.pidStartTime;
      delete s.monitorPid;
      delete s.monitorStartTime;
    });
    const recorded = store.read(id);
    if (recorded) releaseContainer(recorded);
  } catch (e) {
    if (!(e instanceof DeadContainerError)) throw e;
  }
}
