/**
 * Managing networks (`network create|ls|inspect|rm|prune`): records in the network table,
 * plus the bridge and firewall elements a network gets once a container joins it.
 *
 * @module
 */

import { InvalidConfigError } from "../config/errors.ts";
import { isIPv4 } from "../config/network.ts";
import {
  contains,
  DEFAULT_POOLS,
  defaultGateway,
  formatSubnet,
  intToIp,
  ipToInt,
  overlaps,
  parsePools,
  parseSubnet,
  pickSubnet,
  type Subnet,
} from "../network/ipam.ts";
import { removeNetwork as removeNetworkRules } from "../network/nftables.ts";
import { type NetworkRecord, NetworkStore, newNetworkId } from "../network/store.ts";
import { ExitCodeError } from "../util/errors.ts";
import { deleteBridge, hostRoutes } from "./network.ts";
import { sweepAbandoned } from "./network_table.ts";

import type { PruneKeep } from "./prune.ts";

/** What `network create` asks for. */
export interface NetworkCreateRequest {
  name: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
}

/** The networks Docker has whatever happens: they cannot be removed. */
const BUILTIN = new Set(["bridge", "host", "none"]);

/**
 * Creates a user network with its own bridge-to-be (`md-<12 hex>`) and a subnet that
 * overlaps no other network and nothing the host routes (from the address pools when none is
 * given). Throws with Docker's messages.
 */
export function createNetwork(networks: NetworkStore, r: NetworkCreateRequest): NetworkRecord {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(r.name)) {
    throw new InvalidConfigError(
      "name",
      `invalid network name "${r.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  let subnet: Subnet | undefined;
  try {
    subnet = r.subnet === undefined ? undefined : parseSubnet(r.subnet);
  } catch (e) {
    throw new InvalidConfigError("subnet", (e as Error).message);
  }
  if (r.gateway !== undefined && (!isIPv4(r.gateway) || !subnet)) {
    throw new InvalidConfigError(
      "gateway",
      subnet ? `invalid gateway ${r.gateway}` : "a gateway needs a --subnet",
    );
  }
  if (r.gateway !== undefined && subnet && !contains(subnet, ipToInt(r.gateway))) {
    throw new InvalidConfigError(
      "gateway",
      `no matching subnet for gateway ${r.gateway}`,
    );
  }
  const host = subnet ? [] : hostRoutes().taken;
  return networks.update((db) => {
    if (db.networks.some((n) => n.name === r.name)) {
      throw new ExitCodeError(`network with name ${r.name} already exists`, 1);
    }
    const pools = () => {
      const text = Deno.env.get("M_DOCKER_DEFAULT_ADDRESS_POOLS");
      return text ? parsePools(text) : DEFAULT_POOLS;
    };
    // The default bridge takes the first pool subnet, as it does in Docker (where it exists
    // before any user network): give it its subnet now if no container has used it yet.
    const defaultBridge = db.networks.find((n) => n.name === "bridge");
    if (defaultBridge && !defaultBridge.subnet) {
      const taken = [
        ...host,
        ...db.networks.filter((n) => n.subnet).map((n) => parseSubnet(n.subnet!)),
      ];
      const first = subnet ? null : pickSubnet(pools(), taken);
      if (first) {
        defaultBridge.subnet = formatSubnet(first);
        defaultBridge.gateway = intToIp(defaultGateway(first));
      }
    }
    const others = db.networks.filter((n) => n.subnet).map((n) => parseSubnet(n.subnet!));
    let chosen = subnet;
    if (chosen) {
      if (others.some((o) => overlaps(o, chosen!))) {
        throw new ExitCodeError("Pool overlaps with other one on this address space", 1);
      }
    } else {
      chosen = pickSubnet(pools(), [...host, ...others]) ?? undefined;
      if (!chosen) {
        throw new ExitCodeError(
          "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
          1,
        );
      }
    }
    const id = newNetworkId();
    const record: NetworkRecord = {
      id,
      name: r.name,
      driver: "bridge",
      bridge: `md-${id.slice(0, 12)}`,
      subnet: formatSubnet(chosen),
      gateway: r.gateway ?? intToIp(defaultGateway(chosen)),
      internal: r.internal,
      labels: r.labels,
      created: new Date().toISOString(),
    };
    db.networks.push(record);
    return record;
  });
}

/**
 * Removes a user network that no container is on: its record, its bridge and its firewall
 * elements. Returns the removed record.
 */
export async function removeNetwork(networks: NetworkStore, ref: string): Promise<NetworkRecord> {
  sweepAbandoned(networks);
  const removed = networks.update((db) => {
    const net = NetworkStore.find(db, ref);
    if (BUILTIN.has(net.name)) {
      throw new ExitCodeError(`${net.name} is a pre-defined network and cannot be removed`, 1);
    }
    if (db.endpoints.some((e) => e.networkId === net.id)) {
      throw new ExitCodeError(
        `error while removing network: network ${net.name} id ${net.id} has active endpoints`,
        1,
      );
    }
    db.networks = db.networks.filter((n) => n !== net);
    return net;
  });
  await teardown(removed);
  return removed;
}

/** Deletes a removed network's bridge and its firewall elements. */
async function teardown(net: NetworkRecord): Promise<void> {
  if (net.driver !== "bridge" || !net.bridge || !net.subnet) return;
  deleteBridge(net.bridge);
  await removeNetworkRules({ bridge: net.bridge, subnet: net.subnet, internal: net.internal });
}

/** Removes every user network no container is on; returns their names. */
export async function pruneNetworks(
  networks: NetworkStore,
  keep: PruneKeep = () => true,
): Promise<string[]> {
  sweepAbandoned(networks);
  const removed = networks.update((db) => {
    const unused = db.networks.filter((n) =>
      !BUILTIN.has(n.name) && !db.endpoints.some((e) => e.networkId === n.id) &&
      keep({ created: n.created, labels: n.labels })
    );
    db.networks = db.networks.filter((n) => !unused.includes(n));
    return unused;
  });
  for (const net of removed) await teardown(net);
  return removed.map((n) => n.name);
}
