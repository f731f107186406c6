/**
 * `save` and `load`: images in one tarball, without a registry. `save` writes both layouts
 * that tools read (as Docker does since 25): Docker's `manifest.json` and an OCI image
 * layout (`oci-layout`, `index.json`, `blobs/sha256/...`), sharing the same blobs. `load`
 * reads either. The archive is unpacked by the same checked code as layers, so a hostile
 * archive cannot write outside its temporary directory, and every layer is verified
 * against the diff ID its config declares.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { applyLayer } from "./layer_apply.ts";
import { packDirectory } from "./layer_pack.ts";
import { DigestMismatchError, hostPlatform } from "./pull.ts";
import { familiarName, parseReference } from "./reference.ts";
import {
  type ImageRecord,
  type ImageRunConfig,
  type ImageStore,
  normalizeReference,
  pickRunConfig,
  sha256,
} from "./store.ts";
import { type TarWriteEntry, writeTar } from "./tar_writer.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
const encoder = new TextEncoder();

/** Writes the images named by `refs` (references or IDs) to `out` as one archive. */
export async function saveImages(images: ImageStore, refs: string[], out: string): Promise<void> {
  const blobs = new Map<string, Uint8Array<ArrayBuffer>>();
  const layerBlob = new Map<string, string>(); // diff ID -> digest of the tar we wrote
  const addBlob = async (bytes: Uint8Array<ArrayBuffer>) => {
    const digest = await sha256(bytes);
    blobs.set(digest, bytes);
    return digest;
  };
  const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const index: Array<Record<string, unknown>> = [];
  const [os, architecture] = hostPlatform().split("/");
  for (const ref of refs) {
    const image = images.find(ref);
    if (!image) throw new UsageError(`No such image: ${ref}`);
    const diffIds: string[] = [];
    for (const layer of image.layers) {
      let digest = layerBlob.get(layer);
      if (!digest) {
        digest = await addBlob(writeTar(packDirectory(images.layerDiffDir(layer))));
        layerBlob.set(layer, digest);
      }
      diffIds.push(digest);
    }
    const config = encoder.encode(JSON.stringify({
      architecture,
      os,
      created: image.created,
      config: image.config,
      rootfs: { type: "layers", diff_ids: diffIds },
      // Builders (buildah, BuildKit) expect one non-empty entry per layer.
      history: image.history ?? image.layers.map(() => ({ created: image.created })),
    }));
    const configDigest = await addBlob(config);
    const manifest = encoder.encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: diffIds.map((d) => ({ mediaType: OCI_LAYER, digest: d, size: blobs.get(d)!.length })),
    }));
    const manifestDigest = await addBlob(manifest);
    // Saved by name: that name travels with it (by ID: no name, as Docker).
    const name = normalizeReference(ref);
    const named = images.references()[name] === image.id ? name : undefined;
    dockerManifest.push({
      Config: `blobs/sha256/${configDigest.slice(7)}`,
      RepoTags: named ? [named] : [],
      Layers: diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
    });
    const full = named ? parseReference(named) : undefined;
    index.push({
      mediaType: OCI_MANIFEST,
      digest: manifestDigest,
      size: manifest.length,
      ...(full
        ? {
          annotations: {
            "io.containerd.image.name": `${full.registry}/${full.repository}:${full.tag}`,
            "org.opencontainers.image.ref.name": full.tag,
          },
        }
        : {}),
    });
  }
  const entries: TarWriteEntry[] = [
    { name: "blobs", type: "directory" },
    { name: "blobs/sha256", type: "directory" },
    ...[...blobs].map(([digest, body]) => ({ name: `blobs/sha256/${digest.slice(7)}`, body })),
    { name: "oci-layout", body: encoder.encode('{"imageLayoutVersion":"1.0.0"}') },
    {
      name: "index.json",
      body: encoder.encode(JSON.stringify({ schemaVersion: 2, manifests: index })),
    },
    { name: "manifest.json", body: encoder.encode(JSON.stringify(dockerManifest)) },
  ];
  Deno.writeFileSync(out, writeTar(entries));
}

/** One image found in an archive, with its blobs' paths inside the unpacked archive. */
interface ArchivedImage {
  config: string;
  layers: string[];
  names: string[];
}

/**
 * `path`, a file of the archive unpacked in `root`, as a regular file that really is inside
 * it: the archive's own entries may be symlinks, which would read the host's files (a
 * manifest.json that points at /etc/shadow, a layer at a device).
 */
function inside(root: string, path: string): string {
  const rel = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    throw new UsageError(`invalid image archive: ${rel} is missing`);
  }
  if (!real.startsWith(`${Deno.realPathSync(root)}/`) || !Deno.statSync(real).isFile) {
    throw new UsageError(`invalid image archive: ${rel} is not a file of the archive`);
  }
  return real;
}

function readJson<T>(root: string, path: string): T {
  try {
    return JSON.parse(Deno.readTextFileSync(inside(root, path))) as T;
  } catch (e) {
    throw new UsageError(
      `invalid image archive: ${path.split("/").slice(-2).join("/")}: ${(e as Error).message}`,
    );
  }
}

/** Images listed by an OCI layout's index (one level of nested index followed). */
function ociImages(dir: string): ArchivedImage[] {
  const blob = (digest: string) => `${dir}/blobs/sha256/${digest.replace(/^sha256:/, "")}`;
  type Desc = { mediaType: string; digest: string; annotations?: Record<string, string> };
  const out: ArchivedImage[] = [];
  const visit = (manifests: Desc[], names: string[]) => {
    for (const m of manifests) {
      const own = m.annotations?.["io.containerd.image.name"] ??
        m.annotations?.["org.opencontainers.image.ref.name"];
      const all = own && /[/:]/.test(own) ? [own] : names;
      const doc = readJson<{ manifests?: Desc[]; config?: Desc; layers?: Desc[] }>(
        dir,
        blob(m.digest),
      );
      if (doc.manifests) {
        // An index inside the layout: the host's platform, else the first.
        const arch = hostPlatform().split("/")[1];
        const pick = doc.manifests.find((d) =>
          (d as Desc & { platform?: { architecture?: string } }).platform?.architecture === arch
        ) ?? doc.manifests[0];
        visit([pick], all);
      } else if (doc.config && doc.layers) {
        out.push({
          config: blob(doc.config.digest),
          layers: doc.layers.map((l) => blob(l.digest)),
          names: all,
        });
      }
    }
  };
  visit(readJson<{ manifests: Desc[] }>(dir, `${dir}/index.json`).manifests, []);
  return out;
}

/** Images listed by Docker's manifest.json. */
function dockerImages(dir: string): ArchivedImage[] {
  return readJson<Array<{ Config: string; RepoTags?: string[]; Layers: string[] }>>(
    dir,
    `${dir}/manifest.json`,
  )
    .map((m) => ({
      config: `${dir}/${m.Config}`,
      layers: m.Layers.map((l) => `${dir}/${l}`),
      names: m.RepoTags ?? [],
    }));
}

/** A layer file's stream, gunzipped when it is compressed. */
function layerStream(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  const stream = new Blob([bytes]).stream();
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return stream.pipeThrough(new DecompressionStream("gzip"));
  }
  return stream;
}

/** Loads every image in the archive at `path`; returns Docker's report lines. */
export async function loadImages(images: ImageStore, path: string): Promise<string[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    throw new UsageError(`open ${path}: no such file`);
  }
  Deno.mkdirSync(images.dir, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir: images.dir, prefix: ".load-" });
  const lines: string[] = [];
  try {
    const head = new Uint8Array(2);
    {
      using probe = await Deno.open(path);
      await probe.read(head);
    }
    const raw = file.readable;
    await applyLayer(
      head[0] === 0x1f && head[1] === 0x8b ? raw.pipeThrough(new DecompressionStream("gzip")) : raw,
      tmp,
      "drop",
    );
    const exists = (p: string) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    };
    const found = exists(`${tmp}/manifest.json`)
      ? dockerImages(tmp)
      : exists(`${tmp}/index.json`)
      ? ociImages(tmp)
      : (() => {
        throw new UsageError(`${path} is neither a Docker image archive nor an OCI image layout`);
      })();
    for (const item of found) {
      const configBytes = Deno.readFileSync(inside(tmp, item.config));
      const config = JSON.parse(new TextDecoder().decode(configBytes)) as {
        created?: string;
        config?: ImageRunConfig;
        rootfs: { diff_ids: string[] };
        history?: ImageRecord["history"];
      };
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== item.layers.length) {
        throw new UsageError(
          "invalid image archive: the config and manifest disagree on the layers",
        );
      }
      for (const [i, layerPath] of item.layers.entries()) {
        const bytes = Deno.readFileSync(inside(tmp, layerPath));
        const uncompressed = new Uint8Array(await new Response(layerStream(bytes)).arrayBuffer());
        const got = await sha256(uncompressed);
        if (got !== diffIds[i]) throw new DigestMismatchError(`layer ${i + 1}`, diffIds[i], got);
        await images.addLayer(diffIds[i], async (dir) => {
          await applyLayer(new Blob([uncompressed]).stream(), dir, "overlay");
        });
      }
      const c = config.config;
      const image: ImageRecord = {
        id: await sha256(configBytes),
        layers: diffIds,
        config: pickRunConfig(c),
        created: config.created ?? new Date(0).toISOString(),
        history: config.history,
        size: item.layers.reduce((n, l) => n + Deno.statSync(inside(tmp, l)).size, 0),
      };
      images.addImage(image);
      if (item.names.length === 0) lines.push(`Loaded image ID: ${image.id}`);
      for (const name of item.names) {
        const short = familiarName(parseReference(name));
        images.tag(image.id, short);
        lines.push(`Loaded image: ${short}`);
      }
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
  return lines;
}
