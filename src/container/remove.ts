/**
 * Removing a container (seed 001's `Remove`): refused while it runs unless forced; forced
 * removal kills it first. Everything it owned goes: processes, cgroup, rw layer, state.
 *
 * @module
 */

import { kill } from "../../ffi/libc.ts";
import { isProcessAlive } from "../state/proc.ts";
import { type ContainerEntry, isDead, type StateStore } from "../state/store.ts";
import { UsageError } from "../util/errors.ts";
import { destroyContainer } from "./cleanup.ts";
import { isRunning } from "./reconcile.ts";
import { markStopRequested } from "./restart.ts";
import { resumeAfterSignal } from "./pause.ts";
import { recordContainerEvent } from "../state/events.ts";

/**
 * Removes a container; `force` kills a running one first. A dead container is removed
 * with what its resources record names (its cgroup's processes die with the cgroup).
 * `opts.ref` is the name the user gave, which Docker's refusal quotes; `opts.anonymousVolumes`
 * removes its anonymous volumes too (`rm -v`).
 */
export async function removeContainer(
  store: StateStore,
  state: ContainerEntry,
  force: boolean,
  opts: { anonymousVolumes?: boolean; ref?: string } = {},
): Promise<void> {
  if (isDead(state)) {
    destroyContainer(store, state.id);
    return;
  }
  if (isRunning(state) && !force && state.paused) {
    throw new UsageError(
      `You cannot remove a paused container ${state.id}. ` +
        "Unpause and then stop the container before attempting removal or force remove",
    );
  }
  if (isRunning(state) && !force) {
    // dockerd's words (daemon/delete.go).
    throw new UsageError(
      `cannot remove container ${JSON.stringify(opts.ref ?? state.name)}: container is running: ` +
        "stop the container before removing or force remove",
    );
  }
  if (state.pid !== undefined && isProcessAlive(state.pid, state.pidStartTime)) {
    markStopRequested(store, state.id);
    // Before the signal: the monitor records `die` as soon as it reaps PID 1, and Docker's
    // order is kill, die.
    recordContainerEvent(store.dir, state, "kill", { signal: "9" });
    kill(state.pid, 9);
    resumeAfterSignal(store, state.id);
    // PID 1 dying takes the whole PID namespace with it; wait for it to be reaped.
    const deadline = Date.now() + 10_000;
    while (isProcessAlive(state.pid, state.pidStartTime) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    destroyContainer(store, state.id, { killedWith: 137 });
    return;
  }
  destroyContainer(store, state.id, { anonymousVolumes: opts.anonymousVolumes });
}
