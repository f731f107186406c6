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
import { type Filters, matchesLabels, parseFilters, validateFilters } from "../util/filters.ts";
import { parseDockerTime } from "../util/docker_time.ts";

/** What a prune filter looks at in a container, image, network or volume. */
export interface PruneSubject {
  /** When it was made (RFC 3339); unknown makes it older than any `until`. */
  created?: string;
  labels?: Record<string, string> | null;
}

/** Whether a prune takes `subject` (see `pruneFilter`). */
export type PruneKeep = (subject: PruneSubject) => boolean;

/** The filters each prune accepts (moby daemon/prune.go's *AcceptedFilters). */
export const PRUNE_FILTERS = {
  container: ["label", "label!", "until"],
  image: ["dangling", "label", "label!", "until"],
  network: ["label", "label!", "until"],
  volume: ["label", "label!", "all"],
} as const;

/**
 * `prune --filter` as moby's daemon reads it: keys outside `accepted` are `invalid filter
 * 'KEY'` (volume prune has no `until`), one `until` at most (a time or a duration back
 * from `now`: only what was made at or before it goes), every `label` must match, and an
 * object that matches every `label!` too is kept (matchLabels' MatchKVList of `label!`).
 */
export function pruneFilter(
  args: readonly string[] | Filters,
  accepted: readonly string[],
  now: Date = new Date(),
): PruneKeep {
  const filters = Array.isArray(args) ? parseFilters(args) : args as Filters;
  validateFilters(filters, accepted);
  const untils = filters.get("until") ?? [];
  if (untils.length > 1) throw new Error("more than one until filter specified");
  const until = untils.length === 1 ? parseDockerTime(untils[0], now) : undefined;
  return (subject) => {
    const labels = subject.labels ?? {};
    if (!matchesLabels(filters, "label", labels)) return false;
    if (filters.has("label!") && matchesLabels(filters, "label!", labels)) return false;
    if (until !== undefined && subject.created !== undefined) {
      const created = BigInt(Date.parse(subject.created)) * 1_000_000n;
      if (created > until) return false;
    }
    return true;
  };
}

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

/** A container as a prune filter sees it. */
export function subjectOf(c: ContainerState): PruneSubject {
  return { created: c.createdAt, labels: c.spec.labels ?? {} };
}

/** Not running, and not being started by `start` or `run` right now. */
function idle(c: ContainerState): boolean {
  if (isRunning(c)) return false;
  return !(c.status === "created" && c.monitorPid !== undefined && hasMonitor(c));
}

/**
 * Removes every container that is not running and that `keep` takes (its labels and
 * creation time, for `--filter`); see the module comment.
 */
export async function pruneContainers(
  store: StateStore,
  keep: PruneKeep = () => true,
): Promise<PruneReport> {
  const report: PruneReport = { deleted: [], reclaimedBytes: 0 };
  for (const entry of store.entries()) {
    // Corrected first (a container whose process died unseen is exited), outside its lock.
    if (!isDead(entry) && !(await reconcile(store, entry))) continue;
    // Checked again under its lock: a `start` may have claimed it meanwhile.
    const size = store.withLock(entry.id, () => {
      const c = store.readEntry(entry.id, { locked: true });
      if (!c || (!isDead(c) && !idle(c))) return null;
      if (!keep(isDead(c) ? { created: c.createdAt } : subjectOf(c))) return null;
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
