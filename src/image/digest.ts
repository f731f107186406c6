/**
 * Streaming SHA-256 for layers: libcrypto's through FFI where the system has it (no
 * `node:crypto` to load, and updates that can run on a worker thread while the main thread
 * unpacks), else Node's `createHash`.
 *
 * @module
 */

import { sha256Context } from "../../ffi/libcrypto.ts";

/**
 * Chunks at least this large are hashed on a worker thread; smaller ones on the caller's,
 * where the call costs less than handing them over (~30 µs each).
 */
const ASYNC_CHUNK = 256 * 1024;

/** A digest being computed. Updates must not overlap: await each `update` before the next. */
export interface LayerDigest {
  /**
   * Adds `chunk`, which must stay unchanged until the returned promise settles (it may be
   * hashed on another thread meanwhile).
   */
  update(chunk: Uint8Array): Promise<void>;
  /** `sha256:` and the hex digest, once every update has settled. */
  digest(): string;
  /** Frees what an unfinished digest holds. */
  dispose(): void;
}

/** Starts a SHA-256 digest. */
export async function layerDigest(): Promise<LayerDigest> {
  const ctx = sha256Context();
  if (ctx !== null) {
    return {
      update: (chunk) => {
        if (chunk.length >= ASYNC_CHUNK) return ctx.updateAsync(chunk);
        ctx.update(chunk);
        return Promise.resolve();
      },
      digest: () => `sha256:${ctx.digest()}`,
      dispose: () => ctx.dispose(),
    };
  }
  // Loaded here, not at the top: any node: module costs every CLI start ~20 ms.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  return {
    update: (chunk) => {
      hash.update(chunk);
      return Promise.resolve();
    },
    digest: () => `sha256:${hash.digest("hex")}`,
    dispose: () => {},
  };
}
