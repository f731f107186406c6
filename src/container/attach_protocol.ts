/**
 * The attach socket: a client (`m-docker attach`) talks to the shim that holds a detached
 * container's terminal or output. Shim to client: the container's output, raw. Client to
 * shim: frames of `type (1 byte) | length (4 bytes, big-endian) | payload`, so that input
 * and window-size changes share one stream.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Frame types sent by the client. */
export const FRAME = { input: 0, resize: 1 } as const;

/** Where a container's shim listens for attach clients (short: sun_path holds 107 bytes). */
export function attachSocketPath(stateDir: string, id: string): string {
  return `${stateDir}/attach-${id.slice(0, 16)}.sock`;
}

/** Encodes one client frame. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Encodes a window size as a resize frame. */
export function encodeResize(rows: number, columns: number): Uint8Array<ArrayBuffer> {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint16(0, rows);
  new DataView(p.buffer).setUint16(2, columns);
  return encodeFrame(FRAME.resize, p);
}

/** Splits a byte stream into frames; keeps an incomplete tail for the next chunk. */
export class FrameDecoder {
  private buffer = new Uint8Array(0);

  /** Adds bytes and returns every complete frame. */
  push(chunk: Uint8Array): Array<{ type: number; payload: Uint8Array }> {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const frames: Array<{ type: number; payload: Uint8Array }> = [];
    let off = 0;
    while (joined.length - off >= 5) {
      const length = new DataView(joined.buffer, off + 1, 4).getUint32(0);
      if (joined.length - off - 5 < length) break;
      frames.push({ type: joined[off], payload: joined.slice(off + 5, off + 5 + length) });
      off += 5 + length;
    }
    this.buffer = joined.slice(off);
    return frames;
  }
}

/**
 * Parses `--detach-keys` (Docker's syntax: `ctrl-p,ctrl-q`, `ctrl-@`, or plain characters)
 * into the byte sequence that detaches.
 */
export function parseDetachKeys(spec: string): Uint8Array {
  const bytes = spec.split(",").map((key) => {
    const ctrl = /^ctrl-(.)$/i.exec(key);
    if (ctrl) {
      const c = ctrl[1];
      if (c === "@") return 0;
      if (/^[a-z]$/i.test(c)) return c.toLowerCase().charCodeAt(0) & 0x1f;
      const special: Record<string, number> = { "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31 };
      if (c in special) return special[c];
    } else if (key.length === 1) {
      return key.charCodeAt(0);
    }
    throw new UsageError(`invalid detach key "${key}": use ctrl-<letter> or a single character`);
  });
  return new Uint8Array(bytes);
}

/** Watches a byte stream for the detach sequence, across chunk boundaries. */
export class DetachWatcher {
  private matched = 0;
  constructor(private readonly keys: Uint8Array) {}

  /** Returns the bytes to pass on, and whether the sequence completed in this chunk. */
  scan(chunk: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const pass: number[] = [];
    for (const b of chunk) {
      if (this.keys.length > 0 && b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: new Uint8Array(pass), detach: true };
        continue;
      }
      // A partial match that breaks off was input after all.
      for (let i = 0; i < this.matched; i++) pass.push(this.keys[i]);
      this.matched = 0;
      if (this.keys.length > 0 && b === this.keys[0]) this.matched = 1;
      else pass.push(b);
    }
    return { pass: new Uint8Array(pass), detach: false };
  }
}
