/**
 * Seccomp profiles in Docker's JSON format (`--security-opt seccomp=PROFILE.json`, and
 * Docker's own default profile, src/seccomp/docker_default.ts), and their resolution into a
 * flat rule list for one container: the `includes`/`excludes` conditions decided against the
 * container's capability set, the architecture and the kernel version, the names turned
 * into x86_64 numbers. Moby's profiles/seccomp/seccomp_linux.go and runc's
 * libcontainer/seccomp are the reference for what each field means.
 *
 * @module
 */

import { SYSCALLS_X86_64 } from "./syscalls_x86_64.ts";
import { CAPABILITY_NAMES } from "../config/capabilities.ts";

/** A profile's action names (libseccomp's). */
export type SeccompActionName =
  | "SCMP_ACT_KILL"
  | "SCMP_ACT_KILL_THREAD"
  | "SCMP_ACT_KILL_PROCESS"
  | "SCMP_ACT_TRAP"
  | "SCMP_ACT_ERRNO"
  | "SCMP_ACT_TRACE"
  | "SCMP_ACT_ALLOW"
  | "SCMP_ACT_LOG";

/** Argument comparisons. MASKED_EQ is `(arg & value) == valueTwo`. */
export type SeccompOp =
  | "SCMP_CMP_NE"
  | "SCMP_CMP_LT"
  | "SCMP_CMP_LE"
  | "SCMP_CMP_EQ"
  | "SCMP_CMP_GE"
  | "SCMP_CMP_GT"
  | "SCMP_CMP_MASKED_EQ";

/** One comparison of a 64-bit system call argument. */
export interface SeccompArg {
  /** 0-5. */
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: SeccompOp;
}

/** When a rule applies: every listed cap present, the arch listed, the kernel at least. */
export interface SeccompCondition {
  caps?: string[];
  /** Go's architecture names, as Docker writes them: amd64, x86, x32, arm64, ... */
  arches?: string[];
  /** "MAJOR.MINOR". */
  minKernel?: string;
}

/** One `syscalls[]` entry. */
export interface SeccompSyscallRule {
  names: string[];
  action: SeccompActionName;
  /** The errno of SCMP_ACT_ERRNO (EPERM when absent), the data of SCMP_ACT_TRACE. */
  errnoRet?: number;
  args?: SeccompArg[];
  includes?: SeccompCondition;
  excludes?: SeccompCondition;
}

/** A whole profile. */
export interface SeccompProfile {
  defaultAction: SeccompActionName;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names. */
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>;
  syscalls: SeccompSyscallRule[];
}

/** A profile that cannot be used; the message says which field. */
export class SeccompProfileError extends Error {
  override name = "SeccompProfileError";
}

const ACTIONS = new Set<string>([
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
]);
const OPS = new Set<string>([
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
]);
const U64_MAX = (1n << 64n) - 1n;

function fail(where: string, what: string): never {
  throw new SeccompProfileError(`seccomp profile: ${where}: ${what}`);
}

function stringList(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    fail(where, "must be a list of strings");
  }
  return v as string[];
}

function action(v: unknown, where: string): SeccompActionName {
  if (typeof v !== "string" || !ACTIONS.has(v)) {
    fail(where, `unsupported action ${JSON.stringify(v)}`);
  }
  return v as SeccompActionName;
}

function errnoValue(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    fail(where, "must be a number from 0 to 65535");
  }
  return v;
}

function u64(v: unknown, where: string): bigint {
  if (v === undefined || v === null) return 0n;
  const b = typeof v === "bigint"
    ? v
    : typeof v === "number" && Number.isInteger(v)
    ? BigInt(v)
    : fail(where, "must be an unsigned integer");
  if (b < 0n || b > U64_MAX) fail(where, "must fit in 64 bits unsigned");
  return b;
}

function condition(v: unknown, where: string): SeccompCondition | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object") fail(where, "must be an object");
  const o = v as Record<string, unknown>;
  const c: SeccompCondition = {};
  const caps = stringList(o.caps, `${where}.caps`);
  const arches = stringList(o.arches, `${where}.arches`);
  if (caps?.length) c.caps = caps;
  if (arches?.length) c.arches = arches;
  if (o.minKernel !== undefined && o.minKernel !== null && o.minKernel !== "") {
    if (typeof o.minKernel !== "string" || !/^\d+\.\d+/.test(o.minKernel)) {
      fail(`${where}.minKernel`, "must be MAJOR.MINOR");
    }
    c.minKernel = o.minKernel;
  }
  return c.caps || c.arches || c.minKernel ? c : undefined;
}

function syscallRule(v: unknown, where: string): SeccompSyscallRule {
  if (typeof v !== "object" || v === null) fail(where, "must be an object");
  const o = v as Record<string, unknown>;
  // Old profiles name one call with "name"; Docker accepts either, not both.
  const names = stringList(o.names, `${where}.names`) ??
    (typeof o.name === "string" && o.name !== "" ? [o.name] : undefined);
  if (!names?.length) fail(where, "has no names");
  const rule: SeccompSyscallRule = { names, action: action(o.action, `${where}.action`) };
  const errnoRet = errnoValue(o.errnoRet, `${where}.errnoRet`);
  if (errnoRet !== undefined) rule.errnoRet = errnoRet;
  if (o.args !== undefined && o.args !== null) {
    if (!Array.isArray(o.args)) fail(`${where}.args`, "must be a list");
    rule.args = o.args.map((a, i) => {
      const w = `${where}.args[${i}]`;
      if (typeof a !== "object" || a === null) fail(w, "must be an object");
      const r = a as Record<string, unknown>;
      if (typeof r.index !== "number" || !Number.isInteger(r.index) || r.index < 0 || r.index > 5) {
        fail(`${w}.index`, "must be 0 to 5");
      }
      if (typeof r.op !== "string" || !OPS.has(r.op)) {
        fail(`${w}.op`, `unsupported comparison ${JSON.stringify(r.op)}`);
      }
      return {
        index: r.index,
        value: u64(r.value, `${w}.value`),
        valueTwo: u64(r.valueTwo, `${w}.valueTwo`),
        op: r.op as SeccompOp,
      };
    });
    if (rule.args.length === 0) delete rule.args;
  }
  const includes = condition(o.includes, `${where}.includes`);
  const excludes = condition(o.excludes, `${where}.excludes`);
  if (includes) rule.includes = includes;
  if (excludes) rule.excludes = excludes;
  return rule;
}

/**
 * Reads a profile in Docker's JSON format. Argument values are read exactly (64-bit, from
 * the JSON text itself, not through a double). Throws a `SeccompProfileError` naming the
 * field that is wrong.
 */
export function parseSeccompProfile(text: string): SeccompProfile {
  let raw: unknown;
  try {
    // The reviver's third argument carries the number's source text (ES2025): values above
    // 2^53 such as masks of the high word would lose bits as doubles.
    raw = JSON.parse(
      text,
      (key, value, context?: { source?: string }) =>
        (key === "value" || key === "valueTwo") && typeof value === "number" &&
          context?.source !== undefined
          ? BigInt(context.source)
          : value,
    );
  } catch (e) {
    fail("JSON", (e as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    fail("top level", "must be an object");
  }
  const o = raw as Record<string, unknown>;
  const profile: SeccompProfile = {
    defaultAction: action(o.defaultAction, "defaultAction"),
    syscalls: [],
  };
  const defaultErrnoRet = errnoValue(o.defaultErrnoRet, "defaultErrnoRet");
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;
  const architectures = stringList(o.architectures, "architectures");
  if (architectures) profile.architectures = architectures;
  if (o.archMap !== undefined && o.archMap !== null) {
    if (!Array.isArray(o.archMap)) fail("archMap", "must be a list");
    profile.archMap = o.archMap.map((m, i) => {
      const e = m as Record<string, unknown>;
      if (typeof e?.architecture !== "string") {
        fail(`archMap[${i}].architecture`, "must be a string");
      }
      return {
        architecture: e.architecture,
        subArchitectures: stringList(e.subArchitectures, `archMap[${i}].subArchitectures`) ??
          null,
      };
    });
  }
  if (o.syscalls !== undefined && o.syscalls !== null) {
    if (!Array.isArray(o.syscalls)) fail("syscalls", "must be a list");
    profile.syscalls = o.syscalls.map((s, i) => syscallRule(s, `syscalls[${i}]`));
  }
  return profile;
}

// ---------------------------------------------------------------------------------------
// Resolution for one container.

/** What the conditions are decided against. */
export interface ResolveTarget {
  /** The container's (bounding) capabilities, by number. */
  capabilities: Iterable<number>;
  /** The running kernel, [major, minor]. */
  kernel: readonly [number, number];
}

/** A seccomp return value (SECCOMP_RET_*), with its data bits. */
export type SeccompReturn = number;

/** The kernel's SECCOMP_RET_* values. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const EPERM = 1;

/** The return value of an action; `errnoRet` is the errno (EPERM by default) or trace data. */
export function actionReturn(a: SeccompActionName, errnoRet?: number): SeccompReturn {
  switch (a) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET.TRAP;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case "SCMP_ACT_TRACE":
      return (SECCOMP_RET.TRACE | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET.LOG;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET.ALLOW;
  }
}

/** One rule of the flat list: when every comparison holds (there may be none), return. */
export interface FlatRule {
  nr: number;
  /** The name, for messages and tests. */
  name: string;
  ret: SeccompReturn;
  args: SeccompArg[];
}

/** A profile resolved for one container on x86_64: what the compiler takes. */
export interface FlatFilter {
  defaultRet: SeccompReturn;
  rules: FlatRule[];
  /** Whether the profile lists the 32-bit sub-architectures (we refuse them either way). */
  architectures: string[];
}

function kernelAtLeast(kernel: readonly [number, number], min: string): boolean {
  const [major, minor] = min.split(".").map(Number);
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= (minor || 0));
}

/** The running kernel's [major, minor] (uname's release). */
export function runningKernel(): [number, number] {
  const [major, minor] = Deno.osRelease().split(/[.-]/).map(Number);
  return [major || 0, minor || 0];
}

/** The architectures the filter is for: `architectures`, or the native entry of `archMap`. */
function architecturesOf(profile: SeccompProfile): string[] {
  const out = new Set(profile.architectures ?? []);
  for (const m of profile.archMap ?? []) {
    if (m.architecture !== "SCMP_ARCH_X86_64") continue;
    out.add(m.architecture);
    for (const s of m.subArchitectures ?? []) out.add(s);
  }
  return [...out];
}

/**
 * Resolves `profile` for a container with `target`'s capabilities on this kernel, on
 * x86_64 (Go's "amd64"), the way Docker does before it hands the profile to runc: a rule is
 * dropped when an excluded cap is held, its arch excluded, or the kernel at least its
 * excluded minimum; kept only when every included cap is held, its arch listed, the kernel
 * at least its minimum. Names x86_64 does not have are skipped (runc does the same).
 * Comparisons of one rule are ANDed, except when two compare the same argument: then each
 * becomes a rule of its own (ORed), as runc does.
 */
export function resolveProfile(profile: SeccompProfile, target: ResolveTarget): FlatFilter {
  const arch = "amd64";
  const caps = new Set([...target.capabilities].map((n) => CAPABILITY_NAMES[n]));
  const rules: FlatRule[] = [];
  for (const s of profile.syscalls) {
    const ex = s.excludes, inc = s.includes;
    if (ex?.arches?.includes(arch)) continue;
    if (ex?.caps?.some((c) => caps.has(c))) continue;
    if (ex?.minKernel && kernelAtLeast(target.kernel, ex.minKernel)) continue;
    if (inc?.arches && !inc.arches.includes(arch)) continue;
    if (inc?.caps && !inc.caps.every((c) => caps.has(c))) continue;
    if (inc?.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) continue;
    const ret = actionReturn(s.action, s.errnoRet);
    const args = s.args ?? [];
    const indexes = args.map((a) => a.index);
    const split = new Set(indexes).size !== indexes.length;
    const argSets = split ? args.map((a) => [a]) : [args];
    for (const name of s.names) {
      const nr = SYSCALLS_X86_64.get(name);
      if (nr === undefined) continue;
      for (const a of argSets) rules.push({ nr, name, ret, args: a });
    }
  }
  return {
    defaultRet: actionReturn(profile.defaultAction, profile.defaultErrnoRet),
    rules,
    architectures: architecturesOf(profile),
  };
}
