/**
 * Moving bytes between descriptors without blocking the event loop: wait for readability
 * on a worker thread, then read on the main thread (where errno is reliable).
 *
 * @module
 */

import { read, waitReadable } from "../../ffi/libc.ts";

/**
 * Calls `onData` with every chunk read from `fd` until end of file. A terminal master
 * reports EIO once the last slave is closed: that is its end of file.
 */
export async function pump(fd: number, onData: (chunk: Uint8Array) => void): Promise<void> {
  const buf = new Uint8Array(65536);
  for (;;) {
    await waitReadable(fd);
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
