/**
 * The rtnetlink codec, byte for byte. Every expected message is written out by hand from the
 * kernel's struct layouts (include/uapi/linux/{netlink,rtnetlink,if_link,if_addr}.h), little
 * endian as on x86_64, with each field named in a comment.
 */

import assert from "node:assert/strict";
import { getLink as lookUpLink, listLinks, NetlinkError, openNetlink } from "../../ffi/netlink.ts";
import {
  broadcastOf,
  decodeAddress,
  decodeLink,
  decodeRoute,
  delAddress,
  delLink,
  delRoute,
  dumpLinks,
  dumpRoutes,
  encodeRequest,
  getLink,
  ifinfomsg as encodeIfinfomsg,
  newAddress,
  newBridge,
  newRoute,
  newVeth,
  NLM_F,
  NLMSG,
  parseCidr,
  parseDone,
  parseError,
  parseMac,
  parseMessages,
  RTM,
  setLink,
} from "../../ffi/rtnetlink.ts";

/** Little-endian u16. */
const u16 = (n: number) => [n & 0xff, n >> 8];
/** Little-endian u32. */
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
/** The bytes of ASCII text. */
const s = (t: string) => [...t].map((c) => c.charCodeAt(0));
/** Concatenates byte lists. */
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());
/** struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; } */
const nlmsghdr = (len: number, type: number, flags: number, seq: number, pid = 0) => [
  ...u32(len),
  ...u16(type),
  ...u16(flags),
  ...u32(seq),
  ...u32(pid),
];
/** struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index; u32 flags; u32 change; } */
const ifinfomsg = (index = 0, flags = 0, change = 0, type = 0) => [
  0,
  0,
  ...u16(type),
  ...u32(index),
  ...u32(flags),
  ...u32(change),
];

/** Message types, from the uapi headers (not imported, so that a wrong value cannot agree). */
const T = {
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_SETLINK: 19,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_NEWROUTE: 24,
  RTM_DELROUTE: 25,
  RTM_GETROUTE: 26,
};

// Flag words as the kernel reads them.
const F_MULTI = 0x2;
const F_CAPPED = 0x100; // on NLMSG_ERROR: the request's echo was cut to its header
const F_ACK_TLVS = 0x200; // on NLMSG_ERROR: extended-ack attributes follow
const NEW = 0x001 | 0x004 | 0x200 | 0x400; // REQUEST | ACK | EXCL | CREATE = 0x605
const ACKED = 0x001 | 0x004; // REQUEST | ACK
const DUMP = 0x001 | 0x300; // REQUEST | ROOT | MATCH

Deno.test("a bridge: RTM_NEWLINK with IFLA_IFNAME, IFLA_MTU and IFLA_LINKINFO/IFLA_INFO_KIND", () => {
  const expected = bytes(
    nlmsghdr(64, T.RTM_NEWLINK, NEW, 1),
    ifinfomsg(), // AF_UNSPEC, no index: the kernel picks one
    [8, 0, 3, 0, ...s("md0"), 0], // IFLA_IFNAME (3), "md0\0": 4 + 4
    [8, 0, 4, 0, ...u32(1400)], // IFLA_MTU (4)
    [16, 0, 18, 0], // IFLA_LINKINFO (18), nested: 4 + 12
    [11, 0, 1, 0, ...s("bridge"), 0, 0], //  IFLA_INFO_KIND (1), "bridge\0": 4 + 7, 1 pad byte
  );
  assert.deepEqual(encodeRequest(newBridge("md0", { mtu: 1400 }), 1), expected);
});

Deno.test("a veth pair: the peer's ifinfomsg and attributes in VETH_INFO_PEER, its netns by fd", () => {
  const req = newVeth("mdv0", { name: "eth0", netnsFd: 7 }, { mtu: 1400, master: 3, up: true });
  const expected = bytes(
    nlmsghdr(120, T.RTM_NEWLINK, NEW, 9),
    ifinfomsg(0, 1, 1), // flags IFF_UP, change IFF_UP: created up
    [9, 0, 3, 0, ...s("mdv0"), 0, 0, 0, 0], // IFLA_IFNAME "mdv0\0": 4 + 5, 3 pad bytes
    [8, 0, 4, 0, ...u32(1400)], // IFLA_MTU
    [8, 0, 10, 0, ...u32(3)], // IFLA_MASTER (10): the bridge's index
    [60, 0, 18, 0], // IFLA_LINKINFO: 4 + 12 + 44
    [9, 0, 1, 0, ...s("veth"), 0, 0, 0, 0], //  IFLA_INFO_KIND "veth\0"
    [44, 0, 2, 0], //  IFLA_INFO_DATA (2): 4 + 40
    [40, 0, 1, 0], //   VETH_INFO_PEER (1): 4 + 16 + 12 + 8
    ifinfomsg(), //    the peer's ifinfomsg
    [9, 0, 3, 0, ...s("eth0"), 0, 0, 0, 0], //    its IFLA_IFNAME "eth0\0"
    [8, 0, 28, 0, ...u32(7)], //    IFLA_NET_NS_FD (28) = 7
  );
  assert.deepEqual(encodeRequest(req, 9), expected);
});

Deno.test("setting a link: RTM_SETLINK by index or by name, each change its attribute", () => {
  // Rename by index.
  assert.deepEqual(
    encodeRequest(setLink(5, { name: "eth0" }), 2),
    bytes(
      nlmsghdr(44, T.RTM_SETLINK, ACKED, 2),
      ifinfomsg(5),
      [9, 0, 3, 0, ...s("eth0"), 0, 0, 0, 0], // IFLA_IFNAME: the new name
    ),
  );
  // Down, by name: index 0 and IFLA_IFNAME make the kernel look the link up.
  assert.deepEqual(
    encodeRequest(setLink("mdv0", { up: false }), 3),
    bytes(
      nlmsghdr(44, T.RTM_SETLINK, ACKED, 3),
      ifinfomsg(0, 0, 1), // flags 0, change IFF_UP: clear IFF_UP
      [9, 0, 3, 0, ...s("mdv0"), 0, 0, 0, 0],
    ),
  );
  // MTU, MAC, master and namespace together.
  const req = setLink(5, { mtu: 1400, address: "02:42:0a:00:00:02", master: 3, netnsFd: 9 });
  assert.deepEqual(
    encodeRequest(req, 4),
    bytes(
      nlmsghdr(68, T.RTM_SETLINK, ACKED, 4),
      ifinfomsg(5), // no flag change
      [8, 0, 4, 0, ...u32(1400)], // IFLA_MTU
      [10, 0, 1, 0, 0x02, 0x42, 0x0a, 0x00, 0x00, 0x02, 0, 0], // IFLA_ADDRESS (1): 6 bytes + 2 pad
      [8, 0, 10, 0, ...u32(3)], // IFLA_MASTER
      [8, 0, 28, 0, ...u32(9)], // IFLA_NET_NS_FD
    ),
  );
  // nomaster is IFLA_MASTER 0.
  assert.deepEqual(
    encodeRequest(setLink(5, { master: 0 }), 5).subarray(32),
    bytes([8, 0, 10, 0, 0, 0, 0, 0]),
  );
  assert.throws(() => setLink("mdv0", { name: "eth0" }), TypeError);
});

Deno.test("deleting and getting links, and the link dump", () => {
  assert.deepEqual(
    encodeRequest(delLink("md0"), 6),
    bytes(nlmsghdr(40, T.RTM_DELLINK, ACKED, 6), ifinfomsg(), [8, 0, 3, 0, ...s("md0"), 0]),
  );
  assert.deepEqual(
    encodeRequest(delLink(4), 7),
    bytes(nlmsghdr(32, T.RTM_DELLINK, ACKED, 7), ifinfomsg(4)),
  );
  assert.deepEqual(
    encodeRequest(getLink("eth0"), 8),
    bytes(
      nlmsghdr(44, T.RTM_GETLINK, ACKED, 8),
      ifinfomsg(),
      [9, 0, 3, 0, ...s("eth0"), 0, 0, 0, 0],
    ),
  );
  assert.deepEqual(
    encodeRequest(dumpLinks(), 9),
    bytes(nlmsghdr(32, T.RTM_GETLINK, DUMP, 9), ifinfomsg()),
  );
});

Deno.test("interface names longer than IFNAMSIZ-1 are refused before the kernel sees them", () => {
  assert.throws(() => newBridge("md-0123456789abc"), RangeError); // 16 bytes
  assert.throws(() => newBridge(""), RangeError);
  assert.doesNotThrow(() => newBridge("md-0123456789ab")); // 15 bytes
});

Deno.test("an IPv4 address: ifaddrmsg, IFA_LOCAL, IFA_ADDRESS and IFA_BROADCAST", () => {
  // struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
  assert.deepEqual(
    encodeRequest(newAddress(5, "10.200.0.1/24"), 10),
    bytes(
      nlmsghdr(48, T.RTM_NEWADDR, NEW, 10),
      [2, 24, 0, 0, ...u32(5)], // AF_INET, /24, no flags, RT_SCOPE_UNIVERSE, index 5
      [8, 0, 2, 0, 10, 200, 0, 1], // IFA_LOCAL (2), network byte order
      [8, 0, 1, 0, 10, 200, 0, 1], // IFA_ADDRESS (1)
      [8, 0, 4, 0, 10, 200, 0, 255], // IFA_BROADCAST (4)
    ),
  );
  // A /31 has no broadcast address, nor does a deletion carry one.
  assert.deepEqual(
    encodeRequest(newAddress(5, "10.0.0.0/31"), 11),
    bytes(
      nlmsghdr(40, T.RTM_NEWADDR, NEW, 11),
      [2, 31, 0, 0, ...u32(5)],
      [8, 0, 2, 0, 10, 0, 0, 0],
      [8, 0, 1, 0, 10, 0, 0, 0],
    ),
  );
  assert.deepEqual(
    encodeRequest(delAddress(5, "10.200.0.1/24"), 12),
    bytes(
      nlmsghdr(40, T.RTM_DELADDR, ACKED, 12),
      [2, 24, 0, 0, ...u32(5)],
      [8, 0, 2, 0, 10, 200, 0, 1],
      [8, 0, 1, 0, 10, 200, 0, 1],
    ),
  );
});

Deno.test("broadcast addresses and address parsing", () => {
  assert.deepEqual(broadcastOf(parseCidr("10.200.16.1/20")), new Uint8Array([10, 200, 31, 255]));
  assert.deepEqual(broadcastOf(parseCidr("172.17.0.1/16")), new Uint8Array([172, 17, 255, 255]));
  assert.deepEqual(broadcastOf(parseCidr("10.1.2.3/0")), new Uint8Array([255, 255, 255, 255]));
  assert.equal(parseCidr("10.1.2.3").prefix, 32);
  for (const bad of ["10.1.2/24", "10.1.2.256/24", "10.1.2.3/33", "10.1.2.3/", "a.b.c.d/8"]) {
    assert.throws(() => parseCidr(bad), RangeError, bad);
  }
  assert.deepEqual(parseMac("02:42:AC:11:00:02"), new Uint8Array([2, 0x42, 0xac, 0x11, 0, 2]));
  assert.throws(() => parseMac("02:42:ac:11:00"), RangeError);
});

Deno.test("routes: a default route via a gateway, a subnet on a device, a deletion, the dump", () => {
  // struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; }
  assert.deepEqual(
    encodeRequest(newRoute({ dst: "default", gateway: "10.200.0.1" }), 13),
    bytes(
      nlmsghdr(36, T.RTM_NEWROUTE, NEW, 13),
      [2, 0, 0, 0, 254, 3, 0, 1, ...u32(0)], // INET /0, main, RTPROT_BOOT, universe, unicast
      [8, 0, 5, 0, 10, 200, 0, 1], // RTA_GATEWAY (5)
    ),
  );
  assert.deepEqual(
    encodeRequest(newRoute({ dst: "10.200.0.0/24", oif: 5 }), 14),
    bytes(
      nlmsghdr(44, T.RTM_NEWROUTE, NEW, 14),
      [2, 24, 0, 0, 254, 3, 253, 1, ...u32(0)], // no gateway: RT_SCOPE_LINK (253)
      [8, 0, 1, 0, 10, 200, 0, 0], // RTA_DST (1)
      [8, 0, 4, 0, ...u32(5)], // RTA_OIF (4)
    ),
  );
  assert.deepEqual(
    encodeRequest(delRoute({ dst: "default", gateway: "10.200.0.1" }), 15),
    bytes(
      nlmsghdr(36, T.RTM_DELROUTE, ACKED, 15),
      [2, 0, 0, 0, 254, 0, 255, 0, ...u32(0)], // any protocol, RT_SCOPE_NOWHERE, any type
      [8, 0, 5, 0, 10, 200, 0, 1],
    ),
  );
  assert.deepEqual(
    encodeRequest(dumpRoutes(), 16),
    bytes(nlmsghdr(28, T.RTM_GETROUTE, DUMP, 16), [2, 0, 0, 0, 0, 0, 0, 0, ...u32(0)]),
  );
});

Deno.test("NLMSG_ERROR: an errno with a capped echo, an extended-ack message, a plain ACK", () => {
  // EEXIST for request 42, capped (NETLINK_CAP_ACK): only the request's header is echoed.
  const exists = bytes(
    nlmsghdr(36, T.NLMSG_ERROR, F_CAPPED, 42, 3000),
    u32(-17 >>> 0), // error: -EEXIST
    nlmsghdr(64, T.RTM_NEWLINK, NEW, 42), // the request's header
  );
  const [m] = parseMessages(exists);
  assert.equal(m.type, NLMSG.ERROR);
  assert.deepEqual(parseError(m), { errno: 17, seq: 42 });

  // EOPNOTSUPP with an extended ACK: NLMSGERR_ATTR_MSG after the capped echo.
  const unsupported = bytes(
    nlmsghdr(60, T.NLMSG_ERROR, F_CAPPED | F_ACK_TLVS, 43, 3000),
    u32(-95 >>> 0),
    nlmsghdr(48, T.RTM_NEWLINK, NEW, 43),
    [24, 0, 1, 0, ...s("Unknown device type"), 0], // NLMSGERR_ATTR_MSG (1): 4 + 20
  );
  assert.deepEqual(parseError(parseMessages(unsupported)[0]), {
    errno: 95,
    seq: 43,
    message: "Unknown device type",
  });

  // Without CAP_ACK the whole request is echoed; the attributes follow it.
  const uncapped = bytes(
    nlmsghdr(56, T.NLMSG_ERROR, F_ACK_TLVS, 44),
    u32(-22 >>> 0),
    nlmsghdr(20, T.RTM_SETLINK, ACKED, 44), // a 20-byte request...
    [0xaa, 0xbb, 0xcc, 0xdd], // ...whose 4 bytes of payload come back too
    [8, 0, 1, 0, ...s("bad"), 0], // NLMSGERR_ATTR_MSG
    [8, 0, 2, 0, ...u32(16)], // NLMSGERR_ATTR_OFFS (2): the offending attribute's offset
  );
  assert.deepEqual(parseError(parseMessages(uncapped)[0]), {
    errno: 22,
    seq: 44,
    message: "bad",
    offset: 16,
  });

  const ack = bytes(
    nlmsghdr(36, T.NLMSG_ERROR, F_CAPPED, 45),
    u32(0),
    nlmsghdr(44, T.RTM_SETLINK, ACKED, 45),
  );
  assert.equal(parseError(parseMessages(ack)[0]).errno, 0);
});

Deno.test("a netlink error reads like a syscall error", () => {
  const e = new NetlinkError(RTM.NEWLINK, 17, "md0");
  assert.equal(e.message, "netlink RTM_NEWLINK md0: File exists");
  assert.equal(e.code, "EEXIST");
  assert.equal(e.errno, 17);
  assert.equal(
    new NetlinkError(RTM.NEWLINK, 95, "md0", "Unknown device type").message,
    "netlink RTM_NEWLINK md0: Operation not supported (Unknown device type)",
  );
});

/** One RTM_NEWLINK dump entry as the kernel writes it, cut down to the attributes we read. */
const linkEntry = bytes(
  nlmsghdr(96, T.RTM_NEWLINK, F_MULTI, 77, 3000),
  // ARPHRD_ETHER (1), index 4, UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
  ifinfomsg(4, 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000, 0, 1),
  [9, 0, 3, 0, ...s("mdv0"), 0, 0, 0, 0], // IFLA_IFNAME
  [8, 0, 13, 0, ...u32(1000)], // IFLA_TXQLEN (13): not read, skipped
  [8, 0, 4, 0, ...u32(1500)], // IFLA_MTU
  [8, 0, 10, 0, ...u32(2)], // IFLA_MASTER
  [10, 0, 1, 0, 0x02, 0x42, 0x0a, 0xc8, 0x00, 0x02, 0, 0], // IFLA_ADDRESS
  [16, 0, 18, 0x80], // IFLA_LINKINFO | NLA_F_NESTED (0x8000), as nla_nest_start writes it
  [9, 0, 1, 0, ...s("veth"), 0, 0, 0, 0], //  IFLA_INFO_KIND
);

Deno.test("decoding a RTM_NEWLINK dump entry, and a datagram that ends with NLMSG_DONE", () => {
  const done = bytes(nlmsghdr(20, T.NLMSG_DONE, 0x2, 77, 3000), u32(0));
  const messages = parseMessages(bytes([...linkEntry], [...done]));
  assert.equal(messages.length, 2);
  assert.equal(messages[0].type, RTM.NEWLINK);
  assert.equal(messages[0].flags & NLM_F.MULTI, NLM_F.MULTI);
  assert.equal(messages[0].seq, 77);
  assert.deepEqual(decodeLink(messages[0].payload), {
    index: 4,
    name: "mdv0",
    flags: 0x11043,
    up: true,
    mtu: 1500,
    type: 1,
    master: 2,
    kind: "veth",
    address: "02:42:0a:c8:00:02",
  });
  assert.equal(messages[1].type, NLMSG.DONE);
  assert.equal(parseDone(messages[1]), 0);
  // A dump that failed says so in its DONE.
  assert.equal(
    parseDone(parseMessages(bytes(nlmsghdr(20, T.NLMSG_DONE, F_MULTI, 1), u32(-16 >>> 0)))[0]),
    16,
  );
  // A length that runs past the datagram is an error, not a silent misread.
  assert.throws(() => parseMessages(linkEntry.subarray(0, 60)), RangeError);
});

Deno.test("decoding route dump entries: the default route, and a subnet with an MTU metric", () => {
  const defaultRoute = bytes(
    nlmsghdr(52, T.RTM_NEWROUTE, F_MULTI, 78),
    [2, 0, 0, 0, 254, 3, 0, 1, ...u32(0)], // INET /0, main, boot, universe, unicast
    [8, 0, 15, 0, ...u32(254)], // RTA_TABLE (15)
    [8, 0, 5, 0, 192, 0, 2, 1], // RTA_GATEWAY
    [8, 0, 4, 0, ...u32(4)], // RTA_OIF
  );
  assert.deepEqual(decodeRoute(parseMessages(defaultRoute)[0].payload), {
    dst: "0.0.0.0/0",
    dstLen: 0,
    table: 254,
    protocol: 3,
    scope: 0,
    type: 1,
    gateway: "192.0.2.1",
    oif: 4,
  });
  const subnet = bytes(
    nlmsghdr(80, T.RTM_NEWROUTE, F_MULTI, 78),
    [2, 24, 0, 0, 254, 2, 253, 1, ...u32(0)], // /24, main, RTPROT_KERNEL, link scope
    [8, 0, 15, 0, ...u32(254)], // RTA_TABLE
    [8, 0, 1, 0, 10, 200, 0, 0], // RTA_DST
    [8, 0, 7, 0, 10, 200, 0, 1], // RTA_PREFSRC (7)
    [8, 0, 6, 0, ...u32(100)], // RTA_PRIORITY (6)
    [12, 0, 8, 0x80], // RTA_METRICS (8) | NLA_F_NESTED
    [8, 0, 2, 0, ...u32(1400)], //  RTAX_MTU (2)
    [8, 0, 4, 0, ...u32(5)], // RTA_OIF
  );
  assert.deepEqual(decodeRoute(parseMessages(subnet)[0].payload), {
    dst: "10.200.0.0/24",
    dstLen: 24,
    table: 254,
    protocol: 2,
    scope: 253,
    type: 1,
    oif: 5,
    prefsrc: "10.200.0.1",
    priority: 100,
    mtu: 1400,
  });
});

Deno.test("decoding an RTM_NEWADDR dump entry", () => {
  const entry = bytes(
    nlmsghdr(48, T.RTM_NEWADDR, F_MULTI, 79),
    [2, 24, 0x80, 0, ...u32(5)], // INET /24, IFA_F_PERMANENT, universe, index 5
    [8, 0, 1, 0, 10, 200, 0, 1], // IFA_ADDRESS
    [8, 0, 2, 0, 10, 200, 0, 1], // IFA_LOCAL
    [8, 0, 3, 0, ...s("md0"), 0], // IFA_LABEL (3)
  );
  assert.deepEqual(decodeAddress(parseMessages(entry)[0].payload), {
    index: 5,
    cidr: "10.200.0.1/24",
    prefix: 24,
    scope: 0,
    label: "md0",
  });
});

Deno.test("the socket, read-only in the test's own namespace: GET, ACK, dump, kernel errors", () => {
  const nl = openNetlink();
  try {
    const lo = lookUpLink(nl, "lo"); // one RTM_NEWLINK, then the ACK
    assert.equal(lo?.index, 1); // lo is 1 in every network namespace
    assert.equal(lo?.type, 772); // ARPHRD_LOOPBACK
    assert.equal(lookUpLink(nl, "mdnl-absent"), null); // ENODEV
    assert.ok(listLinks(nl).some((l) => l.name === "lo")); // a dump, to NLMSG_DONE
    // Neither an index nor a name: the kernel refuses with EINVAL.
    const bare = { type: RTM.GETLINK, flags: 0x5, payload: encodeIfinfomsg(), what: "nothing" };
    assert.throws(() => nl.request(bare), (e: unknown) => {
      assert.ok(e instanceof NetlinkError);
      assert.equal(e.errno, 22);
      assert.match(e.message, /^netlink RTM_GETLINK nothing: Invalid argument/);
      return true;
    });
    assert.equal(lookUpLink(nl, "lo")?.index, 1, "the socket is still in step after an error");
  } finally {
    nl.close();
  }
  assert.throws(() => lookUpLink(nl, "lo"), /closed/);
});
