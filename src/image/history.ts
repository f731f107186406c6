/**
 * An image's history (`m-docker history`, and the config `push` sends): the image config's
 * `history` entries, each with the size of the layer it made, newest first, and IDs as
 * dockerd fills them in: the image's own on the newest row, then its parent's, its parent's
 * parent's, ... one per row while local parents last, `<missing>` for the rest.
 *
 * @module
 */

import { directorySize, type HistoryEntry, type ImageRecord, type ImageStore } from "./store.ts";

/** One row of `history`. */
export interface HistoryRow {
  /** An image ID, or `<missing>`. */
  id: string;
  /** RFC 3339, or the empty string when the entry has no time. */
  created: string;
  createdBy: string;
  /** Bytes of the layer the entry made; 0 for an empty layer. */
  size: number;
  comment: string;
}

/** The config blob of a pulled image, parsed, or null (images made here have none). */
export function pulledConfig(
  store: ImageStore,
  image: ImageRecord,
): Record<string, unknown> | null {
  const bytes = store.readBlob(image.id);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/**
 * The image config's `history`: the pulled config's, the one recorded for an image made
 * here, or (older stores) one entry per layer with nothing but the image's time.
 */
export function imageHistory(store: ImageStore, image: ImageRecord): HistoryEntry[] {
  const pulled = pulledConfig(store, image)?.history;
  if (Array.isArray(pulled)) return pulled as HistoryEntry[];
  return image.history ?? image.layers.map(() => ({ created: image.created }));
}

/** The rows of `history` for `image`, newest first. */
export function historyRows(store: ImageStore, image: ImageRecord): HistoryRow[] {
  const entries = imageHistory(store, image);
  const rows: HistoryRow[] = [];
  let layer = 0;
  for (const h of entries) {
    let size = 0;
    if (!h.empty_layer) {
      const digest = image.layers[layer++];
      size = digest && store.hasLayer(digest) ? directorySize(store.layerDiffDir(digest)) : 0;
    }
    rows.unshift({
      id: "<missing>",
      created: h.created ?? "",
      createdBy: h.created_by ?? "",
      size,
      comment: h.comment ?? "",
    });
  }
  // dockerd's walk: one parent per row, as long as the parents are in the store.
  let current: ImageRecord | null = image;
  for (const row of rows) {
    if (!current) break;
    row.id = current.id;
    current = current.parent ? store.readImage(current.parent) : null;
  }
  return rows;
}
