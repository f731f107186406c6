/**
 * The buffer of `--log-opt mode=non-blocking` (moby daemon/logger/ring.go, `messageRing`):
 * entries wait in memory, at most `max-buffer-size` bytes of them (default 1 MB), for a
 * drain that writes them out; an entry that would pass the bound is dropped, and counted,
 * unless the buffer is empty (one entry always fits, as in Docker).
 *
 * @module
 */

/** Docker's `defaultRingMaxSize`: 1e6 bytes. */
export const DEFAULT_MAX_BUFFER_SIZE = 1e6;

/** A bounded first-in first-out queue of byte strings. */
export class LogBuffer<T extends { length: number } = Uint8Array> {
  #items: T[] = [];
  #bytes = 0;
  /** How many entries were dropped because the buffer was full. */
  dropped = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_BUFFER_SIZE) {}

  /** The bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** How many entries are held now. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds `item` unless that would pass the bound (and the buffer holds something). */
  push(item: T): boolean {
    if (this.#bytes + item.length > this.maxBytes && this.size > 0) {
      this.dropped++;
      return false;
    }
    this.#items.push(item);
    this.#bytes += item.length;
    return true;
  }

  /** Takes everything held, oldest first. */
  takeAll(): T[] {
    const out = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return out;
  }
}
