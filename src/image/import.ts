/**
 * `import ROOTFS.tar NAME[:TAG]`: a flat root filesystem tarball (plain or gzipped) becomes
 * a one-layer image. The layer's digest is the tarball's sha256; it is unpacked by the same
 * checked code as registry layers, into a directory renamed into place only when complete.
 * The file is read once, in large synchronous reads: each chunk is hashed on a worker thread
 * while the main thread writes out the files in it.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { applyLayer } from "./layer_apply.ts";
import { type LayerDigest, layerDigest } from "./digest.ts";
import { gunzipped } from "./gunzip.ts";
import { parseReference } from "./reference.ts";
import type { ImageRecord, ImageRunConfig, ImageStore } from "./store.ts";
import { DEFAULT_PATH } from "../config/container.ts";
import { hostPlatform } from "./platform.ts";

/** Bytes read at a time: large reads, few calls. */
const CHUNK = 1 << 20;

/**
 * The file's bytes in chunks, each added to `digest` (on a worker thread, while the caller
 * unpacks the chunk). Two buffers take turns: a chunk is valid until the one after next is
 * asked for, so the caller must be done with it when it asks for the next.
 */
async function* digestedChunks(path: string, digest: LayerDigest): AsyncGenerator<Uint8Array> {
  using file = Deno.openSync(path);
  const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let hashing: Promise<void> = Promise.resolve();
  try {
    for (let i = 0;; i++) {
      const buffer = buffers[i & 1];
      const n = file.readSync(buffer);
      if (n === null) break;
      const chunk = buffer.subarray(0, n);
      await hashing; // the one before: updates are sequential, and its buffer is next
      hashing = digest.update(chunk);
      yield chunk;
    }
    await hashing;
  } finally {
    await hashing.catch(() => {}); // the buffer must not be freed while it is hashed
  }
}

/** The archive's bytes, uncompressed, from digested chunks of the file. */
function tarChunks(path: string, digest: LayerDigest): AsyncIterable<Uint8Array> {
  const head = new Uint8Array(2);
  {
    using f = Deno.openSync(path);
    f.readSync(head);
  }
  const chunks = digestedChunks(path, digest);
  return head[0] === 0x1f && head[1] === 0x8b ? gunzipped(chunks) : chunks;
}

/** Imports a rootfs tarball as `reference`; returns the new image. */
export async function importRootfs(
  store: ImageStore,
  tarPath: string,
  reference: string,
): Promise<ImageRecord> {
  parseReference(reference); // refuses a malformed name before anything is written
  try {
    if (!(await Deno.stat(tarPath)).isFile) throw new UsageError(`${tarPath}: not a file`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`open ${tarPath}: no such file`);
    throw e;
  }
  // One pass digests and unpacks the file, so its name is known only at the end: it is
  // unpacked into a temporary directory of the store's (`.tmp-`, removed on failure, pruned
  // if a crash leaves it) and renamed into place as a whole.
  const layers = `${store.dir}/layers`;
  Deno.mkdirSync(layers, { recursive: true, mode: 0o700 });
  const tmp = Deno.makeTempDirSync({ dir: layers, prefix: ".tmp-" });
  const digest = await layerDigest();
  let layer: string;
  let size: number | null;
  let placed = false;
  try {
    Deno.mkdirSync(`${tmp}/diff`, { mode: 0o755 });
    // A flat rootfs: whiteouts have nothing below them to hide.
    ({ filesSize: size } = await applyLayer(tarChunks(tarPath, digest), `${tmp}/diff`, "drop"));
    layer = await digest.digest();
    placed = store.placeLayer(layer, tmp);
  } finally {
    digest.dispose();
    if (!placed) Deno.removeSync(tmp, { recursive: true });
  }
  const config: ImageRunConfig = { Env: [`PATH=${DEFAULT_PATH}`] };
  const created = new Date().toISOString();
  // dockerd's import records the daemon's platform.
  const [os, architecture] = hostPlatform().split("/");
  // dockerd's import history: one entry, the source in its comment (the CLI streams a file).
  const platform = { os, architecture, history: [{ created, comment: "Imported from -" }] };
  // The unpacker counted the layer's bytes: no second walk of it (an lstat per file).
  return await store.addSingleLayerImage(
    layer,
    config,
    created,
    reference,
    platform,
    size ?? undefined,
  );
}
