import assert from "node:assert/strict";
import { buildSpec as build, type SpecInputs } from "../../src/container/spec.ts";
import { mergeEnv } from "../../src/config/env.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { type RunRequest, validateRunRequest } from "../../src/config/run_request.ts";
import type { ImageRecord } from "../../src/image/store.ts";
import { runRequest } from "./fixtures.ts";

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

const req = runRequest;

/** Validates at the edge, then builds, as createContainer does. */
function buildSpec(
  r: RunRequest,
  img: ImageRecord,
  containerId: string,
  over?: Partial<SpecInputs>,
) {
  validateRunRequest(r);
  return build(r, img, {
    id: containerId,
    readImageFile: () => {
      throw new Deno.errors.NotFound("no image files");
    },
    initBinary: null,
    ...over,
  });
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
  assert.throws(() => buildSpec(req({ entrypoint: "" }), image, id), InvalidConfigError);
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

Deno.test("mergeEnv keeps the last value for each key, in first-seen order", () => {
  assert.deepEqual(mergeEnv(["A=1", "B=2"], ["A=3"]), ["A=3", "B=2"]);
});

Deno.test("validateRunRequest names the field it refuses; an empty name means a random one", () => {
  const field = (r: RunRequest) => {
    try {
      validateRunRequest(r);
      return null;
    } catch (e) {
      assert.ok(e instanceof InvalidConfigError, String(e));
      return e.field;
    }
  };
  assert.equal(field(req({ name: "" })), null);
  assert.equal(field(req({ name: "web-1" })), null);
  assert.equal(field(req({ name: "-web" })), "name");
  assert.equal(field(req({ hostname: "bad_host!" })), "hostname");
  assert.equal(field(req({ workdir: "rel" })), "workdir");
  assert.equal(field(req({ env: ["NOVALUE"] })), "env[0]");
  assert.equal(field(req({ env: ["A=1", "=x"] })), "env[1]");
  assert.equal(
    field(req({ mounts: [{ source: "/a", destination: "/", readonly: false }] })),
    "mounts[0].destination",
  );
  assert.equal(
    field(req({ mounts: [{ source: "a", destination: "/b", readonly: false }] })),
    "mounts[0].source",
  );
  assert.equal(field(req({ stopTimeout: -1 })), "stopTimeout");
  assert.equal(
    field(req({ restart: { name: "always" }, autoRemove: true, detach: true })),
    "restart",
  );
  assert.equal(field(req({ restart: { name: "always" } })), "restart");
  assert.equal(field(req({ restart: { name: "always" }, detach: true })), null);
});

Deno.test("buildSpec: --init needs the host's init binary and runs the command under it", () => {
  assert.throws(() => buildSpec(req({ init: true }), image, id), /--init needs/);
  const s = buildSpec(req({ init: true }), image, id, { initBinary: "/usr/bin/tini-static" });
  assert.deepEqual(s.args, ["/sbin/docker-init", "--", "sh"]);
  assert.deepEqual(s.mounts.at(-1), {
    source: "/usr/bin/tini-static",
    destination: "/sbin/docker-init",
    readonly: true,
  });
});

Deno.test("buildSpec resolves -u names in the image's own /etc/passwd", () => {
  const files: Record<string, string> = {
    "/etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:1000:1001::/home/web:/bin/sh\n",
    "/etc/group": "root:x:0:\nweb:x:1001:\n",
  };
  const readImageFile = (p: string) => {
    if (!(p in files)) throw new Deno.errors.NotFound(p);
    return files[p];
  };
  const s = buildSpec(req({ user: "web" }), image, id, { readImageFile });
  assert.deepEqual([s.uid, s.gid], [1000, 1001]);
  assert.throws(
    () => buildSpec(req({ user: "nobody" }), image, id, { readImageFile }),
    InvalidConfigError,
  );
});

Deno.test("the capability set and the security flags go into the spec", () => {
  const plain = buildSpec(req(), image, id);
  assert.equal(plain.capabilities?.length, 14);
  assert.equal(plain.privileged, undefined);
  const s = buildSpec(
    req({
      capAdd: ["sys_admin"],
      capDrop: ["ALL"],
      noNewPrivileges: true,
      securityOpt: ["no-new-privileges"],
    }),
    image,
    id,
  );
  assert.deepEqual(s.capabilities, ["CAP_SYS_ADMIN"]);
  assert.deepEqual([s.capAdd, s.capDrop], [["sys_admin"], ["ALL"]]);
  assert.equal(s.noNewPrivileges, true);
  assert.deepEqual(s.securityOpt, ["no-new-privileges"]);
  const p = buildSpec(req({ privileged: true, capDrop: ["ALL"] }), image, id);
  assert.equal(p.privileged, true);
  assert.equal(p.capabilities?.length, 41);
  assert.throws(() => buildSpec(req({ capAdd: ["WIZARD"] }), image, id), InvalidConfigError);
});
