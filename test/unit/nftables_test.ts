/** The nftables scripts, exactly as nft receives them, and how nft's failures are typed. */
import assert from "node:assert/strict";
import {
  addNetwork,
  addNetworkScript,
  applyNftScript,
  baseTableScript,
  markerScript,
  NftElementExistsError,
  NftError,
  nftErrorFrom,
  normalizeSubnet,
  PortInUseError,
  publishPorts,
  publishScript,
  removeAllScript,
  removeNetworkScript,
  unpublishPorts,
  unpublishScript,
} from "../../src/network/nftables.ts";
import { enableContainerRouting, writeSysctl } from "../../src/network/sysctl.ts";

const BASE = `add table ip m-docker
add set ip m-docker rules-v1 { type ifname; }
add set ip m-docker bridges { type ifname; }
add set ip m-docker internal { type ifname; }
add set ip m-docker same-bridge { type ifname . ifname; }
add set ip m-docker subnet-bridge { type ipv4_addr . ifname; flags interval; }
add set ip m-docker nat-subnets { type ipv4_addr; flags interval; }
add map ip m-docker tcp-addr-port { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
add map ip m-docker tcp-port { type inet_service : ipv4_addr . inet_service; }
add map ip m-docker udp-addr-port { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
add map ip m-docker udp-port { type inet_service : ipv4_addr . inet_service; }
add chain ip m-docker guard { type filter hook prerouting priority -150; policy accept; }
add chain ip m-docker prerouting { type nat hook prerouting priority -100; policy accept; }
add chain ip m-docker output { type nat hook output priority -100; policy accept; }
add chain ip m-docker postrouting { type nat hook postrouting priority 100; policy accept; }
add chain ip m-docker forward { type filter hook forward priority 0; policy accept; }
add chain ip m-docker published
flush chain ip m-docker guard
flush chain ip m-docker prerouting
flush chain ip m-docker output
flush chain ip m-docker postrouting
flush chain ip m-docker forward
flush chain ip m-docker published
add rule ip m-docker guard iifname @bridges ip daddr 127.0.0.0/8 drop
add rule ip m-docker prerouting fib daddr type local jump published
add rule ip m-docker output fib daddr type local jump published
add rule ip m-docker published dnat ip to ip daddr . tcp dport map @tcp-addr-port
add rule ip m-docker published dnat ip to tcp dport map @tcp-port
add rule ip m-docker published dnat ip to ip daddr . udp dport map @udp-addr-port
add rule ip m-docker published dnat ip to udp dport map @udp-port
add rule ip m-docker postrouting ip saddr @nat-subnets oifname != @bridges masquerade
add rule ip m-docker postrouting ct status dnat ip saddr . oifname @subnet-bridge masquerade
add rule ip m-docker postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade
add rule ip m-docker forward iifname . oifname @same-bridge accept
add rule ip m-docker forward iifname @internal drop
add rule ip m-docker forward oifname @internal drop
add rule ip m-docker forward ct state established,related accept
add rule ip m-docker forward ct status dnat accept
add rule ip m-docker forward oifname @bridges drop
`;

Deno.test("baseTableScript declares the table, flushes its chains and writes each rule once", () => {
  assert.equal(baseTableScript(), BASE);
});

Deno.test("a network is elements; an internal one has no NAT subnet", () => {
  assert.equal(
    addNetworkScript({ bridge: "md0", subnet: "10.213.0.1/24", internal: false }),
    `add element ip m-docker bridges { "md0" }
add element ip m-docker same-bridge { "md0" . "md0" }
add element ip m-docker subnet-bridge { 10.213.0.0/24 . "md0" }
add element ip m-docker nat-subnets { 10.213.0.0/24 }
`,
  );
  assert.equal(
    addNetworkScript({ bridge: "md-0123456789ab", subnet: "10.213.5.0/24", internal: true }),
    `add element ip m-docker bridges { "md-0123456789ab" }
add element ip m-docker same-bridge { "md-0123456789ab" . "md-0123456789ab" }
add element ip m-docker subnet-bridge { 10.213.5.0/24 . "md-0123456789ab" }
add element ip m-docker internal { "md-0123456789ab" }
`,
  );
});

Deno.test("removing a network adds then deletes each element, so it is idempotent", () => {
  assert.equal(
    removeNetworkScript({ bridge: "md0", subnet: "10.213.0.0/24", internal: false }),
    `add element ip m-docker bridges { "md0" }
delete element ip m-docker bridges { "md0" }
add element ip m-docker same-bridge { "md0" . "md0" }
delete element ip m-docker same-bridge { "md0" . "md0" }
add element ip m-docker subnet-bridge { 10.213.0.0/24 . "md0" }
delete element ip m-docker subnet-bridge { 10.213.0.0/24 . "md0" }
add element ip m-docker nat-subnets { 10.213.0.0/24 }
delete element ip m-docker nat-subnets { 10.213.0.0/24 }
`,
  );
});

const PORTS = [
  { hostPort: 8080, containerPort: 80, protocol: "tcp" as const },
  { hostIp: "127.0.0.1", hostPort: 8443, containerPort: 443, protocol: "tcp" as const },
  { hostIp: "0.0.0.0", hostPort: 53, containerPort: 5353, protocol: "udp" as const },
  { hostIp: "192.0.2.2", hostPort: 5000, containerPort: 5000, protocol: "udp" as const },
];

Deno.test("publishing creates one map element per port, keyed by address only with -p IP:", () => {
  assert.equal(
    publishScript("10.213.0.2", PORTS),
    `create element ip m-docker tcp-port { 8080 : 10.213.0.2 . 80 }
create element ip m-docker tcp-addr-port { 127.0.0.1 . 8443 : 10.213.0.2 . 443 }
create element ip m-docker udp-port { 53 : 10.213.0.2 . 5353 }
create element ip m-docker udp-addr-port { 192.0.2.2 . 5000 : 10.213.0.2 . 5000 }
`,
  );
});

Deno.test("unpublishing adds each element with this container's value before deleting it", () => {
  assert.equal(
    unpublishScript("10.213.0.2", PORTS.slice(0, 2)),
    `add element ip m-docker tcp-port { 8080 : 10.213.0.2 . 80 }
delete element ip m-docker tcp-port { 8080 : 10.213.0.2 . 80 }
add element ip m-docker tcp-addr-port { 127.0.0.1 . 8443 : 10.213.0.2 . 443 }
delete element ip m-docker tcp-addr-port { 127.0.0.1 . 8443 : 10.213.0.2 . 443 }
`,
  );
});

Deno.test("removeAll deletes the table even when it is absent", () => {
  assert.equal(removeAllScript(), "add table ip m-docker\ndelete table ip m-docker\n");
});

Deno.test("no input can smuggle nft syntax into a script", () => {
  const net = { subnet: "10.0.0.0/8", internal: false };
  assert.throws(() => addNetworkScript({ ...net, bridge: 'md0" }; flush ruleset; {' }), RangeError);
  assert.throws(() => addNetworkScript({ ...net, bridge: "a-name-too-long-16" }), RangeError);
  assert.throws(
    () => addNetworkScript({ ...net, bridge: "md0", subnet: "10.0.0.0/33" }),
    RangeError,
  );
  assert.throws(() => addNetworkScript({ ...net, bridge: "md0", subnet: "10.0.0.0" }), RangeError);
  const p = PORTS[0];
  assert.throws(() => publishScript("10.213.0.256", [p]), RangeError);
  assert.throws(() => publishScript("10.213.0.2; flush ruleset", [p]), RangeError);
  assert.throws(() => publishScript("10.213.0.2", [{ ...p, hostPort: 0 }]), RangeError);
  assert.throws(() => publishScript("10.213.0.2", [{ ...p, containerPort: 65536 }]), RangeError);
  assert.throws(() => publishScript("10.213.0.2", [{ ...p, hostIp: "::1" }]), RangeError);
  assert.throws(
    () => publishScript("10.213.0.2", [{ ...p, protocol: "sctp" as unknown as "tcp" }]),
    RangeError,
  );
});

Deno.test("normalizeSubnet clears host bits", () => {
  assert.equal(normalizeSubnet("10.213.7.9/16"), "10.213.0.0/16");
  assert.equal(normalizeSubnet("192.0.2.77/32"), "192.0.2.77/32");
  assert.equal(normalizeSubnet("1.2.3.4/0"), "0.0.0.0/0");
});

// nft 1.0.6's own words for a `create element` of an existing key (measured)
const EXISTS = `/dev/stdin:2:39-42: Error: Could not process rule: File exists
create element ip m-docker tcp-addr-port { 127.0.0.1 . 8443 : 10.213.0.2 . 443 }
                                      ^^^^
`;

Deno.test("nft's File exists becomes NftElementExistsError with the failing lines", () => {
  const e = nftErrorFrom("script", EXISTS, 1);
  assert.ok(e instanceof NftElementExistsError);
  assert.deepEqual(e.lines, [2]);
  assert.equal(e.stderr, EXISTS);
  assert.match(e.message, /^nft failed \(exit 1\): .*File exists$/);
  const other = nftErrorFrom("s", "/dev/stdin:1:1-3: Error: syntax error\n", 1);
  assert.ok(other instanceof NftError && !(other instanceof NftElementExistsError));
});

/** An `nft` stand-in: reads the script, prints `stderr` and exits with `code`. */
function fakeNft(stderr: string, code: number, saveTo?: string): string[] {
  const save = saveTo ? `cat >${saveTo}` : "cat >/dev/null";
  return ["sh", "-c", `${save}; printf '%s' "$0" >&2; exit ${code}`, stderr];
}

Deno.test("applyNftScript pipes the script to nft -f - and types nft's failure", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await applyNftScript("add table ip m-docker\n", { command: fakeNft("", 0, `${dir}/in`) });
    assert.equal(Deno.readTextFileSync(`${dir}/in`), "add table ip m-docker\n");
    await assert.rejects(
      () => applyNftScript("x\n", { command: fakeNft("Error: syntax error\n", 1) }),
      (e: unknown) => e instanceof NftError && e.stderr === "Error: syntax error\n",
    );
    await assert.rejects(
      () => applyNftScript("x\n", { command: ["/nonexistent/nft"] }),
      (e: unknown) => e instanceof NftError && /nftables/.test(e.message),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("publishPorts names the taken port in a PortInUseError", async () => {
  // publishPorts' batch starts with the marker line: nft's line 3 is ports[1]
  await assert.rejects(
    () => publishPorts("10.213.0.2", PORTS, { command: fakeNft(EXISTS.replace(":2:", ":3:"), 1) }),
    (e: unknown) =>
      e instanceof PortInUseError && e.ports.length === 1 && e.ports[0] === PORTS[1] &&
      e.message === "host port already published by m-docker: 127.0.0.1:8443/tcp",
  );
});

Deno.test("unpublishPorts maps an add line (two per port) back to its port", async () => {
  const stderr = EXISTS.replace(":2:", ":3:");
  await assert.rejects(
    () => unpublishPorts("10.213.0.2", PORTS, { command: fakeNft(stderr, 1) }),
    (e: unknown) => e instanceof PortInUseError && e.ports[0] === PORTS[1],
  );
});

Deno.test("enableContainerRouting writes ip_forward and route_localnet only when they differ", () => {
  const procSys = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${procSys}/net/ipv4/conf/md0`, { recursive: true });
    Deno.writeTextFileSync(`${procSys}/net/ipv4/ip_forward`, "0\n");
    Deno.writeTextFileSync(`${procSys}/net/ipv4/conf/md0/route_localnet`, "0\n");
    enableContainerRouting(["md0"], { procSys });
    assert.equal(Deno.readTextFileSync(`${procSys}/net/ipv4/ip_forward`), "1\n");
    assert.equal(Deno.readTextFileSync(`${procSys}/net/ipv4/conf/md0/route_localnet`), "1\n");
    assert.equal(writeSysctl("net/ipv4/ip_forward", "1", { procSys }), false);
    assert.throws(() => enableContainerRouting(["../../x"], { procSys }), RangeError);
  } finally {
    Deno.removeSync(procSys, { recursive: true });
  }
});

// nft 1.0.6's words for a batch whose table (or marker set) is missing (measured)
const NO_TABLE = `/dev/stdin:1:14-21: Error: No such file or directory
flush set ip m-docker rules-v1
             ^^^^^^^^
`;

/** An `nft` stand-in that appends each script to `log` and fails like nft on the marker. */
function fakeNftWithoutTable(log: string): string[] {
  return [
    "sh",
    "-c",
    `s=$(cat); printf '%s\\n---\\n' "$s" >>${log}; ` +
    `case "$s" in "flush set"*) printf '%s' "$0" >&2; exit 1;; esac`,
    NO_TABLE,
  ];
}

Deno.test("element batches check the rules' marker and write the base table only without it", async () => {
  assert.equal(markerScript(), "flush set ip m-docker rules-v1\n");
  const dir = Deno.makeTempDirSync();
  try {
    const net = { bridge: "md0", subnet: "10.213.0.0/24", internal: false };
    await addNetwork(net, { command: fakeNftWithoutTable(`${dir}/log`) });
    const body = addNetworkScript(net);
    assert.equal(
      Deno.readTextFileSync(`${dir}/log`),
      `${markerScript()}${body.trimEnd()}\n---\n${BASE}${body.trimEnd()}\n---\n`,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("publishPorts with a network: one batch of marker, ports, network", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const network = { bridge: "md0", subnet: "10.213.0.0/24", internal: false };
    await publishPorts("10.213.0.2", PORTS.slice(0, 1), {
      command: fakeNft("", 0, `${dir}/in`),
      network,
    });
    assert.equal(
      Deno.readTextFileSync(`${dir}/in`),
      markerScript() + publishScript("10.213.0.2", PORTS.slice(0, 1)) + addNetworkScript(network),
    );
    // nft numbers lines from the marker: line 3 is the second port
    await assert.rejects(
      () =>
        publishPorts("10.213.0.2", PORTS, { command: fakeNft(EXISTS.replace(":2:", ":3:"), 1) }),
      (e: unknown) => e instanceof PortInUseError && e.ports[0] === PORTS[1],
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
