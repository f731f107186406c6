/**
 * `pause` and `unpause`: the container's cgroup frozen and thawed (v1's freezer.state, v2's
 * cgroup.freeze), so that its processes stop without being told, as Docker's do. A paused
 * container still runs as far as every command is concerned; `stop`, `kill` and `rm -f`
 * thaw it after their signal (`resumeAfterSignal`), since a frozen process cannot act on
 * one. Each action is one function, the place an events journal hooks into.
 *
 * @module
 */

import { recordContainerEvent } from "../state/events.ts";
import { openCgroupManager } from "../cgroups/manager.ts";
import { NoSuchContainerError, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { isRunning } from "./reconcile.ts";

/** Docker's conflict errors: the CLI exits 1. */
function conflict(message: string): ExitCodeError {
  return new ExitCodeError(message, 1);
}

function cgroupOf(s: ContainerState) {
  return openCgroupManager(s.cgroup.layout, s.cgroup.paths);
}

/**
 * Freezes a running container, under its lock. Throws Docker's errors for one that is not
 * running or already paused.
 */
export function pauseContainer(store: StateStore, id: string): ContainerState {
  const done = store.update(id, (s) => {
    if (!isRunning(s)) throw conflict(`container ${s.id} is not running`);
    if (s.paused) throw conflict(`container ${s.id} is already paused`);
    cgroupOf(s).setFrozen(true);
    s.paused = true;
  });
  if (!done) throw new NoSuchContainerError(id);
  recordContainerEvent(store.dir, done, "pause");
  return done;
}

/** Thaws a paused container, under its lock. Throws Docker's errors for one that is not. */
export function unpauseContainer(store: StateStore, id: string): ContainerState {
  const done = store.update(id, (s) => {
    if (!s.paused) throw conflict(`Container ${s.id} is not paused`);
    if (!isRunning(s)) throw conflict(`container ${s.id} is not running`);
    cgroupOf(s).setFrozen(false);
    delete s.paused;
  });
  if (!done) throw new NoSuchContainerError(id);
  recordContainerEvent(store.dir, done, "unpause");
  return done;
}

/**
 * Thaws the container if it is paused, after a signal that ends it (the stop signal or
 * SIGKILL) was sent: the signal is delivered once it thaws, as Docker's kill does. Quiet:
 * a container that exited or went meanwhile needs nothing.
 */
export function resumeAfterSignal(store: StateStore, id: string): void {
  try {
    store.update(id, (s) => {
      if (!s.paused) return false;
      try {
        cgroupOf(s).setFrozen(false);
      } catch {
        // Its cgroup is gone with it.
      }
      delete s.paused;
    });
  } catch {
    // Dead or removed meanwhile: nothing to thaw.
  }
}
