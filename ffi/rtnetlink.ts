/**
 * The rtnetlink wire format, as pure functions: the requests m-docker sends to build container
 * networks (links, IPv4 addresses, routes) and the decoders for the kernel's replies. No FFI
 * here, so every byte is unit-tested; `ffi/netlink.ts` owns the socket that carries them.
 *
 * Layouts (all host byte order, which on x86_64 is little-endian; addresses are network order):
 *
 * ```text
 * struct nlmsghdr   { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }                16 bytes
 * struct ifinfomsg  { u8 family; u8 pad; u16 type; i32 index; u32 flags; u32 change; } 16 bytes
 * struct ifaddrmsg  { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }         8 bytes
 * struct rtmsg      { u8 family, dst_len, src_len, tos, table, protocol, scope, type;
 *                     u32 flags; }                                                     12 bytes
 * struct rtattr     { u16 len; u16 type; } + data, padded to 4 bytes
 * struct nlmsgerr   { i32 error; struct nlmsghdr msg; } + echoed payload unless capped,
 *                   + extended-ack attributes when NLM_F_ACK_TLVS
 * ```
 *
 * @module
 */

/** Netlink message types every family shares (`NLMSG_*`). */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** Netlink header flags (`NLM_F_*`); the same bits mean different things per request kind. */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  // GET requests
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  // on NLMSG_ERROR replies
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** rtnetlink message types (`RTM_*`). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

const RTM_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]),
);

/** The `RTM_*` name of a message type, for errors: `RTM_NEWLINK`. */
export function rtmName(type: number): string {
  return RTM_NAMES[type] ?? `netlink message ${type}`;
}

/** Link attributes (`IFLA_*`). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  NET_NS_PID: 19,
  NET_NS_FD: 28,
} as const;

/** Attributes nested in IFLA_LINKINFO (`IFLA_INFO_*`). */
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4 } as const;

/** The veth driver's IFLA_INFO_DATA attribute: the peer's ifinfomsg and attributes. */
export const VETH_INFO_PEER = 1;

/** Address attributes (`IFA_*`). */
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4 } as const;

/** Route attributes (`RTA_*`). */
export const RTA = {
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  TABLE: 15,
} as const;

/** RTA_METRICS' nested attribute for the path MTU. */
export const RTAX_MTU = 2;

/** Address families. */
export const AF = { UNSPEC: 0, INET: 2, NETLINK: 16 } as const;

/** Routing tables (`RT_TABLE_*`). */
export const RT_TABLE = { MAIN: 254, LOCAL: 255 } as const;

/** Who installed a route (`RTPROT_*`); `ip route add` uses BOOT. */
export const RTPROT = { KERNEL: 2, BOOT: 3, STATIC: 4 } as const;

/** Route and address scopes (`RT_SCOPE_*`). */
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 } as const;

/** Route types (`RTN_*`). */
export const RTN = { UNICAST: 1, LOCAL: 2, BROADCAST: 3 } as const;

/** Interface flag: administratively up. */
export const IFF_UP = 0x1;

/** The longest interface name: IFNAMSIZ (16) less the NUL. */
export const IFNAME_MAX = 15;

const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;
const RT_SCOPE_NOWHERE = 255;
const NLA_TYPE_MASK = 0x3fff; // strips NLA_F_NESTED and NLA_F_NET_BYTEORDER

// ---------------------------------------------------------------------------------------
// Encoding.

/** One rtattr: raw bytes, or attributes nested inside it. */
export interface Attr {
  type: number;
  data: Uint8Array | readonly Attr[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function align4(n: number): number {
  return (n + 3) & ~3;
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Builders for the attribute payloads the requests use. */
export const attr = {
  /** A u32 in host byte order. */
  u32(type: number, value: number): Attr {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    return { type, data };
  },
  /** A NUL-terminated string, as iproute2 sends IFLA_IFNAME. */
  str(type: number, value: string): Attr {
    const bytes = encoder.encode(value);
    const data = new Uint8Array(bytes.length + 1);
    data.set(bytes);
    return { type, data };
  },
  /** Raw bytes, such as an IPv4 or MAC address. */
  bytes(type: number, data: Uint8Array): Attr {
    return { type, data };
  },
  /** Attributes nested in one. */
  nest(type: number, children: readonly Attr[]): Attr {
    return { type, data: children };
  },
};

/** The bytes of a list of attributes, each padded to 4 bytes. */
export function encodeAttrs(attrs: readonly Attr[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const a of attrs) {
    const data = a.data instanceof Uint8Array ? a.data : encodeAttrs(a.data);
    const head = new Uint8Array(4);
    const v = new DataView(head.buffer);
    v.setUint16(0, 4 + data.length, true); // rta_len counts the header, not the padding
    v.setUint16(2, a.type, true);
    parts.push(head, data, new Uint8Array(align4(data.length) - data.length));
  }
  return concat(parts);
}

/** `struct ifinfomsg`. */
export interface IfInfoMsg {
  family?: number;
  /** ARPHRD_* device type; zero in requests. */
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}

/** The 16 bytes of a `struct ifinfomsg`. */
export function ifinfomsg(m: IfInfoMsg = {}): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(16), v = new DataView(b.buffer);
  b[0] = m.family ?? AF.UNSPEC;
  v.setUint16(2, m.type ?? 0, true);
  v.setInt32(4, m.index ?? 0, true);
  v.setUint32(8, m.flags ?? 0, true);
  v.setUint32(12, m.change ?? 0, true);
  return b;
}

/** `struct ifaddrmsg`. */
export interface IfAddrMsg {
  family: number;
  prefixlen: number;
  flags?: number;
  scope?: number;
  index: number;
}

/** The 8 bytes of a `struct ifaddrmsg`. */
export function ifaddrmsg(m: IfAddrMsg): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(8);
  b[0] = m.family;
  b[1] = m.prefixlen;
  b[2] = m.flags ?? 0;
  b[3] = m.scope ?? 0;
  new DataView(b.buffer).setUint32(4, m.index, true);
  return b;
}

/** `struct rtmsg`. */
export interface RtMsg {
  family: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

/** The 12 bytes of a `struct rtmsg`. */
export function rtmsg(m: RtMsg): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(12);
  b.set([
    m.family,
    m.dstLen ?? 0,
    m.srcLen ?? 0,
    m.tos ?? 0,
    m.table ?? 0,
    m.protocol ?? 0,
    m.scope ?? 0,
    m.type ?? 0,
  ]);
  new DataView(b.buffer).setUint32(8, m.flags ?? 0, true);
  return b;
}

/**
 * A request before it has a sequence number: what to send, and how to name it in an error
 * (`netlink RTM_NEWLINK md0: File exists`).
 */
export interface Request {
  type: number;
  flags: number;
  /** The family header and attributes: everything after the nlmsghdr. */
  payload: Uint8Array;
  /** The object the request acts on, for errors. */
  what: string;
}

/** One whole netlink message: a nlmsghdr with `seq` and `pid`, then the payload. */
export function encodeRequest(req: Request, seq: number, pid = 0): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(16 + req.payload.length), v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint16(4, req.type, true);
  v.setUint16(6, req.flags, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, pid >>> 0, true);
  b.set(req.payload, 16);
  return b;
}

function request(type: number, flags: number, parts: Uint8Array[], what: string): Request {
  return { type, flags: NLM_F.REQUEST | flags, payload: concat(parts), what };
}

const NEW = NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL;

/** An interface name, checked against IFNAMSIZ before the kernel sees it. */
function ifname(name: string): Attr {
  if (name.length === 0 || encoder.encode(name).length > IFNAME_MAX) {
    throw new RangeError(`invalid interface name "${name}": 1 to ${IFNAME_MAX} bytes`);
  }
  return attr.str(IFLA.IFNAME, name);
}

/** A link by index, or by name (the kernel looks names up when the index is 0). */
export type LinkRef = number | string;

function linkRef(link: LinkRef): { index: number; attrs: Attr[]; what: string } {
  return typeof link === "number"
    ? { index: link, attrs: [], what: `#${link}` }
    : { index: 0, attrs: [ifname(link)], what: link };
}

/** Options for a new link. */
export interface NewLinkOptions {
  mtu?: number;
  /** The MAC address, `02:42:ac:11:00:02`. */
  address?: string;
  /** The index of the bridge to enslave the new link to. */
  master?: number;
  /** Bring it up at once. */
  up?: boolean;
}

function newLinkAttrs(o: NewLinkOptions): Attr[] {
  const out: Attr[] = [];
  if (o.mtu !== undefined) out.push(attr.u32(IFLA.MTU, o.mtu));
  if (o.address !== undefined) out.push(attr.bytes(IFLA.ADDRESS, parseMac(o.address)));
  if (o.master !== undefined) out.push(attr.u32(IFLA.MASTER, o.master));
  return out;
}

function upFlags(up: boolean | undefined): IfInfoMsg {
  return up === undefined ? {} : { flags: up ? IFF_UP : 0, change: IFF_UP };
}

/** RTM_NEWLINK of a Linux bridge (`ip link add NAME [mtu N] type bridge`). */
export function newBridge(name: string, o: NewLinkOptions = {}): Request {
  const attrs = [
    ifname(name),
    ...newLinkAttrs(o),
    attr.nest(IFLA.LINKINFO, [attr.str(IFLA_INFO.KIND, "bridge")]),
  ];
  return request(RTM.NEWLINK, NEW, [ifinfomsg(upFlags(o.up)), encodeAttrs(attrs)], name);
}

/** The far end of a new veth pair. */
export interface VethPeer {
  name: string;
  /** Create the peer straight in the network namespace behind this descriptor. */
  netnsFd?: number;
  mtu?: number;
  address?: string;
}

/**
 * RTM_NEWLINK of a veth pair (`ip link add NAME type veth peer name PEER [netns N]`). The
 * options are the near end's; the peer's ifinfomsg and attributes go in
 * IFLA_LINKINFO / IFLA_INFO_DATA / VETH_INFO_PEER.
 */
export function newVeth(name: string, peer: VethPeer, o: NewLinkOptions = {}): Request {
  const peerAttrs = [ifname(peer.name), ...newLinkAttrs({ mtu: peer.mtu, address: peer.address })];
  if (peer.netnsFd !== undefined) peerAttrs.push(attr.u32(IFLA.NET_NS_FD, peer.netnsFd));
  const peerData = concat([ifinfomsg(), encodeAttrs(peerAttrs)]);
  const attrs = [
    ifname(name),
    ...newLinkAttrs(o),
    attr.nest(IFLA.LINKINFO, [
      attr.str(IFLA_INFO.KIND, "veth"),
      attr.nest(IFLA_INFO.DATA, [attr.bytes(VETH_INFO_PEER, peerData)]),
    ]),
  ];
  return request(RTM.NEWLINK, NEW, [ifinfomsg(upFlags(o.up)), encodeAttrs(attrs)], name);
}

/** Changes to an existing link; the kernel applies them in its own fixed order. */
export interface LinkChanges {
  up?: boolean;
  /** The new name; the link must be down, and must be given by index. */
  name?: string;
  mtu?: number;
  /** The MAC address, `02:42:ac:11:00:02`. */
  address?: string;
  /** The index of the bridge to enslave it to; 0 releases it (`nomaster`). */
  master?: number;
  /** Move it into the network namespace behind this descriptor. */
  netnsFd?: number;
}

/** RTM_SETLINK (`ip link set LINK up|down name N mtu N address A master B netns N`). */
export function setLink(link: LinkRef, c: LinkChanges): Request {
  const ref = linkRef(link);
  if (c.name !== undefined && typeof link === "string") {
    throw new TypeError(`renaming ${link} needs the link's index, not its name`);
  }
  const attrs = [...ref.attrs];
  if (c.name !== undefined) attrs.push(ifname(c.name));
  attrs.push(...newLinkAttrs({ mtu: c.mtu, address: c.address, master: c.master }));
  if (c.netnsFd !== undefined) attrs.push(attr.u32(IFLA.NET_NS_FD, c.netnsFd));
  const head = ifinfomsg({ index: ref.index, ...upFlags(c.up) });
  return request(RTM.SETLINK, NLM_F.ACK, [head, encodeAttrs(attrs)], ref.what);
}

const IFLA_PROTINFO = 12;
const IFLA_BRPORT_MODE = 4;
const AF_BRIDGE = 7;
const NLA_F_NESTED = 0x8000;

/**
 * RTM_SETLINK of a bridge port's hairpin mode (`ip link set LINK type bridge_slave hairpin
 * on`): frames may leave by the port they came in on. A container reaching its own
 * published port through the host's address needs it when br_netfilter runs the bridged
 * frame through the nat rules. The kernel reads IFLA_PROTINFO as nested port attributes only
 * when it carries NLA_F_NESTED.
 */
export function setHairpin(index: number, on: boolean): Request {
  const protinfo: Attr = {
    type: IFLA_PROTINFO | NLA_F_NESTED,
    data: [{ type: IFLA_BRPORT_MODE, data: new Uint8Array([on ? 1 : 0]) }],
  };
  return request(
    RTM.SETLINK,
    NLM_F.ACK,
    [ifinfomsg({ family: AF_BRIDGE, index }), encodeAttrs([protinfo])],
    `#${index} hairpin`,
  );
}

/** RTM_DELLINK (`ip link del LINK`); deleting one end of a veth pair deletes both. */
export function delLink(link: LinkRef): Request {
  const ref = linkRef(link);
  return request(
    RTM.DELLINK,
    NLM_F.ACK,
    [ifinfomsg({ index: ref.index }), encodeAttrs(ref.attrs)],
    ref.what,
  );
}

/** RTM_GETLINK of one link; the reply is one RTM_NEWLINK message. */
export function getLink(link: LinkRef): Request {
  const ref = linkRef(link);
  return request(
    RTM.GETLINK,
    NLM_F.ACK,
    [ifinfomsg({ index: ref.index }), encodeAttrs(ref.attrs)],
    ref.what,
  );
}

/** RTM_GETLINK dump of every link in the socket's namespace. */
export function dumpLinks(): Request {
  return request(RTM.GETLINK, NLM_F.DUMP, [ifinfomsg()], "links");
}

/** An IPv4 address with its prefix length, `10.88.0.1/16`. */
export interface Cidr {
  address: Uint8Array;
  prefix: number;
}

/** Parses dotted-quad IPv4 (`10.88.0.1`) into its 4 network-order bytes. */
export function parseIPv4(s: string): Uint8Array<ArrayBuffer> {
  const parts = s.split(".");
  const ok = parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && +p < 256);
  if (!ok) throw new RangeError(`invalid IPv4 address "${s}"`);
  return new Uint8Array(parts.map(Number));
}

/** Parses `10.88.0.1/16` (a bare address is /32). */
export function parseCidr(s: string): Cidr {
  const [addr, len, extra] = s.split("/");
  const prefix = len === undefined ? 32 : /^[0-9]{1,2}$/.test(len) ? Number(len) : NaN;
  if (extra !== undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new RangeError(`invalid IPv4 prefix "${s}"`);
  }
  return { address: parseIPv4(addr), prefix };
}

/** Dotted-quad text of 4 network-order bytes. */
export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** The broadcast address of a prefix: the host bits all ones. */
export function broadcastOf(c: Cidr): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(8, c.prefix - 8 * i));
    out[i] = c.address[i] | (0xff >> bits);
  }
  return out;
}

/** Parses a MAC address, `02:42:ac:11:00:02`. */
export function parseMac(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) throw new RangeError(`invalid MAC "${s}"`);
  return new Uint8Array(s.split(":").map((h) => parseInt(h, 16)));
}

/** Colon-separated hex of a hardware address. */
export function formatMac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function addressRequest(type: number, flags: number, index: number, cidr: string): Request {
  const c = parseCidr(cidr);
  const attrs = [attr.bytes(IFA.LOCAL, c.address), attr.bytes(IFA.ADDRESS, c.address)];
  // As `ip addr add ... brd +`: /31 and /32 have no broadcast address (RFC 3021).
  if (type === RTM.NEWADDR && c.prefix <= 30) attrs.push(attr.bytes(IFA.BROADCAST, broadcastOf(c)));
  const head = ifaddrmsg({ family: AF.INET, prefixlen: c.prefix, index });
  return request(type, flags, [head, encodeAttrs(attrs)], `${cidr} dev #${index}`);
}

/** RTM_NEWADDR of an IPv4 address (`ip addr add A/N brd + dev LINK`). */
export function newAddress(index: number, cidr: string): Request {
  return addressRequest(RTM.NEWADDR, NEW, index, cidr);
}

/** RTM_DELADDR of an IPv4 address (`ip addr del A/N dev LINK`). */
export function delAddress(index: number, cidr: string): Request {
  return addressRequest(RTM.DELADDR, NLM_F.ACK, index, cidr);
}

/** RTM_GETADDR dump of every IPv4 address. */
export function dumpAddresses(): Request {
  return request(
    RTM.GETADDR,
    NLM_F.DUMP,
    [ifaddrmsg({ family: AF.INET, prefixlen: 0, index: 0 })],
    "addresses",
  );
}

/** An IPv4 route to add or delete. */
export interface RouteSpec {
  /** `default`, or a prefix such as `10.88.0.0/16`. */
  dst: string;
  /** The next hop; without one the route is on-link (scope link). */
  gateway?: string;
  /** The output device's index. */
  oif?: number;
  /** The preferred source address. */
  prefsrc?: string;
  /** The metric (`ip route ... metric N`). */
  priority?: number;
  /** Defaults to the main table. */
  table?: number;
}

function routeRequest(type: number, flags: number, r: RouteSpec): Request {
  const dst = r.dst === "default" ? { address: new Uint8Array(4), prefix: 0 } : parseCidr(r.dst);
  const table = r.table ?? RT_TABLE.MAIN;
  const attrs: Attr[] = [];
  // The kernel's tables key on u8 rtm_table; a table above 255 needs RTA_TABLE too.
  if (table > 255) attrs.push(attr.u32(RTA.TABLE, table));
  if (dst.prefix > 0) attrs.push(attr.bytes(RTA.DST, dst.address));
  if (r.gateway !== undefined) attrs.push(attr.bytes(RTA.GATEWAY, parseIPv4(r.gateway)));
  if (r.prefsrc !== undefined) attrs.push(attr.bytes(RTA.PREFSRC, parseIPv4(r.prefsrc)));
  if (r.priority !== undefined) attrs.push(attr.u32(RTA.PRIORITY, r.priority));
  if (r.oif !== undefined) attrs.push(attr.u32(RTA.OIF, r.oif));
  const adding = type === RTM.NEWROUTE;
  // As iproute2: a new route is unicast from BOOT, on-link without a gateway; a deletion
  // matches any protocol, type and scope (RT_SCOPE_NOWHERE).
  const head = rtmsg({
    family: AF.INET,
    dstLen: dst.prefix,
    table: table > 255 ? 252 /* RT_TABLE_COMPAT */ : table,
    protocol: adding ? RTPROT.BOOT : 0,
    scope: !adding ? RT_SCOPE_NOWHERE : r.gateway === undefined ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE,
    type: adding ? RTN.UNICAST : 0,
  });
  const what = `${r.dst}${r.gateway ? ` via ${r.gateway}` : ""}${
    r.oif !== undefined ? ` dev #${r.oif}` : ""
  }`;
  return request(type, flags, [head, encodeAttrs(attrs)], what);
}

/** RTM_NEWROUTE (`ip route add DST [via GW] [dev LINK]`). */
export function newRoute(r: RouteSpec): Request {
  return routeRequest(RTM.NEWROUTE, NEW, r);
}

/** RTM_DELROUTE (`ip route del DST [via GW] [dev LINK]`). */
export function delRoute(r: RouteSpec): Request {
  return routeRequest(RTM.DELROUTE, NLM_F.ACK, r);
}

/** RTM_GETROUTE dump of every IPv4 route, of every table. */
export function dumpRoutes(): Request {
  return request(RTM.GETROUTE, NLM_F.DUMP, [rtmsg({ family: AF.INET })], "routes");
}

// ---------------------------------------------------------------------------------------
// Decoding.

/** One message of a reply. `payload` is everything after the nlmsghdr. */
export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** Splits one received datagram into its messages (each padded to 4 bytes). */
export function parseMessages(buf: Uint8Array): Message[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Message[] = [];
  let off = 0;
  while (off + 16 <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < 16 || off + len > buf.length) {
      throw new RangeError(`malformed netlink message: length ${len} at ${off} of ${buf.length}`);
    }
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true),
      payload: buf.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (the last wins), with the nested and byte-order flags stripped. */
export function parseAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<number, Uint8Array>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > buf.length) break; // a truncated tail, as the kernel's nla_ok
    out.set(v.getUint16(off + 2, true) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

function u32(b: Uint8Array | undefined): number | undefined {
  return b && b.length >= 4
    ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true)
    : undefined;
}

function str(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return decoder.decode(nul === -1 ? b : b.subarray(0, nul));
}

/** What an NLMSG_ERROR says: 0 is an ACK; otherwise a (positive) errno and the kernel's text. */
export interface ErrorReply {
  errno: number;
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it gave one. */
  message?: string;
  /** The byte offset in the request of the attribute at fault (NLMSGERR_ATTR_OFFS). */
  offset?: number;
  /** The sequence number of the request this answers. */
  seq: number;
}

/** Decodes an NLMSG_ERROR message (`struct nlmsgerr`, then extended-ack attributes). */
export function parseError(m: Message): ErrorReply {
  const v = new DataView(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  if (m.payload.length < 20) throw new RangeError("truncated NLMSG_ERROR");
  const errno = 0 - v.getInt32(0, true); // 0 - 0 is 0; -0 would not equal 0 in deepEqual
  const origLen = v.getUint32(4, true);
  const seq = v.getUint32(12, true);
  const reply: ErrorReply = { errno, seq };
  if (m.flags & NLM_F.ACK_TLVS) {
    // The request is echoed whole unless NETLINK_CAP_ACK capped it to its header.
    const echoed = m.flags & NLM_F.CAPPED ? 16 : align4(origLen);
    const tlvs = parseAttrs(m.payload.subarray(4 + echoed));
    const message = str(tlvs.get(NLMSGERR_ATTR_MSG));
    if (message) reply.message = message;
    const offset = u32(tlvs.get(NLMSGERR_ATTR_OFFS));
    if (offset !== undefined) reply.offset = offset;
  }
  return reply;
}

/** The status an NLMSG_DONE carries: 0, or the errno the dump failed with. */
export function parseDone(m: Message): number {
  if (m.payload.length < 4) return 0;
  return 0 - new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true);
}

/** A link, as RTM_NEWLINK describes it. */
export interface LinkInfo {
  index: number;
  name: string;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  mtu: number;
  /** The driver, from IFLA_INFO_KIND: `bridge`, `veth`; absent for plain devices and lo. */
  kind?: string;
  /** The index of the bridge it is enslaved to. */
  master?: number;
  /** The hardware address. */
  address?: string;
  /** ARPHRD_* type (1 ethernet, 772 loopback). */
  type: number;
}

/** Decodes the payload of an RTM_NEWLINK message. */
export function decodeLink(payload: Uint8Array): LinkInfo {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flags = v.getUint32(8, true);
  const a = parseAttrs(payload.subarray(16));
  const info: LinkInfo = {
    index: v.getInt32(4, true),
    name: str(a.get(IFLA.IFNAME)) ?? "",
    flags,
    up: (flags & IFF_UP) !== 0,
    mtu: u32(a.get(IFLA.MTU)) ?? 0,
    type: v.getUint16(2, true),
  };
  const linkinfo = a.get(IFLA.LINKINFO);
  const kind = linkinfo && str(parseAttrs(linkinfo).get(IFLA_INFO.KIND));
  if (kind) info.kind = kind;
  const master = u32(a.get(IFLA.MASTER));
  if (master) info.master = master;
  const address = a.get(IFLA.ADDRESS);
  if (address) info.address = formatMac(address);
  return info;
}

/** An IPv4 address on a link, as RTM_NEWADDR describes it. */
export interface AddressInfo {
  index: number;
  /** `10.88.0.1/16`: IFA_LOCAL with the prefix length. */
  cidr: string;
  prefix: number;
  scope: number;
  label?: string;
}

/** Decodes the payload of an RTM_NEWADDR message (IPv4). */
export function decodeAddress(payload: Uint8Array): AddressInfo {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const a = parseAttrs(payload.subarray(8));
  const local = a.get(IFA.LOCAL) ?? a.get(IFA.ADDRESS) ?? new Uint8Array(4);
  const info: AddressInfo = {
    index: v.getUint32(4, true),
    cidr: `${formatIPv4(local)}/${payload[1]}`,
    prefix: payload[1],
    scope: payload[3],
  };
  const label = str(a.get(IFA.LABEL));
  if (label) info.label = label;
  return info;
}

/** An IPv4 route, as RTM_NEWROUTE describes it. */
export interface RouteInfo {
  /** `0.0.0.0/0` for a default route, else the prefix: `10.88.0.0/16`. */
  dst: string;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  /** RTN_* type: 1 unicast, 2 local, 3 broadcast... */
  type: number;
  gateway?: string;
  /** The output device's index. */
  oif?: number;
  prefsrc?: string;
  priority?: number;
  /** A route MTU (RTAX_MTU in RTA_METRICS), when the route sets one. */
  mtu?: number;
}

/** Decodes the payload of an RTM_NEWROUTE message (IPv4). */
export function decodeRoute(payload: Uint8Array): RouteInfo {
  const a = parseAttrs(payload.subarray(12));
  const dstLen = payload[1];
  const dst = a.get(RTA.DST) ?? new Uint8Array(4);
  const info: RouteInfo = {
    dst: `${formatIPv4(dst)}/${dstLen}`,
    dstLen,
    table: u32(a.get(RTA.TABLE)) ?? payload[4],
    protocol: payload[5],
    scope: payload[6],
    type: payload[7],
  };
  const gw = a.get(RTA.GATEWAY);
  if (gw) info.gateway = formatIPv4(gw);
  const oif = u32(a.get(RTA.OIF));
  if (oif !== undefined) info.oif = oif;
  const src = a.get(RTA.PREFSRC);
  if (src) info.prefsrc = formatIPv4(src);
  const prio = u32(a.get(RTA.PRIORITY));
  if (prio !== undefined) info.priority = prio;
  const metrics = a.get(RTA.METRICS);
  const mtu = metrics && u32(parseAttrs(metrics).get(RTAX_MTU));
  if (mtu) info.mtu = mtu;
  return info;
}
