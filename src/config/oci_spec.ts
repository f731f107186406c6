/**
 * The OCI runtime specification's documents as plain data: `config.json` (config.md,
 * config-linux.md) with its validator, the default document `runc spec` writes, the state
 * document (runtime.md "State") and the features document (features.md). What m-docker's
 * OCI runtime commands (`create --bundle`, `state`, `spec`, `features`, ...) read and write.
 *
 * The validator checks what the specification says a document MUST be, plus the few rules
 * runc enforces before it creates anything (mappings need a user namespace, a hostname needs
 * a UTS namespace), and names the field it refuses: `config.json: process.user.uid: must be
 * a non-negative integer`. Fields it does not know are kept and ignored (extensions, other
 * platforms). 64-bit integers beyond 2^53 are read exactly, as bigints.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";
import { CAPABILITY_NAMES } from "./capabilities.ts";
import { ULIMIT_NAMES } from "./container.ts";
import { MOUNT_OPTION_NAMES, propagationOf } from "./oci_mounts.ts";
import { cpuListRanges } from "../util/units.ts";

// ---------------------------------------------------------------------------------------
// Types (specs-go/config.go, state.go, features/features.go).

/**
 * A 64-bit integer of the document: a number while it is exact (up to 2^53), a bigint beyond
 * (`18446744073709551615` as an rlimit, a seccomp mask of the high word).
 */
export type Int64 = number | bigint;

/** The whole config.json. */
export interface OciSpec {
  /** SemVer of the specification the bundle follows; m-docker reads 1.x. */
  ociVersion: string;
  /** The container's process; REQUIRED by `start`, so by `create` in practice. */
  process?: OciProcess;
  root?: OciRoot;
  hostname?: string;
  domainname?: string;
  /** Mounts on top of the root, in order. */
  mounts?: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

/** `process`. */
export interface OciProcess {
  terminal?: boolean;
  /** Ignored unless `terminal`. */
  consoleSize?: OciBox;
  user: OciUser;
  /** At least one entry (on Linux); `args[0]` is found as execvp(3) finds it. */
  args: string[];
  /** Windows only. */
  commandLine?: string;
  /** `NAME=VALUE` strings. */
  env?: string[];
  /** Absolute, in the container. */
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  /** -1000..1000; absent: left as the runtime's. */
  oomScoreAdj?: number;
  scheduler?: OciScheduler;
  selinuxLabel?: string;
  ioPriority?: OciIoPriority;
  execCPUAffinity?: { initial?: string; final?: string };
}

/** A console size in characters. */
export interface OciBox {
  height: number;
  width: number;
}

/** `process.user` (POSIX): IDs in the container's user namespace. */
export interface OciUser {
  uid: number;
  gid: number;
  /** Absent: the runtime's umask is kept. */
  umask?: number;
  additionalGids?: number[];
  /** Windows only. */
  username?: string;
}

/** `process.capabilities`: CAP_* names per set. */
export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** One `process.rlimits` entry. */
export interface OciRlimit {
  /** RLIMIT_* (getrlimit(2)). */
  type: string;
  hard: Int64;
  soft: Int64;
}

/** `process.scheduler` (sched_setattr(2)). */
export interface OciScheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: Int64;
  deadline?: Int64;
  period?: Int64;
}

/** `process.ioPriority` (ioprio_set(2)). */
export interface OciIoPriority {
  class: "IOPRIO_CLASS_RT" | "IOPRIO_CLASS_BE" | "IOPRIO_CLASS_IDLE";
  /** 0 (highest) to 7. */
  priority: number;
}

/** `root`. */
export interface OciRoot {
  /** The root filesystem: absolute, or relative to the bundle (`rootfs`). */
  path: string;
  readonly?: boolean;
}

/** One `mounts` entry. */
export interface OciMount {
  /** Absolute in the container (a relative one, deprecated, is read as under `/`). */
  destination: string;
  type?: string;
  source?: string;
  /** Flag words and filesystem data (see src/config/oci_mounts.ts). */
  options?: string[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
}

/** One hook: a program the runtime runs, the state document on its stdin. */
export interface OciHook {
  /** Absolute. */
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds, more than 0. */
  timeout?: number;
}

/** `hooks`, by lifecycle point (config.md "POSIX-platform Hooks"). */
export interface OciHooks {
  /** Deprecated: createRuntime, createContainer and startContainer replace it. */
  prestart?: OciHook[];
  createRuntime?: OciHook[];
  createContainer?: OciHook[];
  startContainer?: OciHook[];
  poststart?: OciHook[];
  poststop?: OciHook[];
}

/** The hook names, in lifecycle order. */
export const HOOK_NAMES = [
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
] as const;

/** `linux`. */
export interface OciLinux {
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  sysctl?: Record<string, string>;
  resources?: OciResources;
  cgroupsPath?: string;
  namespaces?: OciNamespace[];
  devices?: OciDevice[];
  netDevices?: Record<string, { name?: string }>;
  seccomp?: OciSeccomp;
  /** One of the propagation words (`shared`, `rslave`, ...). */
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  intelRdt?: OciIntelRdt;
  memoryPolicy?: { mode: string; nodes?: string; flags?: string[] };
  personality?: OciPersonality;
  /** By clock: `monotonic`, `boottime`. */
  timeOffsets?: Record<string, { secs?: Int64; nanosecs?: number }>;
}

/** The namespace types (config-linux.md "Namespaces"). */
export const NAMESPACE_TYPES = [
  "pid",
  "network",
  "mount",
  "ipc",
  "uts",
  "user",
  "cgroup",
  "time",
] as const;

/** A namespace type. */
export type OciNamespaceType = (typeof NAMESPACE_TYPES)[number];

/** One `linux.namespaces` entry: a new namespace, or the one at `path` joined. */
export interface OciNamespace {
  type: OciNamespaceType;
  /** Absolute, in the runtime's mount namespace (`/proc/1234/ns/net`). */
  path?: string;
}

/** A uid or gid range of a user namespace or an ID-mapped mount. */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  /** At least 1. */
  size: number;
}

/** `linux.resources`: the container's cgroup. */
export interface OciResources {
  /** The device allowlist, applied in order. */
  devices?: OciDeviceRule[];
  memory?: OciMemory;
  cpu?: OciCpu;
  pids?: { limit?: Int64 };
  blockIO?: OciBlockIO;
  hugepageLimits?: Array<{ pageSize: string; limit: Int64 }>;
  network?: { classID?: number; priorities?: Array<{ name: string; priority: number }> };
  /** By device name. */
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** cgroup v2 files (no slashes) and their contents. */
  unified?: Record<string, string>;
}

/** One device cgroup rule. Absent type, major or minor mean all. */
export interface OciDeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  /** -1 is all, as absent. */
  major?: Int64;
  minor?: Int64;
  /** Some of `r`, `w`, `m`. */
  access?: string;
}

/** `linux.resources.memory`: bytes, -1 for unlimited. */
export interface OciMemory {
  limit?: Int64;
  reservation?: Int64;
  /** Memory plus swap. */
  swap?: Int64;
  kernel?: Int64;
  kernelTCP?: Int64;
  /** 0..100. */
  swappiness?: Int64;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

/** `linux.resources.cpu`: microseconds for the times. */
export interface OciCpu {
  shares?: Int64;
  /** -1: unlimited. */
  quota?: Int64;
  burst?: Int64;
  period?: Int64;
  realtimeRuntime?: Int64;
  realtimePeriod?: Int64;
  /** A CPU list such as `0-3,7`. */
  cpus?: string;
  mems?: string;
  /** 1: SCHED_IDLE for the cgroup. */
  idle?: Int64;
}

/** `linux.resources.blockIO`. */
export interface OciBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: Array<{ major: Int64; minor: Int64; weight?: number; leafWeight?: number }>;
  throttleReadBpsDevice?: OciThrottleDevice[];
  throttleWriteBpsDevice?: OciThrottleDevice[];
  throttleReadIOPSDevice?: OciThrottleDevice[];
  throttleWriteIOPSDevice?: OciThrottleDevice[];
}

/** A per-device rate: bytes or I/Os per second. */
export interface OciThrottleDevice {
  major: Int64;
  minor: Int64;
  rate: Int64;
}

/** One `linux.devices` entry: a node the container gets. */
export interface OciDevice {
  /** Absolute, in the container. */
  path: string;
  /** Character, block, unbuffered character, FIFO. */
  type: "c" | "b" | "u" | "p";
  /** Required unless a FIFO. */
  major?: Int64;
  minor?: Int64;
  /** Permission bits, written in decimal in JSON. */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** `linux.seccomp`. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names. */
  architectures?: string[];
  /** SECCOMP_FILTER_FLAG_* names. */
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

/** One `linux.seccomp.syscalls` entry. */
export interface OciSyscall {
  /** At least one. */
  names: string[];
  action: string;
  /** Only with SCMP_ACT_ERRNO and SCMP_ACT_TRACE. */
  errnoRet?: number;
  args?: OciSeccompArg[];
}

/** One argument comparison. */
export interface OciSeccompArg {
  /** 0..5. */
  index: number;
  value: Int64;
  valueTwo?: Int64;
  /** SCMP_CMP_*. */
  op: string;
}

/** `linux.intelRdt`. */
export interface OciIntelRdt {
  closID?: string;
  schemata?: string[];
  l3CacheSchema?: string;
  memBwSchema?: string;
  enableMonitoring?: boolean;
}

/** `linux.personality`. */
export interface OciPersonality {
  domain: "LINUX" | "LINUX32";
  flags?: string[];
}

/** A container's status (runtime.md "State"); `paused` is runc's addition. */
export type OciStatus = "creating" | "created" | "running" | "stopped" | "paused";

/** The state document (`state ID`, and what hooks read on stdin). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: OciStatus;
  /** The container process, as the runtime sees it; present when created or running. */
  pid?: number;
  /** Absolute. */
  bundle: string;
  annotations?: Record<string, string>;
}

/** The specification version m-docker writes and the newest it claims to know. */
export const OCI_VERSION = "1.1.0";

/** The oldest version it accepts (features.md `ociVersionMin`). */
export const OCI_VERSION_MIN = "1.0.0";

// ---------------------------------------------------------------------------------------
// The names the specification lists.

/** RLIMIT_* names (getrlimit(2)): Docker's ulimit names, in the kernel's spelling. */
export const RLIMIT_NAMES: readonly string[] = ULIMIT_NAMES.map((n) => `RLIMIT_${n.toUpperCase()}`);

/** Seccomp actions as of libseccomp 2.6 (config-linux.md). */
export const SECCOMP_ACTIONS = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
] as const;

/** The actions that carry an errno (`errnoRet`). */
const ERRNO_ACTIONS: readonly string[] = ["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"];

/** Seccomp argument comparisons. */
export const SECCOMP_OPERATORS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
] as const;

/** Seccomp architectures as of libseccomp 2.6. */
export const SECCOMP_ARCHS = [
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
] as const;

/** seccomp(2) filter flags. */
export const SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
] as const;

const SCHED_POLICIES = [
  "SCHED_OTHER",
  "SCHED_FIFO",
  "SCHED_RR",
  "SCHED_BATCH",
  "SCHED_ISO",
  "SCHED_IDLE",
  "SCHED_DEADLINE",
];
const SCHED_FLAGS = [
  "SCHED_FLAG_RESET_ON_FORK",
  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
];
const IOPRIO_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
const MPOL_MODES = [
  "MPOL_DEFAULT",
  "MPOL_BIND",
  "MPOL_INTERLEAVE",
  "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED",
  "MPOL_PREFERRED_MANY",
  "MPOL_LOCAL",
];
const MPOL_FLAGS = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"];
/** The clocks a time namespace offsets (time_namespaces(7)). */
const TIME_CLOCKS = ["monotonic", "boottime"];

// ---------------------------------------------------------------------------------------
// The validator kit: a check is given a value and its path, and throws a Problem.

/** What is wrong where; parseOciSpec turns it into an InvalidConfigError naming the file. */
class Problem {
  constructor(readonly at: string, readonly what: string) {}
}

function fail(at: string, what: string): never {
  throw new Problem(at, what);
}

type Check = (v: unknown, at: string) => void;
type Obj = Record<string, unknown>;

/** A field that must be present (not absent, not null). */
interface Required {
  required: Check;
}
type Field = Check | Required;

const req = (check: Check): Required => ({ required: check });
const q = (s: unknown) => JSON.stringify(s);
const child = (at: string, key: string) => (at === "" ? key : `${at}.${key}`);
/** Go reads a JSON null as the field's zero value: absent, here. */
const absent = (v: unknown) => v === undefined || v === null;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** An object with known fields (others are ignored), then `after` for what spans fields. */
function obj(fields: Record<string, Field>, after?: (o: Obj, at: string) => void): Check {
  return (v, at) => {
    if (!isObj(v)) fail(at, "must be an object");
    for (const [key, field] of Object.entries(fields)) {
      const value = v[key];
      const check = typeof field === "function" ? field : field.required;
      if (absent(value)) {
        if (typeof field !== "function") fail(child(at, key), "is required");
        continue;
      }
      check(value, child(at, key));
    }
    after?.(v, at);
  };
}

/** A list of items each checked by `item`. */
function list(item: Check, opts: { nonEmpty?: boolean } = {}): Check {
  return (v, at) => {
    if (!Array.isArray(v)) fail(at, "must be a list");
    if (opts.nonEmpty && v.length === 0) fail(at, "must have at least one entry");
    v.forEach((e, i) => item(e, `${at}[${i}]`));
  };
}

/** An object used as a map: every value checked by `value`, every key by `key`. */
function map(value: Check, key?: (k: string, at: string) => void): Check {
  return (v, at) => {
    if (!isObj(v)) fail(at, "must be an object");
    for (const [k, e] of Object.entries(v)) {
      const where = `${at}[${q(k)}]`;
      key?.(k, where);
      value(e, where);
    }
  };
}

const str: Check = (v, at) => {
  if (typeof v !== "string") fail(at, "must be a string");
};
const nonEmptyStr: Check = (v, at) => {
  str(v, at);
  if (v === "") fail(at, "must not be empty");
};
const bool: Check = (v, at) => {
  if (typeof v !== "boolean") fail(at, "must be true or false");
};
const absPath: Check = (v, at) => {
  str(v, at);
  if (!(v as string).startsWith("/")) fail(at, "must be an absolute path");
};
/** A string with no newline (a line of a resctrl schemata file), starting with `prefix`. */
const schemaLine = (prefix = ""): Check => (v, at) => {
  str(v, at);
  if ((v as string).includes("\n")) fail(at, "must not contain a newline");
  if (!(v as string).startsWith(prefix)) fail(at, `must start with ${q(prefix)}`);
};
/** A CPU or memory node list such as `0-3,7`. */
const cpuList: Check = (v, at) => {
  str(v, at);
  if (v !== "" && cpuListRanges(v as string) === undefined) {
    fail(at, `must be a list such as "0-3,7", not ${q(v)}`);
  }
};
/** One of the names the specification lists. */
const oneOf = (names: readonly string[], what: string): Check => (v, at) => {
  str(v, at);
  if (!names.includes(v as string)) fail(at, `unknown ${what} ${q(v)}`);
};

/** An integer as a bigint, or undefined when `v` is no integer. */
function integer(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

/** An integer from `lo` to `hi`, with `message` when it is not. */
function intIn(lo: bigint, hi: bigint, message: string): Check {
  return (v, at) => {
    const n = integer(v);
    if (n === undefined || n < lo || n > hi) fail(at, message);
  };
}

/** An unsigned integer of `bits` bits. */
function uint(bits: number): Check {
  const max = (1n << BigInt(bits)) - 1n;
  return (v, at) => {
    const n = integer(v);
    if (n === undefined || n < 0n) fail(at, "must be a non-negative integer");
    if (n > max) fail(at, `must be at most ${max}`);
  };
}

const range = (lo: number, hi: number) =>
  intIn(BigInt(lo), BigInt(hi), `must be an integer from ${lo} to ${hi}`);
const u16 = uint(16), u32 = uint(32), u64 = uint(64);
const I64_MIN = -(1n << 63n), I64_MAX = (1n << 63n) - 1n;
const i32 = intIn(-(1n << 31n), (1n << 31n) - 1n, "must be a 32-bit integer");
const i64 = intIn(I64_MIN, I64_MAX, "must be a 64-bit integer");
/** -1 (unlimited) or at least `min`. */
function limit(min: 0 | 1, what: string): Check {
  return (v, at) => {
    const n = integer(v);
    if (n === undefined || n > I64_MAX || (n !== -1n && n < BigInt(min))) {
      fail(at, `must be -1 (unlimited) or ${what}`);
    }
  };
}

/** Fails on the second entry of `items` with the same `key` as an earlier one. */
function noDuplicates(items: unknown, at: string, key: string, what: string): void {
  if (!Array.isArray(items)) return;
  const seen = new Set<unknown>();
  items.forEach((e, i) => {
    const k = (e as Obj)[key];
    if (seen.has(k)) fail(`${at}[${i}].${key}`, `duplicate ${what} ${q(k)}`);
    seen.add(k);
  });
}

// ---------------------------------------------------------------------------------------
// The document's parts.

const envVar: Check = (v, at) => {
  str(v, at);
  const s = v as string;
  if (s.indexOf("=") <= 0) fail(at, `must be "NAME=VALUE", not ${q(s)}`);
};

const capability = oneOf(CAPABILITY_NAMES, "capability");
const capabilitySet = list(capability);

const idMapping = obj({
  containerID: req(u32),
  hostID: req(u32),
  size: req(u32),
}, (o, at) => {
  const size = integer(o.size)!;
  if (size < 1n) fail(child(at, "size"), "must be at least 1");
  for (const k of ["containerID", "hostID"]) {
    if (integer(o[k])! + size > 1n << 32n) {
      fail(at, `${k} ${o[k]} + size ${size} goes past 4294967295`);
    }
  }
});
const idMappings = list(idMapping);

const hook = obj({
  path: req(absPath),
  args: list(str),
  env: list(envVar),
  timeout: intIn(1n, I64_MAX, "must be a positive number of seconds"),
});

const rlimit = obj({
  type: req(oneOf(RLIMIT_NAMES, "rlimit type")),
  hard: req(u64),
  soft: req(u64),
}, (o, at) => {
  if (integer(o.soft)! > integer(o.hard)!) {
    fail(child(at, "soft"), `${o.soft} is above the hard limit ${o.hard}`);
  }
});

const processCheck = obj({
  terminal: bool,
  consoleSize: obj({ height: req(u16), width: req(u16) }),
  user: req(obj({
    uid: req(u32),
    gid: req(u32),
    umask: range(0, 0o777),
    additionalGids: list(u32),
    username: str,
  })),
  args: req(list(str, { nonEmpty: true })),
  commandLine: str,
  env: list(envVar),
  cwd: req(absPath),
  capabilities: obj({
    bounding: capabilitySet,
    effective: capabilitySet,
    inheritable: capabilitySet,
    permitted: capabilitySet,
    ambient: capabilitySet,
  }),
  rlimits: list(rlimit),
  noNewPrivileges: bool,
  apparmorProfile: str,
  oomScoreAdj: range(-1000, 1000),
  scheduler: obj({
    policy: req(oneOf(SCHED_POLICIES, "scheduling policy")),
    nice: range(-20, 19),
    priority: i32,
    flags: list(oneOf(SCHED_FLAGS, "scheduling flag")),
    runtime: u64,
    deadline: u64,
    period: u64,
  }),
  selinuxLabel: str,
  ioPriority: obj({
    class: req(oneOf(IOPRIO_CLASSES, "I/O priority class")),
    priority: req(range(0, 7)),
  }),
  execCPUAffinity: obj({ initial: cpuList, final: cpuList }),
}, (o, at) => {
  // The first argument is the program: execvp("") finds nothing.
  if (Array.isArray(o.args) && o.args[0] === "") fail(`${at}.args[0]`, "must not be empty");
  noDuplicates(o.rlimits, `${at}.rlimits`, "type", "rlimit type");
});

const mount = obj({
  destination: req(nonEmptyStr),
  type: str,
  source: str,
  options: list(str),
  uidMappings: idMappings,
  gidMappings: idMappings,
}, (o, at) => {
  // config.md: "If specified, it MUST be specified along with gidMappings" (and back).
  if (absent(o.uidMappings) !== absent(o.gidMappings)) {
    const [given, missing] = absent(o.uidMappings)
      ? ["gidMappings", "uidMappings"]
      : ["uidMappings", "gidMappings"];
    fail(child(at, given), `needs ${missing} too`);
  }
});

const namespace = obj({
  type: req(oneOf(NAMESPACE_TYPES, "namespace type")),
  path: absPath,
});

/** A device's major (12 bits) and minor (20 bits), as dev_t holds them; -1 is "all". */
const major = range(0, 4095), minor = range(0, 1048575);
const ruleNumber = intIn(-1n, I64_MAX, "must be -1 (all) or a device number");

const device = obj({
  type: req(oneOf(["c", "b", "u", "p"], "device type")),
  path: req(absPath),
  major,
  minor,
  fileMode: u32,
  uid: u32,
  gid: u32,
}, (o, at) => {
  if (o.type === "p") return;
  for (const k of ["major", "minor"]) {
    if (absent(o[k])) fail(child(at, k), `is required for type ${q(o.type)}`);
  }
});

const deviceRule = obj({
  allow: req(bool),
  type: oneOf(["a", "c", "b"], "device type"),
  major: ruleNumber,
  minor: ruleNumber,
  access: (v, at) => {
    str(v, at);
    if (!/^[rwm]*$/.test(v as string)) fail(at, `must be made of r, w and m, not ${q(v)}`);
  },
});

const bytes = limit(0, "a number of bytes");
const memory = obj({
  limit: limit(1, "a positive number of bytes"),
  reservation: bytes,
  swap: bytes,
  kernel: bytes,
  kernelTCP: bytes,
  swappiness: range(0, 100),
  disableOOMKiller: bool,
  useHierarchy: bool,
  checkBeforeUpdate: bool,
}, (o, at) => {
  const lim = integer(o.limit), swap = integer(o.swap);
  // swap is memory plus swap: below the memory limit it cannot be set (runc's rule).
  if (lim !== undefined && swap !== undefined && lim > 0n && swap > 0n && swap < lim) {
    fail(child(at, "swap"), `${swap} is below limit ${lim} (swap counts memory plus swap)`);
  }
});

const cpu = obj({
  // 0 leaves the default; cgroup v1's cpu.shares takes 2..262144.
  shares: (v, at) => {
    const n = integer(v);
    if (n === undefined || (n !== 0n && (n < 2n || n > 262144n))) {
      fail(at, "must be 0 (default) or from 2 to 262144");
    }
  },
  quota: limit(0, "a number of microseconds"),
  burst: u64,
  // 0 leaves the default; the kernel takes 1 ms to 1 s.
  period: (v, at) => {
    const n = integer(v);
    if (n === undefined || (n !== 0n && (n < 1000n || n > 1000000n))) {
      fail(at, "must be 0 (default) or from 1000 to 1000000 microseconds");
    }
  },
  realtimeRuntime: i64,
  realtimePeriod: u64,
  cpus: cpuList,
  mems: cpuList,
  idle: range(0, 1),
}, (o, at) => {
  const quota = integer(o.quota), burst = integer(o.burst);
  if (quota !== undefined && burst !== undefined && quota > 0n && burst > quota) {
    fail(child(at, "burst"), `${burst} is above quota ${quota}`);
  }
});

const deviceNumbers = { major: req(i64), minor: req(i64) };
const throttle = list(obj({ ...deviceNumbers, rate: req(u64) }));
const weight = range(10, 1000);
const blockIO = obj({
  weight,
  leafWeight: weight,
  weightDevice: list(obj({ ...deviceNumbers, weight, leafWeight: weight }, (o, at) => {
    if (absent(o.weight) && absent(o.leafWeight)) fail(at, "needs weight or leafWeight");
  })),
  throttleReadBpsDevice: throttle,
  throttleWriteBpsDevice: throttle,
  throttleReadIOPSDevice: throttle,
  throttleWriteIOPSDevice: throttle,
});

const resources = obj({
  devices: list(deviceRule),
  memory,
  cpu,
  pids: obj({ limit: limit(0, "a number of tasks") }),
  blockIO,
  hugepageLimits: list(obj({
    pageSize: req((v, at) => {
      str(v, at);
      if (!/^\d+[KMGTP]B$/.test(v as string)) fail(at, `must be a size such as "2MB", not ${q(v)}`);
    }),
    limit: req(u64),
  })),
  network: obj({
    classID: u32,
    priorities: list(obj({ name: req(nonEmptyStr), priority: req(u32) })),
  }),
  rdma: map(obj({ hcaHandles: u32, hcaObjects: u32 }, (o, at) => {
    if (absent(o.hcaHandles) && absent(o.hcaObjects)) fail(at, "needs hcaHandles or hcaObjects");
  })),
  unified: map(str, (k, at) => {
    if (k === "" || k.includes("/") || k === "." || k === "..") {
      fail(at, "must name a file of the container's cgroup (no slashes)");
    }
  }),
});

const seccompAction = oneOf(SECCOMP_ACTIONS, "seccomp action");
/** errnoRet only means something to an action that returns an errno. */
function errnoFits(o: Obj, at: string, actionKey: string, errnoKey: string): void {
  if (!absent(o[errnoKey]) && !ERRNO_ACTIONS.includes(o[actionKey] as string)) {
    fail(
      child(at, errnoKey),
      `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not ${o[actionKey]}`,
    );
  }
}

const seccomp = obj({
  defaultAction: req(seccompAction),
  defaultErrnoRet: u32,
  architectures: list(oneOf(SECCOMP_ARCHS, "seccomp architecture")),
  flags: list(oneOf(SECCOMP_FLAGS, "seccomp flag")),
  listenerPath: str,
  listenerMetadata: str,
  syscalls: list(obj({
    names: req(list(nonEmptyStr, { nonEmpty: true })),
    action: req(seccompAction),
    errnoRet: u32,
    args: list(obj({
      index: req(range(0, 5)),
      value: req(u64),
      valueTwo: u64,
      op: req(oneOf(SECCOMP_OPERATORS, "seccomp operator")),
    })),
  }, (o, at) => errnoFits(o, at, "action", "errnoRet"))),
}, (o, at) => {
  errnoFits(o, at, "defaultAction", "defaultErrnoRet");
  if (!absent(o.listenerMetadata) && absent(o.listenerPath)) {
    fail(child(at, "listenerMetadata"), "needs listenerPath");
  }
});

const linux = obj({
  uidMappings: idMappings,
  gidMappings: idMappings,
  sysctl: map(str),
  resources,
  cgroupsPath: str,
  namespaces: list(namespace),
  devices: list(device),
  netDevices: map(obj({ name: str })),
  seccomp,
  rootfsPropagation: (v, at) => {
    str(v, at);
    if (propagationOf(v as string) === undefined) fail(at, `unknown propagation ${q(v)}`);
  },
  maskedPaths: list(absPath),
  readonlyPaths: list(absPath),
  mountLabel: str,
  intelRdt: obj({
    closID: str,
    schemata: list(schemaLine()),
    l3CacheSchema: schemaLine(),
    memBwSchema: schemaLine("MB:"),
    enableMonitoring: bool,
  }),
  memoryPolicy: obj({
    mode: req(oneOf(MPOL_MODES, "memory policy mode")),
    nodes: cpuList,
    flags: list(oneOf(MPOL_FLAGS, "memory policy flag")),
  }),
  personality: obj({
    domain: req(oneOf(["LINUX", "LINUX32"], "personality domain")),
    flags: list(str),
  }),
  timeOffsets: map(
    obj({ secs: i64, nanosecs: range(0, 999999999) }),
    (k, at) => {
      if (!TIME_CLOCKS.includes(k)) fail(at, `unknown clock ${q(k)}`);
    },
  ),
}, (o, at) => {
  noDuplicates(o.namespaces, `${at}.namespaces`, "type", "namespace type");
  const namespaces = (o.namespaces ?? []) as OciNamespace[];
  const userns = namespaces.findIndex((n) => n.type === "user");
  const mapped = !absent(o.uidMappings) || !absent(o.gidMappings);
  // runc's rules: mappings belong to a user namespace; a new one needs them.
  if (mapped && userns < 0) {
    fail(
      child(at, absent(o.uidMappings) ? "gidMappings" : "uidMappings"),
      "needs a user namespace",
    );
  }
  if (userns >= 0 && !mapped && absent(namespaces[userns].path)) {
    fail(`${at}.namespaces[${userns}]`, "a new user namespace needs uidMappings and gidMappings");
  }
});

/** The version: SemVer 2.0.0, major 1. */
const version: Check = (v, at) => {
  str(v, at);
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v as string);
  if (m === null) fail(at, `must be a SemVer version such as "1.0.2", not ${q(v)}`);
  if (m[1] !== "1") fail(at, `unsupported version ${q(v)}: m-docker reads 1.x`);
};

const spec = obj({
  ociVersion: req(version),
  process: processCheck,
  root: req(obj({ path: req(nonEmptyStr), readonly: bool })),
  hostname: str,
  domainname: str,
  mounts: list(mount),
  hooks: obj(Object.fromEntries(HOOK_NAMES.map((n) => [n, list(hook)]))),
  annotations: map(str),
  linux,
}, (o) => {
  const namespaces = ((o.linux as OciLinux | undefined)?.namespaces ?? []).map((n) => n.type);
  // runc's rule: without a UTS namespace of its own the container would rename the host.
  for (const k of ["hostname", "domainname"]) {
    if (typeof o[k] === "string" && o[k] !== "" && !namespaces.includes("uts")) {
      fail(k, "needs a uts namespace in linux.namespaces");
    }
  }
  ((o.mounts ?? []) as OciMount[]).forEach((m, i) => {
    const idmap = m.options?.find((w) => w === "idmap" || w === "ridmap");
    // config.md: with no mappings of its own and no user namespace, an error MUST be returned.
    if (idmap && !m.uidMappings && !namespaces.includes("user")) {
      fail(
        `mounts[${i}].options`,
        `${idmap} needs uidMappings and gidMappings or a user namespace`,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------
// The entry points.

/**
 * Reads a config.json and checks it against the specification. Throws an
 * `InvalidConfigError` whose field is the path of what is wrong (`linux.namespaces[2].type`)
 * and whose message is one line naming the file and that path. A relative mount destination
 * (deprecated, still allowed on Linux) is made absolute, with a warning through `warn`.
 *
 * @example
 * ```ts
 * const spec = parseOciSpec(Deno.readTextFileSync(`${bundle}/config.json`));
 * ```
 */
export function parseOciSpec(
  text: string,
  file = "config.json",
  warn: (message: string) => void = () => {},
): OciSpec {
  const doc = parseChecked(text, file, spec) as unknown as OciSpec;
  doc.mounts?.forEach((m, i) => {
    if (m.destination.startsWith("/")) return;
    const absolute = `/${m.destination}`;
    warn(
      `${file}: mounts[${i}].destination: ${q(m.destination)} is relative (deprecated): ` +
        `mounted at ${q(absolute)}`,
    );
    m.destination = absolute;
  });
  return doc;
}

/**
 * Parses JSON keeping 64-bit integers exact and checks it with `check`, turning a Problem
 * into an `InvalidConfigError` naming `file` and the field.
 */
function parseChecked(text: string, file: string, check: Check): Obj {
  let raw: unknown;
  try {
    // The reviver's third argument carries the number's source text (ES2025): 64-bit values
    // beyond 2^53 (RLIM_INFINITY, seccomp masks) would lose bits as doubles.
    raw = JSON.parse(
      text,
      (_key, value, context?: { source?: string }) =>
        typeof value === "number" && !Number.isSafeInteger(value) &&
          context?.source !== undefined && /^-?\d+$/.test(context.source)
          ? BigInt(context.source)
          : value,
    );
  } catch (e) {
    throw new InvalidConfigError("", `${file}: not JSON: ${(e as Error).message}`);
  }
  try {
    if (!isObj(raw)) fail("", "must be a JSON object");
    check(raw, "");
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    const where = e.at === "" ? "" : `${e.at}: `;
    throw new InvalidConfigError(e.at, `${file}: ${where}${e.what}`);
  }
  return raw;
}

/**
 * Reads a LinuxResources document (what `runc update --resources` takes, and containerd's
 * shim sends on stdin) and checks it as config.json's `linux.resources` is checked.
 *
 * @example
 * ```ts
 * parseOciResources('{"memory":{"limit":67108864}}').memory?.limit; // 67108864
 * ```
 */
export function parseOciResources(text: string, file = "resources"): OciResources {
  return parseChecked(text, file, resources) as OciResources;
}

/** What `defaultOciSpec` may vary. */
export interface DefaultSpecOptions {
  /**
   * Add a cgroup namespace, as `runc spec` does on a cgroup v2 host (the caller knows the
   * host; this module does not look).
   */
  cgroupNamespace?: boolean;
}

/**
 * The document `runc spec` writes (runc's specconv.Example), with its keys in the same
 * order: `sh` on a terminal in `rootfs` (read-only), three capabilities, no new privileges,
 * the standard /proc, /dev, /sys mounts, masked and read-only kernel paths, every device
 * denied. As current runc, no ambient capabilities (runc 1.1's were never raised: an
 * ambient capability needs the same inheritable one, which it had dropped).
 */
export function defaultOciSpec(options: DefaultSpecOptions = {}): OciSpec {
  const caps = () => ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  const namespaces: OciNamespace[] = [
    { type: "pid" },
    { type: "network" },
    { type: "ipc" },
    { type: "uts" },
    { type: "mount" },
  ];
  if (options.cgroupNamespace) namespaces.push({ type: "cgroup" });
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: caps(), effective: caps(), permitted: caps() },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      {
        destination: "/dev/mqueue",
        type: "mqueue",
        source: "mqueue",
        options: ["nosuid", "noexec", "nodev"],
      },
      {
        destination: "/sys",
        type: "sysfs",
        source: "sysfs",
        options: ["nosuid", "noexec", "nodev", "ro"],
      },
      {
        destination: "/sys/fs/cgroup",
        type: "cgroup",
        source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces,
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** The values of a state document. */
export interface OciStateValues {
  id: string;
  status: OciStatus;
  /** Absolute. */
  bundle: string;
  /** Required when created or running; left out when absent or 0. */
  pid?: number;
  annotations?: Record<string, string>;
}

/**
 * The state document (runtime.md "State"), keys in the specification's order. Throws an
 * `InvalidConfigError` for what the specification forbids: no id, a relative bundle, no pid
 * for a created or running container.
 */
export function ociState(s: OciStateValues): OciState {
  if (s.id === "") throw new InvalidConfigError("id", "state: id: must not be empty");
  if (!s.bundle.startsWith("/")) {
    throw new InvalidConfigError("bundle", "state: bundle: must be an absolute path");
  }
  const hasPid = s.pid !== undefined && s.pid !== 0;
  if (hasPid && !(Number.isSafeInteger(s.pid) && s.pid! > 0)) {
    throw new InvalidConfigError("pid", "state: pid: must be a positive integer");
  }
  if (!hasPid && (s.status === "created" || s.status === "running")) {
    throw new InvalidConfigError("pid", `state: pid: is required when ${s.status}`);
  }
  return {
    ociVersion: OCI_VERSION,
    id: s.id,
    status: s.status,
    ...(hasPid ? { pid: s.pid } : {}),
    bundle: s.bundle,
    ...(s.annotations !== undefined ? { annotations: { ...s.annotations } } : {}),
  };
}

/**
 * Seccomp actions m-docker's compiler (src/seccomp/profile.ts, which this layer may not
 * import) turns into BPF: all but SCMP_ACT_NOTIFY, which needs a listener it does not have.
 * A unit test keeps the two in step.
 */
export const SUPPORTED_SECCOMP_ACTIONS: readonly string[] = SECCOMP_ACTIONS.filter((a) =>
  a !== "SCMP_ACT_NOTIFY"
);

/** The architectures the compiler's filters check for (x86_64 and its two 32-bit ABIs). */
export const SUPPORTED_SECCOMP_ARCHS: readonly string[] = [
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X32",
];

/**
 * Mount option words of a later specification than OCI_VERSION (1.2's ID-mapped mounts):
 * the table knows them, the features document may not list them.
 */
const LATER_MOUNT_OPTIONS = ["idmap", "ridmap"];

/** The features document (features.md), as far as m-docker fills it in. */
export interface OciFeatures {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
    seccomp: { enabled: boolean; actions: string[]; operators: string[]; archs: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
  };
}

/**
 * The features document (features.md) of m-docker's runtime: what it recognises, decided
 * when it is built, not by probing the host. Only properties of the specification up to
 * `ociVersionMax` appear (features.md forbids later ones).
 */
export function ociFeatures(): OciFeatures {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: MOUNT_OPTION_NAMES.filter((o) => !LATER_MOUNT_OPTIONS.includes(o)),
    linux: {
      namespaces: [...NAMESPACE_TYPES].sort(),
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: {
        enabled: true,
        actions: [...SUPPORTED_SECCOMP_ACTIONS].sort(),
        operators: [...SECCOMP_OPERATORS].sort(),
        archs: [...SUPPORTED_SECCOMP_ARCHS],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
  };
}
