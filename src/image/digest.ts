/**
 * Streaming SHA-256 for layers: libcrypto's through FFI where the system has it, else
 * Node's `createHash`. With libcrypto there is no `node:crypto` to load (about 20 ms of a
 * CLI start), and the hashing runs on a worker thread while the main thread goes on
 * unpacking: large chunks are hashed where they lie, small ones (network reads, the
 * decompressor's output) are first gathered into 1 MiB batches, since handing a chunk to
 * another thread costs about 30 µs and copying one a fraction of that.
 *
 * @module
 */

import { type Sha256, sha256Context } from "../../ffi/libcrypto.ts";

/** Chunks at least this large are hashed in place, smaller ones copied into a batch. */
const IN_PLACE = 256 * 1024;
/** The size of a batch of small chunks. */
const BATCH = 1 << 20;

/** A digest being computed. Updates must not overlap: await each `update` before the next. */
export interface LayerDigest {
  /**
   * Adds `chunk`, which must stay unchanged until the returned promise settles (it may be
   * hashed on another thread meanwhile).
   */
  update(chunk: Uint8Array): Promise<void>;
  /** `sha256:` and the hex digest, once every update has settled. */
  digest(): Promise<string>;
  /** Frees what an unfinished digest holds. */
  dispose(): void;
}

/** libcrypto's SHA-256, fed on a worker thread one batch (or large chunk) at a time. */
class ThreadedDigest implements LayerDigest {
  private batches: Uint8Array[] = [];
  private current = 0;
  private filled = 0;
  /** The update running on the worker thread; the next waits for it. */
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: Sha256) {}

  async update(chunk: Uint8Array): Promise<void> {
    if (this.filled === 0 && chunk.length >= IN_PLACE) {
      await this.running;
      return this.run(chunk);
    }
    if (this.batches.length === 0) this.batches = [new Uint8Array(BATCH), new Uint8Array(BATCH)];
    for (let off = 0; off < chunk.length;) {
      const take = Math.min(BATCH - this.filled, chunk.length - off);
      this.batches[this.current].set(chunk.subarray(off, off + take), this.filled);
      this.filled += take;
      off += take;
      if (this.filled === BATCH) await this.flush();
    }
  }

  async digest(): Promise<string> {
    if (this.filled > 0) await this.flush();
    await this.running;
    return `sha256:${this.ctx.digest()}`;
  }

  dispose(): void {
    this.ctx.dispose();
  }

  /** Starts hashing the current batch; the other one is free once the update before ends. */
  private async flush(): Promise<void> {
    await this.running;
    this.run(this.batches[this.current].subarray(0, this.filled));
    this.current ^= 1;
    this.filled = 0;
  }

  private run(data: Uint8Array): Promise<void> {
    this.running = this.ctx.updateAsync(data);
    // Awaited by the next update or digest; a pipeline given up on never awaits it.
    this.running.catch(() => {});
    return this.running;
  }
}

/** Starts a SHA-256 digest. */
export async function layerDigest(): Promise<LayerDigest> {
  const ctx = sha256Context();
  if (ctx !== null) return new ThreadedDigest(ctx);
  // Loaded here, not at the top: any node: module costs every CLI start ~20 ms.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  return {
    update: (chunk) => {
      hash.update(chunk);
      return Promise.resolve();
    },
    digest: () => Promise.resolve(`sha256:${hash.digest("hex")}`),
    dispose: () => {},
  };
}
