/**
 * `import ROOTFS.tar NAME[:TAG]`: a flat root filesystem tarball becomes a one-layer image.
 * The layer's digest is the tarball's sha256; extraction is GNU tar's (it refuses absolute
 * and `..` member names), into a directory that is renamed into place only when complete.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import {
  type ImageRecord,
  type ImageRunConfig,
  type ImageStore,
  isValidReference,
} from "./store.ts";
import { DEFAULT_PATH } from "../container/spec.ts";

async function fileDigest(path: string): Promise<string> {
  // Loaded here, not at the top: any node: module costs every CLI start ~20 ms.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

function extract(tarPath: string, dir: string): void {
  const out = new Deno.Command("tar", {
    args: ["-x", "-p", "--numeric-owner", "--same-owner", "-f", tarPath, "-C", dir],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    throw new UsageError(`import ${tarPath}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Imports a rootfs tarball as `reference`; returns the new image. */
export async function importRootfs(
  store: ImageStore,
  tarPath: string,
  reference: string,
): Promise<ImageRecord> {
  if (!isValidReference(reference)) {
    throw new UsageError(`invalid reference format: "${reference}"`);
  }
  try {
    if (!(await Deno.stat(tarPath)).isFile) throw new UsageError(`${tarPath}: not a file`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`open ${tarPath}: no such file`);
    throw e;
  }
  const layer = await fileDigest(tarPath);
  store.addLayer(layer, (dir) => extract(tarPath, dir));
  const config: ImageRunConfig = { Env: [`PATH=${DEFAULT_PATH}`] };
  const created = new Date().toISOString();
  return await store.addSingleLayerImage(layer, config, created, reference);
}
