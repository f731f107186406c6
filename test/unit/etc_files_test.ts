import assert from "node:assert/strict";
import { renderHosts, renderResolvConf } from "../../src/network/etc_files.ts";

Deno.test("renderHosts: own address and names, --add-host, members of the network", () => {
  const text = renderHosts({
    hostname: "abc123",
    ownIp: "172.18.0.2",
    ownNames: ["web", "frontend"],
    extraHosts: [{ ip: "10.0.0.5", names: ["db"] }],
    members: [{ ip: "172.18.0.3", names: ["api", "backend"] }],
  });
  const lines = text.trim().split("\n");
  assert.equal(lines[0], "127.0.0.1\tlocalhost");
  assert.ok(lines.includes("10.0.0.5\tdb"));
  assert.ok(lines.includes("172.18.0.2\tabc123 web frontend"));
  assert.ok(lines.includes("172.18.0.3\tapi backend"));
});

Deno.test("renderHosts: without a network the hostname is 127.0.1.1, as before", () => {
  const text = renderHosts({ hostname: "box", extraHosts: [], members: [] });
  assert.match(text, /^127\.0\.1\.1\tbox$/m);
});

Deno.test("renderResolvConf: loopback servers dropped, --dns, --dns-search, --dns-option", () => {
  const host = "# comment\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nsearch lan\noptions edns0\n";
  const none = { dns: [], dnsSearch: [], dnsOptions: [] };
  assert.equal(
    renderResolvConf(host, none),
    "nameserver 10.1.1.1\nsearch lan\noptions edns0\n",
  );
  assert.equal(
    renderResolvConf(host, { dns: ["192.0.2.53"], dnsSearch: ["corp"], dnsOptions: ["ndots:2"] }),
    "nameserver 192.0.2.53\nsearch corp\noptions ndots:2\n",
  );
  // Only loopback servers: Docker's fallback; on the host's network they stay.
  assert.equal(
    renderResolvConf("nameserver 127.0.0.53\n", none),
    "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
  );
  assert.equal(
    renderResolvConf("nameserver 127.0.0.53\n", none, { keepLoopback: true }),
    "nameserver 127.0.0.53\n",
  );
});
