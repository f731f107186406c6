import assert from "node:assert/strict";
import {
  parseAddHost,
  parseEnvFile,
  parseEnvFlags,
  parseExpose,
  parsePublish,
  parseVolume,
  requestEnv,
} from "../../src/cli/run_options.ts";
import { UsageError } from "../../src/util/errors.ts";
import { parseNetworkMode } from "../../src/config/network.ts";

Deno.test("parseVolume accepts HOST:CTR[:ro|rw] and refuses the rest", () => {
  assert.deepEqual(parseVolume("/data:/data"), {
    type: "bind",
    bind: { source: "/data", destination: "/data", readonly: false },
  });
  assert.deepEqual(parseVolume("/a/:/b:ro"), {
    type: "bind",
    bind: { source: "/a", destination: "/b", readonly: true, mode: "ro" },
  });
  // Named (`data:/data`) and anonymous (`/a`) volumes are volumes now, as Docker's.
  for (const bad of ["/a:b", "/a:/", "/a:/b:xx", "/a:/b:ro:z", "da/ta:/data"]) {
    assert.throws(() => parseVolume(bad), UsageError, bad);
  }
});

Deno.test("parseEnvFile reads KEY=VALUE, skips comments, and refuses keys with spaces", () => {
  const none = () => undefined;
  assert.deepEqual(parseEnvFile("f", "# c\nA=1\n\n  B=two words\n", none), ["A=1", "B=two words"]);
  assert.throws(() => parseEnvFile("f", "BAD KEY=1\n", none), /whitespace/);
  assert.deepEqual(parseEnvFile("f", "HOME\nUNSET\n", (k) => k === "HOME" ? "/h" : undefined), [
    "HOME=/h",
    "UNSET=",
  ]);
});

Deno.test("parseEnvFlags takes a bare KEY from the caller and drops it when unset", () => {
  const lookup = (k: string) => k === "USER" ? "root" : undefined;
  assert.deepEqual(parseEnvFlags(["A=1", "USER", "UNSET", "B="], lookup), [
    "A=1",
    "USER=root",
    "B=",
  ]);
  assert.throws(() => parseEnvFlags(["=x"], lookup), UsageError);
});

Deno.test("requestEnv reads env files before -e flags, and names a missing file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/vars`, "A=file\nB=file\n");
    assert.deepEqual(requestEnv([`${dir}/vars`], ["A=flag"], () => undefined), [
      "A=file",
      "B=file",
      "A=flag",
    ]);
    assert.throws(() => requestEnv([`${dir}/missing`], [], () => undefined), /open .*missing/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parsePublish reads Docker's -p forms, ranges and protocols", () => {
  assert.deepEqual(parsePublish("80"), [{ hostPort: 0, containerPort: 80, protocol: "tcp" }]);
  assert.deepEqual(parsePublish("8080:80"), [
    { hostPort: 8080, containerPort: 80, protocol: "tcp" },
  ]);
  assert.deepEqual(parsePublish("127.0.0.1:8080:80/udp"), [
    { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "udp" },
  ]);
  assert.deepEqual(parsePublish("127.0.0.1::80"), [
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, protocol: "tcp" },
  ]);
  assert.deepEqual(parsePublish("8080-8081:80-81").map((p) => [p.hostPort, p.containerPort]), [
    [8080, 80],
    [8081, 81],
  ]);
  assert.deepEqual(parsePublish("80-82").map((p) => p.hostPort), [0, 0, 0]);
  for (const bad of ["80/sctp", "x:80", "8080-8082:80-81", "0", "70000", "1:2:3:4", "81-80"]) {
    assert.throws(() => parsePublish(bad), UsageError, bad);
  }
});

Deno.test("parseExpose, parseAddHost and parseNetworkMode", () => {
  assert.deepEqual(parseExpose("80"), ["80/tcp"]);
  assert.deepEqual(parseExpose("53/udp"), ["53/udp"]);
  assert.deepEqual(parseExpose("8000-8002"), ["8000/tcp", "8001/tcp", "8002/tcp"]);
  assert.deepEqual(parseAddHost("db:10.0.0.5"), { name: "db", address: "10.0.0.5" });
  assert.deepEqual(parseAddHost("gw:host-gateway"), { name: "gw", address: "host-gateway" });
  assert.throws(() => parseAddHost("nocolon"), UsageError);
  assert.deepEqual(parseNetworkMode("none"), { kind: "none" });
  assert.deepEqual(parseNetworkMode("host"), { kind: "host" });
  assert.deepEqual(parseNetworkMode("container:web"), { kind: "container", container: "web" });
  assert.deepEqual(parseNetworkMode("bridge"), { kind: "bridge", network: "bridge" });
  assert.deepEqual(parseNetworkMode("backend"), { kind: "bridge", network: "backend" });
  assert.throws(() => parseNetworkMode("container:"), UsageError);
});
