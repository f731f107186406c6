/**
 * `import ROOTFS.tar NAME[:TAG]`: a flat root filesystem tarball (plain or gzipped) becomes
 * a one-layer image. The layer's digest is the tarball's sha256; it is unpacked by the same
 * checked code as registry layers, into a directory renamed into place only when complete.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { applyLayer } from "./layer_apply.ts";
import { parseReference } from "./reference.ts";
import type { ImageRecord, ImageRunConfig, ImageStore } from "./store.ts";
import { DEFAULT_PATH } from "../config/container.ts";
import { hostPlatform } from "./platform.ts";

async function fileDigest(path: string): Promise<string> {
  // Loaded here, not at the top: any node: module costs every CLI start ~20 ms.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

/** The archive's bytes, gunzipped when they start with gzip's magic number. */
async function tarStream(path: string): Promise<ReadableStream<Uint8Array>> {
  const head = new Uint8Array(2);
  {
    using f = await Deno.open(path);
    await f.read(head);
  }
  const file = await Deno.open(path);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  return gzip ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
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
  const layer = await fileDigest(tarPath);
  // A flat rootfs: whiteouts have nothing below them to hide.
  await store.addLayer(layer, async (dir) => {
    await applyLayer(await tarStream(tarPath), dir, "drop");
  });
  const config: ImageRunConfig = { Env: [`PATH=${DEFAULT_PATH}`] };
  const created = new Date().toISOString();
  // dockerd's import records the daemon's platform.
  const [os, architecture] = hostPlatform().split("/");
  return await store.addSingleLayerImage(layer, config, created, reference, { os, architecture });
}
