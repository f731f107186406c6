/**
 * `pull`: resolves a reference to a manifest (choosing the host's platform from an index),
 * fetches the config and the layers (concurrently), verifies every digest while the bytes
 * stream, and applies each layer exactly once: a layer is stored under its diff ID (the
 * digest of its uncompressed tar), so every image that has it shares one directory.
 *
 * @module
 */

import { applyLayer } from "./layer_apply.ts";
import { type LayerDigest, layerDigest } from "./digest.ts";
import { gunzipped } from "./gunzip.ts";
import { hostPlatform } from "./platform.ts";
import { familiarName, parseReference } from "./reference.ts";
import { MANIFEST_TYPES, RegistryClient, RegistryError, type RegistryOptions } from "./registry.ts";
import {
  type ImageRecord,
  type ImageRunConfig,
  type ImageStore,
  pickRunConfig,
  sha256,
} from "./store.ts";

/** A descriptor in a manifest or index. */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

/** What pull reports as it goes, one line per event (as Docker's plain progress). */
export type PullProgress = (line: string) => void;

/** A layer's progress: its short ID, a status, and for downloads the bytes so far. */
export type LayerProgress = (id: string, status: string, current?: number, total?: number) => void;

/** Options for `pullImage`. */
export interface PullOptions extends RegistryOptions {
  /** `os/arch[/variant]`; the host's by default. */
  platform?: string;
  progress?: PullProgress;
  /** Per-layer progress; without it, layer events go to `progress` as plain lines. */
  layerProgress?: LayerProgress;
}

/** A digest that does not match the content. */
export class DigestMismatchError extends RegistryError {
  constructor(what: string, want: string, got: string) {
    super(`digest mismatch for ${what}: expected ${want}, got ${got}`);
  }
}

export { hostPlatform } from "./platform.ts";

/** Picks the manifest for `platform` from an index; a clear error when there is none. */
export function choosePlatform(manifests: Descriptor[], platform: string): Descriptor {
  const [os, arch, variant] = platform.split("/");
  const found = manifests.find((m) =>
    m.platform?.os === os && m.platform?.architecture === arch &&
    (variant === undefined || m.platform?.variant === variant)
  );
  if (!found) {
    const offered = manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(
      ", ",
    );
    throw new RegistryError(
      `no matching manifest for ${platform} in the manifest list (it has ${offered})`,
    );
  }
  return found;
}

/**
 * The chunks of `source`, each added to `digest` before it is passed on (and counted by
 * `seen`). A generator rather than a TransformStream: one promise per chunk, not several.
 */
async function* digesting(
  source: AsyncIterable<Uint8Array>,
  digest: LayerDigest,
  seen?: (bytes: number) => void,
  copy?: (chunk: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    seen?.(chunk.length);
    copy?.(chunk);
    await digest.update(chunk);
    yield chunk;
  }
}

/** True for gzip layers, false for plain tar; an error for compressions not supported. */
function gzipped(mediaType: string): boolean {
  if (
    mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip") || mediaType.endsWith("tar.gzip")
  ) {
    return true;
  }
  if (mediaType.endsWith("+zstd")) {
    throw new RegistryError(`layers compressed with zstd are not supported yet (${mediaType})`);
  }
  return false; // uncompressed tar
}

/**
 * Runs `tasks` with at most `limit` at once. After a failure no new task starts, but the
 * running ones finish (and clean up their temporary directories) before the first error
 * is thrown: the process must not exit with a half-unpacked layer left behind.
 */
export async function limited<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length && !failure) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** Pulls `reference` into `store` and tags it; returns the image. */
export async function pullImage(
  store: ImageStore,
  reference: string,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  const ref = parseReference(reference);
  const name = familiarName(ref);
  const say = opts.progress ?? (() => {});
  const client = new RegistryClient(ref, opts);
  let { bytes, mediaType } = await client.manifest(ref.digest ?? ref.tag!);
  // After the registry has answered, as dockerd: a registry that cannot be reached, or has
  // no such image, leaves stdout empty.
  say(
    `${ref.tag ?? ref.digest}: Pulling from ${
      ref.registry === "docker.io" ? ref.repository : `${ref.registry}/${ref.repository}`
    }`,
  );
  let manifestDigest = await sha256(bytes);
  if (ref.digest && manifestDigest !== ref.digest) {
    throw new DigestMismatchError("the manifest", ref.digest, manifestDigest);
  }
  if (mediaType === MANIFEST_TYPES.ociIndex || mediaType === MANIFEST_TYPES.dockerList) {
    const index = JSON.parse(new TextDecoder().decode(bytes)) as { manifests: Descriptor[] };
    const chosen = choosePlatform(index.manifests, opts.platform ?? hostPlatform());
    ({ bytes, mediaType } = await client.manifest(chosen.digest));
    const got = await sha256(bytes);
    if (got !== chosen.digest) {
      throw new DigestMismatchError("the platform manifest", chosen.digest, got);
    }
    manifestDigest = chosen.digest;
  }
  if (mediaType !== MANIFEST_TYPES.ociManifest && mediaType !== MANIFEST_TYPES.dockerManifest) {
    throw new RegistryError(`unsupported manifest type ${mediaType}`);
  }
  const manifestBytes = bytes;
  const manifestType = mediaType;
  const source = `${ref.registry}/${ref.repository}`;
  const manifest = JSON.parse(new TextDecoder().decode(bytes)) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const configBytes = new Uint8Array(
    await new Response(await client.blob(manifest.config.digest)).arrayBuffer(),
  );
  const configDigest = await sha256(configBytes);
  if (configDigest !== manifest.config.digest) {
    throw new DigestMismatchError("the image config", manifest.config.digest, configDigest);
  }
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as {
    created?: string;
    os?: string;
    architecture?: string;
    config?: ImageRunConfig & Record<string, unknown>;
    rootfs: { diff_ids: string[] };
  };
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new RegistryError("the image config and manifest disagree on the number of layers");
  }
  const layerSay: LayerProgress = opts.layerProgress ??
    ((id, status, current) => current === undefined && say(`${id}: ${status}`));
  await limited(
    3,
    manifest.layers.map((layer, i) => async () => {
      const short = layer.digest.slice(7, 19);
      const diffId = diffIds[i];
      if (store.hasLayer(diffId)) {
        layerSay(short, "Already exists");
        return;
      }
      layerSay(short, "Pulling fs layer");
      await store.addLayer(diffId, async (dir) => {
        const compressed = await layerDigest();
        const uncompressed = await layerDigest();
        // The blob as it came is kept for `push`, which must send the same bytes.
        const kept = store.tempBlobPath();
        const keep = Deno.openSync(kept, { write: true });
        try {
          const body = await client.blob(layer.digest);
          let received = 0;
          const downloaded = digesting(body, compressed, (n) => {
            received += n;
            layerSay(short, "Downloading", received, layer.size);
          }, (chunk) => {
            for (let off = 0; off < chunk.length;) off += keep.writeSync(chunk.subarray(off));
          });
          const tar = gzipped(layer.mediaType) ? gunzipped(downloaded) : downloaded;
          await applyLayer(digesting(tar, uncompressed), dir, "overlay");
          // A mismatch throws, and addLayer deletes what was unpacked.
          const got = await compressed.digest();
          if (got !== layer.digest) {
            throw new DigestMismatchError(`layer ${short}`, layer.digest, got);
          }
          const gotDiff = await uncompressed.digest();
          if (gotDiff !== diffId) {
            throw new DigestMismatchError(`layer ${short} (uncompressed)`, diffId, gotDiff);
          }
          store.placeBlob(layer.digest, kept);
          store.addBlobRepository(layer.digest, source);
        } finally {
          keep.close();
          try {
            Deno.removeSync(kept); // not placed: a failed download
          } catch { /* placed */ }
          compressed.dispose();
          uncompressed.dispose();
        }
      });
      layerSay(short, "Pull complete");
    }),
  );
  // What `push` needs to send the image as it came: its manifest and config, as blobs.
  store.writeBlob(configDigest, configBytes);
  store.addBlobRepository(configDigest, source);
  store.writeBlob(manifestDigest, manifestBytes);
  const c = config.config;
  const image: ImageRecord = {
    id: configDigest,
    layers: diffIds,
    config: pickRunConfig(c),
    created: config.created ?? new Date(0).toISOString(),
    size: manifest.layers.reduce((n, l) => n + l.size, 0),
    os: config.os,
    architecture: config.architecture,
    manifest: { digest: manifestDigest, mediaType: manifestType },
  };
  // Docker's RepoDigests: the repository (no tag) and the manifest it came by, kept across
  // pulls of the same image from other repositories.
  const repoDigest = `${name.replace(/[:@][^/]*$/, "")}@${manifestDigest}`;
  const known = store.list().find((i) => i.id === image.id)?.repoDigests ?? [];
  image.repoDigests = [...new Set([...known, repoDigest])];
  store.addImage(image, name);
  say(`Digest: ${manifestDigest}`);
  say(`Status: Downloaded newer image for ${name}`);
  return image;
}
