/**
 * The OCI runtime's `events` (runc's events.go): JSON lines about a container, as runc
 * writes them (types/events.go), `{"type":"stats","id":ID,"data":{...}}` with the cgroup's
 * counters and `{"type":"oom","id":ID}` when the kernel's OOM killer kills in the cgroup.
 * With `--stats` one stats line and done; else a stats line every interval and an oom line
 * per kill, until the container stops.
 *
 * OOM kills are seen by polling the cgroup's kill counter (v1 memory.oom_control, v2
 * memory.events) every 100 ms rather than by runc's eventfd (v1) or inotify (v2): one
 * small read, and no FFI in the wait. A kill that stops the container is still reported,
 * since the counter is read after the status each round.
 *
 * @module
 */

import {
  type BlkioEntry,
  type CgroupDetail,
  CPUSET_FLAGS,
  type MemoryCounter,
  readCgroupDetail,
  readOomKills,
} from "../cgroups/stats.ts";
import { RuntimeStateError } from "./lifecycle.ts";
import type { RuntimeStore } from "./store.ts";

/** What `events` is asked for, and where its lines go. */
export interface EventsOptions {
  /** `--stats`: one stats line, then return. */
  statsOnly: boolean;
  /** `--interval` in milliseconds: how often a stats line is written. */
  intervalMs: number;
  /** Writes one line (without its newline). */
  emit(line: string): void;
}

/** How often the OOM counter and the container's status are looked at, at most. */
const POLL_MS = 100;

interface RawJson {
  rawJSON(text: string): unknown;
}

/** An event as runc encodes it: 64-bit limits (bigints) written exactly. */
export function eventLine(type: string, id: string, data?: unknown): string {
  return JSON.stringify(
    data === undefined ? { type, id } : { type, id, data },
    (_k, v) => typeof v === "bigint" ? (JSON as unknown as RawJson).rawJSON(v.toString()) : v,
  );
}

/** Go's `omitempty`: the fields whose value is 0, "" or an empty list left out. */
function omitEmpty(
  o: Record<string, unknown>,
  keep: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const empty = v === 0 || v === 0n || v === "" || (Array.isArray(v) && v.length === 0) ||
      v === undefined;
    if (!empty || keep.includes(k)) out[k] = v;
  }
  return out;
}

function memoryEntry(c: MemoryCounter): Record<string, unknown> | undefined {
  if (c.usage === 0 && c.max === 0 && c.failcnt === 0 && c.limit === 0n) return undefined;
  return omitEmpty({ limit: c.limit, usage: c.usage, max: c.max, failcnt: c.failcnt }, [
    "limit",
    "failcnt",
  ]);
}

function blkioEntries(entries: BlkioEntry[]): Record<string, unknown>[] | undefined {
  return entries.length === 0 ? undefined : entries.map((e) => omitEmpty({ ...e }));
}

/**
 * The `data` of a stats event, field for field as runc's types.Stats encodes it (Go's
 * omitempty and omitzero included). What this engine does not track is as runc shows it
 * without: no hugetlb sizes, no Intel RDT, no network interfaces (runc lists only those
 * it set up itself).
 */
export function statsDocument(d: CgroupDetail): Record<string, unknown> {
  const usage = omitEmpty({
    total: d.cpu.total,
    percpu: d.cpu.percpu,
    percpu_kernel: d.cpu.percpuKernel,
    percpu_user: d.cpu.percpuUser,
    kernel: d.cpu.kernel,
    user: d.cpu.user,
  }, ["kernel", "user"]);
  const throttling = omitEmpty({
    periods: d.cpu.periods,
    throttledPeriods: d.cpu.throttledPeriods,
    throttledTime: d.cpu.throttledTime,
  });
  const cpuZero = d.cpu.total === 0 && d.cpu.kernel === 0 && d.cpu.user === 0 &&
    d.cpu.percpu.length === 0;
  const f = d.cpuset.flags;
  return {
    cpu: omitEmpty({
      usage: cpuZero ? undefined : usage,
      throttling: Object.keys(throttling).length === 0 ? undefined : throttling,
    }),
    cpuset: omitEmpty({
      cpus: d.cpuset.cpus,
      cpu_exclusive: f.cpu_exclusive ?? 0,
      mems: d.cpuset.mems,
      mem_hardwall: f.mem_hardwall ?? 0,
      mem_exclusive: f.mem_exclusive ?? 0,
      memory_migrate: f.memory_migrate ?? 0,
      memory_spread_page: f.memory_spread_page ?? 0,
      memory_spread_slab: f.memory_spread_slab ?? 0,
      memory_pressure: f.memory_pressure ?? 0,
      sched_load_balance: f.sched_load_balance ?? 0,
      sched_relax_domain_level: f.sched_relax_domain_level ?? 0,
    }, CPUSET_FLAGS),
    memory: omitEmpty({
      cache: d.memory.cache,
      usage: memoryEntry(d.memory.usage),
      swap: memoryEntry(d.memory.swap),
      kernel: memoryEntry(d.memory.kernel),
      kernelTCP: memoryEntry(d.memory.kernelTcp),
      raw: Object.keys(d.memory.raw).length === 0 ? undefined : d.memory.raw,
    }),
    pids: omitEmpty({ current: d.pids.current, limit: d.pids.limit }),
    blkio: omitEmpty({
      ioServiceBytesRecursive: blkioEntries(d.blkio.serviceBytes),
      ioServicedRecursive: blkioEntries(d.blkio.serviced),
    }),
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/**
 * `events ID`: writes the container's events through `opts.emit` (see the module comment)
 * and returns when done: at once with `statsOnly`, else once the container has stopped.
 * A stopped container is refused, as runc refuses it.
 */
export async function containerEvents(
  store: RuntimeStore,
  id: string,
  opts: EventsOptions,
): Promise<void> {
  if (!(opts.intervalMs > 0)) throw new Error("duration interval must be greater than 0");
  const record = store.read(id);
  if (store.status(record) === "stopped") {
    throw new RuntimeStateError(`container with id ${id} is not running`);
  }
  const { layout, paths } = record.cgroup;
  const stats = () =>
    opts.emit(eventLine("stats", id, statsDocument(readCgroupDetail(layout, paths))));
  if (opts.statsOnly) return stats();
  let kills = readOomKills(layout, paths) ?? 0;
  let due = Date.now() + opts.intervalMs;
  for (;;) {
    // The status first: a kill that stopped the container is counted by then.
    const stopped = store.status(record) === "stopped";
    const now = readOomKills(layout, paths) ?? kills;
    for (; kills < now; kills++) opts.emit(eventLine("oom", id));
    if (stopped) return;
    if (Date.now() >= due) {
      stats();
      due += opts.intervalMs * Math.max(1, Math.ceil((Date.now() - due) / opts.intervalMs));
    }
    const wait = Math.max(0, Math.min(POLL_MS, due - Date.now()));
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
