/**
 * rtnetlink against the real kernel, as root, never in the machine's own network namespace.
 *
 * The test makes two network namespaces, each held by an `unshare --net cat` process: A plays
 * the host (it gets the bridge) and B the container. The Deno test runner is multithreaded and
 * none of its threads may change namespace, so the netlink work runs in a child Deno, this same
 * file run with `deno run` under `nsenter --net=A`: there it opens a socket in A, and one in B
 * with `openNetlinkIn` (setns there and back on its main thread, sync calls only), which is how
 * m-docker will reach a container's namespace. The test then pings across with busybox, has the
 * child delete everything, and checks that both namespaces hold only `lo` again and that the
 * machine's links and routes are as they were.
 */

import assert from "node:assert/strict";
import { close, O, open } from "../../ffi/libc.ts";
import {
  addAddress,
  addRoute,
  createBridge,
  createVeth,
  deleteAddress,
  deleteLink,
  deleteRoute,
  getLink,
  type LinkInfo,
  listAddresses,
  listLinks,
  listRoutes,
  moveToNetns,
  openNetlink,
  openNetlinkIn,
  setLink,
  setLinkUp,
  setMaster,
} from "../../ffi/netlink.ts";
import { RT_TABLE } from "../../ffi/rtnetlink.ts";

// A test-only subnet, used inside the test's namespaces only.
const BRIDGE = "mdnlbr0", HOST_END = "mdnlh0", PEER = "mdnlp0";
const SPARE_HOST = "mdnlh1", SPARE_PEER = "mdnlp1";
const BRIDGE_IP = "10.199.77.1", CONTAINER_IP = "10.199.77.2", EXTRA_IP = "10.199.77.3";
const MAC = "02:42:0a:c7:4d:02";
const MTU = 1400;
const MANY = 40;

function errorText(f: () => void): string {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return "no error";
}

function names(links: LinkInfo[]): string[] {
  return links.map((l) => l.name).sort();
}

/** The child's part of the set-up, in namespace A; B is `/proc/<bPid>/ns/net`. */
function childSetup(bPid: number) {
  const fdB = open(`/proc/${bPid}/ns/net`, O.RDONLY | O.CLOEXEC);
  const a = openNetlink();
  const b = openNetlinkIn(fdB);
  try {
    setLinkUp(a, "lo");
    createBridge(a, BRIDGE, { mtu: MTU });
    const duplicate = errorText(() => createBridge(a, BRIDGE, { mtu: MTU }));
    const br = getLink(a, BRIDGE)!;
    addAddress(a, br.index, `${BRIDGE_IP}/24`);
    setLinkUp(a, br.index);
    addRoute(a, { dst: "10.199.78.0/24", dev: BRIDGE }); // a plain route to a subnet on a device

    // The container's pair: the peer is created straight in B, the near end joins the bridge.
    createVeth(a, HOST_END, { name: PEER, netnsFd: fdB, mtu: MTU }, { mtu: MTU });
    setMaster(a, HOST_END, BRIDGE);
    setLinkUp(a, HOST_END);
    const peerInA = getLink(a, PEER);

    // A second pair whose peer is moved into B afterwards.
    createVeth(a, SPARE_HOST, { name: SPARE_PEER });
    moveToNetns(a, SPARE_PEER, fdB);

    // In B: rename the peer to eth0 (while down), set its MAC, address, up, default route.
    setLink(b, PEER, { name: "eth0" });
    setLink(b, "eth0", { address: MAC });
    addAddress(b, "eth0", `${CONTAINER_IP}/24`);
    addAddress(b, "eth0", `${EXTRA_IP}/24`);
    deleteAddress(b, "eth0", `${EXTRA_IP}/24`);
    setLinkUp(b, "lo");
    setLinkUp(b, "eth0");
    addRoute(b, { dst: "default", gateway: BRIDGE_IP });
    addRoute(b, { dst: "10.199.79.0/24", dev: "eth0" });
    deleteRoute(b, { dst: "10.199.79.0/24", dev: "eth0" });
    const unreachable = errorText(() => addRoute(b, { dst: "default", gateway: "10.199.80.1" }));

    // Enough links that the dump spans several datagrams (the kernel fills ~32 KiB each).
    const many = Array.from({ length: MANY }, (_, i) => `mdnlx${i}`);
    for (const name of many) createBridge(a, name);
    const manyListed = listLinks(a).filter((l) => l.name.startsWith("mdnlx")).length;
    for (const name of many) deleteLink(a, name);

    const routesB = listRoutes(b).filter((r) => r.table === RT_TABLE.MAIN);
    const defaultB = routesB.find((r) => r.dstLen === 0);
    return {
      duplicate,
      unreachable,
      manyListed,
      bridge: getLink(a, BRIDGE),
      hostEnd: getLink(a, HOST_END),
      peerInA,
      eth0: getLink(b, "eth0"),
      linksA: names(listLinks(a)),
      linksB: names(listLinks(b)),
      routesA: listRoutes(a).filter((r) => r.table === RT_TABLE.MAIN),
      routesB,
      defaultDeviceB: defaultB?.oif === undefined ? null : getLink(b, defaultB.oif),
      addressesB: listAddresses(b),
    };
  } finally {
    a.close();
    b.close();
    close(fdB);
  }
}

/** The child's clean-up: delete both pairs (through one end each) and the bridge. */
function childTeardown(bPid: number) {
  const fdB = open(`/proc/${bPid}/ns/net`, O.RDONLY | O.CLOEXEC);
  const a = openNetlink();
  const b = openNetlinkIn(fdB);
  try {
    deleteLink(a, HOST_END); // by name; takes eth0 in B with it
    deleteLink(b, getLink(b, SPARE_PEER)!.index); // by index, from B's side
    deleteLink(a, BRIDGE);
    return {
      missing: errorText(() => deleteLink(a, HOST_END)),
      linksA: names(listLinks(a)),
      linksB: names(listLinks(b)),
      routesB: listRoutes(b).filter((r) => r.table === RT_TABLE.MAIN),
    };
  } finally {
    a.close();
    b.close();
    close(fdB);
  }
}

if (import.meta.main) {
  // The child: `deno run THIS_FILE setup|teardown B_PID`, started inside namespace A.
  const [step, bPid] = Deno.args;
  const result = step === "setup" ? childSetup(Number(bPid)) : childTeardown(Number(bPid));
  console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------------------------------
// The test, in the runner's process: it only spawns and reads, never changes namespace.

const decoder = new TextDecoder();

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** A process holding a new network namespace, once it is really in it. */
async function holdNamespace(): Promise<Deno.ChildProcess> {
  const own = Deno.readLinkSync("/proc/self/ns/net");
  const child = new Deno.Command("unshare", {
    args: ["--net", "--", "cat"],
    stdin: "piped",
    stdout: "null",
  }).spawn();
  // unshare(1) unshares, then execs cat: wait until the process's namespace is a new one.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (Deno.readLinkSync(`/proc/${child.pid}/ns/net`) !== own) return child;
    } catch { /* not there yet */ }
    if (Date.now() > deadline) throw new Error("unshare --net did not enter a new namespace");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function release(holder: Deno.ChildProcess): Promise<void> {
  await holder.stdin.close().catch(() => {}); // cat exits at EOF, and the namespace with it
  await holder.status;
}

/** Runs this file's child part in namespace `nsPid`'s network namespace. */
async function child(nsPid: number, step: string, bPid: number) {
  const file = new URL(import.meta.url).pathname;
  const r = await run("nsenter", [
    `--net=/proc/${nsPid}/ns/net`,
    Deno.execPath(),
    "run",
    "-A",
    "--frozen",
    "--no-check",
    file,
    step,
    String(bPid),
  ]);
  assert.equal(r.code, 0, `child ${step} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function ping(nsPid: number, address: string) {
  return await run("nsenter", [
    `--net=/proc/${nsPid}/ns/net`,
    "/bin/busybox",
    "ping",
    "-c1",
    "-W2",
    address,
  ]);
}

async function machineNetwork(): Promise<string> {
  const links = await run("ip", ["-o", "link"]);
  const routes = await run("ip", ["route"]);
  const routes6 = await run("ip", ["-6", "route"]);
  // Counters and state words can change on their own; the list of names, flags and routes not.
  const names = links.stdout.split("\n").map((l) => l.split(":").slice(0, 2).join(":")).join("\n");
  return `${names}\n${routes.stdout}\n${routes6.stdout}`;
}

Deno.test({
  name: "rtnetlink: a bridge, a veth pair into a second namespace, eth0, routes; a ping crosses",
  ignore: Deno.uid() !== 0,
  async fn() {
    const before = await machineNetwork();
    const a = await holdNamespace();
    let b: Deno.ChildProcess | undefined;
    try {
      b = await holdNamespace();
      const s = await child(a.pid, "setup", b.pid);

      assert.equal(s.duplicate, `netlink RTM_NEWLINK ${BRIDGE}: File exists`);
      assert.equal(s.manyListed, MANY, "a dump in several parts is read to its NLMSG_DONE");
      assert.match(s.unreachable, /^netlink RTM_NEWROUTE default via 10\.199\.80\.1: /);
      assert.equal(s.bridge.kind, "bridge");
      assert.equal(s.bridge.mtu, MTU);
      assert.equal(s.bridge.up, true);
      assert.equal(s.hostEnd.kind, "veth");
      assert.equal(s.hostEnd.master, s.bridge.index);
      assert.equal(s.hostEnd.mtu, MTU);
      assert.equal(s.hostEnd.up, true);
      assert.equal(s.peerInA, null, "the peer was created in B, not A");
      assert.deepEqual(s.linksA, ["lo", HOST_END, SPARE_HOST, BRIDGE].sort());
      assert.deepEqual(s.linksB, ["eth0", "lo", SPARE_PEER]);
      assert.equal(s.eth0.kind, "veth");
      assert.equal(s.eth0.address, MAC);
      assert.equal(s.eth0.mtu, MTU);
      assert.equal(s.eth0.up, true);

      const routeA = s.routesA.find((r: { dst: string }) => r.dst === "10.199.78.0/24");
      assert.equal(routeA?.oif, s.bridge.index);
      assert.equal(routeA?.scope, 253 /* link */);
      const dsts = s.routesB.map((r: { dst: string }) => r.dst).sort();
      assert.deepEqual(dsts, ["0.0.0.0/0", "10.199.77.0/24"]); // 10.199.79.0/24 was deleted
      const defaultB = s.routesB.find((r: { dstLen: number }) => r.dstLen === 0);
      assert.equal(defaultB.gateway, BRIDGE_IP);
      assert.equal(defaultB.oif, s.eth0.index);
      assert.equal(s.defaultDeviceB.name, "eth0");
      assert.equal(s.defaultDeviceB.mtu, MTU);
      const addrs = s.addressesB.map((x: { cidr: string }) => x.cidr).sort();
      assert.deepEqual(addrs, [`${CONTAINER_IP}/24`, "127.0.0.1/8"]); // EXTRA_IP was deleted

      const fromB = await ping(b.pid, BRIDGE_IP);
      assert.equal(fromB.code, 0, `ping from the container side failed: ${fromB.stdout}`);
      const fromA = await ping(a.pid, CONTAINER_IP);
      assert.equal(fromA.code, 0, `ping to the container side failed: ${fromA.stdout}`);

      const t = await child(a.pid, "teardown", b.pid);
      assert.equal(t.missing, `netlink RTM_DELLINK ${HOST_END}: No such device`);
      assert.deepEqual(t.linksA, ["lo"]);
      assert.deepEqual(t.linksB, ["lo"]);
      assert.deepEqual(t.routesB, []);
      const gone = await ping(b.pid, BRIDGE_IP);
      assert.notEqual(gone.code, 0, "nothing is left to answer");
    } finally {
      if (b) await release(b);
      await release(a);
    }
    assert.equal(await machineNetwork(), before, "the machine's links and routes are untouched");
  },
});
