/**
 * `rmi` and `image prune`: images go when no container needs them (or when forced), and
 * layers go when no image and no container uses them.
 *
 * @module
 */

import type { StateStore } from "../state/store.ts";
import { UsageError } from "../util/errors.ts";
import { type ImageStore, normalizeReference } from "./store.ts";

/** The lower directories of every container: layers that must stay. */
function layersInUse(containers: StateStore): Set<string> {
  // Containers name their layers by short link: what matters is where the links lead.
  return new Set(
    containers.list().flatMap((c) =>
      c.rootfs.lowerDirs.map((d) => {
        try {
          return Deno.realPathSync(d);
        } catch {
          return d;
        }
      })
    ),
  );
}

/**
 * Removes `ref` (a reference or an image ID). A reference of an image that has others is
 * only untagged. Returns Docker's report lines (`Untagged: ...`, `Deleted: ...`).
 */
export function removeImage(
  images: ImageStore,
  containers: StateStore,
  ref: string,
  force: boolean,
): string[] {
  const image = images.find(ref);
  // dockerd names the reference with its tag (`No such image: nope:latest`).
  if (!image) throw new UsageError(`No such image: ${normalizeReference(ref)}`);
  const tags = images.list().find((i) => i.id === image.id)?.tags ?? [];
  const byTag = tags.includes(normalizeReference(ref));
  if (byTag && tags.length > 1) {
    images.untag(ref);
    return [`Untagged: ${normalizeReference(ref)}`];
  }
  const users = containers.list().filter((c) => c.spec.imageId === image.id);
  if (users.length > 0 && !force) {
    throw new UsageError(
      `conflict: unable to remove repository reference "${ref}" (must force) - container ` +
        `${users[0].id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`,
    );
  }
  const lines = tags.map((t) => `Untagged: ${t}`);
  images.removeImage(image.id);
  lines.push(`Deleted: ${image.id}`);
  for (const layer of images.pruneLayers(layersInUse(containers))) lines.push(`Deleted: ${layer}`);
  return lines;
}

/** Removes images with no tag that no container uses, then unused layers. */
export function pruneImages(
  images: ImageStore,
  containers: StateStore,
  keep: (image: { created?: string; labels?: Record<string, string> }) => boolean = () => true,
): string[] {
  const used = new Set(containers.list().map((c) => c.spec.imageId));
  const lines: string[] = [];
  for (const image of images.list()) {
    const subject = { created: image.created, labels: image.config.Labels ?? {} };
    if (image.tags.length === 0 && !used.has(image.id) && keep(subject)) {
      images.removeImage(image.id);
      lines.push(`Deleted: ${image.id}`);
    }
  }
  for (const layer of images.pruneLayers(layersInUse(containers))) lines.push(`Deleted: ${layer}`);
  return lines;
}
