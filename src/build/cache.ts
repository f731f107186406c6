/**
 * The build's layer cache: a step's key (its parent image, its instruction as substituted,
 * and for COPY/ADD the digest of what it copies) maps to the image the step made, in
 * `<root>/cache/build/<key>`. A hit is used only while that image is still in the store;
 * `builder prune` (and `system prune`) empty the cache, and images no tag or container uses
 * go with `image prune`.
 *
 * RUN's cache mounts (`--mount=type=cache`) live beside it, one directory per id under
 * `<root>/cache/mounts/<sha256 of the id>/`: `data/` is what the step sees, `lock` is what
 * steps and prune lock (flock), `id` names it. Prune removes them too, but not one a build
 * holds at that moment.
 *
 * @module
 */

import type { ImageRecord, ImageStore } from "../image/store.ts";
import { sha256 } from "../image/store.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { close, lchown, O, open, tryFlock } from "../../ffi/libc.ts";
import { createHash } from "node:crypto";
import { lstatOrNull } from "../util/fs.ts";

/** The cache under one data root. */
export class BuildCache {
  readonly dir: string;
  /** Where cache mounts are kept. */
  readonly mountsDir: string;

  constructor(root: string) {
    this.dir = `${root}/cache/build`;
    this.mountsDir = `${root}/cache/mounts`;
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

  /**
   * Empties the cache and removes the cache mounts no build holds; returns the keys and the
   * cache mounts' directory names that went.
   */
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
    for (const name of listDir(this.mountsDir)) {
      const dir = `${this.mountsDir}/${name}`;
      let fd: number;
      try {
        fd = open(`${dir}/lock`, O.RDWR | O.CLOEXEC);
      } catch {
        fd = -1; // half made, or its lock went: nothing can hold it
      }
      try {
        if (fd >= 0 && !tryFlock(fd, true)) continue; // a running step uses it
        Deno.removeSync(dir, { recursive: true });
        gone.push(name);
      } finally {
        if (fd >= 0) close(fd);
      }
    }
    return gone.sort();
  }

  /**
   * The cache mount `id`'s directory, made (its `data/` with `mode`, owned by uid:gid, and
   * `seed` run on it) when it is new. The caller locks it (see `lockMount`).
   */
  mountDir(
    id: string,
    init: { mode: number; uid: number; gid: number; seed?: (data: string) => void },
  ): string {
    const dir = `${this.mountsDir}/${createHash("sha256").update(id).digest("hex")}`;
    if (lstatOrNull(`${dir}/data`)) return dir;
    Deno.mkdirSync(this.mountsDir, { recursive: true, mode: 0o700 });
    // Made aside and renamed into place, so that a half-made one is never used.
    const tmp = Deno.makeTempDirSync({ dir: this.mountsDir, prefix: ".new-" });
    try {
      Deno.writeTextFileSync(`${tmp}/id`, id);
      Deno.writeFileSync(`${tmp}/lock`, new Uint8Array());
      Deno.mkdirSync(`${tmp}/data`);
      init.seed?.(`${tmp}/data`);
      Deno.chmodSync(`${tmp}/data`, init.mode);
      lchown(`${tmp}/data`, init.uid, init.gid);
      try {
        Deno.renameSync(tmp, dir);
      } catch (e) {
        // A concurrent step made it first: use that one.
        if (!lstatOrNull(`${dir}/data`)) throw e;
        Deno.removeSync(tmp, { recursive: true });
      }
    } catch (e) {
      if (lstatOrNull(tmp)) Deno.removeSync(tmp, { recursive: true });
      throw e;
    }
    return dir;
  }
}

/**
 * Locks a cache mount's directory (its `lock` file, flock): shared or exclusive, waiting
 * (checking `signal` between tries) unless `wait` is false. Returns the descriptor to close
 * when the step is over, or null when it would have to wait and `wait` is false.
 */
export async function lockMount(
  dir: string,
  exclusive: boolean,
  wait: boolean,
  signal?: AbortSignal,
): Promise<number | null> {
  const fd = open(`${dir}/lock`, O.RDWR | O.CLOEXEC);
  try {
    while (!tryFlock(fd, exclusive)) {
      if (!wait) {
        close(fd);
        return null;
      }
      signal?.throwIfAborted();
      // Another build's step holds it; flock has no way to wait asynchronously.
      await new Promise((r) => setTimeout(r, 100));
    }
    return fd;
  } catch (e) {
    close(fd);
    throw e;
  }
}

function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !n.startsWith("."))
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
