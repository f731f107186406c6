/**
 * rtnetlink over a NETLINK_ROUTE socket, without the `ip` binary: bridges, veth pairs,
 * addresses and routes for container networking. `ffi/rtnetlink.ts` builds and decodes the
 * messages; this module sends them and waits for the kernel's answer.
 *
 * Every call is synchronous, on the calling (main) thread. That is the point: a netlink
 * socket belongs to the network namespace it was *created* in, and after `setns` only the
 * main thread is in the new namespace (DESIGN.md). `openNetlinkIn` uses this to hold a
 * socket in a container's namespace while the process stays in its own.
 *
 * @example
 * ```ts
 * const nl = openNetlink();
 * try {
 *   createBridge(nl, "md0", { mtu: 1500 });
 *   const br = getLink(nl, "md0")!;
 *   addAddress(nl, br.index, "10.88.0.1/16");
 *   setLink(nl, br.index, { up: true });
 * } finally {
 *   nl.close();
 * }
 * ```
 *
 * @module
 */

import { ERRNO, SyscallError } from "./errors.ts";
import * as libc from "./libc.ts";
import {
  type AddressInfo,
  AF,
  decodeAddress,
  decodeLink,
  decodeRoute,
  delAddress,
  delLink,
  delRoute,
  dumpAddresses,
  dumpLinks,
  dumpRoutes,
  encodeRequest,
  getLink as getLinkRequest,
  type LinkChanges,
  type LinkInfo,
  type LinkRef,
  type Message,
  newAddress,
  newBridge,
  type NewLinkOptions,
  newRoute,
  newVeth,
  NLM_F,
  NLMSG,
  parseDone,
  parseError,
  parseMessages,
  type Request,
  type RouteInfo,
  type RouteSpec,
  RTM,
  rtmName,
  setHairpin as hairpinRequest,
  setLink as setLinkRequest,
  type VethPeer,
} from "./rtnetlink.ts";

export type { AddressInfo, LinkChanges, LinkInfo, LinkRef, NewLinkOptions, RouteInfo, VethPeer };

const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_TRUNC = 0x20;
const ENODEV = 19;
const EMSGSIZE = 90;
const EPROTO = 71;

/** How long a request waits for the kernel's answer before failing with EAGAIN. */
const REPLY_TIMEOUT_S = 10;

/** How often a dump the kernel marks inconsistent (NLM_F_DUMP_INTR) is retried. */
const DUMP_ATTEMPTS = 5;

/**
 * A failed netlink request: the kernel's errno, the request's name and its object, and the
 * kernel's own explanation when it gave one (extended ACK).
 *
 * @example
 * ```ts
 * // message: "netlink RTM_NEWLINK md0: File exists"
 * ```
 */
export class NetlinkError extends SyscallError {
  override name = "NetlinkError";
  /** The kernel's extended-ack text, such as "Unknown device type". */
  readonly detail?: string;

  constructor(type: number, errno: number, what: string, detail?: string) {
    super(`netlink ${rtmName(type)}`, errno, what);
    if (detail) {
      this.detail = detail;
      this.message += ` (${detail})`;
    }
  }
}

/** `struct sockaddr_nl` of the kernel (pid 0, no groups): 12 bytes, family AF_NETLINK. */
function kernelAddress(): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint16(0, AF.NETLINK, true);
  return b;
}

/** An open NETLINK_ROUTE socket with its own sequence numbers. */
export class NetlinkSocket {
  /** The socket's descriptor. */
  readonly fd: number;
  #seq: number;
  #closed = false;
  readonly #peer = kernelAddress();
  readonly #from = new Uint8Array(12);
  #buf = new Uint8Array(64 * 1024);

  /** Wraps an already created NETLINK_ROUTE socket; `openNetlink` is the usual way. */
  constructor(fd: number) {
    this.fd = fd;
    // Distinct starting points make a stray reply to an earlier socket's request obvious.
    this.#seq = (Date.now() & 0x7fffffff) >>> 0;
  }

  /**
   * Sends one request and returns the data messages of its answer: none for a plain ACK, one
   * for a GET, every entry of a dump. A kernel error is thrown as a NetlinkError.
   */
  request(req: Request): Message[] {
    if (this.#closed) throw new Error("netlink socket is closed");
    const dump = (req.flags & NLM_F.DUMP) === NLM_F.DUMP;
    for (let attempt = 1;; attempt++) {
      const seq = this.#seq = (this.#seq + 1) >>> 0;
      libc.sendTo(this.fd, encodeRequest(req, seq), this.#peer);
      const { messages, interrupted } = this.#collect(req, seq, dump);
      if (!interrupted) return messages;
      if (attempt === DUMP_ATTEMPTS) throw new NetlinkError(req.type, ERRNO.EINTR, req.what);
    }
  }

  #collect(req: Request, seq: number, dump: boolean) {
    const messages: Message[] = [];
    let interrupted = false;
    for (;;) {
      const n = libc.recvFrom(this.fd, this.#buf, MSG_TRUNC, this.#from);
      if (n < 0) throw new NetlinkError(req.type, -n, req.what);
      if (n > this.#buf.length) {
        // The datagram was cut short; nothing of it can be trusted. Grow for next time.
        this.#buf = new Uint8Array(Math.max(n, 2 * this.#buf.length));
        throw new NetlinkError(req.type, EMSGSIZE, req.what, `reply of ${n} bytes truncated`);
      }
      // Only the kernel (port 0) answers requests; anything else is not ours to read.
      if (new DataView(this.#from.buffer).getUint32(4, true) !== 0) continue;
      for (const m of parseMessages(this.#buf.subarray(0, n))) {
        if (m.seq !== seq) continue; // a late answer to an earlier, failed request
        if (m.flags & NLM_F.DUMP_INTR) interrupted = true;
        if (m.type === NLMSG.ERROR) {
          const e = parseError(m);
          if (e.errno !== 0) throw new NetlinkError(req.type, e.errno, req.what, e.message);
          return { messages, interrupted };
        }
        if (m.type === NLMSG.DONE) {
          const errno = parseDone(m);
          if (errno !== 0) throw new NetlinkError(req.type, errno, req.what);
          return { messages, interrupted };
        }
        if (m.type === NLMSG.OVERRUN) throw new NetlinkError(req.type, EPROTO, req.what);
        if (m.type === NLMSG.NOOP) continue;
        messages.push({ ...m, payload: m.payload.slice() });
        // A GET of one object sent with NLM_F_ACK ends with the ACK; a dump with DONE.
        if (!dump && !(req.flags & NLM_F.ACK)) return { messages, interrupted };
      }
    }
  }

  /** Closes the socket; later requests throw. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.close(this.fd);
  }
}

/**
 * Opens a NETLINK_ROUTE socket in the calling thread's network namespace, with extended
 * ACKs (the kernel explains its errors) and capped ACKs (it does not echo our requests).
 */
export function openNetlink(): NetlinkSocket {
  const fd = libc.socket(AF.NETLINK, SOCK_RAW | libc.O.CLOEXEC, NETLINK_ROUTE);
  try {
    libc.setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
    libc.setsockoptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
    // struct timeval { i64 tv_sec; i64 tv_usec; }: a request never blocks forever.
    const tv = new BigInt64Array([BigInt(REPLY_TIMEOUT_S), 0n]);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(tv.buffer));
    libc.bind(fd, kernelAddress()); // pid 0: the kernel picks our port id
  } catch (e) {
    libc.close(fd);
    throw e;
  }
  return new NetlinkSocket(fd);
}

/**
 * Opens a NETLINK_ROUTE socket in the network namespace behind `netnsFd` (an open
 * `/proc/PID/ns/net`), while the calling thread stays in its own: it joins that namespace,
 * creates the socket and goes back, all in sync calls on the calling thread, so no other
 * code runs in between. The socket keeps working in the other namespace until closed.
 */
export function openNetlinkIn(netnsFd: number): NetlinkSocket {
  const home = libc.open("/proc/thread-self/ns/net", libc.O.RDONLY | libc.O.CLOEXEC);
  try {
    libc.setns(netnsFd, libc.CLONE.NEWNET, "net namespace");
    let sock: NetlinkSocket | undefined;
    let failure: unknown;
    try {
      sock = openNetlink();
    } catch (e) {
      failure = e;
    }
    try {
      libc.setns(home, libc.CLONE.NEWNET, "own net namespace");
    } catch (e) {
      // Staying in the other namespace would put every later socket there: fail loudly.
      sock?.close();
      throw e;
    }
    if (!sock) throw failure;
    return sock;
  } finally {
    libc.close(home);
  }
}

function named<T extends Request>(req: T, what: string | undefined): T {
  return what === undefined ? req : { ...req, what };
}

function nameOf(link: LinkRef): string | undefined {
  return typeof link === "string" ? link : undefined;
}

/** The index of a link given by index or name (a name costs one RTM_GETLINK). */
export function linkIndex(sock: NetlinkSocket, link: LinkRef): number {
  if (typeof link === "number") return link;
  const info = getLink(sock, link);
  if (!info) throw new NetlinkError(RTM.GETLINK, ENODEV, link);
  return info.index;
}

/**
 * Creates a Linux bridge (`ip link add NAME type bridge [mtu N]`). An MTU given here is not
 * "set by the user" to the bridge driver: the bridge drops to its smallest port's MTU as
 * ports join, so give the veths the same MTU (as Docker does).
 */
export function createBridge(sock: NetlinkSocket, name: string, o: NewLinkOptions = {}): void {
  sock.request(newBridge(name, o));
}

/**
 * Creates a veth pair `name` <-> `peer.name`; with `peer.netnsFd` the peer is created
 * straight in that namespace (it may then be called `eth0` there). `o` applies to `name`:
 * it can be enslaved to a bridge and brought up in the same request.
 */
export function createVeth(
  sock: NetlinkSocket,
  name: string,
  peer: VethPeer,
  o: NewLinkOptions = {},
): void {
  sock.request(newVeth(name, peer, o));
}

/**
 * Changes a link: up/down, name (the link must be down), MTU, MAC address, master (0 for
 * none), network namespace. A rename given a link's name first looks up its index.
 */
export function setLink(sock: NetlinkSocket, link: LinkRef, changes: LinkChanges): void {
  const target = changes.name !== undefined ? linkIndex(sock, link) : link;
  sock.request(named(setLinkRequest(target, changes), nameOf(link)));
}

/** Brings a link up (or down with `up` false). */
export function setLinkUp(sock: NetlinkSocket, link: LinkRef, up = true): void {
  setLink(sock, link, { up });
}

/** Enslaves a link to a bridge (`ip link set LINK master BRIDGE`). */
export function setMaster(sock: NetlinkSocket, link: LinkRef, bridge: LinkRef): void {
  setLink(sock, link, { master: linkIndex(sock, bridge) });
}

/** Moves a link into the network namespace behind `netnsFd` (`ip link set LINK netns N`). */
export function moveToNetns(sock: NetlinkSocket, link: LinkRef, netnsFd: number): void {
  setLink(sock, link, { netnsFd });
}

/** Turns a bridge port's hairpin mode on or off (see rtnetlink's `setHairpin`). */
export function setHairpin(sock: NetlinkSocket, link: LinkRef, on = true): void {
  sock.request(hairpinRequest(linkIndex(sock, link), on));
}

/** Deletes a link; deleting one end of a veth pair deletes both. */
export function deleteLink(sock: NetlinkSocket, link: LinkRef): void {
  sock.request(delLink(link));
}

/** One link's index, name, MTU, kind, flags; null when there is no such link (ENODEV). */
export function getLink(sock: NetlinkSocket, link: LinkRef): LinkInfo | null {
  try {
    const [reply] = sock.request(getLinkRequest(link));
    return reply ? decodeLink(reply.payload) : null;
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === ENODEV) return null;
    throw e;
  }
}

/** Every link in the socket's namespace. */
export function listLinks(sock: NetlinkSocket): LinkInfo[] {
  return sock.request(dumpLinks())
    .filter((m) => m.type === RTM.NEWLINK)
    .map((m) => decodeLink(m.payload));
}

/** Adds an IPv4 address (`ip addr add 10.88.0.1/16 brd + dev LINK`). */
export function addAddress(sock: NetlinkSocket, link: LinkRef, cidr: string): void {
  const what = `${cidr} dev ${link}`;
  sock.request(named(newAddress(linkIndex(sock, link), cidr), what));
}

/** Deletes an IPv4 address (`ip addr del 10.88.0.1/16 dev LINK`). */
export function deleteAddress(sock: NetlinkSocket, link: LinkRef, cidr: string): void {
  const what = `${cidr} dev ${link}`;
  sock.request(named(delAddress(linkIndex(sock, link), cidr), what));
}

/** Every IPv4 address in the socket's namespace. */
export function listAddresses(sock: NetlinkSocket): AddressInfo[] {
  return sock.request(dumpAddresses())
    .filter((m) => m.type === RTM.NEWADDR && m.payload[0] === AF.INET)
    .map((m) => decodeAddress(m.payload));
}

/** A route to add or delete, with the device by index or name. */
export interface Route extends Omit<RouteSpec, "oif"> {
  dev?: LinkRef;
}

function routeSpec(sock: NetlinkSocket, r: Route): { spec: RouteSpec; what: string } {
  const { dev, ...rest } = r;
  const spec: RouteSpec = dev === undefined ? rest : { ...rest, oif: linkIndex(sock, dev) };
  const what = `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${
    dev !== undefined ? ` dev ${dev}` : ""
  }`;
  return { spec, what };
}

/**
 * Adds an IPv4 route: `{ dst: "default", gateway: "10.88.0.1" }` is the default route,
 * `{ dst: "10.88.0.0/16", dev: "md0" }` a subnet on a device.
 */
export function addRoute(sock: NetlinkSocket, r: Route): void {
  const { spec, what } = routeSpec(sock, r);
  sock.request(named(newRoute(spec), what));
}

/** Deletes an IPv4 route. */
export function deleteRoute(sock: NetlinkSocket, r: Route): void {
  const { spec, what } = routeSpec(sock, r);
  sock.request(named(delRoute(spec), what));
}

/**
 * Every IPv4 route of every table (filter on `table`: RT_TABLE.MAIN is what `ip route`
 * shows). The default route is the one with `dstLen` 0 in the main table; its `oif` with
 * `getLink` gives the device and its MTU.
 */
export function listRoutes(sock: NetlinkSocket): RouteInfo[] {
  return sock.request(dumpRoutes())
    .filter((m) => m.type === RTM.NEWROUTE && m.payload[0] === AF.INET)
    .map((m) => decodeRoute(m.payload));
}
