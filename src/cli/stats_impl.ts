/**
 * The body of `m-docker stats` (see stats.ts): samples each container's cgroup and network
 * namespace, and prints docker/cli's columns. `--no-stream` prints once, from two samples a
 * second apart (as Docker's daemon gives its first answer); otherwise the screen is redrawn
 * every second with the containers as they are then.
 *
 * @module
 */

import {
  computeStats,
  type ContainerStats,
  readStatsSample,
  type StatsSample,
  STOPPED_STATS,
} from "../cgroups/stats.ts";
import { isRunning, reconcile } from "../container/reconcile.ts";
import { NoSuchContainerError } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { bytesSize, humanSize } from "../util/humanize.ts";
import { truncateId } from "../util/table.ts";
import { action, type CliContext, println } from "./context.ts";
import { renderFormat } from "./format_lite.ts";

/** The flags of `stats`. */
export interface StatsFlags {
  all?: boolean;
  noStream?: boolean;
  noTrunc?: boolean;
  format?: string;
}

/** docker/cli's default stats table. */
const DEFAULT_FORMAT =
  "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/** docker/cli's column headers for the stats fields. */
const HEADERS: Record<string, string> = {
  ID: "CONTAINER ID",
  Container: "CONTAINER",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};

/** The time between two samples, as Docker's daemon collects them. */
const INTERVAL_MS = 1000;

/** A stats row's fields, as docker/cli's stats formatter names and prints them. */
export interface StatsEntry {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

/** docker/cli's stats fields of one container. */
export function statsEntry(
  ref: string,
  c: Pick<ContainerState, "id" | "name">,
  s: ContainerStats,
  noTrunc: boolean,
): StatsEntry {
  const id = noTrunc ? c.id : truncateId(c.id);
  return {
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    Container: ref,
    ID: id,
    MemPerc: `${s.memoryPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`,
    Name: c.name,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    PIDs: String(s.pids),
  };
}

async function stats(this: CliContext, flags: StatsFlags, ...refs: string[]) {
  const store = this.engine.containers;
  const format = flags.format === undefined || flags.format === "table"
    ? DEFAULT_FORMAT
    : flags.format;
  // Named containers are resolved once (an unknown one is an error, before anything is
  // printed); without names, the list is taken again at every redraw, as Docker follows it.
  const named = refs.map((ref) => ({ ref, id: store.resolve(ref).id }));
  // One container after another: each reconcile may take locks.
  const targets = async (): Promise<Array<{ ref: string; state: ContainerState }>> => {
    const list: Array<{ ref: string; state: ContainerState }> = [];
    if (named.length > 0) {
      for (const { ref, id } of named) {
        const s = store.read(id);
        const now = s && await reconcile(store, s);
        if (now) list.push({ ref, state: now });
      }
      return list;
    }
    for (const s of store.list()) {
      const now = await reconcile(store, s);
      if (now !== null && (flags.all || isRunning(now))) {
        list.push({ ref: truncateId(now.id), state: now });
      }
    }
    return list;
  };
  const previous = new Map<string, StatsSample>();
  const sampleAll = (list: Array<{ ref: string; state: ContainerState }>) =>
    list.map(({ ref, state }) => {
      if (!isRunning(state)) {
        previous.delete(state.id);
        return statsEntry(ref, state, STOPPED_STATS, flags.noTrunc ?? false);
      }
      const cur = readStatsSample(state.cgroup.layout, state.cgroup.paths, state.pid);
      const computed = computeStats(previous.get(state.id) ?? null, cur);
      previous.set(state.id, cur);
      return statsEntry(ref, state, computed, flags.noTrunc ?? false);
    });
  const render = (entries: StatsEntry[]) => renderFormat(format, entries, HEADERS);
  if (flags.noStream) {
    const list = await targets();
    sampleAll(list);
    if (list.some(({ state }) => isRunning(state))) {
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
    }
    for (const line of render(sampleAll(list))) println(this, line);
    return 0;
  }
  for (;;) {
    const entries = sampleAll(await targets());
    // docker/cli clears the screen and homes the cursor before each redraw.
    this.process.stdout.write("\x1b[2J\x1b[H" + render(entries).map((l) => l + "\n").join(""));
    if (named.length > 0 && entries.length === 0) {
      throw new NoSuchContainerError(named[0].ref);
    }
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
}

/** The command's function, loaded by `stats.ts`. */
export default action(stats);
