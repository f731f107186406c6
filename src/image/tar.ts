/**
 * Reading tar archives (POSIX ustar, with pax extended headers and GNU long names) as a
 * stream of entries, so that layers are applied while they download. Only the parsing is
 * here; what an entry may do to the disk is decided in layer_apply.ts.
 *
 * @module
 */

/** Entry types, from the header's typeflag. */
export type TarEntryType =
  | "file"
  | "hardlink"
  | "symlink"
  | "char"
  | "block"
  | "directory"
  | "fifo";

/** One archive member. `body` is read before the next entry is asked for. */
export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from pax `SCHILY.xattr.*` records. */
  xattrs: Record<string, Uint8Array>;
}

/** A malformed archive. */
export class TarFormatError extends Error {
  override name = "TarFormatError";
}

const decoder = new TextDecoder();

function cstring(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

/** A numeric field: octal text, or base-256 when the high bit is set (GNU, for big values). */
function number(block: Uint8Array, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const text = cstring(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`bad numeric field "${text}"`);
  return parseInt(text, 8);
}

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum === number(block, 148, 8);
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
};

/** pax records: "LEN key=value\n"; values may be binary (xattrs). */
function parsePax(data: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(decoder.decode(data.subarray(off, space)));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) {
      throw new TarFormatError("bad pax record");
    }
    const record = data.subarray(space + 1, off + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(decoder.decode(record.subarray(0, eq)), record.slice(eq + 1));
    off += len;
  }
  return out;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private available = 0;
  private done = false;

  constructor(private readonly source: ReadableStreamDefaultReader<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.done) {
      const { value, done } = await this.source.read();
      if (done) this.done = true;
      else if (value.length > 0) {
        this.chunks.push(value);
        this.available += value.length;
      }
    }
    return this.available >= n;
  }

  /** Exactly `n` bytes, or null at a clean end of stream before any of them. */
  async read(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) {
      if (this.available === 0) return null;
      throw new TarFormatError("unexpected end of archive");
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const head = this.chunks[0];
      const take = Math.min(head.length, n - off);
      out.set(head.subarray(0, take), off);
      off += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.available -= n;
    return out;
  }

  /** Reads and discards the rest of the stream (so that whoever watches it sees its end). */
  async drain(): Promise<void> {
    while (!this.done) {
      const { done } = await this.source.read();
      if (done) this.done = true;
    }
    this.chunks = [];
    this.available = 0;
  }

  /** Up to `max` bytes (at least one), for streaming a body. */
  async readSome(max: number): Promise<Uint8Array> {
    if (!(await this.fill(1))) throw new TarFormatError("unexpected end of archive");
    const head = this.chunks[0];
    const take = Math.min(head.length, max);
    if (take === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(take);
    this.available -= take;
    return head.subarray(0, take);
  }
}

/**
 * Iterates over the entries of a tar stream. For each entry, `readBody` streams its
 * contents to a callback; a body that is not read is skipped.
 */
export async function* readTar(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<TarEntry & { readBody(sink: (chunk: Uint8Array) => void): Promise<void> }> {
  const reader = new ByteReader(stream.getReader());
  let pax = new Map<string, Uint8Array>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(512);
    if (block === null || block.every((b) => b === 0)) {
      // End of archive. Read what follows too (the second zero block, padding), so that
      // streams hashing the whole layer see all of it.
      await reader.drain();
      return;
    }
    if (!checksumOk(block)) throw new TarFormatError("header checksum mismatch");
    const typeflag = String.fromCharCode(block[156]);
    let size = number(block, 124, 12);
    const padded = Math.ceil(size / 512) * 512;
    if (typeflag === "x" || typeflag === "L" || typeflag === "K" || typeflag === "g") {
      const data = (await reader.read(padded)) ?? new Uint8Array();
      const body = data.subarray(0, size);
      if (typeflag === "x") pax = parsePax(body);
      else if (typeflag === "L") longName = cstring(body, 0, body.length);
      else if (typeflag === "K") longLink = cstring(body, 0, body.length);
      continue; // global headers ("g") carry nothing layers use
    }
    const type = TYPES[typeflag];
    if (!type) throw new TarFormatError(`unsupported entry type "${typeflag}"`);
    const prefix = cstring(block, 345, 155);
    const text = (k: string) => pax.has(k) ? decoder.decode(pax.get(k)) : undefined;
    const name = text("path") ?? longName ?? (prefix ? `${prefix}/` : "") + cstring(block, 0, 100);
    if (text("size") !== undefined) size = Number(text("size"));
    const xattrs: Record<string, Uint8Array> = {};
    for (const [k, v] of pax) if (k.startsWith("SCHILY.xattr.")) xattrs[k.slice(13)] = v;
    const entry: TarEntry = {
      name,
      type,
      mode: number(block, 100, 8) & 0o7777,
      uid: text("uid") !== undefined ? Number(text("uid")) : number(block, 108, 8),
      gid: text("gid") !== undefined ? Number(text("gid")) : number(block, 116, 8),
      size: type === "file" ? size : 0,
      mtime: text("mtime") !== undefined
        ? Math.floor(Number(text("mtime")))
        : number(block, 136, 12),
      linkname: text("linkpath") ?? longLink ?? cstring(block, 157, 100),
      devmajor: number(block, 329, 8),
      devminor: number(block, 337, 8),
      xattrs,
    };
    pax = new Map();
    longName = longLink = undefined;
    let remaining = Math.ceil(size / 512) * 512;
    let bodyLeft = entry.size;
    yield {
      ...entry,
      async readBody(sink) {
        while (bodyLeft > 0) {
          const chunk = await reader.readSome(bodyLeft);
          sink(chunk);
          bodyLeft -= chunk.length;
          remaining -= chunk.length;
        }
      },
    };
    // Skip whatever of the body (and its padding) the consumer did not read.
    while (remaining > 0) {
      const chunk = await reader.readSome(remaining);
      remaining -= chunk.length;
    }
  }
}
