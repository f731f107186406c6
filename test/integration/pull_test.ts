/**
 * `pull` from a real registry: Debian's docker-registry (the CNCF distribution registry)
 * started by this test on 127.0.0.1, images built here as OCI layouts and pushed with
 * skopeo: several layers with a whiteout and an opaque directory, OCI and Docker v2 schema 2
 * manifests, and an index with two platforms.
 */
import assert from "node:assert/strict";
import { writeTar } from "../../src/image/tar_writer.ts";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";
import { haveRegistryTools, skopeo, TestRegistry } from "./registry.ts";

const sb = new Sandbox();
const opts = { ...asRoot, ignore: asRoot.ignore || !haveRegistryTools };
if (!haveRegistryTools) {
  console.warn("pull tests need docker-registry and skopeo (.ci/run installs them)");
}

const text = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => text(JSON.stringify(v));

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return `sha256:${[...d].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

async function gzip(b: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await new Response(new Blob([b]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
}

/** Writes a blob into an OCI layout and returns its descriptor. */
async function blob(layout: string, mediaType: string, bytes: Uint8Array<ArrayBuffer>) {
  const digest = await sha256(bytes);
  Deno.writeFileSync(`${layout}/blobs/sha256/${digest.slice(7)}`, bytes);
  return { mediaType, digest, size: bytes.length };
}

const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const CONFIG = "application/vnd.oci.image.config.v1+json";

/** An OCI layout with tag v1 (two layers, whiteouts) and tag multi (an amd64+arm64 index). */
async function buildLayout(): Promise<string> {
  const layout = `${sb.dir}/layout`;
  Deno.mkdirSync(`${layout}/blobs/sha256`, { recursive: true });
  Deno.writeTextFileSync(`${layout}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  const bottom = writeTar([
    { name: "bin", type: "directory" },
    { name: "bin/busybox", body: Deno.readFileSync("/bin/busybox"), mode: 0o755 },
    { name: "bin/sh", type: "symlink", linkname: "busybox" },
    { name: "dir", type: "directory" },
    { name: "dir/a", body: text("a") },
    { name: "dir/b", body: text("b") },
    { name: "keep", type: "directory" },
    { name: "keep/old", body: text("old") },
    // What Docker accepts: a relative symlink that climbs above the root (it resolves inside
    // the container), an absolute name (applied as tmp/x), and a symlink out of the layer
    // that the next layer writes below: its own directory, in its own layer.
    { name: "etc/deep", type: "symlink", linkname: "../../../../keep/new" },
    { name: "/tmp/x", body: text("absolute\n") },
    { name: "through", type: "symlink", linkname: `${sb.dir}/outside` },
  ]);
  const top = writeTar([
    { name: "through/file", body: text("upper\n") },
    { name: "dir/.wh.a", body: new Uint8Array() },
    { name: "keep/.wh..wh..opq", body: new Uint8Array() },
    { name: "keep/new", body: text("new") },
    { name: "hello", body: text("hello from the top layer\n") },
  ]);
  const layers = [
    await blob(layout, LAYER, await gzip(bottom)),
    await blob(layout, LAYER, await gzip(top)),
  ];
  const diffIds = [await sha256(bottom), await sha256(top)];
  const manifestFor = async (arch: string) => {
    const config = await blob(
      layout,
      CONFIG,
      json({
        architecture: arch,
        os: "linux",
        created: "2024-01-01T00:00:00Z",
        config: {
          Env: ["PATH=/bin", `ARCH=${arch}`],
          Cmd: ["/bin/sh", "-c", "cat /hello; echo ARCH=$ARCH; pwd"],
          WorkingDir: "/work",
          StopSignal: "SIGQUIT",
          Labels: { "org.example.team": "runtime" },
          ExposedPorts: { "8080/tcp": {} },
        },
        rootfs: { type: "layers", diff_ids: diffIds },
      }),
    );
    return await blob(
      layout,
      MANIFEST,
      json({ schemaVersion: 2, mediaType: MANIFEST, config, layers }),
    );
  };
  const amd64 = await manifestFor("amd64");
  const arm64 = await manifestFor("arm64");
  const index = await blob(
    layout,
    "application/vnd.oci.image.index.v1+json",
    json({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { ...arm64, platform: { os: "linux", architecture: "arm64" } },
        { ...amd64, platform: { os: "linux", architecture: "amd64" } },
      ],
    }),
  );
  Deno.writeTextFileSync(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { ...amd64, annotations: { "org.opencontainers.image.ref.name": "v1" } },
        { ...index, annotations: { "org.opencontainers.image.ref.name": "multi" } },
      ],
    }),
  );
  return layout;
}

let registry: TestRegistry | undefined;
let port = 0;

/** Starts the registry and pushes the test images: once, for the first test that needs them. */
async function setUpRegistry(): Promise<void> {
  registry = await TestRegistry.start(sb.dir);
  port = registry.port;
  const layout = await buildLayout();
  const repo = `127.0.0.1:${port}/test/img`;
  await skopeo("copy", "--dest-tls-verify=false", `oci:${layout}:v1`, `docker://${repo}:v1`);
  await skopeo(
    "copy",
    "--dest-tls-verify=false",
    "--format",
    "v2s2",
    `oci:${layout}:v1`,
    `docker://${repo}:v2s2`,
  );
  await skopeo(
    "copy",
    "--all",
    "--dest-tls-verify=false",
    `oci:${layout}:multi`,
    `docker://${repo}:multi`,
  );
}

let fixture: Promise<void> | undefined;

/**
 * The registry with the test images, set up by the first test that asks (a failure fails
 * every test that needs it); the last test stops it.
 */
function registryReady(): Promise<void> {
  return fixture ??= setUpRegistry();
}

/** A pull test: it runs once the registry is ready. */
function pullTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ...opts }, async () => {
    await registryReady();
    await fn();
  });
}

pullTest(
  "pull an OCI image with whiteouts, run it with its config",
  async () => {
    const ref = `127.0.0.1:${port}/test/img:v1`;
    const out = await sb.ok(["pull", ref]);
    assert.match(out, /Pull complete/);
    assert.match(out, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/test\/img:v1/);
    assert.match(await sb.ok(["images"]), /127\.0\.0\.1:\d+\/test\/img\s+v1\s+[0-9a-f]{12}/);
    assert.equal(
      await sb.ok(["run", "--rm", ref]),
      "hello from the top layer\nARCH=amd64\n/work\n",
    );
    // The whiteout hides dir/a; the opaque directory hides everything below keep/.
    assert.equal(
      await sb.ok(["run", "--rm", ref, "/bin/busybox", "ls", "/dir", "/keep"]),
      "/dir:\nb\n\n/keep:\nnew\n",
    );
    assert.equal(
      await sb.ok([
        "run",
        "--rm",
        ref,
        "/bin/busybox",
        "sh",
        "-c",
        "readlink /etc/deep; cat /etc/deep /tmp/x /through/file",
      ]),
      "../../../../keep/new\nnewabsolute\nupper\n",
    );
    assert.throws(() => Deno.lstatSync(`${sb.dir}/outside`), Deno.errors.NotFound);
    // The image's StopSignal becomes the container's.
    await sb.ok(["run", "--name", "sig", ref, "/bin/busybox", "true"]);
    const sig = await sb.inspect("sig");
    assert.equal(sig.Config.StopSignal, "SIGQUIT");
    assert.deepEqual(sig.Config.Labels, { "org.example.team": "runtime" });
    assert.deepEqual(sig.Config.ExposedPorts, { "8080/tcp": {} });
    const image = JSON.parse(await sb.ok(["image", "inspect", ref]))[0];
    assert.deepEqual(image.Config.Labels, { "org.example.team": "runtime" });
    // Docker's RepoDigests, and the digest `pull` printed, in `images --digests`.
    const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(out)![1];
    assert.deepEqual(image.RepoDigests, [`127.0.0.1:${port}/test/img@${digest}`]);
    assert.match(
      await sb.ok(["images", "--digests", "--format", "{{.Repository}} {{.Digest}}"]),
      new RegExp(`^127\\.0\\.0\\.1:${port}/test/img ${digest}$`, "m"),
    );
    await sb.ok(["rm", "sig"]);
    // Pulling again shares the layers: nothing is downloaded twice.
    assert.match(await sb.ok(["pull", ref]), /Already exists/);
  },
);

pullTest("pull a Docker v2 schema 2 manifest", async () => {
  const ref = `127.0.0.1:${port}/test/img:v2s2`;
  await sb.ok(["pull", ref]);
  assert.match(await sb.ok(["run", "--rm", ref]), /hello from the top layer/);
});

pullTest("pull an index: the host's platform, or --platform", async () => {
  const ref = `127.0.0.1:${port}/test/img:multi`;
  await sb.ok(["pull", ref]);
  assert.match(await sb.ok(["run", "--rm", ref]), /ARCH=amd64/);
  const bad = await sb.run(["pull", "--platform", "linux/s390x", ref]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no matching manifest for linux\/s390x/);
});

pullTest("run pulls a missing image; --pull never refuses", async () => {
  const ref = `127.0.0.1:${port}/test/img:v2s2`;
  const fresh = new Sandbox();
  try {
    const never = await fresh.run(["run", "--rm", "--pull", "never", ref]);
    assert.equal(never.code, 125);
    assert.match(never.stderr, /Unable to find image/);
    const r = await fresh.run(["run", "--rm", ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Unable to find image '127\.0\.0\.1:\d+\/test\/img:v2s2' locally/);
    assert.match(r.stdout, /hello from the top layer/);
    // -q/--quiet, Docker's "Suppress the pull output": not even "Unable to find image".
    await fresh.ok(["rmi", ref]);
    const created = await fresh.run(["create", "-q", ref]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stderr, "");
    assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
    await fresh.ok(["rm", created.stdout.trim()]);
    await fresh.ok(["rmi", ref]);
    const quiet = await fresh.run(["run", "--rm", "--quiet", ref]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    assert.match(quiet.stdout, /hello from the top layer/);
  } finally {
    await fresh.cleanup();
  }
});

pullTest(
  "an image of 70 layers pulls and runs (short layer links)",
  async () => {
    const layout = `${sb.dir}/layout-many`;
    Deno.mkdirSync(`${layout}/blobs/sha256`, { recursive: true });
    Deno.writeTextFileSync(`${layout}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
    const tars = [writeTar([
      { name: "bin", type: "directory" },
      { name: "bin/busybox", body: Deno.readFileSync("/bin/busybox"), mode: 0o755 },
    ])];
    for (let i = 1; i < 70; i++) {
      tars.push(
        writeTar([{ name: `layer-${i}`, body: text(`${i}\n`) }]),
      );
    }
    const layers = [];
    for (const t of tars) layers.push(await blob(layout, LAYER, await gzip(t)));
    const config = await blob(
      layout,
      CONFIG,
      json({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/busybox", "sh", "-c", "ls / | grep -c layer-"] },
        rootfs: { type: "layers", diff_ids: await Promise.all(tars.map(sha256)) },
      }),
    );
    const manifest = await blob(
      layout,
      MANIFEST,
      json({ schemaVersion: 2, mediaType: MANIFEST, config, layers }),
    );
    Deno.writeTextFileSync(
      `${layout}/index.json`,
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ ...manifest, annotations: { "org.opencontainers.image.ref.name": "many" } }],
      }),
    );
    const ref = `127.0.0.1:${port}/test/many:v1`;
    await skopeo("copy", "--dest-tls-verify=false", `oci:${layout}:many`, `docker://${ref}`);
    await sb.ok(["pull", ref]);
    assert.equal(await sb.ok(["run", "--rm", ref]), "69\n");
  },
);

pullTest(
  "save and load: round trip, and archives other tools made",
  async () => {
    const ref = `127.0.0.1:${port}/test/img:v1`;
    const archive = `${sb.dir}/saved.tar`;
    await sb.ok(["save", "-o", archive, ref]);
    // Other tools read what save wrote, as a Docker archive and as an OCI layout.
    await skopeo("inspect", `docker-archive:${archive}`);
    await skopeo("inspect", `oci-archive:${archive}`);
    const fresh = new Sandbox();
    try {
      assert.equal(await fresh.ok(["load", "-i", archive]), `Loaded image: ${ref}\n`);
      assert.equal(
        await fresh.ok(["run", "--rm", ref, "/bin/busybox", "ls", "/dir", "/keep"]),
        "/dir:\nb\n\n/keep:\nnew\n",
      );
      // Archives made by skopeo from the layout: Docker's format, then OCI's.
      await skopeo(
        "copy",
        `oci:${sb.dir}/layout:v1`,
        `docker-archive:${sb.dir}/d.tar:other/name:d`,
      );
      assert.equal(
        await fresh.ok(["load", "-i", `${sb.dir}/d.tar`]),
        "Loaded image: other/name:d\n",
      );
      assert.match(await fresh.ok(["run", "--rm", "other/name:d"]), /hello from the top layer/);
      await skopeo("copy", `oci:${sb.dir}/layout:v1`, `oci-archive:${sb.dir}/o.tar:oci/name:o`);
      await fresh.ok(["load", "-i", `${sb.dir}/o.tar`]);
      assert.match(await fresh.ok(["images"]), /oci\/name\s+o\s/);
      // A hostile archive is refused and leaves nothing.
      Deno.writeFileSync(`${sb.dir}/evil.tar`, writeTar([{ name: "../evil", body: text("x") }]));
      const evil = await fresh.run(["load", "-i", `${sb.dir}/evil.tar`]);
      assert.equal(evil.code, 1);
      assert.match(evil.stderr, /entry "\.\.\/evil" climbs out of the layer/);
      assert.deepEqual(
        [...Deno.readDirSync(`${fresh.root}/image`)].filter((e) => e.name.startsWith(".load-")),
        [],
      );
      assert.equal((await fresh.run(["load", "-i", `${sb.dir}/missing.tar`])).code, 1);
    } finally {
      await fresh.cleanup();
    }
  },
);

/** A proxy in front of the registry whose blob answers the test controls. */
function blobProxy(
  blobBody: (digest: string, body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
) {
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req): Promise<Response> => {
      const url = new URL(req.url);
      const res = await fetch(`http://127.0.0.1:${port}${url.pathname}`, { headers: req.headers });
      const blob = /\/blobs\/(sha256:[0-9a-f]+)$/.exec(url.pathname);
      if (!blob || !res.body || !res.ok) {
        return new Response(res.body, { status: res.status, headers: res.headers });
      }
      const headers = new Headers(res.headers);
      headers.delete("content-length");
      return new Response(blobBody(blob[1], res.body), { status: res.status, headers });
    },
  );
  return server;
}

pullTest(
  "a corrupted layer is refused by digest, and nothing of it is kept",
  async () => {
    const server = blobProxy((_digest, body) =>
      body.pipeThrough(
        new TransformStream({
          transform(chunk, c) {
            const copy = chunk.slice();
            if (copy.length > 600) copy[600] ^= 1; // flips a bit: gzip's CRC or our digest catches it
            c.enqueue(copy);
          },
        }),
      )
    );
    const fresh = new Sandbox();
    try {
      const r = await fresh.run(["pull", `127.0.0.1:${server.addr.port}/test/img:v1`]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /digest mismatch|corrupt|invalid|gzip/i);
      let layers: string[] = [];
      try {
        layers = [...Deno.readDirSync(`${fresh.root}/image/layers`)].map((e) => e.name);
      } catch { /* none */ }
      // A layer that arrived whole and verified may stay; the corrupted one, and any
      // temporary directory, may not.
      assert.deepEqual(layers.filter((l) => l.startsWith(".tmp-")), [], "no temporary directory");
      assert.ok(layers.length < 2, `layers kept: ${layers}`);
      // Nor is the corrupted blob kept for push, nor its download's temporary file.
      let blobs: string[] = [];
      try {
        blobs = [...Deno.readDirSync(`${fresh.root}/image/blobs/sha256`)].map((e) => e.name);
      } catch { /* none */ }
      assert.deepEqual(blobs.filter((b) => b.startsWith(".")), [], "no temporary blob");
      assert.ok(blobs.length < 2, `blobs kept: ${blobs}`);
      assert.doesNotMatch(await fresh.ok(["images"]), /test\/img/);
    } finally {
      await server.shutdown();
      await fresh.cleanup();
    }
  },
);

pullTest(
  "a pull killed half way leaves no half layer; the next pull completes",
  async () => {
    // The second blob the proxy serves stalls forever: the pull is then killed with SIGKILL.
    let served = 0;
    const server = blobProxy((_digest, body) => {
      if (++served < 3) return body;
      const reader = body.getReader();
      let first = true;
      return new ReadableStream({
        async pull(c) {
          if (!first) return new Promise(() => {}); // stall after the first chunk
          first = false;
          const { value, done } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        },
      });
    });
    const fresh = new Sandbox();
    try {
      const ref = `127.0.0.1:${server.addr.port}/test/img:v1`;
      const child = new Deno.Command(BIN, {
        args: ["pull", ref],
        env: fresh.env(),
        stdout: "null",
        stderr: "null",
      })
        .spawn();
      // The stalled layer is being unpacked into a temporary directory: kill it there.
      const temporary = () => {
        try {
          return [...Deno.readDirSync(`${fresh.root}/image/layers`)].filter((e) =>
            e.name.startsWith(".tmp-")
          );
        } catch {
          return [];
        }
      };
      await waitFor(() => served >= 3 && temporary().length > 0, {
        what: "the stalled blob's half layer",
      });
      child.kill("SIGKILL");
      await child.status;
      const complete = [...Deno.readDirSync(`${fresh.root}/image/layers`)].filter((e) =>
        !e.name.startsWith(".tmp-")
      );
      // Only layers that finished are in place; the stalled one is at most a temporary directory.
      assert.ok(complete.length <= 1, `complete layers: ${complete.map((e) => e.name)}`);
      assert.doesNotMatch(await fresh.ok(["images"]), /test\/img/);
      served = -100; // no more stalls
      await fresh.ok(["pull", ref]);
      assert.match(await fresh.ok(["run", "--rm", ref]), /hello from the top layer/);
      // image prune clears what the killed pull left, once it is old enough to be debris.
      for (const e of Deno.readDirSync(`${fresh.root}/image/layers`)) {
        if (e.name.startsWith(".tmp-")) {
          Deno.utimeSync(
            `${fresh.root}/image/layers/${e.name}`,
            0,
            0,
          );
        }
      }
      await fresh.ok(["image", "prune", "-f"]);
      assert.deepEqual(
        [...Deno.readDirSync(`${fresh.root}/image/layers`)].filter((e) =>
          e.name.startsWith(".tmp-")
        ),
        [],
      );
    } finally {
      await server.shutdown();
      await fresh.cleanup();
    }
  },
);

pullTest(
  "on a terminal, pull redraws a line per layer with a progress bar",
  async () => {
    const fresh = new Sandbox();
    try {
      const script = new WatchedChild(
        "script",
        ["-qefc", `${BIN} pull 127.0.0.1:${port}/test/img:v1`, "/dev/null"],
        { env: fresh.env() },
      );
      const status = await script.exited({ timeoutMs: 60_000 }).finally(() => script.close());
      assert.ok(status.success, script.transcript());
      const text = script.stdout;
      const esc = String.fromCharCode(27);
      assert.match(text, new RegExp(`${esc}\\[2K[0-9a-f]{12}: Pull complete`));
      assert.match(text, new RegExp(`${esc}\\[\\dA`), "lines are redrawn in place");
      assert.match(text, /Status: Downloaded newer image/);
    } finally {
      await fresh.cleanup();
    }
  },
);

pullTest("concurrent pulls of one image share each layer, whole", async () => {
  const fresh = new Sandbox();
  try {
    const ref = `127.0.0.1:${port}/test/img:v1`;
    const results = await Promise.all([1, 2, 3].map(() => fresh.run(["pull", ref])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const layers = [...Deno.readDirSync(`${fresh.root}/image/layers`)].map((e) => e.name);
    assert.equal(layers.length, 2, `layers: ${layers}`);
    assert.match(await fresh.ok(["run", "--rm", ref]), /hello from the top layer/);
  } finally {
    await fresh.cleanup();
  }
});

pullTest("token auth: a token service in front of the registry; login and logout", async () => {
  const upstream = `http://127.0.0.1:${port}`;
  const token = "test-token-" + crypto.randomUUID();
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req): Promise<Response> => {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization") ?? "";
    if (url.pathname === "/token") {
      if (auth !== `Basic ${btoa("alice:s3cret")}`) return new Response("no", { status: 401 });
      return Response.json({ token });
    }
    if (auth !== `Bearer ${token}`) {
      const realm: string = `http://127.0.0.1:${server.addr.port}/token`;
      return new Response("unauthorized", {
        status: 401,
        headers: {
          "www-authenticate":
            `Bearer realm="${realm}",service="test",scope="repository:test/img:pull"`,
        },
      });
    }
    const res = await fetch(`${upstream}${url.pathname}${url.search}`, { headers: req.headers });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    const ref = `${host}/test/img:v1`;
    const denied = await sb.run(["pull", ref]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /unauthorized/);
    assert.equal(await sb.ok(["login", "-u", "alice", "-p", "s3cret", host]), "Login Succeeded\n");
    assert.equal(Deno.statSync(`${sb.root}/auth.json`).mode! & 0o777, 0o600);
    assert.match(await sb.ok(["pull", ref]), /Status: Downloaded newer image/);
    assert.equal(await sb.ok(["logout", host]), `Removing login credentials for ${host}\n`);
    await sb.ok(["rmi", ref]);
    assert.equal((await sb.run(["pull", ref])).code, 1);
  } finally {
    await server.shutdown();
  }
});

pullTest(
  "pull errors: unknown tag, unknown repository, registry down",
  async () => {
    const unknownTag = await sb.run(["pull", `127.0.0.1:${port}/test/img:nope`]);
    assert.equal(unknownTag.code, 1);
    assert.match(unknownTag.stderr, /not found/);
    const unknownRepo = await sb.run(["pull", `127.0.0.1:${port}/no/such:v1`]);
    assert.equal(unknownRepo.code, 1);
    assert.match(unknownRepo.stderr, /not found|does not exist/);
    const down = await sb.run(["pull", "127.0.0.1:1/x:y"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach registry 127\.0\.0\.1:1/);
    const bad = await sb.run(["pull", "Bad/Name"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid reference format/);
  },
);

Deno.test({ name: "pull: stop the registry; nothing left behind", ...opts }, async () => {
  await registry?.stop();
  await sb.cleanup();
});

if (opts.ignore && !asRoot.ignore) Deno.removeSync(sb.dir, { recursive: true });
