/**
 * Device access rules, the one form both cgroup versions enforce: v1 writes them to
 * `devices.allow`, v2 compiles them into a `BPF_PROG_TYPE_CGROUP_DEVICE` program. The text
 * form is the kernel's v1 one, which is also what `--device-cgroup-rule` takes:
 * `TYPE MAJOR:MINOR ACCESS`, as in `c 1:3 rwm` or `b *:* m`.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/** `a` is every device, `c` character and `b` block devices. */
export type DeviceType = "a" | "b" | "c";

/** One allow rule; everything no rule allows is denied. */
export interface DeviceRule {
  type: DeviceType;
  /** null is `*`, every major (or minor) number. */
  major: number | null;
  minor: number | null;
  /** A non-empty subset of `rwm`: read, write, mknod. */
  access: string;
}

/** `--device HOST[:CONTAINER][:PERMISSIONS]` as asked for, before the host is looked at. */
export interface DeviceRequest {
  /** The host's node, or a directory of nodes (all of them, recursively). */
  hostPath: string;
  /** Absolute path inside the container; the host path when not given. */
  containerPath: string;
  /** A subset of `rwm`; `rwm` when not given. */
  access: string;
}

/** A device node to create in the container, with the rule that allows it. */
export interface DeviceNode {
  /** The host's node it copies (shown by `inspect`). */
  hostPath: string;
  /** Absolute path inside the container. */
  path: string;
  type: "b" | "c";
  major: number;
  minor: number;
  /** Permission bits (the host node's). */
  mode: number;
  uid: number;
  gid: number;
  /** The access `--device` grants, a subset of `rwm`. */
  access: string;
}

/**
 * What every container may use, as runc's and Docker's default list: mknod of any device
 * (using one still needs its own rule), then the standard nodes of /dev and the
 * pseudo-terminals.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: "c", major: null, minor: null, access: "m" },
  { type: "b", major: null, minor: null, access: "m" },
  { type: "c", major: 1, minor: 3, access: "rwm" }, // null
  { type: "c", major: 1, minor: 5, access: "rwm" }, // zero
  { type: "c", major: 1, minor: 7, access: "rwm" }, // full
  { type: "c", major: 1, minor: 8, access: "rwm" }, // random
  { type: "c", major: 1, minor: 9, access: "rwm" }, // urandom
  { type: "c", major: 5, minor: 0, access: "rwm" }, // tty
  { type: "c", major: 5, minor: 1, access: "rwm" }, // console
  { type: "c", major: 5, minor: 2, access: "rwm" }, // ptmx
  { type: "c", major: 136, minor: null, access: "rwm" }, // pts
];

/** `--privileged`: every device, every access. */
export const ALL_DEVICES_RULE: DeviceRule = { type: "a", major: null, minor: null, access: "rwm" };

const RULE_PATTERN = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]{1,3})$/;

/**
 * Parses `TYPE MAJOR:MINOR ACCESS` (`c 1:3 rwm`, `b *:* m`, `a *:* rwm`), as
 * `--device-cgroup-rule` does. Throws InvalidConfigError naming `field`.
 */
export function parseDeviceRule(text: string, field = "device-cgroup-rule"): DeviceRule {
  const m = RULE_PATTERN.exec(text.trim().replace(/\s+/g, " "));
  const access = m?.[4] ?? "";
  if (!m || !isDeviceAccess(access)) {
    throw new InvalidConfigError(
      field,
      `invalid device cgroup rule "${text}": want TYPE MAJOR:MINOR ACCESS, as in "c 1:3 rwm"`,
    );
  }
  const num = (s: string) => s === "*" ? null : Number(s);
  return { type: m[1] as DeviceType, major: num(m[2]), minor: num(m[3]), access: m[4] };
}

/** The kernel's v1 text of a rule, as `devices.allow` takes it. */
export function formatDeviceRule(rule: DeviceRule): string {
  const n = (v: number | null) => v === null ? "*" : String(v);
  return `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}

/** The rule that lets the container use a node `--device` created. */
export function ruleForNode(node: DeviceNode): DeviceRule {
  return { type: node.type, major: node.major, minor: node.minor, access: node.access };
}

/** True for Docker's device modes: a non-empty subset of `rwm`, each letter at most once. */
export function isDeviceAccess(s: string): boolean {
  return /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;
}

/**
 * The whole allow-list of a container's device cgroup: everything under `--privileged`,
 * else Docker's standard nodes, then each `--device`'s node, then `--device-cgroup-rule`s.
 */
export function deviceRulesFor(c: {
  privileged?: boolean;
  devices?: readonly DeviceNode[];
  deviceCgroupRules?: readonly DeviceRule[];
}): DeviceRule[] {
  if (c.privileged) return [ALL_DEVICES_RULE];
  return [
    ...DEFAULT_DEVICE_RULES,
    ...(c.devices ?? []).map(ruleForNode),
    ...(c.deviceCgroupRules ?? []),
  ];
}
