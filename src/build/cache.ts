/**
 * The build's layer cache: a step's key (its parent image, its instruction as substituted,
 * and for COPY/ADD the digest of what it copies) maps to the image the step made, in
 * `<root>/cache/build/<key>`. A hit is used only while that image is still in the store;
 * `builder prune` (and `system prune`) empty the cache, and images no tag or container uses
 * go with `image prune`.
 *
 * @module
 */

import type { ImageRecord, ImageStore } from "../image/store.ts";
import { sha256 } from "../image/store.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/** The cache under one data root. */
export class BuildCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = `${root}/cache/build`;
  }

  /** The key of a step from its parts. */
  async key(parts: readonly string[]): Promise<string> {
    return (await sha256(parts.join("\0"))).replace(/^sha256:/, "");
  }

  /** The image a step with `key` made, if it is still there. */
  lookup(images: ImageStore, key: string): ImageRecord | null {
    let id: string;
    try {
      id = Deno.readTextFileSync(`${this.dir}/${key}`).trim();
    } catch {
      return null;
    }
    return images.readImage(id);
  }

  /** Records that the step with `key` made image `id`. */
  store(key: string, id: string): void {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(`${this.dir}/${key}`, new TextEncoder().encode(id));
  }

  /** Empties the cache; returns the keys that went. */
  prune(): string[] {
    const gone: string[] = [];
    try {
      for (const e of Deno.readDirSync(this.dir)) {
        Deno.removeSync(`${this.dir}/${e.name}`);
        gone.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return gone.sort();
  }
}
