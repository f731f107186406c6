/**
 * What happens when a container's PID 1 exits: the monitor (CLI or shim) records the exit
 * code and whether the kernel's OOM killer struck, releases the cgroup, and removes the
 * container if it was started with `--rm`.
 *
 * @module
 */

import { openCgroupManager } from "../cgroups/manager.ts";
import type { WaitResult } from "../../ffi/libc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { destroyCgroup, removeContainerFiles } from "./cleanup.ts";

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
  const state = store.withLock(id, () => {
    const s = store.read(id);
    if (!s) return null;
    s.oomKilled = oomKilled(s);
    // The cgroup goes before the exit is written: whoever sees "exited" (a `start` racing a
    // `stop`, say) may create it again, and must not have it removed from under it.
    if (!s.spec.autoRemove) {
      try {
        destroyCgroup(s);
      } catch {
        // rm retries; the exit itself is recorded.
      }
    }
    s.status = "exited";
    s.exitCode = result.exitCode;
    s.finishedAt = new Date().toISOString();
    delete s.pid;
    delete s.pidStartTime;
    delete s.monitorPid;
    delete s.monitorStartTime;
    store.write(s);
    return s;
  });
  if (!state) return null;
  if (state.spec.autoRemove) {
    store.writeTombstone(id, result.exitCode);
    store.withLock(id, () => removeContainerFiles(store, state));
    return null;
  }
  return state;
}
