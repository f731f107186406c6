/**
 * `container prune`: every container that is not running is removed, as Docker's
 * `ContainersPrune` does (created, exited and dead ones), and the space their read-write
 * layers held is counted. One whose start is under way (a live monitor holds it) is left.
 *
 * @module
 */

import { isDead, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { hasMonitor, isRunning, reconcile } from "./reconcile.ts";
import { removeContainerFiles, removeDeadContainerFiles } from "./cleanup.ts";

/** What a prune removed. */
export interface PruneReport {
  /** Full IDs, in the order removed (oldest first). */
  deleted: string[];
  /** Bytes the removed containers' read-write layers held. */
  reclaimedBytes: number;
}

/** The bytes of the regular files under `dir` (symlinks and devices count nothing). */
export function treeSize(dir: string): number {
  let total = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) total += treeSize(path);
    else if (e.isFile) {
      try {
        total += Deno.lstatSync(path).size;
      } catch { /* gone meanwhile */ }
    }
  }
  return total;
}

/** Not running, and not being started by `start` or `run` right now. */
function idle(c: ContainerState): boolean {
  if (isRunning(c)) return false;
  return !(c.status === "created" && c.monitorPid !== undefined && hasMonitor(c));
}

/** Removes every container that is not running; see the module comment. */
export function pruneContainers(store: StateStore): PruneReport {
  const report: PruneReport = { deleted: [], reclaimedBytes: 0 };
  for (const entry of store.entries()) {
    // Corrected first (a container whose process died unseen is exited), outside its lock.
    if (!isDead(entry) && !reconcile(store, entry)) continue;
    // Checked again under its lock: a `start` may have claimed it meanwhile.
    const size = store.withLock(entry.id, () => {
      const c = store.readEntry(entry.id, { locked: true });
      if (!c || (!isDead(c) && !idle(c))) return null;
      const upper = isDead(c)
        ? c.resources && `${c.resources.containerDir}/upper`
        : c.rootfs.upperDir;
      const bytes = upper ? treeSize(upper) : 0;
      if (isDead(c)) removeDeadContainerFiles(store, c);
      else removeContainerFiles(store, c);
      return bytes;
    });
    if (size === null) continue;
    report.deleted.push(entry.id);
    report.reclaimedBytes += size;
  }
  return report;
}
