/**
 * `importRootfs` into a temporary store: the layer is renamed into place in one step (no
 * temporary directory is left, even when the layer was there already), and the image's size
 * is what a walk of the layer adds up.
 */
import assert from "node:assert/strict";
import { importRootfs } from "../../src/image/import.ts";
import { directorySize, ImageStore } from "../../src/image/store.ts";
import { writeTar } from "../../src/image/tar_writer.ts";

Deno.test({
  name: "import places its layer in one rename and counts its size",
  ignore: Deno.uid() !== 0,
}, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-import-test-" });
  try {
    const tar = `${dir}/rootfs.tar`;
    Deno.writeFileSync(
      tar,
      writeTar([
        { name: "bin/", type: "directory" },
        { name: "bin/a", body: new Uint8Array(300_000), mode: 0o755 },
        { name: "bin/b", type: "hardlink", linkname: "bin/a" },
        { name: "etc/c", body: new TextEncoder().encode("c\n") },
      ]),
    );
    const store = new ImageStore(`${dir}/root`);
    const first = await importRootfs(store, tar, "mine:v1");
    const layer = first.layers[0];
    assert.equal(first.size, directorySize(store.layerDiffDir(layer)));
    assert.equal(first.size, 600_002);
    assert.equal(Deno.readLinkSync(store.layerLink(layer)), `../layers/${layer.slice(7)}/diff`);
    // The same layer again: the one in place stays, the new copy is removed.
    const inode = Deno.statSync(store.layerDiffDir(layer)).ino;
    const second = await importRootfs(store, tar, "mine:v2");
    assert.equal(second.layers[0], layer);
    assert.equal(Deno.statSync(store.layerDiffDir(layer)).ino, inode);
    const left = [...Deno.readDirSync(`${store.dir}/layers`)].map((e) => e.name);
    assert.deepEqual(left, [layer.slice(7)]);
    assert.equal(store.placeLayer(layer, `${dir}/nothing-here`), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
