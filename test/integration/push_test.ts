/**
 * `push` to a real registry (Debian's docker-registry on 127.0.0.1, through a proxy that
 * records the requests), read back by skopeo and by `pull` into fresh roots: the built-in
 * image, committed ones (a small layer, a 12 MiB one that goes in chunks), a pulled one
 * pushed to another repository (mounted, same digest), `--all-tags`, `-q`, errors, basic
 * and token auth; and `history` of the built-in, committed and pulled images.
 *
 * Basic auth is the proxy's, not docker-registry's own `auth.htpasswd`: that needs bcrypt
 * hashes from `htpasswd` (apache2-utils), which is not installed here.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";
import { haveRegistryTools, RecordingProxy, skopeo, TestRegistry } from "./registry.ts";

const sb = new Sandbox();
const opts = { ...asRoot, ignore: asRoot.ignore || !haveRegistryTools };
if (!haveRegistryTools) {
  console.warn("push tests need docker-registry and skopeo (.ci/run installs them)");
}

let registry: TestRegistry | undefined;
let proxy: RecordingProxy | undefined;

/** The registry, behind its recording proxy: started by the first test that asks. */
let fixture: Promise<string> | undefined;
function registryHost(): Promise<string> {
  return fixture ??= (async () => {
    await sb.ok(["images"]); // makes the built-in busybox, which `tag` names
    registry = await TestRegistry.start(sb.dir);
    proxy = new RecordingProxy(`http://${registry.host}`);
    return proxy.host;
  })();
}

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return `sha256:${[...d].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** The manifest the registry holds for `repo:tag`: its bytes' digest, size and config. */
async function remoteManifest(host: string, repo: string, tag: string) {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: {
      accept: [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
      ].join(", "),
    },
  });
  assert.equal(res.status, 200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const doc = JSON.parse(new TextDecoder().decode(bytes));
  return {
    digest: await sha256(bytes),
    size: bytes.length,
    mediaType: res.headers.get("content-type"),
    config: doc.config.digest as string,
    layers: doc.layers as Array<{ digest: string; size: number }>,
  };
}

/** The digest line `push` ends with: `TAG: digest: sha256:... size: N`. */
function pushed(out: string, tag: string): { digest: string; size: number } {
  const lines = out.trimEnd().split("\n");
  const m = new RegExp(`^${tag}: digest: (sha256:[0-9a-f]{64}) size: (\\d+)$`).exec(
    lines[lines.length - 1],
  );
  assert.ok(m, `no digest line in:\n${out}`);
  return { digest: m[1], size: Number(m[2]) };
}

/** The status of each layer line (`abc: Pushed`) of a push's output, by layer. */
function layerStatuses(out: string): Map<string, string[]> {
  const statuses = new Map<string, string[]>();
  for (const line of out.split("\n")) {
    const m = /^([0-9a-f]{12}): (.*)$/.exec(line);
    if (m) statuses.set(m[1], [...(statuses.get(m[1]) ?? []), m[2]]);
  }
  return statuses;
}

/** The requests the proxy passed on since `from` for `repo`, as `METHOD kind`. */
function requestsFor(repo: string, from: number): string[] {
  return proxy!.requests.slice(from).filter((r) => r.path.startsWith(`/v2/${repo}/`)).map((r) =>
    `${r.method} ${r.path.split("/")[r.path.split("/").length - 2]}`
  );
}

/** The IDs `pull` gave an image in a fresh root, and its `run` output. */
async function pullFresh(ref: string, command: string[]): Promise<{
  digest: string;
  id: string;
  output: string;
  fresh: Sandbox;
}> {
  const fresh = new Sandbox();
  const out = await fresh.ok(["pull", ref]);
  const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(out)![1];
  const id = JSON.parse(await fresh.ok(["image", "inspect", ref]))[0].Id;
  const output = await fresh.ok(["run", "--rm", ref, ...command]);
  return { digest, id, output, fresh };
}

Deno.test({
  name: "push the built-in busybox: skopeo reads it, a fresh root pulls it by the digests " +
    "push printed, and a pulled image goes to another repository mounted, with the same digest",
  ...opts,
}, async () => {
  const host = await registryHost();
  const ref = `${host}/test/busybox:v1`;
  await sb.ok(["tag", "busybox", ref]);
  const before = proxy!.requests.length;
  const out = await sb.ok(["push", ref]);
  const lines = out.trimEnd().split("\n");
  assert.equal(lines[0], `The push refers to repository [${host}/test/busybox]`);
  const statuses = layerStatuses(out);
  assert.equal(statuses.size, 1, out);
  assert.deepEqual([...statuses.values()][0], ["Preparing", "Pushing", "Pushed"]);
  const { digest, size } = pushed(out, "v1");
  const requests = requestsFor("test/busybox", before);
  const remote = await remoteManifest(host, "test/busybox", "v1");
  assert.equal(remote.digest, digest);
  assert.equal(remote.size, size);
  assert.equal(remote.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
  // Small blobs go in one PUT each, after a HEAD found them missing: no PATCH.
  assert.ok(!requests.some((r) => r.startsWith("PATCH")), requests.join(", "));
  assert.equal(requests.filter((r) => r.startsWith("HEAD")).length, 2, requests.join(", "));
  assert.equal(requests[requests.length - 1], "PUT manifests");
  // Docker's RepoDigests now name the pushed manifest.
  assert.match(
    await sb.ok(["images", "--digests", "--format", "{{.Repository}} {{.Digest}}"]),
    new RegExp(`^${host}/test/busybox ${digest}$`, "m"),
  );

  const inspected = JSON.parse(
    await skopeo("inspect", "--tls-verify=false", `docker://${ref}`),
  );
  assert.equal(inspected.Digest, digest);
  assert.equal(inspected.Layers.length, 1);
  assert.deepEqual(
    inspected.Env,
    JSON.parse(await sb.ok(["image", "inspect", "busybox"]))[0]
      .Config.Env,
  );

  const back = await pullFresh(ref, ["echo", "back from the registry"]);
  try {
    assert.equal(back.digest, digest);
    assert.equal(back.id, remote.config);
    assert.equal(back.output, "back from the registry\n");
    // The pulled image to another repository of the registry: mounted, the same bytes.
    const other = `${host}/test/mounted:v1`;
    await back.fresh.ok(["tag", ref, other]);
    const again = await back.fresh.ok(["push", other]);
    assert.deepEqual([...layerStatuses(again).values()], [[
      "Preparing",
      "Mounted from test/busybox",
    ]]);
    assert.equal(pushed(again, "v1").digest, digest);
    assert.equal((await remoteManifest(host, "test/mounted", "v1")).digest, digest);
    // The pulled image's history is the one pushed.
    assert.equal(
      await back.fresh.ok(["history", "--format", "{{.CreatedBy}}", ref]),
      await sb.ok(["history", "--format", "{{.CreatedBy}}", "busybox"]),
    );
    // The blobs pull kept for push (manifest, config, layer) go with the image.
    const blobs = () =>
      ["sha256", "repos"].flatMap((d) =>
        [...Deno.readDirSync(`${back.fresh.root}/image/blobs/${d}`)].map((e) => e.name)
      );
    assert.equal(blobs().filter((b) => !b.endsWith(".json")).length, 3, blobs().join(" "));
    await back.fresh.ok(["rmi", ref, other]);
    assert.deepEqual(blobs(), []);
  } finally {
    await back.fresh.cleanup();
  }

  // An OCI manifest (skopeo converts) pulled and pushed elsewhere stays OCI, byte for byte.
  await skopeo(
    "copy",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    "--format",
    "oci",
    `docker://${ref}`,
    `docker://${host}/test/oci:v1`,
  );
  const oci = await remoteManifest(host, "test/oci", "v1");
  assert.equal(oci.mediaType, "application/vnd.oci.image.manifest.v1+json");
  const fresh = new Sandbox();
  try {
    await fresh.ok(["pull", `${host}/test/oci:v1`]);
    await fresh.ok(["tag", `${host}/test/oci:v1`, `${host}/test/oci2:v1`]);
    const out = await fresh.ok(["push", `${host}/test/oci2:v1`]);
    assert.equal(pushed(out, "v1").digest, oci.digest);
    const copy = await remoteManifest(host, "test/oci2", "v1");
    assert.deepEqual([copy.digest, copy.mediaType], [oci.digest, oci.mediaType]);
  } finally {
    await fresh.cleanup();
  }

  // A second push finds every layer there, and sends the same manifest.
  const second = await sb.ok(["push", ref]);
  for (const s of layerStatuses(second).values()) {
    assert.deepEqual(s, ["Preparing", "Layer already exists"]);
  }
  assert.equal(pushed(second, "v1").digest, digest);
});

Deno.test({
  name: "push committed images: the base layer mounts, the new one is pushed; a 12 MiB " +
    "layer goes in chunks; both pull back into a fresh root with their files",
  ...opts,
}, async () => {
  const host = await registryHost();
  // The base layer is in test/busybox (as the first test left it, or now).
  await sb.ok(["tag", "busybox", `${host}/test/busybox:v1`]);
  await sb.ok(["push", `${host}/test/busybox:v1`]);
  await sb.ok(["run", "--name", "small", "busybox", "sh", "-c", "echo hello > /hello"]);
  const small = `${host}/test/committed:v1`;
  await sb.ok(["commit", "small", small]);
  await sb.ok(["rm", "small"]);
  const out = await sb.ok(["push", small]);
  const statuses = [...layerStatuses(out).values()];
  assert.equal(statuses.length, 2, out);
  assert.deepEqual(statuses[0], ["Preparing", "Mounted from test/busybox"]);
  assert.deepEqual(statuses[1], ["Preparing", "Pushing", "Pushed"]);
  const { digest } = pushed(out, "v1");
  const back = await pullFresh(small, ["cat", "/hello"]);
  try {
    assert.equal(back.digest, digest);
    assert.equal(back.id, (await remoteManifest(host, "test/committed", "v1")).config);
    assert.equal(back.output, "hello\n");
  } finally {
    await back.fresh.cleanup();
  }

  await sb.ok([
    "run",
    "--name",
    "big",
    "busybox",
    "sh",
    "-c",
    "head -c 12582912 /dev/urandom > /big",
  ]);
  const bigRef = `${host}/test/big:v1`;
  await sb.ok(["commit", "big", bigRef]);
  await sb.ok(["rm", "big"]);
  const before = proxy!.requests.length;
  const bigOut = await sb.ok(["push", bigRef]);
  const patches = proxy!.requests.slice(before).filter((r) =>
    r.method === "PATCH" && r.path.startsWith("/v2/test/big/")
  );
  // 12 MiB of random data: two chunks of at most 8 MiB, then the closing PUT.
  assert.equal(patches.length, 2, JSON.stringify(proxy!.requests.slice(before)));
  assert.ok(patches.every((p) => p.bytes <= 8 << 20 && p.bytes > 0));
  assert.ok(patches[0].bytes + patches[1].bytes > 12 << 20);
  const bigBack = await pullFresh(bigRef, ["sha256sum", "/big"]);
  try {
    assert.equal(bigBack.digest, pushed(bigOut, "v1").digest);
    const sum = await sb.ok(["run", "--rm", bigRef, "sha256sum", "/big"]);
    assert.equal(bigBack.output, sum);
  } finally {
    await bigBack.fresh.cleanup();
  }
  // The gzip blob was made once and kept: the second push sends the same manifest.
  const again = await sb.ok(["push", bigRef]);
  assert.equal(pushed(again, "v1").digest, pushed(bigOut, "v1").digest);
  for (const s of layerStatuses(again).values()) {
    assert.deepEqual(s, ["Preparing", "Layer already exists"]);
  }
});

Deno.test({ name: "push --all-tags, -q, and its errors", ...opts }, async () => {
  const host = await registryHost();
  await sb.ok(["tag", "busybox", `${host}/test/multi:a`]);
  await sb.ok(["tag", "busybox", `${host}/test/multi:b`]);
  const all = await sb.ok(["push", "--all-tags", `${host}/test/multi`]);
  assert.equal(all.split("\n").filter((l) => l.startsWith("The push refers")).length, 1);
  const a = /^a: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(all);
  assert.ok(a, all);
  assert.equal(pushed(all, "b").digest, a[1]);
  assert.deepEqual(
    JSON.parse(await skopeo("list-tags", "--tls-verify=false", `docker://${host}/test/multi`)).Tags
      .sort(),
    ["a", "b"],
  );
  assert.equal(await sb.ok(["push", "-q", `${host}/test/multi:a`]), `${host}/test/multi:a\n`);

  const withTag = await sb.run(["push", "-a", `${host}/test/multi:a`]);
  assert.equal(withTag.code, 1);
  assert.equal(withTag.stderr, "tag can't be used with --all-tags/-a\n");
  const missing = await sb.run(["push", `${host}/test/nope`]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `Error response from daemon: An image does not exist locally with the tag: ${host}/test/nope:latest\n`,
  );
  assert.equal(missing.stdout, "");
  await sb.ok(["tag", "busybox", "127.0.0.1:1/test/down:v1"]);
  const down = await sb.run(["push", "127.0.0.1:1/test/down:v1"]);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /^Error response from daemon: cannot reach registry 127\.0\.0\.1:1: .*\n$/,
  );
  // A registry that refuses the manifest: its own words, on one line, exit 1.
  proxy!.refuse = (method, path) =>
    method === "PUT" && path === "/v2/test/refused/manifests/v1"
      ? Response.json({ errors: [{ code: "MANIFEST_INVALID", message: "manifest invalid" }] }, {
        status: 400,
      })
      : undefined;
  try {
    await sb.ok(["tag", "busybox", `${host}/test/refused:v1`]);
    const refused = await sb.run(["push", `${host}/test/refused:v1`]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `Error response from daemon: registry ${host} refused the manifest for v1: 400 manifest_invalid: manifest invalid\n`,
    );
  } finally {
    proxy!.refuse = undefined;
  }
});

Deno.test({ name: "push with basic auth and with a token service", ...opts }, async () => {
  const host = await registryHost();
  const basic = new RecordingProxy(`http://${registry!.host}`, {
    kind: "basic",
    user: "alice",
    password: "s3cret",
  });
  const token = new RecordingProxy(`http://${registry!.host}`, {
    kind: "token",
    user: "bob",
    password: "hunter2",
  });
  try {
    const ref = `${basic.host}/test/basic:v1`;
    await sb.ok(["tag", "busybox", ref]);
    const denied = await sb.run(["push", ref]);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr.split("\n").length, 2, denied.stderr);
    assert.match(denied.stderr, /unauthorized|denied/);
    await sb.ok(["login", "-u", "alice", "-p", "s3cret", basic.host]);
    assert.match(await sb.ok(["push", ref]), /^v1: digest: sha256:/m);
    assert.ok(basic.requests.some((r) => r.method === "PUT" && r.path.includes("/manifests/")));

    const tref = `${token.host}/test/token:v1`;
    await sb.ok(["tag", "busybox", tref]);
    await sb.ok(["login", "-u", "bob", "-p", "hunter2", token.host]);
    assert.match(await sb.ok(["push", tref]), /^v1: digest: sha256:/m);
    assert.ok(token.scopes.some((s) => s.includes("repository:test/token:push,pull")));
    // A mount asks to pull from the repository it mounts from as well.
    const mref = `${token.host}/test/token2:v1`;
    await sb.ok(["tag", "busybox", mref]);
    assert.match(await sb.ok(["push", mref]), /Mounted from test\/token/);
    assert.ok(
      token.scopes.some((s) =>
        s.includes("repository:test/token2:push,pull") && s.includes("repository:test/token:pull")
      ),
      JSON.stringify(token.scopes),
    );
  } finally {
    await sb.run(["logout", basic.host]);
    await sb.run(["logout", token.host]);
    await basic.stop();
    await token.stop();
  }
  assert.ok(host);
});

/** `history`'s table as rows of columns, cut where the header's columns begin. */
function table(out: string): string[][] {
  const lines = out.trimEnd().split("\n");
  const header = lines[0];
  const starts = ["IMAGE", "CREATED ", "CREATED BY", "SIZE", "COMMENT"].map((h) =>
    header.indexOf(h)
  );
  return lines.map((l) =>
    starts.map((at, i) => l.slice(at, i + 1 < starts.length ? starts[i + 1] : undefined).trim())
  );
}

Deno.test({
  name: "history: columns, --no-trunc, --format, -q, --human=false",
  ...opts,
}, async () => {
  await sb.ok(["images"]); // makes the built-in busybox, which `image inspect` names
  const id = JSON.parse(await sb.ok(["image", "inspect", "busybox"]))[0].Id as string;
  const rows = table(await sb.ok(["history", "busybox"]));
  assert.deepEqual(rows[0], ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
  assert.equal(rows.length, 3);
  assert.equal(rows[1][0], id.slice(7, 19));
  assert.match(rows[1][1], / ago$/);
  assert.equal(rows[1][2], '/bin/sh -c #(nop)  CMD ["sh"]');
  assert.equal(rows[1][3], "0B"); // an empty layer
  assert.equal(rows[2][0], "<missing>");
  assert.match(rows[2][2], /^\/bin\/sh -c #\(nop\) ADD file:\S+ in \/$/);
  assert.match(rows[2][3], /^\d+(\.\d+)?MB$/);
  assert.equal(await sb.ok(["history", "-q", "busybox"]), `${id.slice(7, 19)}\n<missing>\n`);
  assert.equal(await sb.ok(["history", "-q", "--no-trunc", "busybox"]), `${id}\n<missing>\n`);
  const raw = await sb.ok([
    "history",
    "--human=false",
    "--format",
    "{{.CreatedSince}} {{.Size}}",
    "busybox",
  ]);
  const lines = raw.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \d+$/);
  assert.match(lines[0], / 0$/);

  // A committed image: its own row, then its parent's ID, then <missing>.
  const long = "echo a command line longer than forty-five characters > /f";
  await sb.ok(["run", "--name", "hist", "busybox", "sh", "-c", long]);
  await sb.ok(["commit", "hist", "hist:v1"]);
  await sb.ok(["rm", "hist"]);
  const committed = JSON.parse(await sb.ok(["image", "inspect", "hist:v1"]))[0].Id as string;
  const c = table(await sb.ok(["history", "hist:v1"]));
  assert.equal(c.length, 4);
  assert.equal(c[1][0], committed.slice(7, 19));
  assert.equal(c[1][2], `sh -c ${long}`.slice(0, 44) + "…");
  assert.equal(c[2][0], id.slice(7, 19));
  assert.equal(c[3][0], "<missing>");
  const full = await sb.ok([
    "history",
    "--no-trunc",
    "--format",
    "{{.ID}}|{{.CreatedBy}}|{{.Comment}}",
    "hist:v1",
  ]);
  assert.equal(full.split("\n")[0], `${committed}|sh -c ${long}|`);
  // The new layer holds the file the command wrote: the echoed text and a newline.
  const sizes = await sb.ok(["history", "--human=false", "--format", "{{.Size}}", "hist:v1"]);
  assert.equal(sizes.split("\n")[0], String(long.length - "echo ".length - " > /f".length + 1));
  const missing = await sb.run(["history", "nope"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "Error response from daemon: No such image: nope:latest\n");
  await sb.ok(["rmi", "hist:v1"]);
});

Deno.test({ name: "push: stop the registry; nothing left behind", ...opts }, async () => {
  await proxy?.stop();
  await registry?.stop();
  await sb.cleanup();
});

if (opts.ignore && !asRoot.ignore) Deno.removeSync(sb.dir, { recursive: true });
