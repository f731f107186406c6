/**
 * Layer application on a real filesystem: metadata, links, devices, whiteouts in overlay
 * form, and hostile archives refused with nothing left behind (through `import`).
 */
import assert from "node:assert/strict";
import { applyLayer, HostileLayerError } from "../../src/image/layer_apply.ts";
import { type TarWriteEntry, writeTar } from "../../src/image/tar_writer.ts";
import { asRoot, Sandbox } from "./harness.ts";
import { lgetxattr } from "../../ffi/libc.ts";

const sb = new Sandbox();
const text = (s: string) => new TextEncoder().encode(s);
const streamOf = (b: Uint8Array) => new Blob([b.slice()]).stream();

async function applied(entries: TarWriteEntry[], whiteouts: "overlay" | "drop" = "overlay") {
  const dir = Deno.makeTempDirSync({ dir: sb.dir });
  await applyLayer(streamOf(writeTar(entries)), dir, whiteouts);
  return dir;
}

function getxattr(path: string, name: string): string | null {
  const value = lgetxattr(path, name);
  return value === null ? null : new TextDecoder().decode(value);
}

Deno.test(
  { name: "applyLayer sets owners, modes, times; makes links and devices", ...asRoot },
  async () => {
    const dir = await applied([
      { name: "etc", type: "directory", mode: 0o755, mtime: 1_600_000_000 },
      {
        name: "etc/secret",
        body: text("s"),
        uid: 1000,
        gid: 1001,
        mode: 0o4750,
        mtime: 1_600_000_001,
      },
      { name: "etc/link", type: "symlink", linkname: "/etc/secret", uid: 5, gid: 6 },
      { name: "etc/hard", type: "hardlink", linkname: "etc/secret" },
      { name: "dev/zero", type: "char", devmajor: 1, devminor: 5, mode: 0o666 },
      { name: "run/pipe", type: "fifo", mode: 0o600 },
    ]);
    const secret = Deno.lstatSync(`${dir}/etc/secret`);
    assert.deepEqual([secret.uid, secret.gid, secret.mode! & 0o7777], [1000, 1001, 0o4750]);
    assert.equal(secret.mtime!.getTime() / 1000, 1_600_000_001);
    assert.equal(Deno.lstatSync(`${dir}/etc`).mtime!.getTime() / 1000, 1_600_000_000);
    assert.equal(Deno.readLinkSync(`${dir}/etc/link`), "/etc/secret");
    assert.equal(Deno.lstatSync(`${dir}/etc/link`).uid, 5);
    assert.equal(Deno.lstatSync(`${dir}/etc/hard`).ino, secret.ino);
    assert.ok(Deno.lstatSync(`${dir}/dev/zero`).isCharDevice);
    assert.ok(Deno.lstatSync(`${dir}/run/pipe`).isFifo);
  },
);

Deno.test({
  name: "applyLayer turns OCI whiteouts into overlay whiteouts, or drops them",
  ...asRoot,
}, async () => {
  const entries: TarWriteEntry[] = [
    { name: "gone/", type: "directory" },
    { name: "gone/.wh.file", body: new Uint8Array() },
    { name: "opaque/", type: "directory" },
    { name: "opaque/.wh..wh..opq", body: new Uint8Array() },
  ];
  const overlay = await applied(entries, "overlay");
  const wh = Deno.lstatSync(`${overlay}/gone/file`);
  assert.ok(wh.isCharDevice && wh.rdev === 0, "a 0/0 character device");
  assert.equal(getxattr(`${overlay}/opaque`, "trusted.overlay.opaque"), "y");
  const flat = await applied(entries, "drop");
  assert.deepEqual([...Deno.readDirSync(`${flat}/gone`)], []);
});

/** A directory outside every layer, for hostile links to point at: it must stay empty. */
const outside = `${sb.dir}/outside`;

const hostile: Array<[string, TarWriteEntry[], RegExp]> = [
  ["a .. path", [{ name: "../evil", body: text("x") }], /entry "\.\.\/evil" climbs out/],
  ["a .. path below a directory", [{ name: "a/../../evil", body: text("x") }], /climbs out/],
  ["a write through a symlink", [
    { name: "escape", type: "symlink", linkname: "/tmp" },
    { name: "escape/evil", body: text("x") },
  ], /through the symlink "escape"/],
  // As `evil -> /etc` then `evil/passwd`, but to a directory that the test can watch.
  ["a write through a symlink out of the layer", [
    { name: "evil", type: "symlink", linkname: outside },
    { name: "evil/passwd", body: text("x") },
  ], /entry "evil\/passwd" would be written through the symlink "evil"/],
  ["an absolute write through a symlink", [
    { name: "evil", type: "symlink", linkname: outside },
    { name: "/evil/passwd", body: text("x") },
  ], /through the symlink "evil"/],
  ["a write through a climbing symlink", [
    { name: "a/up", type: "symlink", linkname: "../../../.." },
    { name: "a/up/evil", body: text("x") },
  ], /through the symlink "up"/],
  [
    "a hard link to an absolute path (the layer has none)",
    [{ name: "h", type: "hardlink", linkname: "/etc/shadow" }],
    /hard link "h" -> "\/etc\/shadow" points to nothing in the layer/,
  ],
  [
    "a hard link out of the layer",
    [{ name: "h", type: "hardlink", linkname: "../../x" }],
    /hard link "h" -> "\.\.\/\.\.\/x" climbs out of the layer/,
  ],
  [
    "a hard link to nothing",
    [{ name: "h", type: "hardlink", linkname: "nothing" }],
    /points to nothing/,
  ],
];

for (const [what, entries, message] of hostile) {
  Deno.test({ name: `hostile layer refused: ${what}, nothing left`, ...asRoot }, async () => {
    Deno.mkdirSync(outside, { recursive: true });
    const dir = Deno.makeTempDirSync({ dir: sb.dir });
    await assert.rejects(
      () => applyLayer(streamOf(writeTar(entries)), dir, "overlay"),
      HostileLayerError,
    );
    // Through the CLI: exit 1, the reason, and no new layer (not even a temporary one).
    const layers = () => {
      try {
        return [...Deno.readDirSync(`${sb.root}/image/layers`)].map((e) => e.name).sort();
      } catch {
        return [];
      }
    };
    const before = layers();
    const tar = `${sb.dir}/hostile.tar`;
    Deno.writeFileSync(tar, writeTar(entries));
    const r = await sb.run(["import", tar, "hostile:1"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.deepEqual(layers(), before);
    assert.doesNotMatch(await sb.ok(["images"]), /hostile/);
    assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing written outside the layer");
  });
}

Deno.test({
  name: "a symlink in an earlier layer is not written through by a later one",
  ...asRoot,
}, async () => {
  // Layers applied on top of each other in one directory: the second asks the filesystem.
  Deno.mkdirSync(outside, { recursive: true });
  const dir = await applied([{ name: "evil", type: "symlink", linkname: outside }]);
  for (const name of ["evil/passwd", "/evil/passwd", "evil/sub/x"]) {
    await assert.rejects(
      () => applyLayer(streamOf(writeTar([{ name, body: text("x") }])), dir, "overlay"),
      (e: Error) => e instanceof HostileLayerError && /through the symlink "evil"/.test(e.message),
    );
  }
  await assert.rejects(
    () =>
      applyLayer(
        streamOf(writeTar([{ name: "h", type: "hardlink", linkname: "evil/x" }])),
        dir,
        "overlay",
      ),
    /points to nothing in the layer/,
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
  assert.equal(Deno.readLinkSync(`${dir}/evil`), outside);
});

Deno.test({
  name: "import: symlinks that climb and absolute names apply as Docker applies them",
  ...asRoot,
}, async () => {
  const tar = writeTar([
    { name: "bin/busybox", body: Deno.readFileSync("/bin/busybox"), mode: 0o755 },
    // Legal: resolved inside the container, where `..` stops at its root.
    { name: "etc/deep", type: "symlink", linkname: "../../../../usr/lib/x" },
    { name: "etc/abs", type: "symlink", linkname: "/usr/lib/x" },
    { name: "/usr/lib/x", body: text("reached\n") }, // applied as usr/lib/x
    { name: "/tmp/x", body: text("absolute\n") },
    { name: "/../top", body: text("top\n") }, // `..` stops at the root: top
    { name: "/hard", type: "hardlink", linkname: "/tmp/x" }, // the layer's tmp/x
  ]);
  Deno.writeFileSync(`${sb.dir}/legal.tar`, tar);
  await sb.ok(["import", `${sb.dir}/legal.tar`, "legal:1"]);
  assert.equal(
    await sb.ok([
      "run",
      "--rm",
      "legal:1",
      "/bin/busybox",
      "sh",
      "-c",
      "readlink /etc/deep; readlink /etc/abs; cat /etc/deep /tmp/x /top /hard",
    ]),
    "../../../../usr/lib/x\n/usr/lib/x\nreached\nabsolute\ntop\nabsolute\n",
  );
});

Deno.test({ name: "import of a gzipped rootfs runs", ...asRoot }, async () => {
  const bb = Deno.readFileSync("/bin/busybox");
  const tar = writeTar([
    { name: "bin", type: "directory" },
    { name: "bin/busybox", body: bb, mode: 0o755 },
    { name: "bin/sh", type: "symlink", linkname: "busybox" },
    { name: "hello", body: text("gzipped\n") },
  ]);
  const gz = new Uint8Array(
    await new Response(streamOf(tar).pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  Deno.writeFileSync(`${sb.dir}/rootfs.tar.gz`, gz);
  await sb.ok(["import", `${sb.dir}/rootfs.tar.gz`, "gz:1"]);
  assert.equal(await sb.ok(["run", "--rm", "gz:1", "/bin/sh", "-c", "cat /hello"]), "gzipped\n");
});

Deno.test({
  name: "load reads only the archive's own files, never through its symlinks",
  ...asRoot,
}, async () => {
  // A host file the archive's entries point at: load must not read it as the manifest.
  const host = `${sb.dir}/host-manifest.json`;
  Deno.writeTextFileSync(host, JSON.stringify([{ Config: "c.json", Layers: [] }]));
  for (
    const [what, entries] of [
      ["manifest.json", [{ name: "manifest.json", type: "symlink", linkname: host }]],
      ["a config", [
        { name: "manifest.json", body: text(JSON.stringify([{ Config: "c.json", Layers: [] }])) },
        { name: "c.json", type: "symlink", linkname: host },
      ]],
    ] as Array<[string, TarWriteEntry[]]>
  ) {
    const tar = `${sb.dir}/hostile-load.tar`;
    Deno.writeFileSync(tar, writeTar(entries));
    const r = await sb.run(["load", "-i", tar]);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /is not a file of the archive/, what);
    assert.equal(r.stderr.trim().split("\n").length, 1, what);
  }
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
