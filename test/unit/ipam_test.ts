import assert from "node:assert/strict";
import {
  allocateAddress,
  candidates,
  DEFAULT_POOLS,
  defaultGateway,
  formatSubnet,
  intToIp,
  ipToInt,
  macForAddress,
  overlaps,
  parsePools,
  parseSubnet,
  pickSubnet,
} from "../../src/network/ipam.ts";

Deno.test("ipam: addresses and subnets round-trip; host bits and junk are refused", () => {
  assert.equal(intToIp(ipToInt("172.17.0.2")), "172.17.0.2");
  assert.equal(ipToInt("255.255.255.255"), 0xffffffff);
  assert.equal(formatSubnet(parseSubnet("10.88.0.0/16")), "10.88.0.0/16");
  assert.throws(() => parseSubnet("10.88.0.1/16"), /host bits/);
  assert.throws(() => parseSubnet("10.88.0.0/33"), /invalid CIDR/);
  assert.throws(() => ipToInt("10.0.0.256"), /invalid IPv4/);
  assert.throws(() => ipToInt("10.0.0"), /invalid IPv4/);
});

Deno.test("ipam: overlap is any shared address", () => {
  const a = parseSubnet("172.17.0.0/16");
  assert.ok(overlaps(a, parseSubnet("172.17.5.0/24")));
  assert.ok(overlaps(parseSubnet("172.16.0.0/12"), a));
  assert.ok(!overlaps(a, parseSubnet("172.18.0.0/16")));
  assert.ok(overlaps(parseSubnet("0.0.0.0/0"), a));
});

Deno.test("ipam: the default pools start at Docker's 172.17.0.0/16 and skip what is taken", () => {
  const first = candidates(DEFAULT_POOLS).next().value!;
  assert.equal(formatSubnet(first), "172.17.0.0/16");
  // The host routes 172.17.0.0/16 (Docker is installed, say) and a network has 172.18/16.
  const taken = [parseSubnet("172.17.0.0/16"), parseSubnet("172.18.0.0/16")];
  assert.equal(formatSubnet(pickSubnet(DEFAULT_POOLS, taken)!), "172.19.0.0/16");
  // A host route covering 172.16.0.0/12 pushes it into 192.168.0.0/20.
  assert.equal(
    formatSubnet(pickSubnet(DEFAULT_POOLS, [parseSubnet("172.16.0.0/12")])!),
    "192.168.0.0/20",
  );
  assert.equal(pickSubnet(DEFAULT_POOLS, [parseSubnet("0.0.0.0/0")]), null);
});

Deno.test("ipam: pools in Docker's daemon syntax", () => {
  const pools = parsePools("base=10.10.0.0/16,size=24; base=10.20.0.0/16,size=16");
  assert.equal(pools.length, 2);
  const c = [...candidates(pools)];
  assert.equal(c.length, 257);
  assert.equal(formatSubnet(c[1]), "10.10.1.0/24");
  assert.equal(formatSubnet(c[256]), "10.20.0.0/16");
  assert.throws(() => parsePools("base=10.10.0.0/16,size=8"), /size/);
});

Deno.test("ipam: addresses skip the network, gateway, used ones and broadcast", () => {
  const s = parseSubnet("10.1.2.0/30"); // .0 network, .1 gateway, .2 free, .3 broadcast
  const gw = defaultGateway(s);
  assert.equal(intToIp(gw), "10.1.2.1");
  assert.equal(intToIp(allocateAddress(s, gw, new Set())!), "10.1.2.2");
  assert.equal(allocateAddress(s, gw, new Set([ipToInt("10.1.2.2")])), null);
  const big = parseSubnet("172.17.0.0/16");
  const used = new Set([ipToInt("172.17.0.2"), ipToInt("172.17.0.3")]);
  assert.equal(intToIp(allocateAddress(big, defaultGateway(big), used)!), "172.17.0.4");
});

Deno.test("ipam: a container's MAC is 02:42 and its address, as Docker's", () => {
  assert.equal(macForAddress(ipToInt("172.17.0.2")), "02:42:ac:11:00:02");
});
