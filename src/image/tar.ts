/**
 * Reading tar archives (POSIX ustar, with pax extended headers and GNU long names) as a
 * stream of entries, so that layers are applied while they download. Only the parsing is
 * here; what an entry may do to the disk is decided in layer_apply.ts.
 *
 * Two readers share the header decoding: `TarParser`, fed chunks synchronously, parses
 * headers in place in whatever buffer holds them and hands out file contents as views of
 * it (no copy, no promise per entry: layers are unpacked through it), and `readTar`, an
 * async iterator for callers that want one entry at a time.
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

/** A NUL-terminated field; ASCII (nearly every name) without a TextDecoder call. */
function cstring(block: Uint8Array, offset: number, length: number): string {
  const end = offset + length;
  let i = offset;
  let ascii = true;
  for (; i < end; i++) {
    const b = block[i];
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
  }
  if (i === offset) return "";
  const field = block.subarray(offset, i);
  return ascii
    ? String.fromCharCode.apply(null, field as unknown as number[])
    : decoder.decode(field);
}

/** Spaces and the other characters String.prototype.trim removes from ASCII text. */
const isBlank = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** A numeric field: octal text, or base-256 when the high bit is set (GNU, for big values). */
function number(block: Uint8Array, offset: number, length: number): number {
  if (block[offset] & 0x80) {
    let n = block[offset] & 0x7f;
    for (let i = offset + 1; i < offset + length; i++) n = n * 256 + block[i];
    return n;
  }
  // Up to the first NUL, without surrounding blanks; nothing at all is 0.
  let start = offset, end = offset;
  while (end < offset + length && block[end] !== 0) end++;
  while (start < end && isBlank(block[start])) start++;
  while (end > start && isBlank(block[end - 1])) end--;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = block[i] - 0x30;
    if (digit < 0 || digit > 7) {
      throw new TarFormatError(`bad numeric field "${cstring(block, offset, length).trim()}"`);
    }
    n = n * 8 + digit;
  }
  return n;
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

/**
 * The most bytes a pax header or GNU long name may have, as Go's archive/tar (which
 * moby uses) allows: they are held in memory whole, so a hostile archive must not make one
 * of gigabytes.
 */
export const MAX_METADATA_SIZE = 1 << 20;

/** What pax headers and GNU long names say about the entry that follows them. */
interface Extended {
  pax: Map<string, Uint8Array>;
  longName?: string;
  longLink?: string;
}

const freshExtended = (): Extended => ({ pax: new Map() });

/** True for the typeflags of metadata entries, which describe the next entry. */
function isMetadata(typeflag: string): boolean {
  return typeflag === "x" || typeflag === "L" || typeflag === "K" || typeflag === "g";
}

/** Records a metadata entry's body in `ext`. */
function addMetadata(typeflag: string, body: Uint8Array, ext: Extended): void {
  if (typeflag === "x") ext.pax = parsePax(body);
  else if (typeflag === "L") ext.longName = cstring(body, 0, body.length);
  else if (typeflag === "K") ext.longLink = cstring(body, 0, body.length);
  // global headers ("g") carry nothing layers use
}

function metadataSize(size: number): number {
  if (size > MAX_METADATA_SIZE) {
    throw new TarFormatError(`a metadata entry of ${size} bytes (at most ${MAX_METADATA_SIZE})`);
  }
  return size;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < 512; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Decodes a (checked, non-metadata) header with what the metadata before it said. `size`
 * is the bytes that follow the header in the archive (before padding), `entry.size` those
 * of a file's contents (0 for other types).
 */
function decodeEntry(block: Uint8Array, ext: Extended): { entry: TarEntry; size: number } {
  const typeflag = String.fromCharCode(block[156]);
  const type = TYPES[typeflag];
  if (!type) throw new TarFormatError(`unsupported entry type "${typeflag}"`);
  const pax = ext.pax;
  const text = (k: string) => {
    const v = pax.get(k);
    return v === undefined ? undefined : decoder.decode(v);
  };
  let size = number(block, 124, 12);
  let name: string, linkname: string, uid: number, gid: number, mtime: number;
  const xattrs: Record<string, Uint8Array> = {};
  if (pax.size === 0) {
    // The common case, without the lookups.
    const prefix = cstring(block, 345, 155);
    name = ext.longName ?? (prefix ? `${prefix}/` : "") + cstring(block, 0, 100);
    linkname = ext.longLink ?? cstring(block, 157, 100);
    uid = number(block, 108, 8);
    gid = number(block, 116, 8);
    mtime = number(block, 136, 12);
  } else {
    const prefix = cstring(block, 345, 155);
    name = text("path") ?? ext.longName ?? (prefix ? `${prefix}/` : "") + cstring(block, 0, 100);
    const paxSize = text("size");
    if (paxSize !== undefined) size = Number(paxSize);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError("bad pax size");
    for (const [k, v] of pax) if (k.startsWith("SCHILY.xattr.")) xattrs[k.slice(13)] = v;
    const paxUid = text("uid"), paxGid = text("gid"), paxMtime = text("mtime");
    uid = paxUid !== undefined ? Number(paxUid) : number(block, 108, 8);
    gid = paxGid !== undefined ? Number(paxGid) : number(block, 116, 8);
    mtime = paxMtime !== undefined ? Math.floor(Number(paxMtime)) : number(block, 136, 12);
    linkname = text("linkpath") ?? ext.longLink ?? cstring(block, 157, 100);
  }
  const entry: TarEntry = {
    name,
    type,
    mode: number(block, 100, 8) & 0o7777,
    uid,
    gid,
    size: type === "file" ? size : 0,
    mtime,
    linkname,
    devmajor: number(block, 329, 8),
    devminor: number(block, 337, 8),
    xattrs,
  };
  return { entry, size };
}

const padding = (size: number) => (512 - size % 512) % 512;

/** Where `TarParser` sends what it reads. */
export interface TarSink {
  /**
   * An entry. For a file whose contents are at hand in one piece, `body` is all of them (a
   * view valid only during the call) and nothing more follows; otherwise (and for a file
   * only) `body` is null and the contents come through `data` calls, then `end`.
   */
  entry(entry: TarEntry, body: Uint8Array | null): void;
  /** The next piece of the current file's contents; a view valid only during the call. */
  data(chunk: Uint8Array): void;
  /** The current file's contents are complete. */
  end(): void;
}

const State = { Header: 0, Metadata: 1, Body: 2, Skip: 3, Done: 4 } as const;

/**
 * A tar parser fed chunks of the archive synchronously. Headers are decoded where they lie
 * (copied only when one straddles two chunks), file contents are passed on as views of the
 * chunk, so the caller may reuse its buffer once `push` returns. After the end-of-archive
 * block the rest (the second zero block, padding) is ignored.
 */
export class TarParser {
  private state: number = State.Header;
  /** Bytes still to come of the current metadata, body or skipped span. */
  private left = 0;
  /** Padding after the current body or metadata. */
  private pad = 0;
  private readonly pending = new Uint8Array(512);
  private pendingLength = 0;
  private metadata = new Uint8Array(0);
  private metadataType = "";
  private ext = freshExtended();

  constructor(private readonly sink: TarSink) {}

  /** Parses `chunk`, calling the sink for what it completes. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      switch (this.state) {
        case State.Done:
          return;
        case State.Skip: {
          const take = Math.min(this.left, n - off);
          off += take;
          this.left -= take;
          if (this.left === 0) this.state = State.Header;
          break;
        }
        case State.Body: {
          const take = Math.min(this.left, n - off);
          this.sink.data(chunk.subarray(off, off + take));
          off += take;
          this.left -= take;
          if (this.left === 0) {
            this.sink.end();
            this.skip(this.pad);
          }
          break;
        }
        case State.Metadata: {
          const take = Math.min(this.left, n - off);
          this.metadata.set(chunk.subarray(off, off + take), this.metadata.length - this.left);
          off += take;
          this.left -= take;
          if (this.left === 0) this.metadataDone();
          break;
        }
        case State.Header: {
          let block: Uint8Array;
          if (this.pendingLength === 0 && n - off >= 512) {
            block = chunk.subarray(off, off + 512);
            off += 512;
          } else {
            const take = Math.min(512 - this.pendingLength, n - off);
            this.pending.set(chunk.subarray(off, off + take), this.pendingLength);
            this.pendingLength += take;
            off += take;
            if (this.pendingLength < 512) return;
            this.pendingLength = 0;
            block = this.pending;
          }
          off = this.header(block, chunk, off);
          break;
        }
      }
    }
  }

  /** The archive has ended: throws when it stopped inside an entry. */
  finish(): void {
    if (this.state === State.Done || (this.state === State.Header && this.pendingLength === 0)) {
      return;
    }
    throw new TarFormatError("unexpected end of archive");
  }

  private skip(n: number): void {
    this.left = n;
    this.state = n > 0 ? State.Skip : State.Header;
  }

  private metadataDone(): void {
    addMetadata(this.metadataType, this.metadata, this.ext);
    this.metadata = new Uint8Array(0);
    this.skip(this.pad);
  }

  /** Handles a header block; returns the offset in `chunk` after what it consumed. */
  private header(block: Uint8Array, chunk: Uint8Array, off: number): number {
    if (isZeroBlock(block)) {
      this.state = State.Done;
      return chunk.length;
    }
    if (!checksumOk(block)) throw new TarFormatError("header checksum mismatch");
    const typeflag = String.fromCharCode(block[156]);
    if (isMetadata(typeflag)) {
      const size = metadataSize(number(block, 124, 12));
      this.metadata = new Uint8Array(size);
      this.metadataType = typeflag;
      this.left = size;
      this.pad = padding(size);
      this.state = State.Metadata;
      if (size === 0) this.metadataDone();
      return off;
    }
    const { entry, size } = decodeEntry(block, this.ext);
    this.ext = freshExtended();
    if (entry.type !== "file") {
      this.sink.entry(entry, null);
      this.skip(size + padding(size));
      return off;
    }
    if (chunk.length - off >= size) {
      this.sink.entry(entry, chunk.subarray(off, off + size));
      this.skip(padding(size));
      return off + size;
    }
    this.sink.entry(entry, null);
    this.left = size;
    this.pad = padding(size);
    this.state = State.Body;
    return off;
  }
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
  let ext = freshExtended();
  for (;;) {
    const block = await reader.read(512);
    if (block === null || isZeroBlock(block)) {
      // End of archive. Read what follows too (the second zero block, padding), so that
      // streams hashing the whole layer see all of it.
      await reader.drain();
      return;
    }
    if (!checksumOk(block)) throw new TarFormatError("header checksum mismatch");
    const typeflag = String.fromCharCode(block[156]);
    if (isMetadata(typeflag)) {
      const size = metadataSize(number(block, 124, 12));
      const data = (await reader.read(size + padding(size))) ?? new Uint8Array();
      addMetadata(typeflag, data.subarray(0, size), ext);
      continue;
    }
    const { entry, size } = decodeEntry(block, ext);
    ext = freshExtended();
    let remaining = size + padding(size);
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
