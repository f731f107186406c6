/**
 * Gzipping rotated log files as Docker does (moby daemon/logger/loggerutils/logfile.go,
 * `compressFile`): the gzip header's Extra field holds `{"lastTime":"..."}`, the time of the
 * file's last entry, so that a reader with `--since` after it skips the file unread. The
 * compression runs on a stream (`CompressionStream`), chunk by chunk, so the process that
 * relays the container's output is not held up for long.
 *
 * Docker writes `NAME.1.gz` in place and removes `NAME.1` afterwards (a reader prefers the
 * plain file); here the gzip is written to a `.gz.tmp` file and renamed, so that a `.gz` on
 * disk is always complete, even after a crash halfway.
 *
 * @module
 */

import { formatNanoFixed, parseLogTime } from "../util/docker_time.ts";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** gzip's CRC-32 (IEEE), continued from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Go's `time.Time` JSON: RFC 3339 in UTC with the fraction's trailing zeros cut. */
export function goJsonTime(ns: bigint): string {
  const fixed = formatNanoFixed(ns);
  const frac = fixed.slice(20, 29).replace(/0+$/, "");
  return fixed.slice(0, 19) + (frac ? `.${frac}` : "") + "Z";
}

/** The gzip header Go's `gzip.Writer` writes with an Extra field (FEXTRA, OS unknown). */
function header(extra: Uint8Array): Uint8Array {
  const h = new Uint8Array(12 + extra.length);
  h.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, extra.length & 0xff, extra.length >> 8]);
  h.set(extra, 12);
  return h;
}

/**
 * Gzips what `input` holds (from its start) into `dst`, with `lastTime` (ns, the time of its
 * last entry) in the header; closes `input`. The caller renames `dst` into place.
 */
export async function gzipInto(
  input: Deno.FsFile,
  dst: string,
  lastTime: bigint | null,
): Promise<void> {
  const out = await Deno.open(dst, { write: true, create: true, truncate: true, mode: 0o640 });
  try {
    const extra = new TextEncoder().encode(
      JSON.stringify(lastTime === null ? {} : { lastTime: goJsonTime(lastTime) }),
    );
    await writeAll(out, header(extra));
    let crc = 0;
    let size = 0;
    await input.seek(0, Deno.SeekMode.Start);
    // The readable closes `input` at its end.
    const counted = input.readable.pipeThrough(
      new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
        transform(chunk, ctl) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          ctl.enqueue(chunk);
        },
      }),
    );
    for await (const part of counted.pipeThrough(new CompressionStream("deflate-raw"))) {
      await writeAll(out, part);
    }
    const trailer = new Uint8Array(8);
    const dv = new DataView(trailer.buffer);
    dv.setUint32(0, crc, true);
    dv.setUint32(4, size >>> 0, true);
    await writeAll(out, trailer);
  } catch (e) {
    out.close();
    await Deno.remove(dst).catch(() => {});
    throw e;
  }
  out.close();
}

/** Gzips the file `src` into `src.gz` (through `src.gz.tmp`), then removes `src`. */
export async function compressRotated(src: string, lastTime: bigint | null): Promise<void> {
  let input: Deno.FsFile;
  try {
    input = await Deno.open(src, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  await gzipInto(input, `${src}.gz.tmp`, lastTime);
  await Deno.rename(`${src}.gz.tmp`, `${src}.gz`);
  await Deno.remove(src).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

async function writeAll(f: Deno.FsFile, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await f.write(b.subarray(off));
}

/** The `lastTime` of a gzipped log's header (ns), or null if it has none. */
export function gzipLastTime(head: Uint8Array): bigint | null {
  if (head.length < 12 || head[0] !== 0x1f || head[1] !== 0x8b || !(head[3] & 4)) return null;
  const len = head[10] | (head[11] << 8);
  if (head.length < 12 + len) return null;
  try {
    const meta = JSON.parse(new TextDecoder().decode(head.subarray(12, 12 + len)));
    return typeof meta?.lastTime === "string" ? parseLogTime(meta.lastTime) : null;
  } catch {
    return null;
  }
}

/** The whole content of a gzipped file, read from its start; the file is closed. */
export async function gunzipFile(file: Deno.FsFile): Promise<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  const parts: Uint8Array[] = [];
  let length = 0;
  // The readable closes the file at its end (or on an error).
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  for await (const p of stream) {
    parts.push(p);
    length += p.length;
  }
  const all = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}
