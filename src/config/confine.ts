/**
 * The filesystem and process confinement a container asks for, parsed from Docker's words
 * and checked at the edge: `--tmpfs`, `--ulimit`, `--oom-score-adj`, `--sysctl`.
 *
 * @module
 */

import { type TmpfsMount, type Ulimit, ULIMIT_NAMES } from "./container.ts";
import { InvalidConfigError } from "./errors.ts";

/** The options every `--tmpfs` starts from, as Docker's; the user's come after and win. */
export const DEFAULT_TMPFS_OPTIONS = ["rw", "noexec", "nosuid", "size=65536k"];

/**
 * `--tmpfs PATH[:OPTS]`, OPTS comma-separated mount options.
 *
 * @example
 * ```ts
 * parseTmpfs("/run:size=1m,exec");
 * // { destination: "/run", options: ["rw", "noexec", "nosuid", "size=65536k", "size=1m", "exec"] }
 * ```
 */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(":");
  const destination = colon < 0 ? spec : spec.slice(0, colon);
  const opts = colon < 0 ? [] : spec.slice(colon + 1).split(",").filter((o) => o !== "");
  if (!destination.startsWith("/") || destination.replace(/\/+/g, "/") === "/") {
    throw new InvalidConfigError(
      "tmpfs",
      `invalid mount config for type "tmpfs": mount path must be absolute and not '/': ${spec}`,
    );
  }
  return { destination, options: [...DEFAULT_TMPFS_OPTIONS, ...opts] };
}

function ulimitValue(s: string, spec: string): number {
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new InvalidConfigError("ulimits", `invalid ulimit argument: ${spec}`);
  }
  return Number(s);
}

/**
 * `--ulimit NAME=SOFT[:HARD]` (go-units' ParseUlimit): HARD defaults to SOFT; -1 is
 * unlimited.
 */
export function parseUlimit(spec: string): Ulimit {
  const eq = spec.indexOf("=");
  if (eq < 0) throw new InvalidConfigError("ulimits", `invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  if (!(ULIMIT_NAMES as readonly string[]).includes(name)) {
    throw new InvalidConfigError("ulimits", `invalid ulimit type: ${name}`);
  }
  const parts = spec.slice(eq + 1).split(":");
  if (parts.length > 2) {
    throw new InvalidConfigError("ulimits", `too many limit value arguments - ${spec}`);
  }
  const soft = ulimitValue(parts[0], spec);
  const hard = parts.length === 2 ? ulimitValue(parts[1], spec) : soft;
  if (soft < -1 || hard < -1) {
    throw new InvalidConfigError("ulimits", `invalid ulimit argument: ${spec}`);
  }
  // -1 is unlimited: larger than any number.
  if (hard !== -1 && (soft === -1 || soft > hard)) {
    throw new InvalidConfigError(
      "ulimits",
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  }
  return { name, soft, hard };
}

/** The sysctls Docker lets a container set (its `ValidateSysctl`): namespaced ones only. */
const SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** `--sysctl KEY=VALUE`, checked against Docker's list. */
export function parseSysctl(spec: string): [key: string, value: string] {
  const eq = spec.indexOf("=");
  const key = eq < 0 ? "" : spec.slice(0, eq);
  const allowed = SYSCTLS.has(key) || key.startsWith("net.") || key.startsWith("fs.mqueue.");
  // A key names a file under /proc/sys: no way out of it.
  if (!allowed || !/^[a-zA-Z0-9_.-]+$/.test(key) || key.includes("..")) {
    throw new InvalidConfigError("sysctls", `sysctl '${spec}' is not whitelisted`);
  }
  return [key, spec.slice(eq + 1)];
}

/**
 * Checks what cannot be said at parse time: `net.*` sysctls need a network namespace of the
 * container's own (runc's wording for the host's), and the OOM score range.
 */
export function validateConfinement(r: {
  sysctls?: Record<string, string>;
  oomScoreAdj?: number;
  network: "own" | "host" | "joined";
}): void {
  for (const key of Object.keys(r.sysctls ?? {})) {
    if (!key.startsWith("net.") || r.network === "own") continue;
    // Another container's namespace may be the host's own: refused too.
    throw new InvalidConfigError(
      "sysctls",
      r.network === "host"
        ? `sysctl "${key}" not allowed in host network namespace`
        : `sysctl "${key}" not allowed when sharing another container's network namespace`,
    );
  }
  const o = r.oomScoreAdj;
  if (o !== undefined && (!Number.isInteger(o) || o < -1000 || o > 1000)) {
    throw new InvalidConfigError(
      "oomScoreAdj",
      `Invalid value ${o}, range for oom score adj is [-1000, 1000]`,
    );
  }
}
