/**
 * What m-docker knows about networks, on disk: the networks themselves, which container
 * holds which address on each (endpoints), and which host ports are published to whom. One
 * file, `<root>/network/networks.json`, read and rewritten whole under one lock, so that
 * concurrent `run`s never hand out the same address or port, and written atomically so a
 * crash leaves the old table or the new one.
 *
 * @module
 */

import { writeFileAtomic } from "../util/atomic_file.ts";

/** The shape of networks.json this code reads and writes. */
export const NETWORK_DB_VERSION = 1;

/** One network. `bridge`, `host` and `none` always exist, as in Docker. */
export interface NetworkRecord {
  id: string;
  name: string;
  /** `bridge` for m-docker's bridges; `host` and `null` for the two built-in modes. */
  driver: "bridge" | "host" | "null";
  /** The Linux bridge (bridge driver only): `md0` for `bridge`, `md-<12 hex>` otherwise. */
  bridge?: string;
  subnet?: string;
  gateway?: string;
  /** No route out: containers reach only each other. */
  internal: boolean;
  /** The MTU its bridge and veths get: the host's default route's, read on first use. */
  mtu?: number;
  /**
   * Where its firewall elements were last installed (boot ID and network namespace), so
   * that a start with no published ports needs no nft run: a reboot or another namespace
   * (a test's) installs them again.
   */
  firewallAt?: string;
  labels: Record<string, string>;
  created: string;
}

/** A container's place on one network. */
export interface Endpoint {
  networkId: string;
  containerId: string;
  /** The container's state root: where to look whether it still runs. */
  stateDir: string;
  /** The container's name when it joined, and its aliases: what other members resolve. */
  name: string;
  aliases: string[];
  ip: string;
  mac: string;
  /** The host end of its veth pair. */
  hostVeth: string;
}

/** A published host port, and where it leads. */
export interface PortBinding {
  protocol: "tcp" | "udp";
  /** `0.0.0.0` for every address. */
  hostIp: string;
  hostPort: number;
  containerId: string;
  /** The container's state root: where to look whether it still runs. */
  stateDir: string;
  containerIp: string;
  containerPort: number;
}

/** The whole table. */
export interface NetworkDb {
  version: number;
  networks: NetworkRecord[];
  endpoints: Endpoint[];
  ports: PortBinding[];
}

/** A network reference that matched nothing. */
export class NoSuchNetworkError extends Error {
  override name = "NoSuchNetworkError";
  constructor(ref: string) {
    super(`network ${ref} not found`);
  }
}

/** The table could not be read: its file is not m-docker's, or damaged. */
export class CorruptNetworkDbError extends Error {
  override name = "CorruptNetworkDbError";
}

/** The built-in networks every fresh table has (their subnets are chosen on first use). */
function builtinNetworks(now: string): NetworkRecord[] {
  const id = () => newNetworkId();
  return [
    {
      id: id(),
      name: "bridge",
      driver: "bridge",
      bridge: "md0",
      internal: false,
      labels: {},
      created: now,
    },
    { id: id(), name: "host", driver: "host", internal: false, labels: {}, created: now },
    { id: id(), name: "none", driver: "null", internal: false, labels: {}, created: now },
  ];
}

/** A new network ID: 32 random bytes in hex, as Docker's. */
export function newNetworkId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkDb(v: unknown, path: string): NetworkDb {
  if (
    !isRecord(v) || v.version !== NETWORK_DB_VERSION || !Array.isArray(v.networks) ||
    !Array.isArray(v.endpoints) || !Array.isArray(v.ports)
  ) {
    throw new CorruptNetworkDbError(
      `${path} is not a network table of this version of m-docker; move it away to start afresh`,
    );
  }
  return v as unknown as NetworkDb;
}

/** The network table under one root. */
export class NetworkStore {
  /** `dir` is the table's own directory, `<root>/network`. */
  constructor(readonly dir: string) {}

  private get file(): string {
    return `${this.dir}/networks.json`;
  }

  /** The table as it is now; the first look writes a fresh one with the built-ins. */
  read(): NetworkDb {
    return this.load() ?? this.update((db) => db);
  }

  /** The table on disk, or null when there is none yet. */
  private load(): NetworkDb | null {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CorruptNetworkDbError(`${this.file} is damaged (not JSON); move it away`);
    }
    return checkDb(parsed, this.file);
  }

  /**
   * Runs `fn` on the table under the lock; what it leaves changed in the table is written
   * back atomically when it returns (nothing is written if it throws). `durable: false` for
   * changes that only matter while the machine runs (addresses and ports containers hold:
   * after a power loss no container runs): renamed into place, not fsynced, which saves a
   * container start two fsyncs.
   */
  update<T>(fn: (db: NetworkDb) => T, opts: { durable?: boolean } = {}): T {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lock = Deno.openSync(`${this.dir}/.lock`, { read: true, write: true, create: true });
    try {
      lock.lockSync(true);
      const existing = this.load();
      const db = existing ?? {
        version: NETWORK_DB_VERSION,
        networks: builtinNetworks(new Date().toISOString()),
        endpoints: [],
        ports: [],
      };
      const before = existing ? JSON.stringify(db) : "";
      const result = fn(db);
      const after = JSON.stringify(db);
      if (after !== before) {
        writeFileAtomic(this.file, after, {
          mode: 0o600,
          ...(opts.durable === false ? { sync: () => {} } : {}),
        });
      }
      return result;
    } finally {
      lock.close();
    }
  }

  /** Finds a network by full ID, name, or unique ID prefix, as Docker does. */
  static find(db: NetworkDb, ref: string): NetworkRecord {
    const exact = db.networks.find((n) => n.id === ref) ?? db.networks.find((n) => n.name === ref);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? db.networks.filter((n) => n.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0];
    throw new NoSuchNetworkError(ref);
  }
}
