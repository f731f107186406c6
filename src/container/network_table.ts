/**
 * A container's share of the network table, without the code that wires networks: giving
 * back its addresses and published ports (its veth goes with its namespace), the /etc files
 * its network mode asks for, and the other members' hosts files that list it. Every path that
 * ends or removes a container (exit, `rm`, `ps`'s repair of a dead one) comes here, so this
 * imports no netlink, address allocation or DNS code: those load only where a network is to
 * be wired (network.ts).
 *
 * @module
 */

import type { HostsEntry } from "../network/etc_files.ts";
import { renderHosts, renderResolvConf } from "../network/etc_files.ts";
import { applyNftScriptSync, unpublishScript } from "../network/nftables.ts";
import {
  type NetworkDb,
  type NetworkRecord,
  NetworkStore,
  type PortBinding,
} from "../network/store.ts";
import { EMBEDDED_DNS_IP } from "../config/network.ts";
import { isProcessAlive } from "../state/proc.ts";
import { etcFiles } from "../state/roots.ts";
import { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { debug } from "../util/debug.ts";
import { networkSpecOf, usesEmbeddedDns } from "./network_spec.ts";

/** Endpoints and ports whose container is gone, or stopped with no one to record it. */
export function isAbandoned(e: { containerId: string; stateDir: string }): boolean {
  let state: ContainerState | null;
  try {
    state = new StateStore(e.stateDir).read(e.containerId);
  } catch {
    return true; // its state is unusable: `rm -f` removes it
  }
  if (!state) return true;
  if (state.status === "running" && isProcessAlive(state.pid, state.pidStartTime)) return false;
  return !isProcessAlive(state.monitorPid, state.monitorStartTime);
}

/**
 * Releases, from the whole table, what containers that are gone or dead without a monitor
 * still hold (their monitor was killed): `network rm` and `prune` must not see them as users.
 */
export function sweepAbandoned(networks: NetworkStore): void {
  const swept = networks.update((db) => {
    const ports = db.ports.filter(isAbandoned);
    db.endpoints = db.endpoints.filter((e) => !isAbandoned(e));
    db.ports = db.ports.filter((p) => !ports.includes(p));
    return ports;
  }, { durable: false });
  unwire(swept);
}

/** Removes published ports from the firewall; ports already gone are fine. */
function unpublish(ports: PortBinding[]): void {
  const byIp = new Map<string, PortBinding[]>();
  for (const p of ports) byIp.set(p.containerIp, [...(byIp.get(p.containerIp) ?? []), p]);
  for (const [ip, list] of byIp) {
    try {
      applyNftScriptSync(unpublishScript(ip, list.map((p) => ({ ...p, hostIp: p.hostIp }))));
    } catch (e) {
      debug("network", () => `unpublish ${ip}: ${(e as Error).message}`);
    }
  }
}

/**
 * Unwires what the table no longer holds. Only published ports need it: a veth pair goes
 * with its container's namespace, which the kernel removes once the container's last
 * process is gone (deleting it by hand costs about 15 ms, measured, and races that).
 */
export function unwire(ports: PortBinding[]): void {
  if (ports.length > 0) unpublish(ports);
}

/** Every member's /etc/hosts on a user network, rewritten in place (they are bind-mounted). */
export function refreshMemberHosts(db: NetworkDb, networkId: string): void {
  for (const e of db.endpoints.filter((x) => x.networkId === networkId)) {
    let state: ContainerState | null = null;
    try {
      state = new StateStore(e.stateDir).read(e.containerId);
    } catch { /* unusable state: nothing to update */ }
    if (state) writeHostsFile(state, db);
  }
}

/** What a container's /etc/hosts says now, from the table. */
function hostsFor(state: ContainerState, db: NetworkDb, gateway?: string): string {
  const spec = networkSpecOf(state.spec);
  const mine = db.endpoints.filter((e) => e.containerId === state.id);
  const first = mine[0];
  const userNetworks = new Set(
    mine.map((e) => e.networkId).filter((id) =>
      db.networks.find((n) => n.id === id)?.name !== "bridge"
    ),
  );
  const members: HostsEntry[] = db.endpoints
    .filter((e) => e.containerId !== state.id && userNetworks.has(e.networkId))
    .map((e) => ({ ip: e.ip, names: [e.name, ...e.aliases, e.containerId.slice(0, 12)] }));
  const gw = gateway ?? db.networks.find((n) => n.id === first?.networkId)?.gateway;
  const extraHosts = spec.extraHosts.map((h) => ({
    ip: h.address === "host-gateway" ? (gw ?? "127.0.0.1") : h.address,
    names: [h.name],
  }));
  const onUserNetwork = first !== undefined && userNetworks.has(first.networkId);
  return renderHosts({
    hostname: state.spec.hostname,
    ownIp: first?.ip,
    ownNames: onUserNetwork ? [state.name, ...first.aliases] : [],
    extraHosts,
    members,
  });
}

/** Rewrites a container's hosts file in place: the bind mount pins its inode. */
export function writeHostsFile(state: ContainerState, db: NetworkDb): void {
  try {
    Deno.writeTextFileSync(etcFiles(state.containerDir).hosts, hostsFor(state, db));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * Writes a container's /etc/hosts and /etc/resolv.conf for its network mode before it
 * starts: on the host's network the host's own, elsewhere Docker's generated ones.
 */
export function writeNetworkEtcFiles(state: ContainerState): void {
  const spec = networkSpecOf(state.spec);
  const files = etcFiles(state.containerDir);
  let hostResolv = "";
  try {
    hostResolv = Deno.readTextFileSync("/etc/resolv.conf");
  } catch { /* none on the host: the container's lists only what it was given */ }
  if (spec.mode.kind === "container") return; // they share the other container's files
  const hostMode = spec.mode.kind === "host";
  Deno.writeTextFileSync(
    files.resolvConf,
    usesEmbeddedDns(spec)
      // Docker's embedded resolver answers members' names and relays the rest.
      ? renderResolvConf(hostResolv, {
        dns: [EMBEDDED_DNS_IP],
        dnsSearch: spec.dnsSearch,
        dnsOptions: spec.dnsOptions.length ? spec.dnsOptions : ["ndots:0"],
      })
      : renderResolvConf(hostResolv, spec, { keepLoopback: hostMode }),
  );
  if (hostMode) {
    let hosts = "";
    try {
      hosts = Deno.readTextFileSync("/etc/hosts");
    } catch { /* none */ }
    const extra = spec.extraHosts.map((h) =>
      `${h.address === "host-gateway" ? "127.0.0.1" : h.address}\t${h.name}\n`
    );
    Deno.writeTextFileSync(files.hosts, hosts + extra.join(""));
  }
}

/**
 * Gives back everything a container holds on networks: its addresses and ports in the table
 * and its published ports in the firewall (its veth goes with its namespace); other members
 * of its user networks stop listing it. Safe to call at any time, any number of times (exit, failed start,
 * removal, after a crash).
 */
export function releaseContainer(state: ContainerState): void {
  if (!state.networkDir) return;
  let dbExists = true;
  try {
    Deno.statSync(`${state.networkDir}/networks.json`);
  } catch {
    dbExists = false;
  }
  if (!dbExists) return;
  const networks = new NetworkStore(state.networkDir);
  const released = networks.update((db) => {
    const endpoints = db.endpoints.filter((e) => e.containerId === state.id);
    const ports = db.ports.filter((p) => p.containerId === state.id);
    if (endpoints.length === 0 && ports.length === 0) return null;
    db.endpoints = db.endpoints.filter((e) => e.containerId !== state.id);
    db.ports = db.ports.filter((p) => p.containerId !== state.id);
    for (const id of new Set(endpoints.map((e) => e.networkId))) {
      if (db.networks.find((n) => n.id === id)?.name !== "bridge") refreshMemberHosts(db, id);
    }
    return { endpoints, ports };
  }, { durable: false });
  if (released) unwire(released.ports);
}

/** The network table as it is, after releasing what crashed containers left. */
export function readNetworks(networks: NetworkStore): NetworkDb {
  sweepAbandoned(networks);
  return networks.read();
}

/** Docker's `network inspect` document for one network. */
export function networkDocument(db: NetworkDb, net: NetworkRecord): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of db.endpoints.filter((x) => x.networkId === net.id)) {
    containers[e.containerId] = {
      Name: e.name,
      EndpointID: "",
      MacAddress: e.mac,
      IPv4Address: `${e.ip}/${net.subnet?.split("/")[1] ?? 32}`,
      IPv6Address: "",
    };
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: "local",
    Driver: net.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: "default",
      Options: {},
      Config: net.subnet ? [{ Subnet: net.subnet, Gateway: net.gateway }] : [],
    },
    Internal: net.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: net.bridge ? { "com.docker.network.bridge.name": net.bridge } : {},
    Labels: net.labels,
  };
}
