/**
 * An OCI bundle's config.json (validated by src/config/oci_spec.ts) turned into what this
 * engine executes: the init config (mount calls, namespace flags, process), how init is
 * spawned (which PID and network namespaces), the cgroup's limits and device rules, and the
 * hooks. What the engine cannot do yet is refused here, naming the field, rather than
 * silently ignored: a container must never run less confined than its config says.
 *
 * @module
 */

import { CLONE, MS } from "../../ffi/libc.ts";
import type { Int64, OciDeviceRule, OciProcess, OciSpec } from "../config/oci_spec.ts";
import { mountOptionsToFlags, propagationOf } from "../config/oci_mounts.ts";
import type { OciInitConfig, OciMountCall } from "../config/oci_init.ts";
import type { CgroupFsPlan } from "../config/init.ts";
import { DEFAULT_DEVICE_RULES, type DeviceNode, type DeviceRule } from "../config/devices.ts";
import type { ResourceLimits } from "../config/limits.ts";
import type { Ulimit } from "../config/container.ts";
import { capabilityNumbers, normalizeCapabilities } from "../config/capabilities.ts";
import { InvalidConfigError } from "../config/errors.ts";
import type { RuntimeHook } from "./store.ts";

/** Where init is spawned: a new PID/network namespace, one joined by path, or the caller's. */
export type SpawnNamespace = { kind: "new" } | { kind: "join"; path: string } | { kind: "host" };

/** Everything `create` needs from config.json. */
export interface BundlePlan {
  init: Omit<OciInitConfig, "execFifoFd">;
  pid: SpawnNamespace;
  net: SpawnNamespace;
  /** A new user namespace with these maps (init is cloned into it with the new PID and network ones). */
  userns?: { uidMappings: IdMapping[]; gidMappings: IdMapping[] };
  /** `linux.cgroupsPath`, or `/m-docker-runc/<id>` when absent. */
  cgroupsPath: string;
  limits: ResourceLimits;
  deviceRules: DeviceRule[];
  hooks: {
    prestart: RuntimeHook[];
    createRuntime: RuntimeHook[];
    poststart: RuntimeHook[];
    poststop: RuntimeHook[];
    /** Run by init, in the container's namespaces. */
    createContainer: RuntimeHook[];
    startContainer: RuntimeHook[];
  };
  /** The seccomp profile as JSON, for the caller's compiler (it is not plain data's job). */
  seccompProfile?: string;
}

/** One line of a uid_map or gid_map. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** Host facts the conversion reads: data, so that it stays a pure function. */
export interface HostFacts {
  /** What a `cgroup` mount shows (src/container/start.ts cgroupFsPlan). */
  cgroupFs?: CgroupFsPlan;
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
}

const NAMESPACE_FLAGS: Record<string, number> = {
  mount: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  cgroup: CLONE.NEWCGROUP,
};

/**
 * A seccomp section as the profile parser reads it: 64-bit argument values, which the spec
 * parser keeps as bigint, written as the plain numbers they are.
 */
export function profileJson(seccomp: unknown): string {
  return JSON.stringify(
    seccomp,
    (_key, v) => typeof v === "bigint" ? (JSON as unknown as RawJson).rawJSON(v.toString()) : v,
  );
}

interface RawJson {
  rawJSON(text: string): unknown;
}

/** A number of config.json (64-bit fields may be parsed as bigint) as a JS number. */
function num(v: Int64): number;
function num(v: Int64 | undefined): number | undefined;
function num(v: Int64 | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

/** `process.rlimits` as the engine's ulimits (RLIMIT_NOFILE -> nofile). */
export function ulimitsOf(rlimits: OciProcess["rlimits"]): Ulimit[] {
  return (rlimits ?? []).map((r) => ({
    name: r.type.replace(/^RLIMIT_/, "").toLowerCase(),
    soft: rlim(r.soft),
    hard: rlim(r.hard),
  }));
}

/** An rlimit value: RLIM_INFINITY (2^64-1, parsed as bigint) is the engine's -1. */
function rlim(v: Int64): number {
  return typeof v === "bigint" && v >= 1n << 63n ? -1 : Number(v);
}

/** The message names the field: it is all the CLI prints (runc's "linux.x: ..." lines). */
function refuse(field: string, message: string): never {
  throw new InvalidConfigError(field, `${field}: ${message}`);
}

function absolute(bundle: string, path: string): string {
  return path.startsWith("/") ? path : `${bundle.replace(/\/+$/, "")}/${path}`;
}

/** Turns a validated spec into the plan `create` carries out. */
export function planBundle(
  spec: OciSpec,
  bundle: string,
  id: string,
  host: HostFacts,
): BundlePlan {
  const linux = spec.linux ?? {};
  const process = spec.process;
  if (!process) refuse("process", "process is required to create a container");
  if (!spec.root?.path) refuse("root.path", "root.path is required");

  let unshare = 0;
  const join: Array<[number, string]> = [];
  let pid: SpawnNamespace = { kind: "host" }, net: SpawnNamespace = { kind: "host" };
  let hasMountNs = false, hasUtsNs = false, newUserNs = false;
  (linux.namespaces ?? []).forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    const how: SpawnNamespace = ns.path ? { kind: "join", path: ns.path } : { kind: "new" };
    switch (ns.type) {
      case "pid":
        pid = how;
        return;
      case "network":
        net = how;
        return;
      case "user":
        if (ns.path) {
          return refuse(`${field}.path`, "joining a user namespace is not supported yet");
        }
        newUserNs = true;
        return;
      case "time":
        return refuse(`${field}.type`, "time namespaces are not supported by this runtime yet");
    }
    const flag = NAMESPACE_FLAGS[ns.type];
    if (flag === undefined) refuse(`${field}.type`, `unknown namespace type "${ns.type}"`);
    if (ns.type === "mount") hasMountNs = true;
    if (ns.type === "uts") hasUtsNs = true;
    if (ns.path) join.push([flag, ns.path]);
    else unshare |= flag;
  });
  if (!hasMountNs) refuse("linux.namespaces", "a mount namespace is required");
  const map = (m: { containerID: number; hostID: number; size: number }) => ({
    containerID: m.containerID,
    hostID: m.hostID,
    size: m.size,
  });
  const userns = newUserNs
    ? {
      uidMappings: (linux.uidMappings ?? []).map(map),
      gidMappings: (linux.gidMappings ?? []).map(map),
    }
    : undefined;
  if (userns && (!userns.uidMappings.length || !userns.gidMappings.length)) {
    refuse("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings");
  }
  if ((spec.hostname || spec.domainname) && !hasUtsNs) {
    refuse("hostname", "a hostname or domainname needs a private UTS namespace");
  }

  const mounts = (spec.mounts ?? []).map((m, i) =>
    mountCall(m, i, bundle, host, net.kind === "new")
  );

  const user = process.user ?? { uid: 0, gid: 0 };
  const bounding = normalizeCapabilities(
    process.capabilities?.bounding ?? [],
    "process.capabilities.bounding",
    host.lastCap,
  );
  for (const set of ["effective", "permitted", "inheritable", "ambient"] as const) {
    const names = process.capabilities?.[set] ?? [];
    const outside = normalizeCapabilities(names, `process.capabilities.${set}`, host.lastCap)
      .filter((c) => !bounding.includes(c));
    if (set !== "ambient" && set !== "inheritable" && outside.length) {
      refuse(`process.capabilities.${set}`, `${outside[0]} is not in the bounding set`);
    }
  }
  // For uid 0 the ambient set changes nothing (root's exec gets the bounding set anyway).
  if ((process.capabilities?.ambient ?? []).length && (process.user?.uid ?? 0) !== 0) {
    refuse(
      "process.capabilities.ambient",
      "ambient capabilities of a non-root user are not supported yet",
    );
  }
  const rlimits = ulimitsOf(process.rlimits);
  if (process.apparmorProfile) {
    refuse("process.apparmorProfile", "AppArmor is not enabled on this host");
  }
  if (process.selinuxLabel) refuse("process.selinuxLabel", "SELinux is not enabled on this host");

  const resources = linux.resources ?? {};
  if (resources.unified && Object.keys(resources.unified).length) {
    refuse("linux.resources.unified", "unified cgroup files are not supported yet");
  }
  if (resources.hugepageLimits?.length) {
    refuse("linux.resources.hugepageLimits", "hugepage limits are not supported yet");
  }
  const limits: ResourceLimits = {};
  const mem = resources.memory;
  const memLimit = num(mem?.limit), swap = num(mem?.swap), reservation = num(mem?.reservation);
  if (memLimit !== undefined && memLimit > 0) limits.memoryBytes = memLimit;
  if (swap !== undefined && swap !== 0) limits.memorySwapBytes = swap;
  if (reservation !== undefined && reservation > 0) limits.memoryReservationBytes = reservation;
  if (mem?.disableOOMKiller) limits.oomKillDisable = true;
  const cpu = resources.cpu;
  const shares = num(cpu?.shares), quota = num(cpu?.quota), period = num(cpu?.period);
  if (shares) limits.cpuShares = shares;
  if (quota !== undefined && quota !== 0) limits.cpuQuotaUs = quota;
  if (period) limits.cpuPeriodUs = period;
  if (cpu?.cpus) limits.cpusetCpus = cpu.cpus;
  if (cpu?.mems) limits.cpusetMems = cpu.mems;
  const pids = num(resources.pids?.limit);
  if (pids !== undefined && pids > 0) limits.pidsLimit = pids;
  if (resources.blockIO?.weight) limits.blkioWeight = num(resources.blockIO.weight);

  const devices: DeviceNode[] = (linux.devices ?? []).map((d) => ({
    hostPath: d.path,
    path: d.path,
    type: d.type === "b" ? "b" : "c",
    major: num(d.major ?? 0),
    minor: num(d.minor ?? 0),
    mode: d.fileMode ?? 0o666,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
    access: "rwm",
  }));

  const hook = (h: { path: string; args?: string[]; env?: string[]; timeout?: number }) => ({
    path: h.path,
    args: h.args,
    env: h.env,
    timeout: h.timeout,
  });
  const hooks = spec.hooks ?? {};

  return {
    init: {
      kind: "oci",
      userns: userns !== undefined,
      root: absolute(bundle, spec.root.path),
      rootReadonly: spec.root.readonly ?? false,
      rootPropagation: linux.rootfsPropagation
        ? propagationOf(linux.rootfsPropagation) ??
          refuse("linux.rootfsPropagation", `unknown propagation "${linux.rootfsPropagation}"`)
        : MS.SLAVE | MS.REC,
      unshare,
      join,
      mounts,
      devices,
      maskedPaths: linux.maskedPaths ?? [],
      readonlyPaths: linux.readonlyPaths ?? [],
      hostname: spec.hostname,
      domainname: spec.domainname,
      sysctl: linux.sysctl,
      process: {
        args: process.args ?? refuse("process.args", "process.args is required"),
        env: process.env ?? [],
        cwd: process.cwd ?? "/",
        uid: user.uid,
        gid: user.gid,
        groups: [user.gid, ...(user.additionalGids ?? [])],
        umask: user.umask,
        terminal: process.terminal ?? false,
        consoleSize: process.consoleSize && {
          rows: process.consoleSize.height,
          columns: process.consoleSize.width,
        },
        bounding: capabilityNumbers(bounding, host.lastCap),
        rlimits,
        noNewPrivileges: process.noNewPrivileges ?? false,
        oomScoreAdj: process.oomScoreAdj,
      },
    },
    pid,
    net,
    userns,
    cgroupsPath: linux.cgroupsPath ?? `/m-docker-runc/${id}`,
    limits,
    // runc's defaults (the standard nodes, mknod, ptys) are allowed whatever the bundle
    // says, and so is each node it lists in linux.devices.
    deviceRules: [
      ...DEFAULT_DEVICE_RULES,
      ...deviceRules(resources.devices ?? []),
      ...devices.map((d) => ({ type: d.type, major: d.major, minor: d.minor, access: "rwm" })),
    ],
    hooks: {
      prestart: (hooks.prestart ?? []).map(hook),
      createRuntime: (hooks.createRuntime ?? []).map(hook),
      poststart: (hooks.poststart ?? []).map(hook),
      poststop: (hooks.poststop ?? []).map(hook),
      createContainer: (hooks.createContainer ?? []).map(hook),
      startContainer: (hooks.startContainer ?? []).map(hook),
    },
    seccompProfile: linux.seccomp ? profileJson(linux.seccomp) : undefined,
  };
}

/** One `mounts` entry as its calls; `ownNetns`: sysfs may be mounted (else /sys is bound). */
function mountCall(
  m: { destination: string; type?: string; source?: string; options?: string[] },
  i: number,
  bundle: string,
  host: HostFacts,
  ownNetns: boolean,
): OciMountCall {
  const field = `mounts[${i}]`;
  const o = mountOptionsToFlags(m.options ?? []);
  for (const word of ["tmpcopyup", "idmap", "ridmap"] as const) {
    if (o[word]) refuse(`${field}.options`, `the ${word} option is not supported yet`);
  }
  if (o.recursive.set || o.recursive.clear) {
    refuse(`${field}.options`, "recursive mount attributes (rro, ...) are not supported yet");
  }
  const type = m.type ?? (o.bind ? "bind" : "");
  if (type === "cgroup" || type === "cgroup2") {
    if (!host.cgroupFs) refuse(`${field}.type`, "no cgroup filesystem is mounted on this host");
    return {
      source: null,
      destination: m.destination,
      fstype: type,
      flags: 0,
      propagation: o.propagation,
      cgroup: host.cgroupFs,
    };
  }
  if (type === "sysfs" && !ownNetns) {
    // sysfs may only be mounted for a network namespace of one's own: /sys is bound instead,
    // not recursively (as runc does): the remount below makes only the bind itself read-only,
    // and the host's cgroup hierarchies under /sys/fs/cgroup would have stayed writable.
    return {
      source: "/sys",
      destination: m.destination,
      fstype: null,
      flags: MS.BIND,
      remountFlags: o.flags & ~(MS.BIND | MS.REC) || undefined,
      propagation: o.propagation,
    };
  }
  if (type === "bind" || o.bind) {
    if (!m.source) refuse(`${field}.source`, "a bind mount needs a source");
    const flags = MS.BIND | (o.recursiveBind ? MS.REC : 0);
    const rest = o.flags & ~(MS.BIND | MS.REC);
    return {
      source: absolute(bundle, m.source),
      destination: m.destination,
      fstype: null,
      flags,
      remountFlags: rest || undefined,
      propagation: o.propagation,
    };
  }
  if (!type) refuse(`${field}.type`, "a mount that is not a bind needs a type");
  return {
    source: m.source ?? type,
    destination: m.destination,
    fstype: type,
    flags: o.flags,
    data: o.data || undefined,
    propagation: o.propagation,
  };
}

/**
 * `linux.resources.devices` as the engine's allow-list. The list is an allowlist
 * (config-linux.md "Allowed Device list"): as with runc, whose device emulator starts from
 * deny-all, what it does not allow is denied, with or without a leading deny-all rule.
 * Denials after allows are not representable and are refused.
 */
function deviceRules(rules: readonly OciDeviceRule[]): DeviceRule[] {
  const out: DeviceRule[] = [];
  rules.forEach((r, i) => {
    const everything = (r.type ?? "a") === "a";
    if (!r.allow) {
      if (everything && (r.access ?? "rwm").length === 3) {
        out.length = 0;
        return;
      }
      refuse(`linux.resources.devices[${i}]`, "only a deny-all rule can deny devices here");
    }
    out.push({
      type: (r.type ?? "a") as DeviceRule["type"],
      major: r.major === undefined || Number(r.major) < 0 ? null : num(r.major),
      minor: r.minor === undefined || Number(r.minor) < 0 ? null : num(r.minor),
      access: r.access ?? "rwm",
    });
  });
  return out;
}
