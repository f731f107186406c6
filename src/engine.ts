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
import { ensureDataRoot, type Roots } from "./state/roots.ts";
import { loadCredentials } from "./image/credentials.ts";
import { parseReference } from "./image/reference.ts";
import { StateStore } from "./state/store.ts";
import { debug } from "./util/debug.ts";

/** The stores under one pair of roots. */
export interface Engine {
  roots: Roots;
  containers: StateStore;
  images: ImageStore;
}

/**
 * Opens the stores under `roots` (made absolute, since the shim runs from `/`), making the
 * data root if it is missing and refusing one that others could write (`ensureDataRoot`).
 */
export function openEngine(roots: Roots): Engine {
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const r = { root: abs(roots.root), state: abs(roots.state) };
  ensureDataRoot(r.root);
  return { roots: r, containers: new StateStore(r.state), images: new ImageStore(r.root) };
}

/** When `run` pulls: only when the image is missing (Docker's default), never, or always. */
export type PullPolicy = "missing" | "never" | "always";

/** Registries to reach over plain HTTP, from `M_DOCKER_INSECURE_REGISTRIES` (comma-separated). */
export function insecureRegistries(): string[] {
  return (Deno.env.get("M_DOCKER_INSECURE_REGISTRIES") ?? "").split(",").map((s) => s.trim())
    .filter((s) => s);
}

/**
 * Finds an image for `run`, building the built-in busybox image on first use and pulling
 * what is missing (progress lines go to `progress`).
 */
export async function resolveImage(
  engine: Engine,
  ref: string,
  pull: PullPolicy = "missing",
  progress: (line: string) => void = () => {},
): Promise<ImageRecord> {
  if (normalizeReference(ref) === BUILTIN_IMAGE) return await ensureBuiltinImage(engine.images);
  const image = pull === "always" ? null : engine.images.find(ref);
  if (image) {
    debug("image", () => `${ref} is ${image.id} (${image.layers.length} layers), found locally`);
    return image;
  }
  // Not found by ID or name: it must be a valid reference, said before anything else is.
  parseReference(ref);
  if (pull === "never") throw new NoSuchImageError(ref);
  if (pull === "missing") progress(`Unable to find image '${normalizeReference(ref)}' locally`);
  debug("image", `pulling ${ref} (policy ${pull})`);
  const { pullImage } = await import("./image/pull.ts");
  return await pullImage(engine.images, ref, {
    insecure: insecureRegistries(),
    credentials: loadCredentials(engine.roots.root, parseReference(ref).registry),
    progress,
  });
}
