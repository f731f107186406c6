/**
 * The volume store (Docker's layout under the data root, whole-or-nothing creation, names)
 * and copy-up from image layers as overlayfs shows them.
 */
import assert from "node:assert/strict";
import {
  isValidVolumeName,
  NoSuchVolumeError,
  randomVolumeName,
  VolumeStore,
} from "../../src/volume/store.ts";
import { copyImageContent } from "../../src/volume/copy_up.ts";
import { lsetxattr, mknod } from "../../ffi/libc.ts";

const isRoot = Deno.uid() === 0;

Deno.test("volume store: create, find, list, remove, and Docker's names", () => {
  const root = Deno.makeTempDirSync();
  try {
    const store = new VolumeStore(root);
    assert.deepEqual(store.list(), []);
    const made = store.ensure("data", { labels: { a: "b" }, options: {} });
    assert.equal(made.created, true);
    assert.equal(made.volume.Mountpoint, `${root}/volumes/data/_data`);
    assert.deepEqual(made.volume.Labels, { a: "b" });
    assert.ok(Deno.statSync(`${root}/volumes/data/_data`).isDirectory);
    assert.equal(Deno.statSync(`${root}/volumes/data/_data`).mode! & 0o777, 0o755);
    // A second ensure finds it as it is, labels and all.
    const again = store.ensure("data", { labels: { other: "x" } });
    assert.equal(again.created, false);
    assert.deepEqual(again.volume.Labels, { a: "b" });
    // Made by run: Docker's null labels and options.
    assert.equal(store.ensure("auto").volume.Labels, null);
    assert.deepEqual(store.list().map((v) => v.Name), ["auto", "data"]);
    assert.equal(store.isEmpty("data"), true);
    Deno.writeTextFileSync(`${root}/volumes/data/_data/f`, "12345");
    assert.equal(store.isEmpty("data"), false);
    assert.equal(store.size("data"), 5);
    // Debris of a crashed create or remove is not a volume.
    Deno.mkdirSync(`${root}/volumes/.new-x-1/_data`, { recursive: true });
    assert.deepEqual(store.list().map((v) => v.Name), ["auto", "data"]);
    store.remove("data");
    assert.equal(store.find("data"), null);
    assert.throws(() => store.get("data"), NoSuchVolumeError);
    assert.throws(() => store.remove("data"), /get data: no such volume/);
    assert.deepEqual(VolumeStore.ofMountpoint(`${root}/volumes/auto/_data`).dir, `${root}/volumes`);
    assert.throws(
      () => store.ensure("../x"),
      /includes invalid characters for a local volume name/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("volume names: Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+", () => {
  for (const ok of ["ab", "a.b", "A_1-x", "0x"]) assert.ok(isValidVolumeName(ok), ok);
  for (const bad of ["a", "", ".a", "-a", "a/b", "a b", "..", "_x"]) {
    assert.ok(!isValidVolumeName(bad), bad);
  }
  assert.match(randomVolumeName(), /^[0-9a-f]{64}$/);
});

Deno.test({
  name: "copy-up merges layers as overlayfs: top wins, whiteouts and opaque dirs hide",
  ignore: !isRoot,
}, () => {
  const dir = Deno.makeTempDirSync();
  try {
    const top = `${dir}/top`, bottom = `${dir}/bottom`, dst = `${dir}/vol`;
    for (const d of [`${top}/data/opaque`, `${bottom}/data/opaque`, `${bottom}/data/sub`]) {
      Deno.mkdirSync(d, { recursive: true });
    }
    Deno.mkdirSync(dst);
    Deno.writeTextFileSync(`${bottom}/data/a`, "bottom a");
    Deno.writeTextFileSync(`${top}/data/a`, "top a");
    Deno.writeTextFileSync(`${bottom}/data/gone`, "hidden by a whiteout");
    mknod(`${top}/data/gone`, "char", 0o600, 0, 0);
    Deno.writeTextFileSync(`${bottom}/data/opaque/old`, "hidden by the opaque dir");
    Deno.writeTextFileSync(`${top}/data/opaque/new`, "new");
    lsetxattr(`${top}/data/opaque`, "trusted.overlay.opaque", new TextEncoder().encode("y"));
    Deno.writeTextFileSync(`${bottom}/data/sub/f`, "from below");
    Deno.chownSync(`${bottom}/data/sub/f`, 1000, 2000);
    Deno.chmodSync(`${bottom}/data/sub/f`, 0o4750);
    Deno.symlinkSync("a", `${bottom}/data/ln`);
    mknod(`${bottom}/data/fifo`, "fifo", 0o644);
    Deno.chmodSync(`${top}/data`, 0o700);
    Deno.chownSync(`${top}/data`, 5, 6);

    assert.equal(copyImageContent([top, bottom], "/data", dst), true);
    const names = [...Deno.readDirSync(dst)].map((e) => e.name).sort();
    assert.deepEqual(names, ["a", "fifo", "ln", "opaque", "sub"]);
    assert.equal(Deno.readTextFileSync(`${dst}/a`), "top a");
    assert.deepEqual([...Deno.readDirSync(`${dst}/opaque`)].map((e) => e.name), ["new"]);
    const f = Deno.lstatSync(`${dst}/sub/f`);
    assert.deepEqual([f.uid, f.gid, f.mode! & 0o7777], [1000, 2000, 0o4750]);
    assert.equal(Deno.readLinkSync(`${dst}/ln`), "a");
    assert.ok(Deno.lstatSync(`${dst}/fifo`).isFifo);
    // The volume's own directory takes the image directory's owner and mode.
    const root = Deno.statSync(dst);
    assert.deepEqual([root.uid, root.gid, root.mode! & 0o7777], [5, 6, 0o700]);

    // A remapped container's volume: owners shifted into its range.
    const shifted = `${dir}/shifted`;
    Deno.mkdirSync(shifted);
    copyImageContent([top, bottom], "/data/sub", shifted, { uid: 100000, gid: 100000 });
    const s = Deno.lstatSync(`${shifted}/f`);
    assert.deepEqual([s.uid, s.gid], [101000, 102000]);

    // Nothing at the path, a file there, or a whiteout over it: nothing to copy.
    const empty = `${dir}/empty`;
    Deno.mkdirSync(empty);
    assert.equal(copyImageContent([top, bottom], "/nowhere", empty), false);
    assert.equal(copyImageContent([top, bottom], "/data/a", empty), false);
    assert.equal(copyImageContent([top, bottom], "/data/gone", empty), false);
    assert.deepEqual([...Deno.readDirSync(empty)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
