/**
 * m-docker's nftables rules on real packets, in network namespaces of the test's own: the
 * machine's own namespace, routes, sysctls and firewall are never touched (checked at the end).
 *
 * Topology (each box a namespace; `H` plays the host):
 *
 *   C1 10.213.0.2 ─┐                          ┌─ vout 192.0.2.2 ── OUT 192.0.2.1 (httpd :80)
 *   C4 10.213.0.3 ─┼─ md-t0 10.213.0.1/24 ─ H ┤
 *   (httpd :80)    │
 *   C2 10.213.1.2 ── md-t1 10.213.1.1/24 ─────┤  (a second network)
 *   C3 10.213.2.2 ── md-t2 10.213.2.1/24 ─────┘  (an --internal network)
 *
 * The servers answer `/cgi-bin/who` with their name and the client address they saw.
 */
import assert from "node:assert/strict";
import {
  addNetwork,
  ensureBaseTable,
  type NetworkRules,
  type NftOptions,
  PortInUseError,
  type PortMapping,
  publishPorts,
  removeAll,
  removeNetwork,
  tableExists,
  unpublishPorts,
} from "../../src/network/nftables.ts";

const BUSYBOX = "/bin/busybox";
const tag = crypto.randomUUID().slice(0, 6);
const ns = (n: string) => `mdnft-${tag}-${n}`;
const H = ns("h"), C1 = ns("c1"), C2 = ns("c2"), C3 = ns("c3"), C4 = ns("c4"), OUT = ns("out");
const inH: NftOptions = { command: ["ip", "netns", "exec", H, "nft"] };

const NET0: NetworkRules = { bridge: "md-t0", subnet: "10.213.0.0/24", internal: false };
const NET1: NetworkRules = { bridge: "md-t1", subnet: "10.213.1.0/24", internal: false };
const NET2: NetworkRules = { bridge: "md-t2", subnet: "10.213.2.0/24", internal: true };
const WEB: PortMapping = { hostPort: 8080, containerPort: 80, protocol: "tcp" };
const LOCAL_ONLY: PortMapping = {
  hostIp: "127.0.0.1",
  hostPort: 8081,
  containerPort: 80,
  protocol: "tcp",
};

function sh(cmd: string[]): { code: number; stdout: string; stderr: string } {
  const out = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .outputSync();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function must(...cmd: string[]): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * `GET /cgi-bin/who` from inside `from` to `addr` ("IP:PORT"): the body, or null when it
 * failed. busybox nc, not wget: Debian's static busybox wget segfaults here even on a literal IP.
 */
function fetchWho(from: string, addr: string, timeoutS = 10): string | null {
  const [ip, port] = addr.split(":");
  const get =
    `printf 'GET /cgi-bin/who HTTP/1.0\\r\\n\\r\\n' | ${BUSYBOX} nc -w ${timeoutS} ${ip} ${port}`;
  const r = sh(["ip", "netns", "exec", from, BUSYBOX, "sh", "-c", get]);
  const m = /^HTTP\/1\.[01] 200 [^]*?\r\n\r\n([^]*)$/.exec(r.stdout);
  return r.code === 0 && m ? m[1].trim() : null;
}

/** Expects `addr` unreachable from `from` (a drop times out after 2 s; a refusal is at once). */
function unreachable(from: string, addr: string): void {
  assert.equal(fetchWho(from, addr, 2), null, `${from} must not reach ${addr}`);
}

/** Waits (deadline 10 s) until a server answers from inside its own namespace. */
async function waitServing(nsName: string, addr: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (fetchWho(nsName, addr, 1) === null) {
    if (Date.now() > deadline) throw new Error(`server ${addr} in ${nsName} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A network with one container namespace in it, built the way the rtnetlink layer will. */
function container(nsName: string, bridge: string, gw: string, addr: string, veth: string) {
  must("ip", "-n", H, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", nsName);
  must("ip", "-n", H, "link", "set", veth, "master", bridge, "up");
  // hairpin mode on the port, as Docker sets it without its userland proxy: with br_netfilter
  // loaded (as on these machines) a hairpin-DNATed frame is bridged back out of the port it
  // came in by, which the bridge refuses otherwise
  must("ip", "-n", H, "link", "set", veth, "type", "bridge_slave", "hairpin", "on");
  must("ip", "-n", nsName, "addr", "add", `${addr}/24`, "dev", "eth0");
  must("ip", "-n", nsName, "link", "set", "eth0", "up");
  must("ip", "-n", nsName, "route", "add", "default", "via", gw);
}

function bridge(name: string, gwCidr: string) {
  must("ip", "-n", H, "link", "add", name, "type", "bridge");
  must("ip", "-n", H, "addr", "add", gwCidr, "dev", name);
  must("ip", "-n", H, "link", "set", name, "up");
}

/** A busybox httpd in `nsName` on `listen` whose /cgi-bin/who says `name` and the client. */
function httpd(dir: string, nsName: string, name: string, listen: string): Deno.ChildProcess {
  const root = `${dir}/${name}`;
  Deno.mkdirSync(`${root}/cgi-bin`, { recursive: true });
  Deno.writeTextFileSync(
    `${root}/cgi-bin/who`,
    `#!${BUSYBOX} sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n${name} %s\\n' "$REMOTE_ADDR"\n`,
    { mode: 0o755 },
  );
  return new Deno.Command("ip", {
    args: ["netns", "exec", nsName, BUSYBOX, "httpd", "-f", "-p", listen, "-h", root],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Runs src/network/sysctl.ts's enableContainerRouting inside `nsName`, as the engine will. */
function enableRoutingIn(nsName: string, bridges: string[]): void {
  const mod = new URL("../../src/network/sysctl.ts", import.meta.url).href;
  const code = `import { enableContainerRouting } from ${JSON.stringify(mod)};
enableContainerRouting(${JSON.stringify(bridges)});`;
  must("ip", "netns", "exec", nsName, Deno.execPath(), "eval", code);
}

Deno.test({
  name: "nftables: NAT, published ports, hairpin, isolation and internal networks in netns",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
}, async (t) => {
  const tablesBefore = must("nft", "list", "tables");
  const forwardBefore = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward");
  const dir = Deno.makeTempDirSync({ prefix: "mdnft-test-" });
  const servers: Deno.ChildProcess[] = [];
  const made: string[] = [];
  try {
    for (const n of [H, C1, C2, C3, C4, OUT]) {
      must("ip", "netns", "add", n);
      made.push(n);
      must("ip", "-n", n, "link", "set", "lo", "up");
    }
    bridge("md-t0", "10.213.0.1/24");
    bridge("md-t1", "10.213.1.1/24");
    bridge("md-t2", "10.213.2.1/24");
    container(C1, "md-t0", "10.213.0.1", "10.213.0.2", "vc1");
    container(C2, "md-t1", "10.213.1.1", "10.213.1.2", "vc2");
    container(C3, "md-t2", "10.213.2.1", "10.213.2.2", "vc3");
    container(C4, "md-t0", "10.213.0.1", "10.213.0.3", "vc4"); // C1's neighbour on md-t0
    must(
      "ip",
      "-n",
      H,
      "link",
      "add",
      "vout",
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      OUT,
    );
    must("ip", "-n", H, "addr", "add", "192.0.2.2/24", "dev", "vout");
    must("ip", "-n", H, "link", "set", "vout", "up");
    must("ip", "-n", OUT, "addr", "add", "192.0.2.1/24", "dev", "eth0");
    must("ip", "-n", OUT, "link", "set", "eth0", "up");
    // a neighbour that routes the containers' subnets through the host: so a missing drop or
    // a missing masquerade shows (without it every unmasqueraded reply would be lost anyway)
    must("ip", "-n", OUT, "route", "add", "10.213.0.0/16", "via", "192.0.2.2");

    servers.push(httpd(dir, C1, "c1", "0.0.0.0:80"), httpd(dir, C3, "c3", "0.0.0.0:80"));
    servers.push(httpd(dir, OUT, "out", "0.0.0.0:80"));
    // a service of the host's bound to loopback only, which containers must not reach
    servers.push(httpd(dir, H, "hostlocal", "127.0.0.53:9999"));
    await waitServing(C1, "10.213.0.2:80");
    await waitServing(C3, "10.213.2.2:80");
    await waitServing(OUT, "192.0.2.1:80");
    await waitServing(H, "127.0.0.53:9999");

    // before forwarding is on, nothing crosses the host
    unreachable(C1, "192.0.2.1:80");

    enableRoutingIn(H, ["md-t0", "md-t1", "md-t2"]);
    assert.equal(must("ip", "netns", "exec", H, "cat", "/proc/sys/net/ipv4/ip_forward"), "1\n");
    const localnet = "/proc/sys/net/ipv4/conf/md-t0/route_localnet";
    assert.equal(must("ip", "netns", "exec", H, "cat", localnet), "1\n");
    await addNetwork(NET0, inH); // the first use writes the base table in the same batch
    await addNetwork(NET0, inH); // idempotent
    await ensureBaseTable(inH); // rewrites the rules: still one copy of each
    await addNetwork(NET1, inH);
    await addNetwork(NET2, inH);
    const rules = must(
      "ip",
      "netns",
      "exec",
      H,
      "nft",
      "list",
      "chain",
      "ip",
      "m-docker",
      "forward",
    );
    assert.equal(rules.match(/ct status dnat accept/g)?.length, 1);
    await publishPorts("10.213.0.2", [WEB, LOCAL_ONLY], inH);

    await t.step("container → outside is masqueraded to the host's address", () => {
      assert.equal(fetchWho(C1, "192.0.2.1:80"), "out 192.0.2.2");
    });
    await t.step("outside → host:8080 is DNATed to the container's :80", () => {
      assert.equal(fetchWho(OUT, "192.0.2.2:8080"), "c1 192.0.2.1");
      unreachable(OUT, "10.213.0.2:80"); // but not straight to the container's address
    });
    await t.step("host → 127.0.0.1:8080 reaches it (output DNAT, route_localnet)", () => {
      assert.equal(fetchWho(H, "127.0.0.1:8080"), "c1 10.213.0.1");
    });
    await t.step("container → host:8080 reaches itself (hairpin, masqueraded)", () => {
      assert.equal(fetchWho(C1, "192.0.2.2:8080"), "c1 10.213.0.1");
      assert.equal(fetchWho(C1, "10.213.0.1:8080"), "c1 10.213.0.1");
    });
    await t.step(
      "a container on the same network reaches it directly and through host:8080",
      () => {
        assert.equal(fetchWho(C4, "10.213.0.2:80"), "c1 10.213.0.3");
        assert.equal(fetchWho(C4, "192.0.2.2:8080"), "c1 10.213.0.1");
      },
    );
    await t.step("-p 127.0.0.1:8081:80 answers on 127.0.0.1 only", () => {
      assert.equal(fetchWho(H, "127.0.0.1:8081"), "c1 10.213.0.1");
      unreachable(OUT, "192.0.2.2:8081");
    });
    await t.step("another network cannot reach the first, but can use its published port", () => {
      assert.equal(fetchWho(C2, "192.0.2.1:80"), "out 192.0.2.2");
      unreachable(C2, "10.213.0.2:80");
      assert.equal(fetchWho(C2, "192.0.2.2:8080"), "c1 10.213.1.2");
    });
    await t.step("an internal network reaches neither outside nor other networks", () => {
      unreachable(C3, "192.0.2.1:80");
      unreachable(C3, "10.213.0.2:80");
      unreachable(C1, "10.213.2.2:80");
      unreachable(OUT, "10.213.2.2:80");
      unreachable(C3, "10.213.2.1:8080"); // nor a published port
    });
    await t.step("(the internal network's container is up and serving on its bridge)", () => {
      assert.equal(fetchWho(H, "10.213.2.2:80"), "c3 10.213.2.1");
    });
    await t.step("a container cannot reach the host's loopback services (guard)", () => {
      // route 127.0.0.53 out of C1 through its gateway and accept the replies, as a hostile
      // container could (a blind one with raw sockets need not see replies at all)
      must("ip", "-n", C1, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local");
      must("ip", "-n", C1, "route", "add", "127.0.0.53/32", "via", "10.213.0.1");
      const c1Localnet = "/proc/sys/net/ipv4/conf/eth0/route_localnet";
      must("ip", "netns", "exec", C1, BUSYBOX, "sh", "-c", `echo 1 >${c1Localnet}`);
      unreachable(C1, "127.0.0.53:9999");
    });
    await t.step(
      "a host port already published is a PortInUseError, and nothing is added",
      async () => {
        const other: PortMapping = { hostPort: 9090, containerPort: 80, protocol: "tcp" };
        await assert.rejects(
          () => publishPorts("10.213.1.2", [other, WEB], inH),
          (e: unknown) => e instanceof PortInUseError && e.ports.length === 1 && e.ports[0] === WEB,
        );
        unreachable(OUT, "192.0.2.2:9090");
        // and another container's unpublish of the same host port leaves it alone
        await assert.rejects(() => unpublishPorts("10.213.1.2", [WEB], inH), PortInUseError);
        assert.equal(fetchWho(OUT, "192.0.2.2:8080"), "c1 192.0.2.1");
      },
    );
    await t.step("unpublish removes the mapping, and is idempotent", async () => {
      await unpublishPorts("10.213.0.2", [WEB, LOCAL_ONLY], inH);
      await unpublishPorts("10.213.0.2", [WEB, LOCAL_ONLY], inH);
      unreachable(OUT, "192.0.2.2:8080");
      unreachable(H, "127.0.0.1:8080");
      unreachable(H, "127.0.0.1:8081");
      assert.equal(fetchWho(C1, "192.0.2.1:80"), "out 192.0.2.2");
    });
    await t.step("removing a network ends its NAT; removeAll leaves no table", async () => {
      await removeNetwork(NET1, inH);
      await removeNetwork(NET1, inH);
      assert.equal(fetchWho(C2, "192.0.2.1:80"), "out 10.213.1.2");
      assert.equal(fetchWho(C1, "192.0.2.1:80"), "out 192.0.2.2");
      await removeAll(inH);
      await removeAll(inH);
      assert.equal(await tableExists(inH), false);
      assert.equal(must("ip", "netns", "exec", H, "nft", "list", "tables"), "");
      await removeNetwork(NET0, inH); // with no table: nothing to do
    });
    await t.step("a container start with its network re-creates a missing table", async () => {
      await publishPorts("10.213.0.2", [WEB], { ...inH, network: NET0 });
      assert.equal(fetchWho(OUT, "192.0.2.2:8080"), "c1 192.0.2.1");
      assert.equal(fetchWho(C1, "192.0.2.1:80"), "out 192.0.2.2");
      await removeAll(inH);
      assert.equal(await tableExists(inH), false);
    });
  } finally {
    for (const s of servers) {
      try {
        s.kill("SIGTERM");
      } catch { /* already gone */ }
      await s.status;
    }
    for (const n of made.reverse()) sh(["ip", "netns", "del", n]);
    Deno.removeSync(dir, { recursive: true });
  }
  // Only ours: other test files run beside this one and make and remove namespaces of theirs.
  const left = must("ip", "netns", "list").split("\n").map((l) => l.split(" ")[0]);
  assert.deepEqual(left.filter((n) => [H, C1, C2, C3, C4, OUT].includes(n)), []);
  assert.equal(must("nft", "list", "tables"), tablesBefore);
  assert.equal(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_forward"), forwardBefore);
});
