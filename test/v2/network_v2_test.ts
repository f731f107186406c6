/**
 * Networking on a pure cgroup v2 kernel (Debian's 6.1, in the qemu guest): the default
 * bridge with a published port (from the guest itself, on 127.0.0.1 and by hairpin) and a
 * user network whose members find each other by name. The guest is a machine of its own, so
 * its network namespace is the "host" here. Anywhere else these tests are skipped: on a real
 * machine they would make the default bridge in its own network namespace.
 */
import assert from "node:assert/strict";
import { Sandbox, waitFor } from "../integration/harness.ts";
import { v2Only } from "./guest.ts";

const sb = new Sandbox();
if (v2Only.ignore) Deno.removeSync(sb.dir, { recursive: true }); // nothing will use it here
const bridge = { env: { M_DOCKER_DEFAULT_NETWORK: "bridge" } };

Deno.test({
  name: "v2 network: bridge address, published port on 127.0.0.1 and by hairpin",
  ...v2Only,
}, async () => {
  const addr = await sb.ok(
    ["run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"],
    bridge,
  );
  assert.match(addr, /inet 172\.17\.0\.\d+\/16/);
  const id = (await sb.ok([
    "run",
    "-d",
    "-p",
    "8080:80",
    "busybox",
    "sh",
    "-c",
    "mkdir -p /www && echo v2web > /www/index.html && exec httpd -f -p 80 -h /www",
  ], bridge)).trim();
  let body = "";
  await waitFor(() => {
    const out = new Deno.Command("busybox", {
      args: ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    body = new TextDecoder().decode(out.stdout);
    return body === "v2web\n";
  }, { what: "the published port on 127.0.0.1", timeoutMs: 60_000 });
  assert.equal(
    await sb.ok(
      ["run", "--rm", "busybox", "wget", "-q", "-O", "-", "http://172.17.0.1:8080/"],
      bridge,
    ),
    "v2web\n",
  );
  await sb.ok(["rm", "-f", id]);
});

Deno.test(
  { name: "v2 network: members of a user network find each other by name", ...v2Only },
  async () => {
    await sb.ok(["network", "create", "v2net"]);
    await sb.ok(["run", "-d", "--name", "peer", "--network", "v2net", "busybox", "sleep", "120"]);
    const ping = await sb.run([
      "run",
      "--rm",
      "--network",
      "v2net",
      "busybox",
      "ping",
      "-c1",
      "-W5",
      "peer",
    ]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    await sb.ok(["rm", "-f", "peer"]);
    await sb.ok(["network", "rm", "v2net"]);
  },
);

Deno.test({ name: "v2 network: cleanup, nothing left", ...v2Only }, async () => {
  await sb.cleanup();
  // Veths go with their containers' namespaces, which the kernel tears down on its own time.
  const links = () =>
    new TextDecoder().decode(
      new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).outputSync().stdout,
    );
  await waitFor(() => !/: md[0-9a-f]{11}/.test(links()), {
    what: "containers' veths to go",
    timeoutMs: 60_000,
    detail: links,
  });
});
