/**
 * The OCI runtime's `update` (runc's update.go): new limits for a container's live cgroup,
 * from a LinuxResources document (`--resources FILE`, or `-` for stdin, which is what
 * containerd's shim sends) and from runc's flags, which here override the document. The
 * limits are written through the same cgroup code as Docker-style `m-docker update`
 * (`CgroupManager.updateLimits(previous, next)`), and what is in force is kept in the
 * container's state so that the next update knows `previous`.
 *
 * As runc: a value of 0 (or an empty CPU list) leaves the setting alone, `cpu.quota` -1 and
 * `memory.swap` -1 mean unlimited, a pids limit of 0 is 1 and one below 0 is unlimited,
 * device rules are not updated, and the deprecated kernel memory settings are ignored.
 * What this engine cannot apply (real-time CPU time, burst, idle, swappiness, per-device
 * block I/O, hugepages, unified files, network, rdma, and lifting a memory limit) is
 * refused naming the field, rather than dropped.
 *
 * @module
 */

import type { Int64, OciResources } from "../config/oci_spec.ts";
import { type ResourceLimits, validateLimits } from "../config/limits.ts";
import { InvalidConfigError } from "../config/errors.ts";
import { openCgroupManager } from "../cgroups/manager.ts";
import { parseMemorySize } from "../util/units.ts";
import { RuntimeStateError } from "./lifecycle.ts";
import type { RuntimeStore } from "./store.ts";

/**
 * runc's `update` flags as given (text, unparsed): each one set replaces the document's
 * value. Sizes take Docker's units (`64m`) or -1.
 */
export interface UpdateOptions {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
}

/** The message for a value the flag cannot take, as runc words it. */
function invalid(flag: string, value: string, why: string): never {
  throw new InvalidConfigError(flag, `invalid value for ${flag}: ${JSON.stringify(value)}: ${why}`);
}

/** A signed or unsigned decimal integer (Go's ParseInt / ParseUint). */
function integer(flag: string, value: string, unsigned: boolean): number {
  if (!(unsigned ? /^\d+$/ : /^[+-]?\d+$/).test(value)) invalid(flag, value, "invalid syntax");
  const n = Number(value);
  if (!Number.isSafeInteger(n)) invalid(flag, value, "value out of range");
  return n;
}

/** A size in bytes (Docker's RAMInBytes), or -1. */
function size(flag: string, value: string): number {
  if (value === "-1") return -1;
  try {
    return parseMemorySize(value);
  } catch (e) {
    return invalid(flag, value, (e as Error).message);
  }
}

/**
 * The document `update` applies: `base` (the `--resources` document, or none) with each
 * flag that is set written over it, as runc builds its LinuxResources from the flags.
 *
 * @example
 * ```ts
 * resourcesFromOptions({ memory: "64m", pidsLimit: "10" });
 * // { memory: { limit: 67108864 }, pids: { limit: 10 } }
 * ```
 */
export function resourcesFromOptions(
  options: UpdateOptions,
  base: OciResources = {},
): OciResources {
  const r: OciResources = {
    ...base,
    memory: { ...base.memory },
    cpu: { ...base.cpu },
    pids: { ...base.pids },
    blockIO: { ...base.blockIO },
  };
  const o = options;
  if (o.memory !== undefined) r.memory!.limit = size("memory", o.memory);
  if (o.memorySwap !== undefined) r.memory!.swap = size("memory-swap", o.memorySwap);
  if (o.memoryReservation !== undefined) {
    r.memory!.reservation = size("memory-reservation", o.memoryReservation);
  }
  if (o.cpuShares !== undefined) r.cpu!.shares = integer("cpu-share", o.cpuShares, true);
  if (o.cpuQuota !== undefined) r.cpu!.quota = integer("cpu-quota", o.cpuQuota, false);
  if (o.cpuPeriod !== undefined) r.cpu!.period = integer("cpu-period", o.cpuPeriod, true);
  if (o.cpusetCpus) r.cpu!.cpus = o.cpusetCpus;
  if (o.cpusetMems) r.cpu!.mems = o.cpusetMems;
  if (o.pidsLimit !== undefined) r.pids!.limit = integer("pids-limit", o.pidsLimit, false);
  if (o.blkioWeight !== undefined) {
    const weight = integer("blkio-weight", o.blkioWeight, false);
    if (weight !== 0) r.blockIO!.weight = weight;
  }
  return r;
}

const given = (v: Int64 | null | undefined): v is Int64 =>
  v !== undefined && v !== null && Number(v) !== 0;
const nonEmpty = (v: unknown): boolean =>
  v !== undefined && v !== null &&
  (Array.isArray(v) ? v.length > 0 : typeof v === "object" ? Object.keys(v).length > 0 : true);

function refuse(field: string, what: string): never {
  throw new InvalidConfigError(field, `${field}: ${what} cannot be updated by this runtime`);
}

/**
 * The change a LinuxResources document asks for, as the engine's limits: only what it sets
 * (zero and empty values leave a setting alone). Throws `InvalidConfigError` naming the
 * first field this engine cannot apply.
 *
 * @example
 * ```ts
 * resourcesToChange({ memory: { limit: 67108864, swap: -1 }, pids: { limit: 0 } });
 * // { memoryBytes: 67108864, memorySwapBytes: -1, pidsLimit: 1 }
 * ```
 */
export function resourcesToChange(r: OciResources): ResourceLimits {
  const change: ResourceLimits = {};
  const mem = r.memory ?? {}, cpu = r.cpu ?? {}, io = r.blockIO ?? {};
  if (given(mem.limit)) {
    if (Number(mem.limit) < 0) refuse("memory.limit", "lifting the memory limit (-1)");
    change.memoryBytes = Number(mem.limit);
  }
  if (given(mem.swap)) change.memorySwapBytes = Number(mem.swap);
  if (given(mem.reservation)) change.memoryReservationBytes = Number(mem.reservation);
  if (mem.swappiness !== undefined && mem.swappiness !== null && Number(mem.swappiness) !== -1) {
    refuse("memory.swappiness", "the swappiness");
  }
  if (given(cpu.shares)) change.cpuShares = Number(cpu.shares);
  if (given(cpu.quota)) change.cpuQuotaUs = Number(cpu.quota);
  if (given(cpu.period)) change.cpuPeriodUs = Number(cpu.period);
  if (cpu.cpus) change.cpusetCpus = cpu.cpus;
  if (cpu.mems) change.cpusetMems = cpu.mems;
  for (const key of ["realtimeRuntime", "realtimePeriod", "burst", "idle"] as const) {
    if (given(cpu[key])) refuse(`cpu.${key}`, "this setting");
  }
  const pids = r.pids?.limit;
  if (pids !== undefined && pids !== null) {
    // runc's: 0 is one task (systemd cannot say 0), below 0 no limit.
    const n = Number(pids);
    change.pidsLimit = n > 0 ? n : n === 0 ? 1 : -1;
  }
  if (given(io.weight)) change.blkioWeight = Number(io.weight);
  for (
    const key of [
      "leafWeight",
      "weightDevice",
      "throttleReadBpsDevice",
      "throttleWriteBpsDevice",
      "throttleReadIOPSDevice",
      "throttleWriteIOPSDevice",
    ] as const
  ) {
    if (key === "leafWeight" ? given(io.leafWeight) : nonEmpty(io[key])) {
      refuse(`blockIO.${key}`, "per-device block I/O");
    }
  }
  if (nonEmpty(r.hugepageLimits)) refuse("hugepageLimits", "hugepage limits");
  if (nonEmpty(r.unified)) refuse("unified", "unified cgroup files");
  if (nonEmpty(r.rdma)) refuse("rdma", "rdma limits");
  if (r.network && (r.network.classID !== undefined || nonEmpty(r.network.priorities))) {
    refuse("network", "network class and priorities");
  }
  return change;
}

/**
 * The limits after an update: each setting the change names replaces the one in force
 * (runc keeps the others, a CFS quota's period included).
 *
 * @example
 * ```ts
 * mergeRuntimeLimits({ memoryBytes: 16 << 20, pidsLimit: 5 }, { pidsLimit: 10 });
 * // { memoryBytes: 16777216, pidsLimit: 10 }
 * ```
 */
export function mergeRuntimeLimits(
  previous: ResourceLimits,
  change: ResourceLimits,
): ResourceLimits {
  const next: ResourceLimits = { ...previous };
  for (const [k, v] of Object.entries(change)) {
    if (v !== undefined) (next as Record<string, unknown>)[k] = v;
  }
  return next;
}

/**
 * `update ID`: under the container's lock, merges `change` into the limits in force,
 * checks the result as every limit is checked, writes what differs to the live cgroup and
 * records it. A write the kernel refuses puts back what was written before it, as runc
 * does, and nothing is recorded. A stopped container is refused, as runc refuses it.
 * Returns the limits now in force.
 */
export function updateContainerResources(
  store: RuntimeStore,
  id: string,
  change: ResourceLimits,
): ResourceLimits {
  return store.withLock(id, () => {
    const record = store.read(id);
    if (store.status(record) === "stopped") throw new RuntimeStateError("container not running");
    const previous = record.limits ?? {};
    const next = mergeRuntimeLimits(previous, change);
    validateLimits(next);
    const cgroup = openCgroupManager(record.cgroup.layout, record.cgroup.paths);
    try {
      cgroup.updateLimits(previous, next);
    } catch (e) {
      try {
        cgroup.updateLimits(next, previous);
      } catch { /* the first error is the one to report */ }
      throw e;
    }
    record.limits = next;
    store.write(record);
    return next;
  });
}
