/**
 * A build's scratch directories in the image store carry their owner in their name: a prune
 * (every `rmi` runs one) keeps those of a live build however old, and removes those of a
 * build that died at once; names without an owner keep the hour's grace.
 */
import assert from "node:assert/strict";
import { ImageStore, makeBuildScratch } from "../../src/image/store.ts";

Deno.test("a prune keeps a live build's scratch and removes a dead one's", () => {
  const root = Deno.makeTempDirSync({ prefix: "m-docker-scratch-test-" });
  try {
    const store = new ImageStore(root);
    Deno.mkdirSync(store.dir, { recursive: true });
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const mine = makeBuildScratch(store.dir, "mnt");
    assert.match(mine, new RegExp(`/\\.build-mnt-${Deno.pid}\\.\\d+-`));
    Deno.utimeSync(mine, old, old); // hours into a long RUN: still in use
    const dead = `${store.dir}/.build-copy-999999999.1-abc`; // no such process
    const fresh = `${store.dir}/.build-legacy-fresh`;
    const stale = `${store.dir}/.build-legacy-stale`;
    for (const d of [dead, fresh, stale]) Deno.mkdirSync(d);
    Deno.utimeSync(stale, old, old);
    store.pruneLayers(new Set());
    const left = [...Deno.readDirSync(store.dir)].map((e) => e.name).filter((n) =>
      n.startsWith(".build-")
    ).sort();
    assert.deepEqual(left, [".build-legacy-fresh", mine.slice(mine.lastIndexOf("/") + 1)].sort());
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
