/**
 * Container networking as Docker has it, without a daemon: a starting container on a
 * `bridge`-driver network gets an address from the network table, a veth pair whose far end
 * is its `eth0` (created straight in the namespace its parent made at spawn), a default
 * route through the bridge, and its published ports as elements of m-docker's nftables
 * table, in one batch. Everything it took is recorded under the table's lock before it is
 * wired, so that whoever finds it abandoned (its monitor killed mid-start) can release it.
 *
 * All netlink work here is synchronous on the calling thread (DESIGN.md: namespaces are per
 * thread): a socket opened in the container's namespace keeps working there.
 *
 * @module
 */

import * as nl from "../../ffi/netlink.ts";
import { ERRNO } from "../../ffi/errors.ts";
import { close, O, open } from "../../ffi/libc.ts";
import { InvalidConfigError } from "../config/errors.ts";
import type { NetworkJoin, NetworkSpec, PortMapping } from "../config/network.ts";
import { EPHEMERAL_PORTS } from "../config/network.ts";
import {
  allocateAddress,
  DEFAULT_POOLS,
  defaultGateway,
  formatSubnet,
  intToIp,
  ipToInt,
  macForAddress,
  parsePools,
  parseSubnet,
  pickSubnet,
  type Subnet,
} from "../network/ipam.ts";
import { type NetworkRules, publishPorts } from "../network/nftables.ts";
import {
  type Endpoint,
  type NetworkDb,
  type NetworkRecord,
  NetworkStore,
  type PortBinding,
} from "../network/store.ts";
import { enableContainerRouting } from "../network/sysctl.ts";
import { openEmbeddedDns } from "./dns_server.ts";
import { networkSpecOf, usesEmbeddedDns } from "./network_spec.ts";
import {
  isAbandoned,
  refreshMemberHosts,
  releaseContainer,
  unwire,
  writeHostsFile,
} from "./network_table.ts";
import type { StateStore } from "../state/store.ts";
import type {
  ContainerNetworking,
  ContainerState,
  NetworkAttachment,
  PublishedPort,
} from "../state/types.ts";
import { debug } from "../util/debug.ts";

/** The address pools new networks take subnets from (`M_DOCKER_DEFAULT_ADDRESS_POOLS`). */
function addressPools() {
  const text = Deno.env.get("M_DOCKER_DEFAULT_ADDRESS_POOLS");
  return text ? parsePools(text) : DEFAULT_POOLS;
}

/** What the host's routing table says, read once per start. */
interface HostRoutes {
  /** Subnets the host already routes somewhere other than m-docker's bridges. */
  taken: Subnet[];
  /** The MTU of the device of the default route (1500 when there is none). */
  mtu: number;
}

function readHostRoutes(sock: nl.NetlinkSocket): HostRoutes {
  const links = new Map(nl.listLinks(sock).map((l) => [l.index, l]));
  const isOurs = (oif?: number) => oif !== undefined && /^md/.test(links.get(oif)?.name ?? "");
  const taken: Subnet[] = [];
  let mtu = 1500;
  for (const r of nl.listRoutes(sock)) {
    if (r.table !== 254 || isOurs(r.oif)) continue;
    if (r.dstLen === 0) {
      mtu = r.mtu ?? links.get(r.oif ?? -1)?.mtu ?? mtu;
      continue;
    }
    try {
      const base = ipToInt(r.dst.split("/")[0]);
      taken.push({ base, prefix: r.dstLen });
    } catch { /* not IPv4 */ }
  }
  return { taken, mtu };
}

/** A bridge network's subnet and gateway, parsed. */
function addressing(net: NetworkRecord): { subnet: Subnet; gateway: number } {
  return { subnet: parseSubnet(net.subnet!), gateway: ipToInt(net.gateway!) };
}

/** Reads the host's routes in the current network namespace (see `readHostRoutes`). */
export function hostRoutes(): { taken: Subnet[]; mtu: number } {
  const sock = nl.openNetlink();
  try {
    return readHostRoutes(sock);
  } finally {
    sock.close();
  }
}

/** Deletes a network's bridge, if it is there. */
export function deleteBridge(bridge: string): void {
  const sock = nl.openNetlink();
  try {
    deleteVeth(sock, bridge);
  } finally {
    sock.close();
  }
}

/** A host port taken by another program on the host (m-docker's DNAT would shadow it). */
function hostPortBusy(hostIp: string, port: number, protocol: "tcp" | "udp"): boolean {
  if (protocol !== "tcp") return false; // a UDP bind test needs unstable APIs; nft catches ours
  try {
    Deno.listen({ hostname: hostIp, port, transport: "tcp" }).close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.AddrInUse;
  }
}

function conflicts(a: { hostIp: string }, b: { hostIp: string }): boolean {
  return a.hostIp === b.hostIp || a.hostIp === "0.0.0.0" || b.hostIp === "0.0.0.0";
}

/** Gives each port its host port (a free one from Docker's range for 0), or refuses. */
function allocatePorts(
  db: NetworkDb,
  containerId: string,
  stateDir: string,
  ip: string,
  ports: PortMapping[],
): PortBinding[] {
  const out: PortBinding[] = [];
  const taken = (hostIp: string, port: number, protocol: string) =>
    [...db.ports, ...out].some((p) =>
      p.protocol === protocol && p.hostPort === port && conflicts(p, { hostIp })
    );
  for (const p of ports) {
    const hostIp = p.hostIp ?? "0.0.0.0";
    let hostPort = p.hostPort;
    if (hostPort === 0) {
      const span = EPHEMERAL_PORTS.last - EPHEMERAL_PORTS.first + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span && hostPort === 0; i++) {
        const candidate = EPHEMERAL_PORTS.first + (start + i) % span;
        if (!taken(hostIp, candidate, p.protocol) && !hostPortBusy(hostIp, candidate, p.protocol)) {
          hostPort = candidate;
        }
      }
      if (hostPort === 0) throw new InvalidConfigError("network.ports", "no free host port left");
    } else if (taken(hostIp, hostPort, p.protocol) || hostPortBusy(hostIp, hostPort, p.protocol)) {
      throw new InvalidConfigError(
        "network.ports",
        `Bind for ${hostIp}:${hostPort} failed: port is already allocated`,
      );
    }
    out.push({
      protocol: p.protocol,
      hostIp,
      hostPort,
      containerId,
      containerIp: ip,
      containerPort: p.containerPort,
      stateDir,
    });
  }
  return out;
}

/** The host end of a container's veth on its n-th network: `md` and 12 hex digits. */
function hostVethName(containerId: string, n: number): string {
  return `md${containerId.slice(0, 11)}${n.toString(16)}`;
}

/** What one network join reserved in the table, to be wired. */
interface Reservation {
  net: NetworkRecord;
  endpoint: Endpoint;
  ports: PortBinding[];
  /** Abandoned endpoints and ports swept from the table, to unwire. */
  swept: { endpoints: Endpoint[]; ports: PortBinding[] };
}

/** Reserves an address and host ports on `networkName` for a container, under the lock. */
function reserve(
  networks: NetworkStore,
  store: StateStore,
  state: ContainerState,
  join: NetworkJoin,
  n: number,
  host: () => HostRoutes,
): Reservation {
  const spec = networkSpecOf(state.spec);
  const networkName = join.network;
  return networks.update((db) => {
    const net = NetworkStore.find(db, networkName);
    if (net.driver !== "bridge") {
      throw new InvalidConfigError(
        "network.mode",
        `network ${networkName} is not a bridge network`,
      );
    }
    // What a killed monitor left: released here, so its address and ports are free again.
    const stale = (e: { containerId: string; stateDir: string }) =>
      e.containerId !== state.id && isAbandoned(e);
    const swept = {
      endpoints: db.endpoints.filter(stale),
      ports: db.ports.filter(stale),
    };
    db.endpoints = db.endpoints.filter((e) => !swept.endpoints.includes(e));
    db.ports = db.ports.filter((p) => !swept.ports.includes(p));
    // A restart (or a start racing the sweep of a crash) reuses nothing of its own.
    const own = (e: { containerId: string; networkId?: string }) => e.containerId === state.id;
    swept.endpoints.push(...db.endpoints.filter((e) => own(e) && e.networkId === net.id));
    db.endpoints = db.endpoints.filter((e) => !(own(e) && e.networkId === net.id));
    if (n === 0) {
      swept.ports.push(...db.ports.filter(own));
      db.ports = db.ports.filter((p) => !own(p));
    }
    net.mtu ??= host().mtu;
    if (!net.subnet) {
      const others = db.networks.filter((o) => o.subnet).map((o) => parseSubnet(o.subnet!));
      const subnet = pickSubnet(addressPools(), [...host().taken, ...others]);
      if (!subnet) {
        throw new InvalidConfigError(
          "network",
          "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
        );
      }
      net.subnet = formatSubnet(subnet);
      net.gateway = intToIp(defaultGateway(subnet));
    }
    const { subnet, gateway } = addressing(net);
    const used = new Set(
      db.endpoints.filter((e) => e.networkId === net.id).map((e) => ipToInt(e.ip)),
    );
    let ip: number | null;
    if (join.ip !== undefined) {
      ip = ipToInt(join.ip);
      if (!(ip > subnet.base && ip < subnet.base + 2 ** (32 - subnet.prefix) - 1)) {
        throw new InvalidConfigError(
          "network.ip",
          `no configured subnet contains IP address ${join.ip}`,
        );
      }
      if (used.has(ip) || ip === gateway) {
        throw new InvalidConfigError("network.ip", `Address already in use: ${join.ip}`);
      }
    } else {
      ip = allocateAddress(subnet, gateway, used);
      if (ip === null) {
        throw new InvalidConfigError(
          "network",
          `no available IPv4 addresses on network ${net.name}`,
        );
      }
    }
    const endpoint: Endpoint = {
      networkId: net.id,
      containerId: state.id,
      name: state.name,
      aliases: [...join.aliases],
      ip: intToIp(ip),
      mac: macForAddress(ip),
      hostVeth: hostVethName(state.id, n),
      stateDir: store.dir,
    };
    db.endpoints.push(endpoint);
    const ports = n === 0 ? allocatePorts(db, state.id, store.dir, endpoint.ip, spec.ports) : [];
    db.ports.push(...ports);
    return { net: { ...net }, endpoint, ports, swept };
  }, { durable: false });
}

/** Where firewall elements installed now live: this boot, this network namespace. */
function firewallKey(): string {
  const boot = Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim();
  return `${boot}:${Deno.statSync("/proc/thread-self/ns/net").ino}`;
}

/** Creates the network's bridge if it is not there yet (first use, or after a reboot). */
function ensureBridge(sock: nl.NetlinkSocket, net: NetworkRecord, mtu: number): number {
  const { subnet } = addressing(net);
  const existing = nl.getLink(sock, net.bridge!);
  if (existing) return existing.index;
  try {
    nl.createBridge(sock, net.bridge!, { mtu });
  } catch (e) {
    // Another start made it at the same moment.
    if (!(e instanceof nl.NetlinkError && e.errno === ERRNO.EEXIST)) throw e;
  }
  try {
    nl.addAddress(sock, net.bridge!, `${net.gateway}/${subnet.prefix}`);
  } catch (e) {
    if (!(e instanceof nl.NetlinkError && e.errno === ERRNO.EEXIST)) throw e;
  }
  nl.setLinkUp(sock, net.bridge!);
  return nl.linkIndex(sock, net.bridge!);
}

function rulesOf(net: NetworkRecord): NetworkRules {
  return { bridge: net.bridge!, subnet: net.subnet!, internal: net.internal };
}

/** Deletes a host veth if it is still there; its pair goes with it. */
function deleteVeth(sock: nl.NetlinkSocket, name: string): void {
  try {
    nl.deleteLink(sock, name);
  } catch (e) {
    if (!(e instanceof nl.NetlinkError && e.errno === ERRNO.ENODEV)) throw e;
  }
}

/** The networks a container joins, its primary (`--network`) first. */
function joinsOf(spec: NetworkSpec): NetworkJoin[] {
  if (spec.mode.kind !== "bridge") return []; // as wiresNetwork says
  return [
    { network: spec.mode.network, aliases: spec.aliases, ip: spec.ip },
    ...(spec.extraNetworks ?? []),
  ];
}

/**
 * Joins one network: reserves an address (and, for the primary, the published ports) in the
 * table, then wires `eth<n>` of the namespace behind `netnsFd` to the network's bridge; the
 * primary network's gateway is the default route. Returns what it got; on failure, what it
 * reserved is given back by the caller's `releaseContainer`.
 */
async function joinNetwork(
  sock: nl.NetlinkSocket,
  store: StateStore,
  state: ContainerState,
  netnsFd: number,
  join: NetworkJoin,
  n: number,
  host: () => HostRoutes,
): Promise<{ attachment: NetworkAttachment; ports: PortBinding[] }> {
  const networks = new NetworkStore(state.networkDir!);
  const { net, endpoint, ports, swept } = reserve(networks, store, state, join, n, host);
  unwire(swept.ports);
  const { subnet } = addressing(net);
  const mtu = net.mtu ?? 1500;
  const bridgeIndex = ensureBridge(sock, net, mtu);
  const key = firewallKey();
  // Sysctls hold per namespace until reboot: set with the firewall, once per boot and place.
  if (net.firewallAt !== key) enableContainerRouting([net.bridge!]);
  const ifname = `eth${n}`;
  const create = () =>
    nl.createVeth(
      sock,
      endpoint.hostVeth,
      { name: ifname, netnsFd, mtu, address: endpoint.mac },
      { mtu, master: bridgeIndex, up: true },
    );
  try {
    create();
  } catch (e) {
    // Left by a crash of this very container (its namespace held open elsewhere): replace it.
    if (!(e instanceof nl.NetlinkError && e.errno === ERRNO.EEXIST)) throw e;
    deleteVeth(sock, endpoint.hostVeth);
    create();
  }
  nl.setHairpin(sock, endpoint.hostVeth);
  const inside = nl.openNetlinkIn(netnsFd);
  try {
    nl.addAddress(inside, ifname, `${endpoint.ip}/${subnet.prefix}`);
    nl.setLinkUp(inside, ifname);
    // lo too (init would bring it up later): the embedded DNS server binds 127.0.0.11 now.
    if (n === 0) nl.setLinkUp(inside, "lo");
    if (n === 0 && !net.internal) nl.addRoute(inside, { dst: "default", gateway: net.gateway! });
  } finally {
    inside.close();
  }
  // One nft batch for the ports, which also installs the network's elements (and the table)
  // where they are missing; with no ports and the elements known to be there, none at all.
  if (ports.length > 0 || net.firewallAt !== key) {
    await publishPorts(endpoint.ip, ports, { network: rulesOf(net) });
    if (net.firewallAt !== key) {
      networks.update((db) => {
        const record = db.networks.find((x) => x.id === net.id);
        if (record) record.firewallAt = key;
      }, { durable: false });
    }
  }
  debug("network", () => `${state.id}: ${endpoint.ip} on ${net.name} (${net.bridge})`);
  return {
    attachment: {
      networkId: net.id,
      networkName: net.name,
      bridge: net.bridge!,
      ip: endpoint.ip,
      prefixLen: subnet.prefix,
      gateway: net.gateway!,
      mac: endpoint.mac,
      hostVeth: endpoint.hostVeth,
      aliases: endpoint.aliases,
    },
    ports,
  };
}

/** Rewrites the hosts file of the container and of every member of its user networks. */
function refreshNames(state: ContainerState): void {
  const db = new NetworkStore(state.networkDir!).read();
  writeHostsFile(state, db);
  const mine = new Set(
    db.endpoints.filter((e) => e.containerId === state.id).map((e) => e.networkId),
  );
  for (const id of mine) {
    if (db.networks.find((n) => n.id === id)?.name !== "bridge") refreshMemberHosts(db, id);
  }
}

/**
 * Connects a starting container to its networks (see `joinNetwork`), and writes its
 * /etc/hosts and its neighbours'. On failure everything it took is given back and the error
 * thrown; the container must not start.
 */
export async function connectContainer(
  store: StateStore,
  state: ContainerState,
  netnsFd: number,
): Promise<(ContainerNetworking & { dnsSocket?: number }) | undefined> {
  const joins = joinsOf(networkSpecOf(state.spec));
  if (joins.length === 0 || !state.networkDir) return undefined;
  const sock = nl.openNetlink();
  const result: ContainerNetworking = { attachments: [], ports: [] };
  try {
    let routes: HostRoutes | undefined;
    const host = () => routes ??= readHostRoutes(sock);
    for (const [n, join] of joins.entries()) {
      const { attachment, ports } = await joinNetwork(sock, store, state, netnsFd, join, n, host);
      result.attachments.push(attachment);
      result.ports.push(...ports.map(publishedPort));
    }
    refreshNames(state);
    if (usesEmbeddedDns(networkSpecOf(state.spec))) {
      return { ...result, dnsSocket: openEmbeddedDns(netnsFd) };
    }
    return result;
  } catch (e) {
    releaseContainer(state);
    throw e;
  } finally {
    sock.close();
  }
}

/**
 * `network connect`: joins a running container to one more network at once (its next
 * `eth<n>`); the join is kept in its spec so that it is made again at every start.
 */
export async function connectRunning(
  store: StateStore,
  state: ContainerState,
  join: NetworkJoin,
): Promise<NetworkAttachment> {
  const n = state.networking?.attachments.length ?? 0;
  const netnsFd = open(`/proc/${state.pid}/ns/net`, O.RDONLY | O.CLOEXEC);
  const sock = nl.openNetlink();
  try {
    const { attachment } = await joinNetwork(
      sock,
      store,
      state,
      netnsFd,
      join,
      n,
      () => readHostRoutes(sock),
    );
    store.update(state.id, (s) => {
      s.networking = {
        attachments: [...(s.networking?.attachments ?? []), attachment],
        ports: s.networking?.ports ?? [],
      };
    });
    refreshNames(state);
    return attachment;
  } finally {
    sock.close();
    close(netnsFd);
  }
}

/**
 * `network disconnect`: takes a running container off one network: its address is free, its
 * veth is deleted, its neighbours stop listing it.
 */
export function disconnectRunning(state: ContainerState, networkId: string): void {
  const networks = new NetworkStore(state.networkDir!);
  const endpoint = networks.update((db) => {
    const e = db.endpoints.find((x) => x.containerId === state.id && x.networkId === networkId);
    db.endpoints = db.endpoints.filter((x) => x !== e);
    if (e) refreshMemberHosts(db, networkId);
    return e;
  });
  if (!endpoint) return;
  const sock = nl.openNetlink();
  try {
    deleteVeth(sock, endpoint.hostVeth);
  } finally {
    sock.close();
  }
}

function publishedPort(p: PortBinding): PublishedPort {
  return {
    protocol: p.protocol,
    hostIp: p.hostIp,
    hostPort: p.hostPort,
    containerPort: p.containerPort,
  };
}
