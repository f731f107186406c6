/**
 * Starting an exited container again (`start`, `restart`, and the shim's restart policy):
 * same spec, same read-write layer and log; a fresh cgroup, since the old one was removed
 * when the container exited (as `runc delete` does).
 *
 * @module
 */

import { deviceRulesFor } from "../config/devices.ts";
import { openCgroupManager } from "../cgroups/manager.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { isProcessAlive, processStartTime } from "../state/proc.ts";
import { ExitCodeError } from "../util/errors.ts";
import { createMissingBindSources } from "./bind_sources.ts";
import { isRunning, reconcile } from "./reconcile.ts";

/**
 * Makes an exited (or created) container startable again and claims it for `monitorPid`,
 * the process that will start and watch it (the shim, or the CLI in the foreground): by hand
 * (`start`), or `byPolicy` (the shim's restart policy, which gives way to a stop the user
 * asked for). Returns null if it is already running or being started by another live
 * monitor (starting it is then a no-op, as in Docker: concurrent `start`s start it once),
 * has been removed, or the policy must not restart it.
 */
export async function prepareStart(
  store: StateStore,
  id: string,
  monitorPid: number,
  opts: { restartCount?: number; byPolicy?: boolean } = {},
): Promise<ContainerState | null> {
  const current = store.read(id);
  const now = current && await reconcile(store, current);
  if (!now || isRunning(now)) return null;
  let refused = false;
  const started = store.update(id, (s) => {
    // Already running; or the restart policy stands down once the user stopped it.
    if ((s.status === "running" && isRunning(s)) || (opts.byPolicy && s.stopRequested)) {
      refused = true;
      return false;
    }
    // Another `start` claimed it and is still at it: one start is enough.
    const claimedByOther = s.status === "created" && s.monitorPid !== undefined &&
      s.monitorPid !== monitorPid && isProcessAlive(s.monitorPid, s.monitorStartTime);
    if (claimedByOther) {
      refused = true;
      return false;
    }
    if (Object.keys(s.cgroup.paths).length === 0) {
      throw new ExitCodeError(`container ${id} has no cgroup record and cannot be started`, 125);
    }
    createMissingBindSources(s.spec.mounts);
    openCgroupManager(s.cgroup.layout, s.cgroup.paths).create(
      s.spec.limits,
      deviceRulesFor(s.spec),
    );
    s.status = "created";
    for (
      const k of ["pid", "pidStartTime", "exitCode", "oomKilled", "finishedAt", "error"] as const
    ) {
      delete s[k];
    }
    delete s.paused;
    s.stopRequested = false;
    s.monitorPid = monitorPid;
    s.monitorStartTime = processStartTime(monitorPid) ?? undefined;
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
