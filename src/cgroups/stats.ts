/**
 * What `stats` shows, read as Docker's daemon reads it and computed as docker/cli computes
 * it: CPU time from `cpuacct.usage` (v1) or `cpu.stat` (v2) against the host's CPU time
 * from /proc/stat, memory without the inactive page cache, block I/O from blkio (v1) or
 * io.stat (v2), PIDs from the pids controller, and network bytes from the container's own
 * network namespace (/proc/PID/net/dev). The parsers are pure; the readers take a
 * `CgroupFs` so that both versions' files can be tested.
 *
 * @module
 */

import type { CgroupLayout } from "./types.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";

/** One sample of a container's counters. */
export interface CgroupSample {
  /** CPU time used by the container, in nanoseconds. */
  cpuNs: number;
  /** Memory charged to it, page cache included (memory.usage_in_bytes / memory.current). */
  memoryUsage: number;
  /** Its memory limit; null when it has none. */
  memoryLimit: number | null;
  /** memory.stat, flat: `total_inactive_file` (v1), `inactive_file` (v2), ... */
  memoryStat: Record<string, number>;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** A `key value` file such as memory.stat or cpu.stat. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** v1's `blkio.*io_service_bytes*`: `MAJ:MIN Read N` lines (and a `Total` line), summed. */
export function parseV1Blkio(text: string): { read: number; write: number } {
  let read = 0, write = 0;
  for (const line of text.split("\n")) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (!dev || !/^\d+:\d+$/.test(dev) || value === undefined) continue;
    // docker/cli adds up the operations whose name starts with r or w.
    if (/^r/i.test(op)) read += Number(value);
    else if (/^w/i.test(op)) write += Number(value);
  }
  return { read, write };
}

/** v2's `io.stat`: `MAJ:MIN rbytes=N wbytes=N ...` lines, summed. */
export function parseV2IoStat(text: string): { read: number; write: number } {
  let read = 0, write = 0;
  for (const line of text.split("\n")) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [k, v] = field.split("=");
      if (k === "rbytes") read += Number(v);
      else if (k === "wbytes") write += Number(v);
    }
  }
  return { read, write };
}

/** v1 reports "no limit" as the largest page-aligned signed 64-bit number, or near it. */
const V1_UNLIMITED = 2 ** 62;

/** A memory limit file's value: null for v2's `max` or v1's huge number. */
export function parseMemoryLimit(text: string): number | null {
  const t = text.trim();
  if (t === "max" || t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) && n < V1_UNLIMITED ? n : null;
}

/**
 * The host's CPU time from /proc/stat in nanoseconds, as Docker's daemon computes it: the
 * first seven fields of the `cpu` line (user to softirq) in clock ticks, at `ticksPerSecond`.
 */
export function parseProcStatCpu(text: string, ticksPerSecond = 100): number {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("/proc/stat has no cpu line");
  const fields = line.trim().split(/\s+/).slice(1, 8).map(Number);
  if (fields.length < 7) throw new Error("/proc/stat: invalid number of cpu fields");
  return fields.reduce((a, b) => a + b, 0) * (1e9 / ticksPerSecond);
}

/** Bytes received and sent by a namespace's interfaces (/proc/PID/net/dev), loopback left out. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0, tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === "lo") continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** `MemTotal` of /proc/meminfo, in bytes. */
export function parseMemTotal(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** How many CPUs a list such as /sys/devices/system/cpu/online (`0-3,6`) names. */
export function countCpuList(text: string): number {
  let n = 0;
  for (const part of text.trim().split(",").filter((p) => p !== "")) {
    const [a, b] = part.split("-").map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

function readOr(fs: CgroupFs, path: string, fallback = ""): string {
  try {
    return fs.read(path);
  } catch {
    return fallback;
  }
}

/** The directory of the v1 hierarchy that holds `controller` (`cpuacct` may be `cpu,cpuacct`). */
function v1Dir(paths: Record<string, string>, controller: string): string | undefined {
  const key = Object.keys(paths).find((k) => k.split(",").includes(controller));
  return key === undefined ? undefined : paths[key];
}

/**
 * Reads one sample of a container's cgroup. Missing files (a controller this host lacks, a
 * cgroup already gone) read as zero, as Docker shows a stopped container.
 */
export function readCgroupSample(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs = realCgroupFs,
): CgroupSample {
  if (layout === "v2") {
    const dir = paths.unified;
    const cpu = parseFlatKeyed(readOr(fs, `${dir}/cpu.stat`));
    const io = parseV2IoStat(readOr(fs, `${dir}/io.stat`));
    return {
      cpuNs: (cpu.usage_usec ?? 0) * 1000,
      memoryUsage: Number(readOr(fs, `${dir}/memory.current`, "0").trim()) || 0,
      memoryLimit: parseMemoryLimit(readOr(fs, `${dir}/memory.max`, "max")),
      memoryStat: parseFlatKeyed(readOr(fs, `${dir}/memory.stat`)),
      blockRead: io.read,
      blockWrite: io.write,
      pids: Number(readOr(fs, `${dir}/pids.current`, "0").trim()) || 0,
    };
  }
  const cpuacct = v1Dir(paths, "cpuacct");
  const memory = v1Dir(paths, "memory");
  const blkio = v1Dir(paths, "blkio");
  const pids = v1Dir(paths, "pids");
  // Docker's order: the CFQ scheduler's counters, else the throttle layer's (which every
  // block device has, whatever its scheduler).
  let io = { read: 0, write: 0 };
  if (blkio) {
    const cfq = readOr(fs, `${blkio}/blkio.io_service_bytes_recursive`);
    io = parseV1Blkio(
      cfq.trim() !== "" && !/^Total 0\s*$/.test(cfq.trim())
        ? cfq
        : readOr(fs, `${blkio}/blkio.throttle.io_service_bytes_recursive`),
    );
  }
  return {
    cpuNs: cpuacct ? Number(readOr(fs, `${cpuacct}/cpuacct.usage`, "0").trim()) || 0 : 0,
    memoryUsage: memory
      ? Number(readOr(fs, `${memory}/memory.usage_in_bytes`, "0").trim()) || 0
      : 0,
    memoryLimit: memory ? parseMemoryLimit(readOr(fs, `${memory}/memory.limit_in_bytes`)) : null,
    memoryStat: memory ? parseFlatKeyed(readOr(fs, `${memory}/memory.stat`)) : {},
    blockRead: io.read,
    blockWrite: io.write,
    pids: pids ? Number(readOr(fs, `${pids}/pids.current`, "0").trim()) || 0 : 0,
  };
}

/** One sample of everything `stats` shows of a container, with the host's side. */
export interface StatsSample {
  cgroup: CgroupSample;
  /** The host's CPU time (see `parseProcStatCpu`), nanoseconds. */
  systemNs: number;
  onlineCpus: number;
  /** The host's memory, the limit shown for a container with none (as Docker's daemon). */
  machineMemory: number;
  netRx: number;
  netTx: number;
}

/** Where `readStatsSample` reads the host's side (a test points it elsewhere). */
export interface HostFiles {
  procStat: string;
  meminfo: string;
  cpuOnline: string;
}

/** The real host files. */
export const HOST_FILES: HostFiles = {
  procStat: "/proc/stat",
  meminfo: "/proc/meminfo",
  cpuOnline: "/sys/devices/system/cpu/online",
};

/**
 * Reads a sample of a container: its cgroup, and its network namespace through its PID 1
 * (`pid`; a stopped container has none, and no network counters).
 */
export function readStatsSample(
  layout: CgroupLayout,
  paths: Record<string, string>,
  pid: number | undefined,
  host: HostFiles = HOST_FILES,
  fs: CgroupFs = realCgroupFs,
): StatsSample {
  const text = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const net = pid === undefined ? { rx: 0, tx: 0 } : parseNetDev(text(`/proc/${pid}/net/dev`));
  const online = countCpuList(text(host.cpuOnline));
  return {
    cgroup: Object.keys(paths).length === 0
      ? emptyCgroupSample()
      : readCgroupSample(layout, paths, fs),
    systemNs: parseProcStatCpu(text(host.procStat) || "cpu 0 0 0 0 0 0 0"),
    onlineCpus: online > 0 ? online : navigator.hardwareConcurrency,
    machineMemory: parseMemTotal(text(host.meminfo)),
    netRx: net.rx,
    netTx: net.tx,
  };
}

/** The sample of a container with no cgroup: zeros. */
export function emptyCgroupSample(): CgroupSample {
  return {
    cpuNs: 0,
    memoryUsage: 0,
    memoryLimit: null,
    memoryStat: {},
    blockRead: 0,
    blockWrite: 0,
    pids: 0,
  };
}

/** What `stats` shows of a container that is not running: Docker's zeros, limit included. */
export const STOPPED_STATS: Readonly<ContainerStats> = {
  cpuPercent: 0,
  memoryUsage: 0,
  memoryLimit: 0,
  memoryPercent: 0,
  netRx: 0,
  netTx: 0,
  blockRead: 0,
  blockWrite: 0,
  pids: 0,
};

/** What `stats` prints for a container, in numbers. */
export interface ContainerStats {
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/**
 * docker/cli's numbers from two samples: CPU % is the container's CPU time over the host's
 * in between, times the online CPUs (0 without a previous sample or when either did not
 * move); memory is usage less inactive file pages, against the limit (or the host's memory
 * when the limit is none or larger, as Docker's daemon reports it).
 */
export function computeStats(prev: StatsSample | null, cur: StatsSample): ContainerStats {
  let cpuPercent = 0;
  if (prev) {
    const cpuDelta = cur.cgroup.cpuNs - prev.cgroup.cpuNs;
    const systemDelta = cur.systemNs - prev.systemNs;
    if (systemDelta > 0 && cpuDelta > 0) {
      cpuPercent = (cpuDelta / systemDelta) * cur.onlineCpus * 100;
    }
  }
  const m = cur.cgroup;
  let used = m.memoryUsage;
  const v1Cache = m.memoryStat.total_inactive_file;
  const v2Cache = m.memoryStat.inactive_file;
  if (v1Cache !== undefined && v1Cache < used) used -= v1Cache;
  else if (v1Cache === undefined && (v2Cache ?? 0) < used) used -= v2Cache ?? 0;
  let limit = m.memoryLimit ?? cur.machineMemory;
  if (cur.machineMemory > 0 && limit > cur.machineMemory) limit = cur.machineMemory;
  return {
    cpuPercent,
    memoryUsage: used,
    memoryLimit: limit,
    memoryPercent: limit !== 0 ? (used / limit) * 100 : 0,
    netRx: cur.netRx,
    netTx: cur.netTx,
    blockRead: m.blockRead,
    blockWrite: m.blockWrite,
    pids: m.pids,
  };
}

/** One memory counter set as runc reports it: usage, its peak, hits of the limit, the limit. */
export interface MemoryCounter {
  usage: number;
  max: number;
  failcnt: number;
  /** Exact: v1's "no limit" is 2^63 less a page and v2's `max` is reported as 2^64-1. */
  limit: bigint;
}

/** One `MAJ:MIN Op value` entry of a block I/O counter. */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/**
 * Everything a container's cgroup tells of its use, in the detail runc's `events` reports
 * (libcontainer's cgroups.Stats): CPU time in total, per CPU and per mode, CFS throttling,
 * memory, swap and kernel memory counters, memory.stat, pids and block I/O. What the host
 * lacks (a controller, swap accounting, v2's per-CPU times) reads as zero or empty.
 */
export interface CgroupDetail {
  cpu: {
    total: number;
    kernel: number;
    user: number;
    percpu: number[];
    percpuKernel: number[];
    percpuUser: number[];
    periods: number;
    throttledPeriods: number;
    throttledTime: number;
  };
  cpuset: { cpus: number[]; mems: number[]; flags: Record<string, number> };
  memory: {
    /** Page cache: memory.stat's `cache` (v1) or `file` (v2). */
    cache: number;
    usage: MemoryCounter;
    /** Memory plus swap, as v1's memsw counts it (v2's swap is added to memory to match). */
    swap: MemoryCounter;
    kernel: MemoryCounter;
    kernelTcp: MemoryCounter;
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}

const U64_MAX = (1n << 64n) - 1n;

/** A cgroup number file as an exact bigint: `max` is 2^64-1 (runc's reading). */
export function parseCgroupUint(text: string): bigint {
  const t = text.trim();
  if (t === "max") return U64_MAX;
  return /^\d+$/.test(t) ? BigInt(t) : 0n;
}

/** A list such as `0-3,7` as its members (cpuset.cpus, cpuset.mems). */
export function expandCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",").filter((p) => p !== "")) {
    const [a, b] = part.split("-").map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** Blkio entries of v1's `MAJ:MIN Op value` lines (the `Total` line is left out). */
export function parseV1BlkioEntries(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const [dev, op, value] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? "");
    if (!m || value === undefined) continue;
    out.push({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(value) });
  }
  return out;
}

/**
 * v2's io.stat as v1's two counters, as runc converts it: rbytes, wbytes and dbytes are the
 * Read, Write and Discard bytes; rios, wios and dios the I/Os.
 */
export function parseV2IoEntries(
  text: string,
): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [], serviced: BlkioEntry[] = [];
  const ops: Record<string, [BlkioEntry[], string]> = {
    rbytes: [serviceBytes, "Read"],
    wbytes: [serviceBytes, "Write"],
    dbytes: [serviceBytes, "Discard"],
    rios: [serviced, "Read"],
    wios: [serviced, "Write"],
    dios: [serviced, "Discard"],
  };
  for (const line of text.split("\n")) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? "");
    if (!m) continue;
    for (const field of fields) {
      const [k, v] = field.split("=");
      const target = ops[k];
      if (target) {
        target[0].push({
          major: Number(m[1]),
          minor: Number(m[2]),
          op: target[1],
          value: Number(v),
        });
      }
    }
  }
  return { serviceBytes, serviced };
}

/** v1's cpuacct.usage_all (`cpu user system` per line, ns) as kernel and user per CPU. */
export function parseUsageAll(text: string): { kernel: number[]; user: number[] } {
  const kernel: number[] = [], user: number[] = [];
  const lines = text.split("\n");
  if (!lines[0]?.startsWith("cpu user system")) return { kernel, user };
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3) continue;
    user.push(Number(f[1]));
    kernel.push(Number(f[2]));
  }
  return { kernel, user };
}

/** The v1 cpuset flag files runc reports, by their names there. */
export const CPUSET_FLAGS = [
  "cpu_exclusive",
  "mem_hardwall",
  "mem_exclusive",
  "memory_migrate",
  "memory_spread_page",
  "memory_spread_slab",
  "memory_pressure",
  "sched_load_balance",
  "sched_relax_domain_level",
];

/**
 * Reads the detail of a container's cgroup (see `CgroupDetail`), as runc's libcontainer
 * reads it for `events`: v1 from each controller's files, v2 from the unified ones.
 */
export function readCgroupDetail(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs = realCgroupFs,
  ticksPerSecond = 100,
): CgroupDetail {
  const num = (path: string) => Number(readOr(fs, path, "0").trim()) || 0;
  const uint = (path: string) => parseCgroupUint(readOr(fs, path, "0"));
  const zero: MemoryCounter = { usage: 0, max: 0, failcnt: 0, limit: 0n };
  if (layout === "v2") {
    const dir = paths.unified;
    const cpu = parseFlatKeyed(readOr(fs, `${dir}/cpu.stat`));
    const stat = parseFlatKeyed(readOr(fs, `${dir}/memory.stat`));
    const counter = (name: string): MemoryCounter => {
      const m = name === "" ? "memory" : `memory.${name}`;
      if (!fs.exists(`${dir}/${m}.current`)) return { ...zero };
      const events = parseFlatKeyed(readOr(fs, `${dir}/${m}.events`));
      return {
        usage: num(`${dir}/${m}.current`),
        max: num(`${dir}/${m}.peak`),
        failcnt: events.max ?? 0,
        limit: uint(`${dir}/${m}.max`),
      };
    };
    const usage = counter(""), swapOnly = counter("swap");
    const swap: MemoryCounter = {
      usage: swapOnly.usage + usage.usage,
      max: 0,
      failcnt: swapOnly.failcnt,
      limit: swapOnly.limit === U64_MAX ? U64_MAX : swapOnly.limit + usage.limit,
    };
    const pidsMax = uint(`${dir}/pids.max`);
    return {
      cpu: {
        total: (cpu.usage_usec ?? 0) * 1000,
        kernel: (cpu.system_usec ?? 0) * 1000,
        user: (cpu.user_usec ?? 0) * 1000,
        percpu: [],
        percpuKernel: [],
        percpuUser: [],
        periods: cpu.nr_periods ?? 0,
        throttledPeriods: cpu.nr_throttled ?? 0,
        throttledTime: (cpu.throttled_usec ?? 0) * 1000,
      },
      cpuset: {
        cpus: expandCpuList(readOr(fs, `${dir}/cpuset.cpus.effective`)),
        mems: expandCpuList(readOr(fs, `${dir}/cpuset.mems.effective`)),
        flags: {},
      },
      memory: {
        cache: stat.file ?? 0,
        usage,
        swap,
        kernel: { ...zero },
        kernelTcp: { ...zero },
        raw: stat,
      },
      pids: {
        current: num(`${dir}/pids.current`),
        limit: pidsMax === U64_MAX ? 0 : Number(pidsMax),
      },
      blkio: parseV2IoEntries(readOr(fs, `${dir}/io.stat`)),
    };
  }
  const cpuacct = v1Dir(paths, "cpuacct"), cpuDir = v1Dir(paths, "cpu");
  const memory = v1Dir(paths, "memory"), pids = v1Dir(paths, "pids");
  const blkio = v1Dir(paths, "blkio"), cpuset = v1Dir(paths, "cpuset");
  const modes = parseFlatKeyed(cpuacct ? readOr(fs, `${cpuacct}/cpuacct.stat`) : "");
  const perMode = parseUsageAll(cpuacct ? readOr(fs, `${cpuacct}/cpuacct.usage_all`) : "");
  const throttling = parseFlatKeyed(cpuDir ? readOr(fs, `${cpuDir}/cpu.stat`) : "");
  const counter = (name: string): MemoryCounter => {
    const m = name === "" ? "memory" : `memory.${name}`;
    if (!memory || !fs.exists(`${memory}/${m}.usage_in_bytes`)) return { ...zero };
    return {
      usage: num(`${memory}/${m}.usage_in_bytes`),
      max: num(`${memory}/${m}.max_usage_in_bytes`),
      failcnt: num(`${memory}/${m}.failcnt`),
      limit: uint(`${memory}/${m}.limit_in_bytes`),
    };
  };
  const stat = memory ? parseFlatKeyed(readOr(fs, `${memory}/memory.stat`)) : {};
  const blkioFile = (name: string) => {
    if (!blkio) return [];
    // runc's order: the CFQ scheduler's counters, BFQ's, else the throttle layer's.
    for (const layer of ["", "bfq.", "throttle."]) {
      const entries = parseV1BlkioEntries(readOr(fs, `${blkio}/blkio.${layer}${name}_recursive`));
      if (entries.length > 0 || layer === "throttle.") return entries;
    }
    return [];
  };
  const flags: Record<string, number> = {};
  if (cpuset) {
    for (const f of CPUSET_FLAGS) {
      if (fs.exists(`${cpuset}/cpuset.${f}`)) flags[f] = num(`${cpuset}/cpuset.${f}`);
    }
  }
  const pidsMax = pids ? uint(`${pids}/pids.max`) : U64_MAX;
  return {
    cpu: {
      total: cpuacct ? num(`${cpuacct}/cpuacct.usage`) : 0,
      kernel: ((modes.system ?? 0) * 1e9) / ticksPerSecond,
      user: ((modes.user ?? 0) * 1e9) / ticksPerSecond,
      percpu: cpuacct
        ? readOr(fs, `${cpuacct}/cpuacct.usage_percpu`).trim().split(/\s+/).filter((v) => v)
          .map(Number)
        : [],
      percpuKernel: perMode.kernel,
      percpuUser: perMode.user,
      periods: throttling.nr_periods ?? 0,
      throttledPeriods: throttling.nr_throttled ?? 0,
      throttledTime: throttling.throttled_time ?? 0,
    },
    cpuset: {
      cpus: cpuset ? expandCpuList(readOr(fs, `${cpuset}/cpuset.cpus`)) : [],
      mems: cpuset ? expandCpuList(readOr(fs, `${cpuset}/cpuset.mems`)) : [],
      flags,
    },
    memory: {
      cache: stat.cache ?? 0,
      usage: counter(""),
      swap: counter("memsw"),
      kernel: counter("kmem"),
      kernelTcp: counter("kmem.tcp"),
      raw: stat,
    },
    pids: {
      current: pids ? num(`${pids}/pids.current`) : 0,
      limit: pidsMax === U64_MAX ? 0 : Number(pidsMax),
    },
    blkio: { serviceBytes: blkioFile("io_service_bytes"), serviced: blkioFile("io_serviced") },
  };
}

/**
 * How many times the kernel's OOM killer has killed in the cgroup: v1's `oom_kill` of
 * memory.oom_control (4.13 and later), v2's `oom_kill` of memory.events. Undefined where
 * the host does not count them (no memory controller, an older kernel).
 */
export function readOomKills(
  layout: CgroupLayout,
  paths: Record<string, string>,
  fs: CgroupFs = realCgroupFs,
): number | undefined {
  const file = layout === "v2" ? `${paths.unified}/memory.events` : (() => {
    const memory = v1Dir(paths, "memory");
    return memory && `${memory}/memory.oom_control`;
  })();
  if (!file) return undefined;
  return parseFlatKeyed(readOr(fs, file)).oom_kill;
}
