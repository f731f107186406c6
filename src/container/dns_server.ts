/**
 * The embedded DNS server of a container on a user network, as Docker's at 127.0.0.11:
 * names of the network's members (and their aliases) are answered from the network table,
 * everything else is relayed to the host's resolvers (or `--dns` servers) from the host's
 * own network namespace. It is served by the container's monitor (the foreground CLI or the
 * shim) for as long as the container runs; there is no daemon.
 *
 * @module
 */

import {
  close,
  fromSockaddrIn,
  recvFrom,
  sendTo,
  sockaddrIn,
  udpSocket,
  waitReadable,
} from "../../ffi/libc.ts";
import { answer, messageId, parseQuery, withId } from "../network/dns.ts";
import { NetworkStore } from "../network/store.ts";
import type { ContainerState } from "../state/types.ts";
import { debug } from "../util/debug.ts";
import { PumpCancel } from "./io.ts";
import { EMBEDDED_DNS_IP } from "../config/network.ts";

/**
 * Where names that are not members' go: the `--dns` servers, else the host's own resolvers
 * (loopback ones too: the relaying happens in the host's network namespace).
 */
export function dnsUpstreams(dns: string[]): string[] {
  if (dns.length > 0) return dns;
  try {
    return Deno.readTextFileSync("/etc/resolv.conf").split("\n")
      .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
      .filter((ip): ip is string => ip !== undefined);
  } catch {
    return [];
  }
}

/** Opens the server's socket in the container's namespace, before the container runs. */
export function openEmbeddedDns(netnsFd: number): number {
  return udpSocket(EMBEDDED_DNS_IP, 53, netnsFd);
}

/** Starts serving a started container's embedded DNS socket, if it has one. */
export function serveEmbeddedDns(
  started: { dnsSocket?: number },
  state: ContainerState,
): EmbeddedDns | undefined {
  if (started.dnsSocket === undefined) return undefined;
  return new EmbeddedDns(started.dnsSocket, state, dnsUpstreams(state.spec.network?.dns ?? []));
}

/** The addresses `name` has for this container: members of its user networks. */
function lookup(state: ContainerState, name: string): string[] | null {
  if (!state.networkDir) return null;
  const db = new NetworkStore(state.networkDir).read();
  const mine = new Set(
    db.endpoints.filter((e) => e.containerId === state.id).map((e) => e.networkId),
  );
  const ips = db.endpoints.filter((e) =>
    mine.has(e.networkId) &&
    (e.name.toLowerCase() === name || e.aliases.some((a) => a.toLowerCase() === name) ||
      e.containerId.slice(0, 12) === name)
  ).map((e) => e.ip);
  return ips.length > 0 ? [...new Set(ips)] : null;
}

/**
 * Serves `fd` (from `openEmbeddedDns`) until `stop()`: answers members' names, relays the
 * rest to `upstreams` and relays their answers back.
 */
export class EmbeddedDns {
  readonly #cancel = new PumpCancel();
  readonly #upstream: number;
  readonly #pending = new Map<number, { id: number; from: Uint8Array<ArrayBuffer>; at: number }>();
  #nextId = Math.floor(Math.random() * 0xffff);
  readonly done: Promise<void>;

  constructor(
    private readonly fd: number,
    private readonly state: ContainerState,
    private readonly upstreams: string[],
  ) {
    this.#upstream = udpSocket("0.0.0.0", 0);
    this.done = Promise.all([this.#serveQueries(), this.#serveUpstream()]).then(() => {});
  }

  async #serveQueries(): Promise<void> {
    const buf = new Uint8Array(4096), from = new Uint8Array(16);
    while (!this.#cancel.cancelled) {
      await waitReadable(this.fd, this.#cancel.fd);
      if (this.#cancel.cancelled) return;
      const n = recvFrom(this.fd, buf, 0, from);
      if (n <= 0) continue;
      const msg = buf.slice(0, n);
      const q = parseQuery(msg);
      if (!q) continue;
      const ips = lookup(this.state, q.name.replace(/\.$/, ""));
      if (ips || this.upstreams.length === 0) {
        sendTo(this.fd, answer(msg, q, ips), from.slice());
        continue;
      }
      this.#relay(msg, from.slice());
    }
  }

  #relay(msg: Uint8Array, from: Uint8Array<ArrayBuffer>): void {
    const now = Date.now();
    for (const [k, p] of this.#pending) if (now - p.at > 10_000) this.#pending.delete(k);
    const id = this.#nextId = (this.#nextId + 1) & 0xffff;
    this.#pending.set(id, { id: messageId(msg), from, at: now });
    for (const server of this.upstreams) {
      try {
        sendTo(this.#upstream, withId(msg, id), sockaddrIn(server, 53));
      } catch (e) {
        debug("dns", () => `relay to ${server}: ${(e as Error).message}`);
      }
    }
  }

  async #serveUpstream(): Promise<void> {
    const buf = new Uint8Array(4096), from = new Uint8Array(16);
    while (!this.#cancel.cancelled) {
      await waitReadable(this.#upstream, this.#cancel.fd);
      if (this.#cancel.cancelled) return;
      const n = recvFrom(this.#upstream, buf, 0, from);
      if (n <= 12) continue;
      const reply = buf.slice(0, n);
      const pending = this.#pending.get(messageId(reply));
      if (!pending || !this.upstreams.includes(fromSockaddrIn(from).ip)) continue;
      this.#pending.delete(messageId(reply));
      sendTo(this.fd, withId(reply, pending.id), pending.from);
    }
  }

  /** Stops serving and closes both sockets. */
  async stop(): Promise<void> {
    this.#cancel.cancel();
    await this.done;
    close(this.fd);
    close(this.#upstream);
    this.#cancel.close();
  }
}
