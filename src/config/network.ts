/**
 * How a container is networked, as plain data: which network it joins (Docker's `bridge`,
 * a user network, none, the host's, or another container's), the ports it publishes, and
 * its resolver settings. Filled from `--network`, `-p`, `-P`, `--dns` and friends by the
 * CLI; validated once by `validateNetworkRequest`.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";
import { UsageError } from "../util/errors.ts";

/** The network Docker attaches containers to when told nothing else. */
export const DEFAULT_NETWORK = "bridge";

/** Where a container's network namespace comes from. */
export type NetworkMode =
  | { kind: "bridge"; network: string }
  | { kind: "none" }
  | { kind: "host" }
  | { kind: "container"; container: string };

/** One published port: `-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`. */
export interface PortMapping {
  /** The host address it answers on; absent: every address (0.0.0.0). */
  hostIp?: string;
  /** The host port; 0 means one chosen at start, from Docker's ephemeral range. */
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

/** A name and address added to the container's /etc/hosts (`--add-host NAME:IP`). */
export interface ExtraHost {
  name: string;
  /** An IPv4 address, or `host-gateway` for the host's address on the container's network. */
  address: string;
}

/** The networking part of a container's spec. */
export interface NetworkSpec {
  mode: NetworkMode;
  ports: PortMapping[];
  /** A fixed address on the network (`--ip`); absent: the next free one. */
  ip?: string;
  /** More names other members of a user network find the container by. */
  aliases: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: ExtraHost[];
  /** More networks, joined with `network connect` (the first, `mode`, has the route). */
  extraNetworks?: NetworkJoin[];
}

/** A further network a container is on, with its aliases and fixed address there. */
export interface NetworkJoin {
  network: string;
  aliases: string[];
  ip?: string;
}

/** Docker's ephemeral range for host ports picked at start. */
export const EPHEMERAL_PORTS = { first: 49153, last: 65535 } as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** A network spec that asks for nothing: the default bridge, no ports. */
export function defaultNetworkSpec(): NetworkSpec {
  return {
    mode: { kind: "bridge", network: DEFAULT_NETWORK },
    ports: [],
    aliases: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
  };
}

/**
 * Checks a network spec with Docker's rules and messages; throws `InvalidConfigError`.
 *
 * @example
 * ```ts
 * validateNetworkSpec({ ...defaultNetworkSpec(), mode: { kind: "host" }, ports: [p] });
 * // throws: published ports are discarded when using host network mode
 * ```
 */
export function validateNetworkSpec(n: NetworkSpec): void {
  const mode = n.mode.kind;
  if (mode !== "bridge") {
    if (n.ports.length > 0) {
      // Docker warns and drops them for host; for none and container: it refuses.
      throw new InvalidConfigError(
        "network.ports",
        mode === "host"
          ? "published ports are discarded when using host network mode: remove -p"
          : `conflicting options: port publishing and the ${mode} network mode`,
      );
    }
    if (n.ip !== undefined) {
      throw new InvalidConfigError(
        "network.ip",
        "user specified IP address is supported only when connecting to networks with user configured subnets",
      );
    }
    if (n.aliases.length > 0) {
      throw new InvalidConfigError(
        "network.aliases",
        "network-scoped aliases are supported only for containers in user defined networks",
      );
    }
  }
  if (mode === "container" && (n.dns.length || n.dnsSearch.length || n.dnsOptions.length)) {
    throw new InvalidConfigError(
      "network.dns",
      "conflicting options: dns and the network mode",
    );
  }
  if (n.ip !== undefined && !isIPv4(n.ip)) {
    throw new InvalidConfigError("network.ip", `invalid IPv4 address: ${n.ip}`);
  }
  for (const [i, p] of n.ports.entries()) {
    const field = `network.ports[${i}]`;
    if (p.hostIp !== undefined && !isIPv4(p.hostIp)) {
      throw new InvalidConfigError(field, `invalid IP address: ${p.hostIp}`);
    }
    for (const port of [p.containerPort, p.hostPort]) {
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new InvalidConfigError(field, `invalid port: ${port}`);
      }
    }
    if (p.containerPort === 0) throw new InvalidConfigError(field, "invalid containerPort: 0");
  }
  for (const dns of n.dns) {
    if (!isIPv4(dns)) throw new InvalidConfigError("network.dns", `${dns} is not an ip address`);
  }
  for (const h of n.extraHosts) {
    if (h.address !== "host-gateway" && !isIPv4(h.address)) {
      throw new InvalidConfigError(
        "network.extraHosts",
        `invalid IP address in add-host: "${h.address}"`,
      );
    }
  }
}

/** The address containers on user networks resolve with, as Docker's. */
export const EMBEDDED_DNS_IP = "127.0.0.11";

/**
 * Parses `--network`: `bridge` (the default), `none`, `host`, `container:NAME|ID`, or the
 * name of a user network.
 */
export function parseNetworkMode(s: string): NetworkMode {
  if (s === "none") return { kind: "none" };
  if (s === "host") return { kind: "host" };
  if (s.startsWith("container:")) {
    const container = s.slice("container:".length);
    if (container === "") throw new UsageError(`invalid network mode: ${s}`);
    return { kind: "container", container };
  }
  if (s === "") throw new UsageError("invalid network mode: empty");
  return { kind: "bridge", network: s === "default" ? DEFAULT_NETWORK : s };
}
