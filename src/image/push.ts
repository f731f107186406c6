/**
 * `push`: an image from the store to an OCI distribution registry, as the distribution
 * spec's "Pushing" has it. Each blob is first asked for (HEAD) and skipped when the
 * repository has it, else mounted from another repository of the same registry that is
 * known to have it, else uploaded: one PUT for a small blob, PATCHes of `chunkSize` bytes
 * and a closing PUT for a large one. The manifest goes last.
 *
 * A pulled image goes as it came: its manifest's bytes and the blobs kept at pull, so that
 * the digests stay. An image made here (the built-in one, `import`, `commit`) goes as a
 * Docker v2 schema 2 manifest of gzip layers; each layer's gzip blob is made once and kept,
 * so that a second push sends the same bytes. A pulled image whose blobs were not all kept
 * (a layer that another image had brought) and that the registry cannot find goes that way
 * too, with a new config and manifest.
 *
 * @module
 */

import { limited } from "./pull.ts";
import { hostPlatform } from "./platform.ts";
import { packDirectory } from "./layer_pack.ts";
import { familiarName, type ImageReference, parseReference } from "./reference.ts";
import { MANIFEST_TYPES, RegistryClient, RegistryError, type RegistryOptions } from "./registry.ts";
import {
  type CompressedLayer,
  type ImageRecord,
  type ImageStore,
  normalizeReference,
  sha256,
} from "./store.ts";
import { imageHistory, pulledConfig } from "./history.ts";
import { writeTar } from "./tar_writer.ts";
import { UsageError } from "../util/errors.ts";

/** Blobs larger than this go in chunks of this size (PATCH), smaller ones in one PUT. */
export const CHUNK_SIZE = 8 << 20;

const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** A layer's progress: its short ID, a status, and for uploads the bytes so far. */
export type PushLayerProgress = (
  id: string,
  status: string,
  current?: number,
  total?: number,
) => void;

/** Options for `pushImage`. */
export interface PushOptions extends RegistryOptions {
  /** Plain lines (`The push refers to ...`, the digest line). */
  progress?: (line: string) => void;
  /** Per-layer progress; without it, layer events go to `progress` as plain lines. */
  layerProgress?: PushLayerProgress;
  /** See CHUNK_SIZE. */
  chunkSize?: number;
}

/** What a push of one tag did. */
export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

/** A blob to send: its descriptor, its short ID in the progress (none: the config). */
interface PushBlob {
  digest: string;
  size: number;
  mediaType: string;
  short?: string;
}

/** What goes to the registry for one image. */
interface Plan {
  manifest: Uint8Array<ArrayBuffer>;
  mediaType: string;
  blobs: PushBlob[];
}

const encoder = new TextEncoder();
const hex12 = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

/** The plan of a pulled image as it came, or null when it was not pulled (or is older). */
function pulledPlan(store: ImageStore, image: ImageRecord): Plan | null {
  if (!image.manifest) return null;
  const manifest = store.readBlob(image.manifest.digest);
  if (!manifest || !store.hasBlob(image.id)) return null;
  const m = JSON.parse(new TextDecoder().decode(manifest)) as {
    config: PushBlob;
    layers: PushBlob[];
  };
  const blobs: PushBlob[] = m.layers.map((l, i) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
    short: hex12(image.layers[i] ?? l.digest), // dockerd shows the diff ID
  }));
  blobs.push({ digest: m.config.digest, size: m.config.size, mediaType: m.config.mediaType });
  return { manifest, mediaType: image.manifest.mediaType, blobs };
}

/** A local layer's gzip blob: the one made before, else made now (deterministic) and kept. */
async function compressLayer(store: ImageStore, layer: string): Promise<CompressedLayer> {
  const made = store.compressedLayer(layer);
  if (made) return made;
  const tar = writeTar(packDirectory(store.layerDiffDir(layer)));
  const diffId = await sha256(tar);
  const gzip = new Uint8Array(
    await new Response(new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const c: CompressedLayer = { digest: await sha256(gzip), size: gzip.length, diffId };
  store.writeBlob(c.digest, gzip);
  store.setCompressedLayer(layer, c);
  return c;
}

/**
 * The plan of an image made here: its layers as gzip blobs, a config with their diff IDs
 * (a pulled image's own config, its layers' IDs replaced, when it is kept), and a Docker
 * v2 schema 2 manifest. The same bytes each time, for the same image.
 */
async function localPlan(store: ImageStore, image: ImageRecord): Promise<Plan> {
  const layers: CompressedLayer[] = [];
  for (const layer of image.layers) layers.push(await compressLayer(store, layer));
  const [os, architecture] = hostPlatform().split("/");
  const base = pulledConfig(store, image) ?? {
    architecture: image.architecture ?? architecture,
    os: image.os ?? os,
    created: image.created,
    history: imageHistory(store, image),
    config: image.config,
  };
  const config = encoder.encode(JSON.stringify({
    ...base,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  }));
  const configDigest = await sha256(config);
  store.writeBlob(configDigest, config);
  const manifest = encoder.encode(JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPES.dockerManifest,
      config: { mediaType: DOCKER_CONFIG, size: config.length, digest: configDigest },
      layers: layers.map((l) => ({ mediaType: DOCKER_LAYER, size: l.size, digest: l.digest })),
    },
    null,
    3,
  ));
  const blobs: PushBlob[] = layers.map((l) => ({
    digest: l.digest,
    size: l.size,
    mediaType: DOCKER_LAYER,
    short: hex12(l.diffId),
  }));
  blobs.push({ digest: configDigest, size: config.length, mediaType: DOCKER_CONFIG });
  return { manifest, mediaType: MANIFEST_TYPES.dockerManifest, blobs };
}

/** `registry/repository`, as the store records where blobs are. */
const repositoryOf = (ref: ImageReference) => `${ref.registry}/${ref.repository}`;

/** The repositories of `ref`'s registry (not `ref`'s own) known to have `digest`. */
function mountSources(store: ImageStore, ref: ImageReference, digest: string): string[] {
  return store.blobRepositories(digest).flatMap((r) => {
    const slash = r.indexOf("/");
    const registry = r.slice(0, slash), repository = r.slice(slash + 1);
    return registry === ref.registry && repository !== ref.repository ? [repository] : [];
  });
}

/** The images that `push` of `reference` sends: one tag, or with `allTags` every tag. */
export function imagesToPush(
  store: ImageStore,
  reference: string,
  allTags: boolean,
): Array<{ tag: string; image: ImageRecord }> {
  const ref = parseReference(reference);
  if (ref.digest) throw new UsageError(`cannot push a digest reference: ${reference}`);
  const name = normalizeReference(reference);
  const repo = name.slice(0, name.lastIndexOf(":"));
  const refs = store.references();
  const tags = allTags
    ? Object.keys(refs).filter((r) => r.slice(0, r.lastIndexOf(":")) === repo).sort()
    : refs[name]
    ? [name]
    : [];
  if (tags.length === 0) {
    throw new UsageError(`An image does not exist locally with the tag: ${allTags ? repo : name}`);
  }
  return tags.flatMap((t) => {
    const image = store.readImage(refs[t]);
    return image ? [{ tag: t.slice(t.lastIndexOf(":") + 1), image }] : [];
  });
}

/** Pushes `image` as `ref`'s repository and `tag`; returns the manifest's digest and size. */
export async function pushImage(
  store: ImageStore,
  ref: ImageReference,
  tag: string,
  image: ImageRecord,
  opts: PushOptions = {},
): Promise<PushResult> {
  const say = opts.progress ?? (() => {});
  const layerSay: PushLayerProgress = opts.layerProgress ??
    ((id, status, current) => current === undefined && say(`${id}: ${status}`));
  const chunk = opts.chunkSize ?? CHUNK_SIZE;
  const target = repositoryOf(ref);
  let plan = pulledPlan(store, image) ?? await localPlan(store, image);
  const sources = (digest: string) => mountSources(store, ref, digest);
  const client = new RegistryClient(ref, {
    ...opts,
    push: true,
    mountFrom: [...new Set(plan.blobs.flatMap((b) => sources(b.digest)))],
  });
  /** Where each blob is found without an upload: "exists", a repository it mounted from. */
  const found = new Map<string, string>();
  /** Whether the registry has the blob or it can be mounted (a refused mount's upload kept). */
  const locate = async (b: PushBlob): Promise<URL | undefined> => {
    if (await client.hasBlob(b.digest)) {
      found.set(b.digest, "exists");
      return;
    }
    let upload: URL | undefined;
    for (const from of sources(b.digest)) {
      const mounted = await client.mountBlob(b.digest, from);
      if (mounted === true) {
        found.set(b.digest, from);
        return;
      }
      upload ??= mounted;
    }
    return upload;
  };
  const uploads = new Map<string, URL | undefined>();
  // A pulled image missing a blob the registry cannot find goes as an image made here.
  for (const b of plan.blobs) {
    if (store.hasBlob(b.digest)) continue;
    uploads.set(b.digest, await locate(b));
    if (!found.has(b.digest)) {
      plan = await localPlan(store, image);
      break;
    }
  }
  for (const b of plan.blobs) if (b.short) layerSay(b.short, "Preparing");
  await limited(
    3,
    plan.blobs.map((b) => async () => {
      if (!found.has(b.digest)) {
        const upload = uploads.has(b.digest) ? uploads.get(b.digest) : await locate(b);
        if (!found.has(b.digest)) {
          const bytes = store.readBlob(b.digest);
          if (!bytes) throw new RegistryError(`blob ${b.digest} is not in the store`);
          if (b.short) layerSay(b.short, "Pushing");
          await client.uploadBlob(b.digest, bytes, chunk, upload, (n) => {
            if (b.short) layerSay(b.short, "Pushing", n, bytes.length);
          });
          if (b.short) layerSay(b.short, "Pushed");
          store.addBlobRepository(b.digest, target);
          return;
        }
      }
      const where = found.get(b.digest)!;
      if (b.short) {
        layerSay(b.short, where === "exists" ? "Layer already exists" : `Mounted from ${where}`);
      }
      store.addBlobRepository(b.digest, target);
    }),
  );
  await client.putManifest(tag, plan.manifest, plan.mediaType);
  const digest = await sha256(plan.manifest);
  // Docker's RepoDigests: the repository now has the image by this manifest.
  const named = familiarName({ ...ref, tag, digest: undefined });
  const repo = named.slice(0, named.lastIndexOf(":"));
  const record = store.readImage(image.id);
  if (record) {
    record.repoDigests = [...new Set([...(record.repoDigests ?? []), `${repo}@${digest}`])];
    store.addImage(record);
  }
  say(`${tag}: digest: ${digest} size: ${plan.manifest.length}`);
  return { tag, digest, size: plan.manifest.length };
}

/** `repository` as `push` names it in its first line (`docker.io/library/busybox`). */
export function pushRepositoryName(reference: string): string {
  const ref = parseReference(reference);
  return `${ref.registry}/${ref.repository}`;
}
