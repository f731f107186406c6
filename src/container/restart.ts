/**
 * Starting an exited container again (`start`, `restart`, and the shim's restart policy):
 * same spec, same read-write layer and log; a fresh cgroup, since the old one was removed
 * when the container exited (as `runc delete` does).
 *
 * @module
 */

import { openCgroupManager } from "../cgroups/manager.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { isRunning, reconcile } from "./reconcile.ts";

/**
 * Makes an exited (or created) container startable again: by hand (`start`), or `byPolicy`
 * (the shim's restart policy, which gives way to a stop the user asked for). Returns null if
 * it is already running (starting it is then a no-op, as in Docker), has been removed, or
 * the policy must not restart it.
 */
export function prepareStart(
  store: StateStore,
  id: string,
  opts: { restartCount?: number; byPolicy?: boolean } = {},
): ContainerState | null {
  const current = store.read(id);
  if (!current || isRunning(reconcile(store, current))) return null;
  let refused = false;
  const started = store.update(id, (s) => {
    // Already running; or the restart policy stands down once the user stopped it.
    if ((s.status === "running" && isRunning(s)) || (opts.byPolicy && s.stopRequested)) {
      refused = true;
      return false;
    }
    if (Object.keys(s.cgroup.paths).length === 0) {
      throw new ExitCodeError(`container ${id} has no cgroup record and cannot be started`, 125);
    }
    openCgroupManager(s.cgroup.layout, s.cgroup.paths).create(s.spec.limits);
    s.status = "created";
    for (
      const k of ["pid", "pidStartTime", "exitCode", "oomKilled", "finishedAt", "error"] as const
    ) {
      delete s[k];
    }
    s.stopRequested = false;
    // A start by hand begins a new count, as in Docker.
    s.restartCount = opts.byPolicy ? opts.restartCount ?? 0 : 0;
  });
  return refused ? null : started;
}

/** Records that the user stopped the container, so that its restart policy stands down. */
export function markStopRequested(store: StateStore, id: string): void {
  store.update(id, (s) => {
    if (s.stopRequested) return false;
    s.stopRequested = true;
  });
}
