/**
 * Networking as Docker has it, for real: the default bridge with NAT, published ports (TCP,
 * UDP, on the host's address, on 127.0.0.1, hairpin), user networks that resolve members by
 * name, isolation, internal networks, none/host/container:, resolver options, and cleanup
 * after crashes. m-docker runs in a network namespace of the test's own ("the host"), with a
 * second one as "the outside" (NetSandbox); nothing touches the machine's own network.
 */
import assert from "node:assert/strict";
import { asRoot, NetSandbox, waitFor } from "./harness.ts";

const sb = new NetSandbox();
const OUT = NetSandbox.OUTSIDE_IP;
const HOST = NetSandbox.HOST_IP;
const fixtures = new URL("./fixtures/", import.meta.url).pathname;

/** The outside world's web server: `/` says hello, `/cgi-bin/ip` the client's address. */
let outsideReady = false;
async function outside(): Promise<void> {
  if (outsideReady) return;
  const www = `${sb.dir}/outside-www`;
  Deno.mkdirSync(`${www}/cgi-bin`, { recursive: true });
  Deno.writeTextFileSync(`${www}/index.html`, "hello from outside\n");
  Deno.writeTextFileSync(
    `${www}/cgi-bin/ip`,
    '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n',
    { mode: 0o755 },
  );
  sb.serve(["busybox", "httpd", "-f", "-p", "80", "-h", www]);
  sb.serve([Deno.execPath(), "run", "-A", `${fixtures}dns_server.ts`, `www.outside.test=${OUT}`]);
  await waitFor(
    () => sb.exec(["busybox", "wget", "-q", "-O", "-", `http://${OUT}/`], "host", false) !== "",
    {
      what: "the outside web server",
    },
  );
  outsideReady = true;
}

/** A web server in a container, answering `who` on port 80. */
const httpd = (who: string) =>
  `mkdir -p /www && echo ${who} > /www/index.html && exec httpd -f -p 80 -h /www`;

async function fetchFrom(where: "host" | "outside", url: string): Promise<string> {
  let body = "";
  await waitFor(() => {
    // busybox wget's own -T crashes it (exit 139): bound it from outside.
    body = sb.exec(["timeout", "3", "busybox", "wget", "-q", "-O", "-", url], where, false);
    return body !== "";
  }, { what: `${url} from the ${where}` });
  return body;
}

Deno.test({
  name: "bridge: eth0, a default route via the gateway, and NAT to the outside",
  ...asRoot,
}, async () => {
  await outside();
  const out = await sb.ok([
    "run",
    "--rm",
    "busybox",
    "sh",
    "-c",
    `ip -4 -o addr show eth0; ip route; wget -q -O - http://${OUT}/; wget -q -O - http://${OUT}/cgi-bin/ip`,
  ]);
  assert.match(out, /eth0\s+inet 172\.17\.0\.\d+\/16/);
  assert.match(out, /default via 172\.17\.0\.1 dev eth0/);
  assert.match(out, /hello from outside/);
  // Masqueraded: the outside sees the host's address, not the container's.
  assert.match(out, new RegExp(`^\\[?(::ffff:)?${HOST.replaceAll(".", "\\.")}\\]?$`, "m"));
});

Deno.test(
  { name: "bridge: a name the outside's DNS server answers resolves (--dns)", ...asRoot },
  async () => {
    await outside();
    const out = await sb.ok([
      "run",
      "--rm",
      "--dns",
      OUT,
      "--dns-search",
      "outside.test",
      "--dns-option",
      "ndots:1",
      "busybox",
      "sh",
      "-c",
      "cat /etc/resolv.conf; nslookup www.outside.test; ping -c1 -W2 www",
    ]);
    assert.match(out, new RegExp(`nameserver ${OUT}\\nsearch outside.test\\noptions ndots:1`));
    assert.match(out, new RegExp(`Address: ${OUT.replaceAll(".", "\\.")}`));
    assert.match(out, /1 packets received/);
  },
);

Deno.test({
  name:
    "-p: a published port answers from outside, on the host's addresses and 127.0.0.1, and by hairpin",
  ...asRoot,
}, async () => {
  const id = (await sb.ok([
    "run",
    "-d",
    "--name",
    "web",
    "-p",
    "8080:80",
    "busybox",
    "sh",
    "-c",
    httpd("web"),
  ])).trim();
  assert.equal(await fetchFrom("outside", `http://${HOST}:8080/`), "web\n");
  assert.equal(await fetchFrom("host", `http://${HOST}:8080/`), "web\n");
  assert.equal(await fetchFrom("host", "http://127.0.0.1:8080/"), "web\n");
  // A container reaches it through the host's address, and so does the container itself.
  assert.equal(
    await sb.ok(["run", "--rm", "busybox", "wget", "-q", "-O", "-", `http://${HOST}:8080/`]),
    "web\n",
  );
  assert.equal(
    await sb.ok(["exec", "web", "wget", "-q", "-O", "-", `http://${HOST}:8080/`]),
    "web\n",
  );
  assert.equal((await sb.ok(["port", "web"])).trim(), "80/tcp -> 0.0.0.0:8080");
  assert.equal((await sb.ok(["port", "web", "80"])).trim(), "0.0.0.0:8080");
  assert.match(await sb.ok(["ps"]), /0\.0\.0\.0:8080->80\/tcp/);
  const doc = await sb.inspect("web");
  assert.deepEqual(doc.NetworkSettings.Ports["80/tcp"], [{ HostIp: "0.0.0.0", HostPort: "8080" }]);
  assert.match(doc.NetworkSettings.IPAddress, /^172\.17\.0\.\d+$/);
  assert.equal(doc.NetworkSettings.Gateway, "172.17.0.1");
  assert.match(doc.NetworkSettings.MacAddress, /^02:42:ac:11:00:/);
  assert.equal(doc.NetworkSettings.Networks.bridge.IPAddress, doc.NetworkSettings.IPAddress);
  // The same host port again: refused, nothing created.
  const before = sb.containerIds().length;
  const taken = await sb.run(["run", "-d", "-p", "8080:80", "busybox", "sleep", "5"]);
  assert.equal(taken.code, 125, taken.stderr);
  assert.match(taken.stderr, /Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
  assert.equal(sb.containerIds().length, before);
  await sb.ok(["rm", "-f", id]);
  assert.deepEqual(sb.leftoverPorts(), []);
});

Deno.test({ name: "-p IP:HOST:CONTAINER/udp and -P with --expose", ...asRoot }, async () => {
  // busybox has no UDP server: the container runs the test's DNS server with the host's
  // Deno, its libraries bind-mounted read-only, and answers on a published UDP port.
  const deno = Deno.realPathSync(Deno.execPath());
  await sb.ok([
    "run",
    "-d",
    "--name",
    "udp",
    "-p",
    `${HOST}:53:53/udp`,
    "-v",
    "/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro",
    "-v",
    "/lib64:/lib64:ro",
    "-v",
    `${deno}:/deno:ro`,
    "-v",
    `${fixtures}:/fx:ro`,
    "-e",
    "DENO_DIR=/tmp/deno",
    "-e",
    "HOME=/tmp",
    "busybox",
    "/deno",
    "run",
    "-A",
    "--quiet",
    "/fx/dns_server.ts",
    "www.udp.test=10.9.8.7",
  ]);
  await waitFor(
    () =>
      sb.exec(["timeout", "3", "busybox", "nslookup", "www.udp.test", HOST], "outside", false)
        .includes("10.9.8.7"),
    { what: "a DNS answer from the container through its published UDP port" },
  );
  await sb.ok(["rm", "-f", "udp"]);
  await sb.ok([
    "run",
    "-d",
    "--name",
    "pall",
    "--expose",
    "80",
    "-P",
    "busybox",
    "sh",
    "-c",
    httpd("pall"),
  ]);
  const mapping = (await sb.ok(["port", "pall", "80/tcp"])).trim();
  const hostPort = Number(mapping.split(":")[1]);
  assert.ok(hostPort >= 49153 && hostPort <= 65535, mapping);
  assert.equal(await fetchFrom("outside", `http://${HOST}:${hostPort}/`), "pall\n");
  await sb.ok(["rm", "-f", "pall"]);
});

Deno.test({
  name:
    "user networks: members find each other by name and alias; other networks cannot reach them; --internal stays inside",
  ...asRoot,
}, async () => {
  await outside();
  await sb.ok(["network", "create", "front"]);
  await sb.ok(["network", "create", "--subnet", "10.77.0.0/24", "--internal", "vault"]);
  await sb.ok([
    "run",
    "-d",
    "--name",
    "api",
    "--network",
    "front",
    "--network-alias",
    "apisvc",
    "busybox",
    "sh",
    "-c",
    httpd("api"),
  ]);
  const api = await sb.inspect("api");
  const apiIp = api.NetworkSettings.Networks.front.IPAddress;
  assert.match(apiIp, /^172\.18\.0\.\d+$/);
  assert.equal(api.NetworkSettings.IPAddress, "", "top-level fields are the default bridge's");
  const byName = await sb.ok([
    "run",
    "--rm",
    "--network",
    "front",
    "busybox",
    "sh",
    "-c",
    "ping -c1 -W2 api >/dev/null && ping -c1 -W2 apisvc >/dev/null && grep -w api /etc/hosts; cat /etc/resolv.conf; nslookup api; nslookup apisvc",
  ]);
  const ipRe = apiIp.replaceAll(".", "\\.");
  assert.match(byName, new RegExp(`${ipRe}\\s+api apisvc`));
  // The embedded DNS server (nslookup asks it, not /etc/hosts) knows names and aliases.
  assert.match(byName, /nameserver 127\.0\.0\.11/);
  assert.match(byName, new RegExp(`Name:\\s+api\\nAddress: ${ipRe}`));
  assert.match(byName, new RegExp(`Name:\\s+apisvc\\nAddress: ${ipRe}`));
  // Names it does not know it relays to --dns (here the outside's server).
  const relayed = await sb.ok([
    "run",
    "--rm",
    "--network",
    "front",
    "--dns",
    OUT,
    "busybox",
    "nslookup",
    "www.outside.test",
  ]);
  assert.match(relayed, new RegExp(`Address: ${OUT.replaceAll(".", "\\.")}`));
  // The default bridge has no names, and cannot reach front's containers.
  const other = await sb.run(["run", "--rm", "busybox", "ping", "-c1", "-W1", apiIp]);
  assert.notEqual(other.code, 0, "another network reaches api");
  // --internal: no route out, but members reach each other.
  await sb.ok([
    "run",
    "-d",
    "--name",
    "safe",
    "--network",
    "vault",
    "--ip",
    "10.77.0.50",
    "busybox",
    "sleep",
    "60",
  ]);
  assert.equal((await sb.inspect("safe")).NetworkSettings.Networks.vault.IPAddress, "10.77.0.50");
  const leak = await sb.run([
    "run",
    "--rm",
    "--network",
    "vault",
    "busybox",
    "wget",
    "-q",
    "-O",
    "-",
    `http://${OUT}/`,
  ]);
  assert.notEqual(leak.code, 0, "an internal network reached the outside");
  assert.equal(
    (await sb.run(["run", "--rm", "--network", "vault", "busybox", "ping", "-c1", "-W2", "safe"]))
      .code,
    0,
  );
  // connect and disconnect take effect at once.
  await sb.ok(["network", "connect", "vault", "api"]);
  assert.match(
    await sb.ok(["exec", "api", "ip", "-4", "-o", "addr"]),
    /eth1\s+inet 10\.77\.0\.\d+\/24/,
  );
  assert.equal((await sb.run(["exec", "safe", "ping", "-c1", "-W2", "api"])).code, 0);
  await sb.ok(["network", "disconnect", "vault", "api"]);
  assert.doesNotMatch(await sb.ok(["exec", "api", "ip", "-4", "-o", "addr"]), /eth1/);
  assert.doesNotMatch(await sb.ok(["exec", "safe", "cat", "/etc/hosts"]), /\sapi\b/);
  const busy = await sb.run(["network", "rm", "front"]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /has active endpoints/);
  await sb.ok(["rm", "-f", "api", "safe"]);
  assert.equal((await sb.ok(["network", "rm", "front", "vault"])).trim(), "front\nvault");
  assert.doesNotMatch(await sb.ok(["network", "ls"]), /front|vault/);
});

Deno.test({
  name: "network create refuses a taken name and an overlapping subnet; ls, inspect, prune",
  ...asRoot,
}, async () => {
  await sb.ok(["network", "create", "--subnet", "10.66.0.0/16", "--label", "team=a", "one"]);
  const dup = await sb.run(["network", "create", "one"]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /network with name one already exists/);
  const overlap = await sb.run(["network", "create", "--subnet", "10.66.1.0/24", "two"]);
  assert.equal(overlap.code, 1);
  assert.match(overlap.stderr, /overlaps/);
  const ls = await sb.ok(["network", "ls"]);
  assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
  for (const n of ["bridge", "host", "none", "one"]) assert.match(ls, new RegExp(`\\s${n}\\s`));
  assert.equal(
    (await sb.ok(["network", "ls", "--format", "{{.Name}}"])).trim().split("\n").length,
    4,
  );
  const doc = JSON.parse(await sb.ok(["network", "inspect", "one"]))[0];
  assert.deepEqual(doc.IPAM.Config, [{ Subnet: "10.66.0.0/16", Gateway: "10.66.0.1" }]);
  assert.deepEqual(doc.Labels, { team: "a" });
  // inspect finds a network too (its code loads only when no container or image is named so).
  assert.deepEqual(JSON.parse(await sb.ok(["inspect", "one"]))[0], doc);
  assert.deepEqual(JSON.parse(await sb.ok(["inspect", "--type", "network", "one"]))[0], doc);
  const missing = await sb.run(["network", "inspect", "nope"]);
  assert.equal(missing.code, 1);
  assert.match(await sb.ok(["network", "prune", "-f"]), /Deleted Networks:\none/);
  const bad = await sb.run(["run", "--rm", "--network", "nope", "busybox", "true"]);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /network nope not found/);
});

Deno.test({
  name:
    "--network none, host and container:; --add-host and host-gateway; --hostname in /etc/hosts",
  ...asRoot,
}, async () => {
  assert.doesNotMatch(
    await sb.ok(["run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"]),
    /eth0/,
  );
  assert.match(
    await sb.ok(["run", "--rm", "--network", "host", "busybox", "ip", "-o", "link"]),
    /tst-up/,
  );
  await sb.ok(["run", "-d", "--name", "base", "busybox", "sleep", "60"]);
  const baseIp = (await sb.inspect("base")).NetworkSettings.IPAddress;
  const shared = await sb.ok([
    "run",
    "--rm",
    "--network",
    "container:base",
    "busybox",
    "ip",
    "-4",
    "-o",
    "addr",
    "show",
    "eth0",
  ]);
  assert.match(shared, new RegExp(baseIp.replaceAll(".", "\\.")));
  const hosts = await sb.ok([
    "run",
    "--rm",
    "--hostname",
    "box",
    "--add-host",
    "db:10.1.2.3",
    "--add-host",
    "gw:host-gateway",
    "busybox",
    "cat",
    "/etc/hosts",
  ]);
  assert.match(hosts, /^10\.1\.2\.3\tdb$/m);
  assert.match(hosts, /^172\.17\.0\.1\tgw$/m);
  assert.match(hosts, /^172\.17\.0\.\d+\tbox$/m);
  await sb.ok(["rm", "-f", "base"]);
  const conflict = await sb.run([
    "run",
    "--rm",
    "--network",
    "host",
    "-p",
    "80:80",
    "busybox",
    "true",
  ]);
  assert.equal(conflict.code, 125);
});

Deno.test({
  name: "50 concurrent run -d on one network get 50 distinct addresses, all freed on rm",
  ...asRoot,
}, async () => {
  await sb.ok(["network", "create", "crowd"]);
  const runs = await Promise.all(
    Array.from(
      { length: 50 },
      () => sb.run(["run", "-d", "--network", "crowd", "busybox", "sleep", "60"]),
    ),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const ids = runs.map((r) => r.stdout.trim());
  const doc = JSON.parse(await sb.ok(["network", "inspect", "crowd"]))[0];
  const ips = Object.values(doc.Containers).map((c) => (c as { IPv4Address: string }).IPv4Address);
  assert.equal(new Set(ips).size, 50);
  await sb.ok(["rm", "-f", ...ids]);
  assert.deepEqual(JSON.parse(await sb.ok(["network", "inspect", "crowd"]))[0].Containers, {});
  await sb.ok(["network", "rm", "crowd"]);
});

Deno.test({
  name: "kill -9 of the shim or the CLI: the next ps and rm -f leave no veth, rule or address",
  ...asRoot,
}, async () => {
  const id = (await sb.ok(["run", "-d", "-p", "8181:80", "busybox", "sleep", "60"])).trim();
  const shim = (await sb.inspect(id)).State.Pid; // the container's PID 1; its shim is its parent
  const ppid = Number(Deno.readTextFileSync(`/proc/${shim}/stat`).split(") ")[1].split(" ")[1]);
  Deno.kill(ppid, "SIGKILL");
  await sb.ok(["ps", "-a"]);
  await sb.ok(["rm", "-f", id]);
  // A foreground run killed while it runs.
  const [program, ...argv] = sb.commandLine([
    "run",
    "--name",
    "fg",
    "-p",
    "8282:80",
    "busybox",
    "sleep",
    "60",
  ]);
  const cli = new Deno.Command(program, {
    args: argv,
    env: sb.env(),
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitFor(async () => (await sb.run(["inspect", "fg"])).stdout.includes('"running"'), {
    what: "the foreground container to run",
  });
  cli.kill("SIGKILL");
  await cli.status;
  await sb.ok(["rm", "-f", "fg"]);
  assert.deepEqual(sb.leftoverPorts(), []);
  // Its port is free again.
  await sb.ok(["run", "--rm", "-p", "8282:80", "-p", "8181:80", "busybox", "true"]);
});

Deno.test({
  name: "a container that dies unseen: the next ps gives back its address and published port",
  ...asRoot,
}, async () => {
  const id = (await sb.ok(["run", "-d", "-p", "8383:80", "busybox", "sleep", "60"])).trim();
  const pid = (await sb.inspect(id)).State.Pid;
  const monitor = JSON.parse(Deno.readTextFileSync(`${sb.state}/${id}/state.json`)).monitorPid;
  const exited = (p: number) => {
    try {
      return /\) [ZX]/.test(Deno.readTextFileSync(`/proc/${p}/stat`));
    } catch {
      return true;
    }
  };
  Deno.kill(monitor, "SIGKILL");
  await waitFor(() => exited(monitor), { what: "the monitor's death" });
  Deno.kill(pid, "SIGKILL");
  await waitFor(() => exited(pid), { what: "the container's death" });
  // Only ps runs: what gives the address and the port back is its repair of the record.
  assert.match(await sb.ok(["ps", "-a"]), /Exited \(255\)/);
  const table = JSON.parse(Deno.readTextFileSync(`${sb.root}/network/networks.json`));
  const held = (list: Array<{ containerId: string }>) => list.filter((e) => e.containerId === id);
  assert.deepEqual([held(table.endpoints), held(table.ports)], [[], []], "address and port back");
  assert.deepEqual(sb.leftoverPorts(), [], "its port is out of the firewall");
  await sb.ok(["rm", id]);
  await sb.ok(["run", "--rm", "-p", "8383:80", "busybox", "true"]);
});

Deno.test({
  name: "cleanup: nothing left behind (containers, veths, rules, addresses, namespaces)",
  ...asRoot,
}, async () => {
  await sb.cleanup();
});
