/**
 * The image a build stage makes, step by step: its layers, its config and its history, and
 * how each state becomes an image in the store. An image's ID is the digest of its config
 * document, written with a fixed key order and with `created` from SOURCE_DATE_EPOCH when it
 * is given, so that the same inputs give the same ID on any machine.
 *
 * @module
 */

import type { HistoryEntry, ImageRecord, ImageRunConfig, ImageStore } from "../image/store.ts";
import { sha256 } from "../image/store.ts";
import { applyLayer } from "../image/layer_apply.ts";
import { packDirectory, type PackOptions } from "../image/layer_pack.ts";
import { type TarWriteEntry, writeTar } from "../image/tar_writer.ts";
import { lstatOrNull } from "../util/fs.ts";

/** A stage's image so far. */
export interface StageImage {
  layers: string[];
  config: ImageRunConfig;
  history: HistoryEntry[];
  size: number;
  os: string;
  architecture: string;
}

/** The starting point of a stage from its base image (`FROM`), or `scratch`. */
export function stageFrom(base: ImageRecord | null): StageImage {
  if (!base) {
    return { layers: [], config: {}, history: [], size: 0, os: "linux", architecture: "amd64" };
  }
  return {
    layers: [...base.layers],
    config: structuredClone(base.config),
    history: structuredClone(base.history ?? []),
    size: base.size,
    os: base.os ?? "linux",
    architecture: base.architecture ?? "amd64",
  };
}

/** The config document whose digest is the image's ID (OCI image-spec config.md). */
export function configDocument(image: StageImage, created: string): Record<string, unknown> {
  return {
    architecture: image.architecture,
    config: image.config,
    created,
    history: image.history,
    os: image.os,
    rootfs: { type: "layers", diff_ids: image.layers },
  };
}

/** Records `image` in the store (untagged: a build's intermediate or final image). */
export async function storeStageImage(
  images: ImageStore,
  image: StageImage,
  created: string,
): Promise<ImageRecord> {
  const record: ImageRecord = {
    id: await sha256(JSON.stringify(configDocument(image, created))),
    layers: image.layers,
    config: image.config,
    created,
    size: image.size,
    os: image.os,
    architecture: image.architecture,
    history: image.history,
  };
  if (!images.readImage(record.id)) images.addImage(record);
  return record;
}

/**
 * Makes a layer of the files under `dir` (a container's upper directory, or a directory a
 * COPY filled) and adds it to the store. Returns its digest and size; null when `dir` holds
 * nothing (a RUN that changed no file makes no layer, as BuildKit).
 */
export async function addDirectoryLayer(
  images: ImageStore,
  dir: string,
  opts: PackOptions & { lowerDirs?: readonly string[] } = {},
): Promise<{ digest: string; size: number } | null> {
  let entries = packDirectory(dir, opts);
  if (opts.lowerDirs) entries = withoutCopiedUpDirectories(entries, opts.lowerDirs);
  if (entries.length === 0) return null;
  const tar = writeTar(entries);
  const digest = await sha256(tar);
  await images.addLayer(digest, async (layerDir) => {
    await applyLayer(new Blob([tar]).stream(), layerDir, "overlay");
  });
  return { digest, size: tar.length };
}

/**
 * Drops the directories of a container's upper layer that hold nothing of the layer's and
 * match the image's own (mode and owner): overlayfs copied them up only because a file the
 * engine placed (a mount point such as /etc/hosts) went in them, so a RUN that changed
 * nothing makes no layer.
 */
function withoutCopiedUpDirectories(
  entries: TarWriteEntry[],
  lowerDirs: readonly string[],
): TarWriteEntry[] {
  const below = (rel: string) => {
    for (const d of lowerDirs) {
      const info = lstatOrNull(`${d}/${rel}`);
      if (info) return info;
    }
    return null;
  };
  const names = entries.map((e) => e.name);
  return entries.filter((e, i) => {
    if (e.type !== "directory") return true;
    const prefix = `${e.name}/`;
    if (names.slice(i + 1).some((n) => n.startsWith(prefix))) return true;
    const lower = below(e.name);
    return !(lower?.isDirectory && ((lower.mode ?? 0) & 0o7777) === e.mode &&
      lower.uid === e.uid && lower.gid === e.gid);
  });
}
