import assert from "node:assert/strict";
import {
  buildSpec,
  mergeEnv,
  parseEnvFile,
  parseVolume,
  type RunRequest,
} from "../../src/container/spec.ts";
import type { ImageRecord } from "../../src/image/store.ts";
import { UsageError } from "../../src/util/errors.ts";

const image: ImageRecord = {
  id: "sha256:abc",
  layers: [],
  config: {
    Env: ["PATH=/bin", "FOO=image"],
    Cmd: ["sh"],
    Entrypoint: undefined,
    WorkingDir: "/srv",
  },
  created: "2024-01-01T00:00:00Z",
  size: 0,
};
const id = "0123456789abcdef".repeat(4);

function req(over: Partial<RunRequest> = {}): RunRequest {
  return {
    image: "busybox",
    command: [],
    env: [],
    envFiles: [],
    volumes: [],
    tty: false,
    interactive: false,
    detach: false,
    autoRemove: false,
    limits: {},
    ...over,
  };
}

Deno.test("buildSpec uses the image's Cmd, Env and WorkingDir by default", () => {
  const s = buildSpec(req(), image, id);
  assert.deepEqual(s.args, ["sh"]);
  assert.equal(s.cwd, "/srv");
  assert.equal(s.hostname, "0123456789ab");
  assert.ok(s.env.includes("PATH=/bin"));
  assert.ok(s.env.includes("FOO=image"));
  assert.ok(s.env.includes("HOSTNAME=0123456789ab"));
  assert.ok(s.env.includes("HOME=/root"));
  assert.ok(!s.env.some((e) => e.startsWith("TERM=")));
});

Deno.test("buildSpec: a trailing command replaces Cmd; --entrypoint clears Cmd", () => {
  assert.deepEqual(buildSpec(req({ command: ["echo", "a b"] }), image, id).args, ["echo", "a b"]);
  assert.deepEqual(buildSpec(req({ entrypoint: "/bin/env" }), image, id).args, ["/bin/env"]);
  assert.deepEqual(
    buildSpec(req({ entrypoint: "/bin/echo", command: ["x"] }), image, id).args,
    ["/bin/echo", "x"],
  );
  assert.throws(() => buildSpec(req({ entrypoint: "" }), image, id), UsageError);
});

Deno.test("buildSpec: -e overrides the image, TERM comes with a tty, bad values are refused", () => {
  const s = buildSpec(req({ env: ["FOO=cli", "NEW=1"], tty: true, hostname: "web" }), image, id);
  assert.ok(s.env.includes("FOO=cli") && !s.env.includes("FOO=image"));
  assert.ok(
    s.env.includes("NEW=1") && s.env.includes("TERM=xterm") && s.env.includes("HOSTNAME=web"),
  );
  assert.throws(() => buildSpec(req({ workdir: "relative" }), image, id), /absolute path/);
  assert.throws(() => buildSpec(req({ hostname: "bad_host!" }), image, id), /hostname/);
  assert.throws(() => buildSpec(req({ limits: { memoryBytes: 1024 } }), image, id), /6MB/);
  assert.throws(
    () => buildSpec(req({ limits: { memorySwapBytes: 1 << 30 } }), image, id),
    /Memory limit/,
  );
  assert.throws(
    () =>
      buildSpec(req({ limits: { memoryBytes: 64 << 20, memorySwapBytes: 32 << 20 } }), image, id),
    /larger than memory/,
  );
});

Deno.test("parseVolume accepts HOST:CTR[:ro|rw] and refuses the rest", () => {
  assert.deepEqual(parseVolume("/data:/data"), {
    source: "/data",
    destination: "/data",
    readonly: false,
  });
  assert.deepEqual(parseVolume("/a/:/b:ro"), { source: "/a", destination: "/b", readonly: true });
  for (const bad of ["data:/data", "/a:b", "/a:/", "/a:/b:xx", "/a", "/a:/b:ro:z"]) {
    assert.throws(() => parseVolume(bad), UsageError, bad);
  }
});

Deno.test("parseEnvFile reads KEY=VALUE, skips comments, and refuses keys with spaces", () => {
  assert.deepEqual(parseEnvFile("f", "# c\nA=1\n\n  B=two words\n"), ["A=1", "B=two words"]);
  assert.throws(() => parseEnvFile("f", "BAD KEY=1\n"), /whitespace/);
});

Deno.test("mergeEnv keeps the last value for each key, in first-seen order", () => {
  assert.deepEqual(mergeEnv(["A=1", "B=2"], ["A=3"]), ["A=3", "B=2"]);
});
