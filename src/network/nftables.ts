/**
 * m-docker's firewall: outbound NAT, published ports and isolation between networks, in one
 * nftables table of its own (`table ip m-docker`) that nothing else touches and that m-docker
 * never looks outside of.
 *
 * Everything that changes when a network or a container comes and goes is an ELEMENT of a set
 * or map, never a rule: a network is a bridge name in `@bridges` (and `@internal`), a
 * `bridge . bridge` pair in `@same-bridge`, a `subnet . bridge` pair in `@subnet-bridge` and,
 * unless internal, its subnet in `@nat-subnets`;
 * a published port is a `[host address .] host port : container address . container port`
 * element of one of four DNAT maps. So each change is one `nft -f -` batch of
 * `add`/`create`/`delete element` lines, atomic in the kernel, with no rule handles to look up,
 * and the rules themselves are written once, by `baseTableScript()`.
 *
 * Each function comes in two parts: a pure `...Script()` that returns the exact nft text (unit
 * tested), and an async function that pipes it into ONE `nft -f -` run and throws an
 * {@link NftError} (or a subclass) carrying nft's stderr. Scripts can be concatenated and
 * applied together with {@link applyNftScript}, e.g. a network's set-up and a container's ports
 * in the one batch of a container start.
 *
 * @module
 */

import { close, O, pipe, read, spawn, waitSync, writeAll } from "../../ffi/libc.ts";
import { debug } from "../util/debug.ts";

/** The name of m-docker's own table (family `ip`). */
export const TABLE = "m-docker";

const T = `ip ${TABLE}`;

/**
 * The version of the rules `baseTableScript()` writes; bump it whenever they change. The table
 * holds an empty set `rules-v<N>` as a marker: element batches start with `flush set` of it,
 * which costs nothing when it exists and fails (ENOENT) when the table is missing or older, and
 * only then is the base table (re)written. Re-writing it every time would cost 8-16 ms a batch
 * (the kernel commits updates of existing chains and sets slowly) against 2-3 ms for elements.
 * `add` of an existing set with another type fails, so a changed set needs a new name too.
 */
export const RULES_VERSION = 1;

const MARKER = `rules-v${RULES_VERSION}`;

/** A transport protocol a port can be published for. */
export type Protocol = "tcp" | "udp";

/** One published port, as `-p [hostIp:]hostPort:containerPort[/protocol]` gives it. */
export interface PortMapping {
  /** The host address it answers on; absent (or "0.0.0.0") for all of the host's addresses. */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

/** A network as the firewall sees it: its bridge and subnet. */
export interface NetworkRules {
  /** The bridge's interface name, e.g. `md0` or `md-0123456789ab`. */
  bridge: string;
  /** The subnet in CIDR notation, e.g. `10.213.0.0/24` (host bits are cleared). */
  subnet: string;
  /** An `--internal` network: no masquerade, and nothing in or out of its bridge is forwarded. */
  internal: boolean;
}

/** How to run nft; tests point `command` into a network namespace (`ip netns exec NS nft`). */
export interface NftOptions {
  /** The nft command and any prefix, default `["nft"]`; `-f -` is appended. */
  command?: string[];
}

/** nft failed; `stderr` is nft's own report (it names the failing line of the script). */
export class NftError extends Error {
  override name = "NftError";
  constructor(
    message: string,
    readonly script: string,
    readonly stderr: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** An element being created already exists: nft's "File exists" (EEXIST) on `lines`. */
export class NftElementExistsError extends NftError {
  override name = "NftElementExistsError";
  constructor(
    message: string,
    script: string,
    stderr: string,
    exitCode: number,
    /** The 1-based script lines nft reported as existing. */
    readonly lines: number[],
  ) {
    super(message, script, stderr, exitCode);
  }
}

/** A host port is already published by m-docker (its element exists in the table). */
export class PortInUseError extends NftError {
  override name = "PortInUseError";
  constructor(
    message: string,
    script: string,
    stderr: string,
    exitCode: number,
    /** The mappings whose host side is taken. */
    readonly ports: PortMapping[],
  ) {
    super(message, script, stderr, exitCode);
  }
}

// ---- validation: everything that goes into a script is checked, so no input can inject nft

const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

function checkBridge(name: string): string {
  if (!IFNAME.test(name)) throw new RangeError(`invalid bridge name: ${JSON.stringify(name)}`);
  return name;
}

function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function checkIpv4(s: string): string {
  const n = parseIpv4(s);
  if (n === null) throw new RangeError(`invalid IPv4 address: ${JSON.stringify(s)}`);
  return formatIpv4(n);
}

/** `a.b.c.d/len` with the host bits cleared, as nft itself would store it. */
export function normalizeSubnet(cidr: string): string {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  const addr = m ? parseIpv4(m[1]) : null;
  const len = m ? Number(m[2]) : NaN;
  if (addr === null || !(len >= 0 && len <= 32)) {
    throw new RangeError(`invalid IPv4 subnet: ${JSON.stringify(cidr)}`);
  }
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return `${formatIpv4((addr & mask) >>> 0)}/${len}`;
}

function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`invalid port: ${p}`);
  return p;
}

function checkProtocol(p: string): Protocol {
  if (p !== "tcp" && p !== "udp") throw new RangeError(`invalid protocol: ${JSON.stringify(p)}`);
  return p;
}

// ---- scripts

/**
 * The table, its sets and maps, its chains and their rules. Idempotent: `add` of an existing
 * table, set or chain does nothing, and each chain is flushed before its rules are written, so
 * running it again (after an upgrade, or on every network's creation) leaves one copy of each
 * rule and keeps every element, in one atomic batch.
 *
 * The rules (nft 1.0.6 syntax, tested for real):
 * - `guard` (filter, prerouting, -150): a container must not reach the host's 127.0.0.0/8
 *   services; `route_localnet=1` on the bridges (needed for 127.0.0.1 published ports) would
 *   otherwise accept such packets from the bridge (kube-proxy's CVE-2020-8558).
 * - `prerouting` and `output` (nat, -100: nft 1.0.6 rejects `priority dstnat` on `output`):
 *   traffic to one of the host's own addresses goes through `published`, whose four rules
 *   look up the DNAT target by `ip daddr . port` (for `-p IP:H:C`), then by port alone.
 * - `postrouting` (nat, 100): masquerade what leaves the networks' subnets for a non-bridge
 *   interface; masquerade DNATed traffic that goes back into the bridge it came from (hairpin:
 *   the reply must come back through the host to be un-DNATed), told by `ip saddr . oifname`
 *   since postrouting has no input interface (`iifname` there is always empty); masquerade
 *   127.0.0.0/8 sources sent into a bridge (the output DNAT of 127.0.0.1:PORT).
 * - `forward` (filter, 0): traffic staying on one bridge passes; internal networks' bridges
 *   forward nothing in or out; replies pass; DNATed traffic (published ports) passes, from
 *   outside and from any network; anything else into a bridge is dropped: from another
 *   network (isolation) and from outside straight to a container's address (a neighbour
 *   routing the subnet through the host must not reach unpublished ports).
 */
export function baseTableScript(): string {
  const maps: string[] = [];
  for (const proto of ["tcp", "udp"]) {
    maps.push(
      `add map ${T} ${proto}-addr-port { type ipv4_addr . inet_service : ipv4_addr . inet_service; }`,
      `add map ${T} ${proto}-port { type inet_service : ipv4_addr . inet_service; }`,
    );
  }
  return [
    `add table ${T}`,
    `add set ${T} ${MARKER} { type ifname; }`,
    `add set ${T} bridges { type ifname; }`,
    `add set ${T} internal { type ifname; }`,
    `add set ${T} same-bridge { type ifname . ifname; }`,
    `add set ${T} subnet-bridge { type ipv4_addr . ifname; flags interval; }`,
    `add set ${T} nat-subnets { type ipv4_addr; flags interval; }`,
    ...maps,
    `add chain ${T} guard { type filter hook prerouting priority -150; policy accept; }`,
    `add chain ${T} prerouting { type nat hook prerouting priority -100; policy accept; }`,
    `add chain ${T} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${T} postrouting { type nat hook postrouting priority 100; policy accept; }`,
    `add chain ${T} forward { type filter hook forward priority 0; policy accept; }`,
    `add chain ${T} published`,
    `flush chain ${T} guard`,
    `flush chain ${T} prerouting`,
    `flush chain ${T} output`,
    `flush chain ${T} postrouting`,
    `flush chain ${T} forward`,
    `flush chain ${T} published`,
    `add rule ${T} guard iifname @bridges ip daddr 127.0.0.0/8 drop`,
    `add rule ${T} prerouting fib daddr type local jump published`,
    `add rule ${T} output fib daddr type local jump published`,
    `add rule ${T} published dnat ip to ip daddr . tcp dport map @tcp-addr-port`,
    `add rule ${T} published dnat ip to tcp dport map @tcp-port`,
    `add rule ${T} published dnat ip to ip daddr . udp dport map @udp-addr-port`,
    `add rule ${T} published dnat ip to udp dport map @udp-port`,
    `add rule ${T} postrouting ip saddr @nat-subnets oifname != @bridges masquerade`,
    `add rule ${T} postrouting ct status dnat ip saddr . oifname @subnet-bridge masquerade`,
    `add rule ${T} postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade`,
    `add rule ${T} forward iifname . oifname @same-bridge accept`,
    `add rule ${T} forward iifname @internal drop`,
    `add rule ${T} forward oifname @internal drop`,
    `add rule ${T} forward ct state established,related accept`,
    `add rule ${T} forward ct status dnat accept`,
    `add rule ${T} forward oifname @bridges drop`,
  ].join("\n") + "\n";
}

function networkElements(net: NetworkRules): string[] {
  const b = JSON.stringify(checkBridge(net.bridge));
  const subnet = normalizeSubnet(net.subnet);
  const lines = [
    `element ${T} bridges { ${b} }`,
    `element ${T} same-bridge { ${b} . ${b} }`,
    `element ${T} subnet-bridge { ${subnet} . ${b} }`,
  ];
  if (net.internal) lines.push(`element ${T} internal { ${b} }`);
  else lines.push(`element ${T} nat-subnets { ${subnet} }`);
  return lines;
}

/** The line that fails (ENOENT) unless the table and this version's rules are in place. */
export function markerScript(): string {
  return `flush set ${T} ${MARKER}\n`;
}

/**
 * A network's elements. Adding an existing network again changes nothing; an overlapping
 * subnet is refused by nft. {@link addNetwork} puts {@link markerScript} or
 * {@link baseTableScript} before it.
 */
export function addNetworkScript(net: NetworkRules): string {
  return networkElements(net).map((e) => `add ${e}\n`).join("");
}

/**
 * Removes a network's elements. Each is added before it is deleted, in the same batch, so
 * removing a network that is (partly) gone already is not an error: nft 1.0.6 has no
 * `destroy element`, and `delete` of a missing element fails the whole batch.
 */
export function removeNetworkScript(net: NetworkRules): string {
  return networkElements(net).flatMap((e) => [`add ${e}`, `delete ${e}`]).join("\n") + "\n";
}

function portElement(containerIp: string, p: PortMapping): string {
  const proto = checkProtocol(p.protocol);
  const target = `${checkIpv4(containerIp)} . ${checkPort(p.containerPort)}`;
  const hostPort = checkPort(p.hostPort);
  const hostIp = p.hostIp === undefined ? "0.0.0.0" : checkIpv4(p.hostIp);
  return hostIp === "0.0.0.0"
    ? `element ${T} ${proto}-port { ${hostPort} : ${target} }`
    : `element ${T} ${proto}-addr-port { ${hostIp} . ${hostPort} : ${target} }`;
}

/**
 * A container's published ports, one `create element` line per port (line i+1 is `ports[i]`),
 * so a host port that is already published fails the batch with "File exists" and nothing of
 * it is applied.
 */
export function publishScript(containerIp: string, ports: PortMapping[]): string {
  return ports.map((p) => `create ${portElement(containerIp, p)}\n`).join("");
}

/**
 * Removes a container's published ports. nft deletes a map element by its KEY alone, whatever
 * its value, so each element is first `add`ed with this container's value: that is a no-op when
 * it is ours, makes the delete harmless when it is already gone, and fails the batch ("File
 * exists") when the host port now belongs to another container, which is then left alone.
 */
export function unpublishScript(containerIp: string, ports: PortMapping[]): string {
  return ports.map((p) => {
    const e = portElement(containerIp, p);
    return `add ${e}\ndelete ${e}\n`;
  }).join("");
}

/** Deletes the whole table (idempotent: it is added first). */
export function removeAllScript(): string {
  return `add table ${T}\ndelete table ${T}\n`;
}

// ---- applying

/** Runs `script` in ONE `nft -f -`; throws {@link NftError} (or a subclass) on failure. */
export async function applyNftScript(script: string, opts: NftOptions = {}): Promise<void> {
  const [cmd, ...args] = [...(opts.command ?? ["nft"]), "-f", "-"];
  debug("nft", () => `${[cmd, ...args].join(" ")} <<EOF\n${script}EOF`);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "null", stderr: "piped" })
      .spawn();
  } catch (e) {
    throw new NftError(
      `cannot run ${cmd} (Debian package nftables): ${(e as Error).message}`,
      script,
      "",
      -1,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  if (out.code === 0) return;
  throw nftErrorFrom(script, new TextDecoder().decode(out.stderr), out.code);
}

/**
 * `applyNftScript` without the event loop, for paths that are synchronous (a container's
 * removal, its exit): the script goes in through a pipe filled before nft starts (scripts
 * are far smaller than a pipe's buffer), stderr comes back through another.
 */
export function applyNftScriptSync(script: string, opts: NftOptions = {}): void {
  const [cmd, ...args] = [...(opts.command ?? ["nft"]), "-f", "-"];
  const path = cmd.startsWith("/") ? cmd : findInPath(cmd);
  const input = pipe(), errors = pipe();
  let pid: number;
  try {
    writeAll(input[1], new TextEncoder().encode(script));
    close(input[1]);
    input[1] = -1;
    pid = spawn({
      path,
      args: [cmd, ...args],
      env: Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`),
      fds: [
        { kind: "dup", from: input[0], to: 0 },
        { kind: "open", fd: 1, path: "/dev/null", flags: O.WRONLY },
        { kind: "dup", from: errors[1], to: 2 },
      ],
    });
  } finally {
    close(input[0]);
    if (input[1] >= 0) close(input[1]);
    close(errors[1]);
  }
  let stderr = "";
  try {
    const buf = new Uint8Array(4096);
    for (let n = read(errors[0], buf); n > 0; n = read(errors[0], buf)) {
      stderr += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    close(errors[0]);
  }
  const result = waitSync(pid);
  if (result?.exitCode === 0) return;
  throw nftErrorFrom(script, stderr, result?.exitCode ?? -1);
}

function findInPath(cmd: string): string {
  // Root's sbin directories are not in every caller's PATH.
  const path = `${Deno.env.get("PATH") ?? "/usr/bin:/bin"}:/usr/sbin:/sbin`;
  for (const dir of path.split(":")) {
    try {
      if (Deno.statSync(`${dir}/${cmd}`).isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  throw new NftError(`cannot run ${cmd} (Debian package nftables): not found`, "", "", -1);
}

/**
 * The typed error for a failed nft run: {@link NftElementExistsError} when nft reported
 * "File exists" (with the lines it named), else {@link NftError}.
 */
export function nftErrorFrom(script: string, stderr: string, exitCode: number): NftError {
  const exists = [...stderr.matchAll(/^[^\n:]*:(\d+):[\d-]+: Error: .*: File exists$/gm)]
    .map((m) => Number(m[1]));
  const first = stderr.split("\n").find((l) => l.includes("Error:")) ?? stderr.trim();
  const message = `nft failed (exit ${exitCode}): ${first}`;
  return exists.length > 0
    ? new NftElementExistsError(message, script, stderr, exitCode, exists)
    : new NftError(message, script, stderr, exitCode);
}

/** Sets up m-docker's table, rules re-written (idempotent; see {@link baseTableScript}). */
export async function ensureBaseTable(opts: NftOptions = {}): Promise<void> {
  await applyNftScript(baseTableScript(), opts);
}

/**
 * Applies `body` after {@link markerScript}; when that fails for a missing table or older
 * rules, applies it again after {@link baseTableScript} instead. So the table is set up on
 * first use (and after a reboot, `nft flush ruleset` or an upgrade) in the same batch as the
 * change, and otherwise costs nothing. Lines in errors are numbered within `body`.
 */
async function applyOnBase(body: string, opts: NftOptions): Promise<void> {
  try {
    await applyNftScript(markerScript() + body, opts);
    return;
  } catch (e) {
    if (!(e instanceof NftError) || !/No such file or directory/.test(e.stderr)) {
      throw rebase(e, 1);
    }
  }
  const base = baseTableScript();
  try {
    await applyNftScript(base + body, opts);
  } catch (e) {
    throw rebase(e, base.split("\n").length - 1);
  }
}

function rebase(e: unknown, prefixLines: number): unknown {
  if (!(e instanceof NftElementExistsError)) return e;
  const lines = e.lines.map((l) => l - prefixLines);
  return new NftElementExistsError(e.message, e.script, e.stderr, e.exitCode, lines);
}

/** Adds a network (and sets the table up if need be), in one batch. */
export async function addNetwork(net: NetworkRules, opts: NftOptions = {}): Promise<void> {
  await applyOnBase(addNetworkScript(net), opts);
}

/** Removes a network's elements; nothing to do when the table is gone. */
export async function removeNetwork(net: NetworkRules, opts: NftOptions = {}): Promise<void> {
  try {
    await applyNftScript(removeNetworkScript(net), opts);
  } catch (e) {
    if (!(e instanceof NftError) || await tableExists(opts)) throw e;
  }
}

/**
 * Publishes a container's ports (one batch). A host port that m-docker has already published
 * throws {@link PortInUseError} naming it, and none of the ports is published. With
 * `network`, the same batch also adds the container's network and sets the table up if need
 * be, so a container start is one nft run whatever state the table is in.
 */
export async function publishPorts(
  containerIp: string,
  ports: PortMapping[],
  opts: NftOptions & { network?: NetworkRules } = {},
): Promise<void> {
  const net = opts.network ? addNetworkScript(opts.network) : "";
  if (ports.length === 0 && !net) return;
  try {
    await applyOnBase(publishScript(containerIp, ports) + net, opts);
  } catch (e) {
    throw portInUse(e, ports);
  }
}

/**
 * Unpublishes a container's ports (one batch); ports already gone are fine. A port that now
 * belongs to another container throws {@link PortInUseError} and nothing is removed.
 */
export async function unpublishPorts(
  containerIp: string,
  ports: PortMapping[],
  opts: NftOptions = {},
): Promise<void> {
  if (ports.length === 0) return;
  try {
    await applyNftScript(unpublishScript(containerIp, ports), opts);
  } catch (e) {
    if (
      e instanceof NftError && !(e instanceof NftElementExistsError) && !await tableExists(opts)
    ) {
      return;
    }
    // unpublish writes two lines per port: line 2i+1 (the add) is ports[i]
    throw portInUse(e, ports, 2);
  }
}

function portInUse(e: unknown, ports: PortMapping[], linesPerPort = 1): unknown {
  if (!(e instanceof NftElementExistsError)) return e;
  // lines past the ports' (a network's elements) are not ports: they stay an NftElementExistsError
  const taken = e.lines.map((l) => ports[Math.floor((l - 1) / linesPerPort)]).filter(Boolean);
  if (taken.length === 0) return e;
  const what = taken.map((p) => `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}/${p.protocol}`);
  return new PortInUseError(
    `host port already published by m-docker: ${what.join(", ")}`,
    e.script,
    e.stderr,
    e.exitCode,
    taken,
  );
}

/** Deletes m-docker's table and everything in it (tests; the last network's removal). */
export async function removeAll(opts: NftOptions = {}): Promise<void> {
  await applyNftScript(removeAllScript(), opts);
}

/** Whether m-docker's table exists (`nft list table`, exit 0). */
export async function tableExists(opts: NftOptions = {}): Promise<boolean> {
  const [cmd, ...prefix] = opts.command ?? ["nft"];
  const out = await new Deno.Command(cmd, {
    args: [...prefix, "list", "table", "ip", TABLE],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code === 0;
}
