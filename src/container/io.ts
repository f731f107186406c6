/**
 * Moving bytes between descriptors without blocking the event loop: wait for readability
 * on a worker thread, then read on the main thread (where errno is reliable).
 *
 * @module
 */

import { close, pipe, read, waitReadable, writeAll } from "../../ffi/libc.ts";

/**
 * A way to stop a `pump` that is waiting for data: a pipe whose read end the pump polls
 * beside its descriptor. `cancel` may be called any number of times.
 */
export class PumpCancel {
  readonly #fds = pipe();
  #cancelled = false;

  /** The descriptor the pump polls. */
  get fd(): number {
    return this.#fds[0];
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Wakes the pump, which returns without reading again. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    writeAll(this.#fds[1], new Uint8Array([0x21]));
  }

  /** Closes the pipe; only once the pump has returned. */
  close(): void {
    close(this.#fds[0]);
    close(this.#fds[1]);
  }
}

/**
 * Calls `onData` with every chunk read from `fd` until end of file, or until `cancel` is
 * triggered. A terminal master reports EIO once the last slave is closed: that is its end of
 * file.
 */
export async function pump(
  fd: number,
  onData: (chunk: Uint8Array) => void,
  cancel?: PumpCancel,
): Promise<void> {
  const buf = new Uint8Array(65536);
  for (;;) {
    await waitReadable(fd, cancel?.fd);
    if (cancel?.cancelled) return;
    let n: number;
    try {
      n = read(fd, buf);
    } catch {
      return;
    }
    if (n === 0) return;
    onData(buf.slice(0, n));
  }
}

/**
 * Reads `fd` to end of file on the calling thread and decodes it as UTF-8 once, so that a
 * character split across reads is kept whole. For the short control messages of the init
 * and shim sockets.
 */
export function readToEnd(fd: number): string {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(4096);
  for (let n = read(fd, buf); n > 0; n = read(fd, buf)) {
    chunks.push(buf.slice(0, n));
    size += n;
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}
