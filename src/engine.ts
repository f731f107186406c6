/**
 * The handles every command works with: where things live, the container state store and
 * the image store. Knows nothing about flags.
 *
 * @module
 */

import { BUILTIN_IMAGE, ensureBuiltinImage } from "./image/builtin.ts";
import {
  type ImageRecord,
  ImageStore,
  normalizeReference,
  NoSuchImageError,
} from "./image/store.ts";
import type { Roots } from "./state/roots.ts";
import { StateStore } from "./state/store.ts";

/** The stores under one pair of roots. */
export interface Engine {
  roots: Roots;
  containers: StateStore;
  images: ImageStore;
}

/** Opens the stores under `roots` (made absolute, since the shim runs from `/`). */
export function openEngine(roots: Roots): Engine {
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const r = { root: abs(roots.root), state: abs(roots.state) };
  return { roots: r, containers: new StateStore(r.state), images: new ImageStore(r.root) };
}

/** Finds an image for `run`, building the built-in busybox image on first use. */
export async function resolveImage(engine: Engine, ref: string): Promise<ImageRecord> {
  if (normalizeReference(ref) === BUILTIN_IMAGE) return await ensureBuiltinImage(engine.images);
  const image = engine.images.find(ref);
  if (!image) throw new NoSuchImageError(ref);
  return image;
}
