/**
 * applyLayer on a temporary directory: what the table of what the layer holds must get
 * right (entries replaced, removed and re-declared), owners where a new file's would differ,
 * and the refusals that stay refusals whatever the chunking. As root (chown, mknod).
 */
import assert from "node:assert/strict";
import { applyLayer, HostileLayerError } from "../../src/image/layer_apply.ts";
import { type TarWriteEntry, writeTar } from "../../src/image/tar_writer.ts";
import { directorySize } from "../../src/image/store.ts";
import { pieces } from "./pieces.ts";

const isRoot = Deno.uid() === 0;
const text = (s: string) => new TextEncoder().encode(s);

async function withLayer(
  entries: TarWriteEntry[],
  check: (dir: string) => void,
  opts: { chunks?: number[]; into?: (dir: string) => void } = {},
): Promise<void> {
  for (const chunk of opts.chunks ?? [512, 100_000]) {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
    try {
      opts.into?.(dir);
      await applyLayer(pieces(writeTar(entries), chunk), dir, "overlay");
      check(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
}

/** The archive is refused as hostile, with `message`, whatever the chunking. */
async function refused(entries: TarWriteEntry[], message: RegExp): Promise<void> {
  for (const chunk of [512, 100_000]) {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
    try {
      await assert.rejects(
        () => applyLayer(pieces(writeTar(entries), chunk), dir, "overlay"),
        (e: Error) => e instanceof HostileLayerError && message.test(e.message),
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
}

Deno.test(
  { name: "a file's contents arrive whole, in pieces, or empty", ignore: !isRoot },
  async () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await withLayer([
      { name: "big", body: big, mode: 0o640, mtime: 1_600_000_000 },
      { name: "small", body: text("small"), mode: 0o4755, uid: 7, gid: 8 },
      { name: "empty", body: new Uint8Array(), mode: 0o1777 },
    ], (dir) => {
      assert.deepEqual(Deno.readFileSync(`${dir}/big`), big);
      const b = Deno.lstatSync(`${dir}/big`);
      assert.equal(b.mode! & 0o7777, 0o640);
      assert.equal(b.mtime!.getTime() / 1000, 1_600_000_000);
      const s = Deno.lstatSync(`${dir}/small`);
      assert.equal(Deno.readTextFileSync(`${dir}/small`), "small");
      // Set-user-ID survives the chown that follows the write.
      assert.deepEqual([s.uid, s.gid, s.mode! & 0o7777], [7, 8, 0o4755]);
      assert.equal(Deno.lstatSync(`${dir}/empty`).mode! & 0o7777, 0o1777);
    }, { chunks: [512, 4096, 1 << 20] });
  },
);

Deno.test({
  name: "later entries replace earlier ones, and may not then be written through",
  ignore: !isRoot,
}, async () => {
  await withLayer([
    { name: "a/", type: "directory", uid: 5, gid: 5 },
    { name: "a/f", body: text("1") },
    { name: "a/", type: "directory", mode: 0o700 }, // re-declared: kept, but owned 0:0 now
    { name: "f", body: text("old") },
    { name: "f", body: text("new") },
    { name: "d/sub/x", body: text("x") },
    { name: "d", type: "symlink", linkname: "a" }, // replaces the directory d and all in it
    { name: "r/x", body: text("x") },
    { name: "r", type: "symlink", linkname: "a" },
    { name: "r/", type: "directory" }, // replaces the symlink: an empty directory again
    { name: "r/x/y", body: text("y") }, // so x is no file in it any more
  ], (dir) => {
    const a = Deno.lstatSync(`${dir}/a`);
    assert.deepEqual([a.uid, a.gid, a.mode! & 0o7777], [0, 0, 0o700]);
    assert.equal(Deno.readTextFileSync(`${dir}/a/f`), "1");
    assert.equal(Deno.readTextFileSync(`${dir}/f`), "new");
    assert.equal(Deno.readLinkSync(`${dir}/d`), "a");
    assert.equal(Deno.readTextFileSync(`${dir}/r/x/y`), "y");
  });
  await refused([
    { name: "d/sub/x", body: text("x") },
    { name: "d", type: "symlink", linkname: "/tmp" },
    { name: "d/evil", body: text("x") },
  ], /through the symlink "d"/);
  // The same parent as the entry before, but replaced in between.
  await refused([
    { name: "d/x", body: text("x") },
    { name: "d", type: "symlink", linkname: "/tmp" },
    { name: "d/evil", body: text("x") },
  ], /through the symlink "d"/);
  await refused([
    { name: "f", body: text("x") },
    { name: "f/under", body: text("x") },
  ], /non-directory "f"/);
  // A hard link to a path whose parent was replaced by a symlink reaches nothing.
  await refused([
    { name: "d/x", body: text("x") },
    { name: "d", type: "symlink", linkname: "e" },
    { name: "e/x", body: text("x") },
    { name: "h", type: "hardlink", linkname: "d/x" },
  ], /points to nothing/);
});

Deno.test({
  name: "an archive that is not a layer keeps files whose names look like whiteouts",
  ignore: !isRoot,
}, async () => {
  const entries: TarWriteEntry[] = [
    { name: "d/x", body: text("x") },
    { name: "d/.wh.x", body: text("a file of that name") },
    { name: "d/.wh..wh..opq", body: new Uint8Array() },
  ];
  for (const whiteouts of ["drop", "files"] as const) {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
    try {
      await applyLayer(pieces(writeTar(entries), 512), dir, whiteouts);
      const names = [...Deno.readDirSync(`${dir}/d`)].map((e) => e.name).sort();
      assert.deepEqual(names, whiteouts === "drop" ? [] : [".wh..wh..opq", ".wh.x", "x"]);
      if (whiteouts === "files") {
        assert.equal(Deno.readTextFileSync(`${dir}/d/.wh.x`), "a file of that name");
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test({
  name: "the files' size it reports is what a walk of the directory adds up",
  ignore: !isRoot,
}, async () => {
  const entries: TarWriteEntry[] = [
    { name: "a/f", body: new Uint8Array(1000) },
    { name: "a/g", body: new Uint8Array(300_000) }, // arrives in pieces
    { name: "h", type: "hardlink", linkname: "a/f" }, // a second name: counted again
    { name: "f", body: text("old contents") },
    { name: "f", body: text("new") }, // replaces the old file
    { name: "d/x", body: new Uint8Array(50) },
    { name: "d/y", body: new Uint8Array(60) },
    { name: "d/.wh.x", type: "file" }, // removes d/x
    { name: "e/z", body: new Uint8Array(70) },
    { name: "e", type: "symlink", linkname: "a" }, // replaces e and all in it
    { name: "n", type: "fifo" },
    { name: "s", type: "symlink", linkname: "a/f" },
  ];
  for (const chunk of [512, 100_000]) {
    for (const whiteouts of ["overlay", "drop"] as const) {
      const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
      try {
        const { filesSize } = await applyLayer(pieces(writeTar(entries), chunk), dir, whiteouts);
        assert.equal(directorySize(dir), 1000 + 300_000 + 1000 + 3 + 60);
        assert.equal(filesSize, directorySize(dir));
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    }
  }
  // Into a directory that was not empty, the table is not the truth: no size.
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
  try {
    Deno.writeFileSync(`${dir}/old`, new Uint8Array(5));
    const { filesSize } = await applyLayer(pieces(writeTar(entries), 512), dir, "overlay");
    assert.equal(filesSize, null);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  { name: "whiteouts remove what they name, and must name a file", ignore: !isRoot },
  async () => {
    await withLayer(
      [
        { name: "gone/sub/x", body: text("x") },
        { name: ".wh.gone", body: new Uint8Array() },
        { name: "gone/again", body: text("a") }, // the whiteout is a device now: not a parent
      ].slice(0, 2),
      (dir) => {
        const wh = Deno.lstatSync(`${dir}/gone`);
        assert.ok(wh.isCharDevice && wh.rdev === 0);
      },
    );
    // Whiteouts (and the root) with contents: skipped, whether whole in a chunk or not.
    const junk = new Uint8Array(3000).fill(1);
    await withLayer([
      { name: "a/x", body: text("x") },
      { name: "a/.wh.x", body: junk },
      { name: "a/.wh..wh..opq", body: junk },
      { name: "./", body: junk },
      { name: "after", body: text("after") },
    ], (dir) => {
      assert.ok(Deno.lstatSync(`${dir}/a/x`).isCharDevice);
      assert.equal(Deno.readTextFileSync(`${dir}/after`), "after");
    }, { chunks: [512, 1024, 100_000] });
    await refused([
      { name: "gone/x", body: text("x") },
      { name: "gone/.wh.", body: new Uint8Array() },
    ], /names no file/);
    await refused(
      [{ name: "a/.wh..", body: new Uint8Array() }],
      /whiteout "a\/\.wh\.\." names no file/,
    );
  },
);

Deno.test({
  name: "0:0 entries are chowned where a new file's group would differ",
  ignore: !isRoot,
}, async () => {
  await withLayer([
    { name: "shared/", type: "directory", mode: 0o2775, gid: 50 },
    { name: "shared/f", body: text("x") }, // would take group 50 from its directory
    { name: "shared/deeper/g", body: text("x") }, // so would its implicit parent, and it
    { name: "plain/f", body: text("x"), uid: 0, gid: 0 },
  ], (dir) => {
    assert.equal(Deno.lstatSync(`${dir}/shared`).gid, 50);
    assert.equal(Deno.lstatSync(`${dir}/shared/f`).gid, 0);
    assert.equal(Deno.lstatSync(`${dir}/shared/deeper/g`).gid, 0);
    assert.equal(Deno.lstatSync(`${dir}/plain/f`).gid, 0);
  });
  // A layer directory that is itself set-group-ID hands its group down too.
  await withLayer([{ name: "f", body: text("x") }], (dir) => {
    assert.equal(Deno.lstatSync(`${dir}/f`).gid, 0);
  }, {
    into: (dir) => {
      Deno.chownSync(dir, 0, 50);
      Deno.chmodSync(dir, 0o2755);
    },
  });
});

Deno.test(
  { name: "a directory that is not empty is asked, not assumed", ignore: !isRoot },
  async () => {
    await withLayer([
      { name: "old/new", body: text("n") },
      { name: ".wh.file", body: new Uint8Array() },
    ], (dir) => {
      assert.equal(Deno.readTextFileSync(`${dir}/old/new`), "n");
      assert.equal(Deno.lstatSync(`${dir}/old/was`).uid, 0);
      assert.ok(Deno.lstatSync(`${dir}/file`).isCharDevice, "the existing file was whited out");
    }, {
      into: (dir) => {
        Deno.mkdirSync(`${dir}/old`);
        Deno.writeTextFileSync(`${dir}/old/was`, "w");
        Deno.writeTextFileSync(`${dir}/file`, "f");
      },
    });
    // An existing symlink is not written through either.
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-layer-test-" });
    try {
      Deno.symlinkSync("/tmp", `${dir}/link`);
      await assert.rejects(
        () =>
          applyLayer(
            pieces(writeTar([{ name: "link/evil", body: text("x") }]), 512),
            dir,
            "overlay",
          ),
        /through the symlink/,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test({
  name: "a symlink's target is kept whatever it is; absolute names are under the root",
  ignore: !isRoot,
}, async () => {
  await withLayer([
    { name: "etc/deep", type: "symlink", linkname: "../../../../usr/lib/x" },
    { name: "etc/abs", type: "symlink", linkname: "/etc/shadow" },
    { name: "up", type: "symlink", linkname: ".." },
    { name: "/tmp/x", body: text("x") },
    { name: "//tmp/./y/../z", body: text("z") },
    { name: "a/b/../c", body: text("c") },
    { name: "/", type: "directory" }, // the root: ours, skipped
    { name: "h", type: "hardlink", linkname: "/tmp/x" },
  ], (dir) => {
    assert.equal(Deno.readLinkSync(`${dir}/etc/deep`), "../../../../usr/lib/x");
    assert.equal(Deno.readLinkSync(`${dir}/etc/abs`), "/etc/shadow");
    assert.equal(Deno.readLinkSync(`${dir}/up`), "..");
    assert.equal(Deno.readTextFileSync(`${dir}/tmp/x`), "x");
    assert.equal(Deno.readTextFileSync(`${dir}/tmp/z`), "z");
    assert.equal(Deno.readTextFileSync(`${dir}/a/c`), "c");
    assert.deepEqual([...Deno.readDirSync(`${dir}/a`)].map((e) => e.name), ["c"]);
    assert.equal(Deno.lstatSync(`${dir}/h`).ino, Deno.lstatSync(`${dir}/tmp/x`).ino);
  });
  // Writes that would land outside stay refused, however the name is spelt.
  await refused([{ name: "../x", body: text("x") }], /entry "\.\.\/x" climbs out of the layer/);
  await refused([{ name: "a/../../x", body: text("x") }], /climbs out of the layer/);
  await refused([
    { name: "evil", type: "symlink", linkname: "/etc" },
    { name: "evil/passwd", body: text("x") },
  ], /entry "evil\/passwd" would be written through the symlink "evil"/);
  await refused([
    { name: "evil", type: "symlink", linkname: "/etc" },
    { name: "x/../evil/passwd", body: text("x") },
  ], /through the symlink "evil"/);
  await refused([
    { name: "up", type: "symlink", linkname: "../../.." },
    { name: "/up/x", body: text("x") },
  ], /through the symlink "up"/);
  await refused(
    [{ name: "h", type: "hardlink", linkname: "/etc/shadow" }],
    /hard link "h" -> "\/etc\/shadow" points to nothing in the layer/,
  );
  await refused(
    [{ name: "h", type: "hardlink", linkname: "../../x" }],
    /hard link "h" -> "\.\.\/\.\.\/x" climbs out of the layer/,
  );
  await refused([
    { name: "evil", type: "symlink", linkname: "/etc" },
    { name: "h", type: "hardlink", linkname: "evil/shadow" },
  ], /points to nothing in the layer/);
});
