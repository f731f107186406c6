/**
 * Capability names and the set a container gets, computed as Docker computes it
 * (moby's `oci/caps.TweakCapabilities`): Docker's default set, less `--cap-drop`, plus
 * `--cap-add`; every capability for `--privileged`. Plain data and pure functions: the
 * set is kept in the spec as a list of names, and init is given their numbers.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/** Every capability Linux knows, by number (capability.h, up to 6.x's CAP_LAST_CAP 40). */
export const CAPABILITY_NAMES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Docker's default capability set (moby's `oci/caps/defaults.go`), in its order. */
export const DEFAULT_CAPABILITY_NAMES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** The magic word of `--cap-add` and `--cap-drop`. */
const ALL = "ALL";

/**
 * The names as Docker reads them: upper case, `CAP_` added when missing, `ALL` kept.
 * `lastCap` is the highest capability the kernel has: names above it are unknown, as in
 * Docker. Throws `InvalidConfigError` on `field` for an unknown name.
 */
export function normalizeCapabilities(
  names: readonly string[],
  field: string,
  lastCap = CAPABILITY_NAMES.length - 1,
): string[] {
  const known = CAPABILITY_NAMES.slice(0, lastCap + 1);
  return names.map((raw) => {
    let c = raw.trim().toUpperCase();
    if (c === ALL) return c;
    if (!c.startsWith("CAP_")) c = `CAP_${c}`;
    if (!known.includes(c)) {
      throw new InvalidConfigError(field, `unknown capability: ${JSON.stringify(c)}`);
    }
    return c;
  });
}

/**
 * The container's capability set, as names (Docker's `TweakCapabilities`): every capability
 * of the kernel for `privileged`; with `ALL` in `adds`, every one but the drops; with `ALL`
 * in `drops`, only the adds; otherwise the defaults less the drops, plus the adds (an add
 * wins over a drop of the same name). Throws `InvalidConfigError` for an unknown name.
 */
export function tweakCapabilities(
  adds: readonly string[],
  drops: readonly string[],
  privileged: boolean,
  lastCap = CAPABILITY_NAMES.length - 1,
): string[] {
  const all = CAPABILITY_NAMES.slice(0, lastCap + 1);
  if (privileged) return [...all];
  if (adds.length === 0 && drops.length === 0) return [...DEFAULT_CAPABILITY_NAMES];
  const capDrop = normalizeCapabilities(drops, "capDrop", lastCap);
  const capAdd = normalizeCapabilities(adds, "capAdd", lastCap);
  let caps: string[];
  if (capAdd.includes(ALL)) caps = all.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes(ALL)) caps = capAdd;
  else caps = [...DEFAULT_CAPABILITY_NAMES.filter((c) => !capDrop.includes(c)), ...capAdd];
  return [...new Set(caps)];
}

/** The numbers of capability names (already normalized), at most `lastCap`. */
export function capabilityNumbers(
  names: readonly string[],
  lastCap = CAPABILITY_NAMES.length - 1,
): number[] {
  return [...new Set(names.map((n) => CAPABILITY_NAMES.indexOf(n)))]
    .filter((n) => n >= 0 && n <= lastCap).sort((a, b) => a - b);
}
