/**
 * Reading container logs, in Docker's two file formats (written by log_writer.ts): `json-file` (one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`) and `local`
 * (length-framed protobuf entries, log_proto.ts), so that `logs -t`, `--tail`, `--since` and
 * `-f` have a time and a stream for every line. The files rotate and may be gzipped
 * (log_file.ts); the reader reads the rotated files oldest first (plain or `.gz`), then the
 * current one, and follows the current one across rotations.
 *
 * @module
 */

import { formatNanoFixed, nowNanos, parseLogTime } from "../util/docker_time.ts";
import { gunzipFile, gzipLastTime } from "./log_gzip.ts";
import { decodeFrames, FRAME_LEN_BYTES, type ProtoLogEntry } from "./log_proto.ts";
import { ChangeWaiter } from "./log_watch.ts";
import { concat, type LogEntry, type LogFormat, NEWLINE, rotatedIndexes } from "./log_writer.ts";

/** Parses log text; a torn last line (being written) is left for the next read. */
export function parseLogLines(text: string): { entries: LogEntry[]; rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  return { entries: parseLines(lines), rest };
}

function parseLines(lines: string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    if (line === "") continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      // Not ours (or damaged): skip it rather than fail the whole read.
    }
  }
  return entries;
}

/** What `logs` asks for: the last `tail` lines (Infinity: all), within [since, until]. */
export interface LogQuery {
  tail: number;
  since?: bigint;
  until?: bigint;
}

/**
 * Docker's forwarder: entries before `since` are skipped until the first one at or after it
 * (later ones are kept even if their clocks went back); the first entry after `until` ends
 * the read.
 */
export class LogFilter {
  private since: bigint | undefined;
  /** Set once an entry after `until` was seen: nothing more is wanted. */
  done = false;

  private readonly until: bigint | undefined;

  constructor(query: LogQuery) {
    this.since = query.since;
    this.until = query.until;
  }

  /** The entries of `batch` to show. */
  apply(batch: LogEntry[]): LogEntry[] {
    if (this.done) return [];
    if (this.since === undefined && this.until === undefined) return batch;
    const out: LogEntry[] = [];
    for (const e of batch) {
      const t = this.since !== undefined || this.until !== undefined ? parseLogTime(e.time) : 0n;
      if (this.since !== undefined) {
        if (t !== null && t < this.since) continue;
        this.since = undefined;
      }
      if (this.until !== undefined && t !== null && t > this.until) {
        this.done = true;
        break;
      }
      out.push(e);
    }
    return out;
  }
}

const CHUNK = 1 << 20;

/** Bytes to read from: a file, or a rotated file's gunzipped content. */
interface Source {
  size: number;
  readAt(start: number, end: number): Promise<Uint8Array>;
  close(): void;
}

function fileSource(file: Deno.FsFile, size: number): Source {
  return {
    size,
    readAt: async (start, end) => {
      const buf = new Uint8Array(Math.max(0, end - start));
      await file.seek(start, Deno.SeekMode.Start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      return buf.subarray(0, off);
    },
    close: () => file.close(),
  };
}

function memorySource(bytes: Uint8Array): Source {
  return {
    size: bytes.length,
    readAt: (start, end) => Promise.resolve(bytes.subarray(start, Math.min(end, bytes.length))),
    close: () => {},
  };
}

/** How a format's bytes become entries. */
interface Codec {
  /** The complete entries at the start of `b`, and how many bytes they take. */
  decode(b: Uint8Array): { entries: LogEntry[]; used: number };
  /** The last `n` entries in the first `size` bytes, and where the complete entries end. */
  tail(src: Source, size: number, n: number): Promise<{ entries: LogEntry[]; end: number }>;
}

const utf8 = new TextDecoder();

const jsonCodec: Codec = {
  decode(b) {
    const last = b.lastIndexOf(NEWLINE);
    if (last < 0) return { entries: [], used: 0 };
    return { entries: parseLines(utf8.decode(b.subarray(0, last)).split("\n")), used: last + 1 };
  },
  async tail(src, size, n) {
    const end = await completeEnd(src, size);
    return { entries: parseLines(await lastLines(src, end, n)), end };
  },
};

/** Where the last complete line of the first `size` bytes ends (after its newline). */
async function completeEnd(src: Source, size: number): Promise<number> {
  let start = size;
  while (start > 0) {
    const from = Math.max(0, start - 4096);
    const block = await src.readAt(from, start);
    const i = block.lastIndexOf(NEWLINE);
    if (i >= 0) return from + i + 1;
    start = from;
  }
  return 0;
}

/** The last `n` lines of the first `end` bytes, which end in a newline. */
async function lastLines(src: Source, end: number, n: number): Promise<string[]> {
  const lines: string[] = [];
  let carry: Uint8Array = new Uint8Array(0);
  let first = true;
  while (end > 0 && lines.length < n) {
    const start = Math.max(0, end - CHUNK);
    const block = await src.readAt(start, end);
    const joined = concat([block, carry]);
    let stop = joined.length;
    for (let i = joined.length - 1; i >= 0 && lines.length < n; i--) {
      if (joined[i] !== NEWLINE) continue;
      if (!first) lines.push(utf8.decode(joined.subarray(i + 1, stop)));
      first = false;
      stop = i;
    }
    carry = joined.slice(0, stop);
    end = start;
  }
  if (end === 0 && carry.length > 0 && lines.length < n && !first) {
    lines.push(utf8.decode(carry));
  }
  return lines.reverse();
}

function fromProto(e: ProtoLogEntry): LogEntry {
  const entry: LogEntry = {
    // moby local/read.go: a newline is added back unless the entry is partial.
    log: utf8.decode(e.line) + (e.partial ? "" : "\n"),
    stream: e.source === "stderr" ? "stderr" : "stdout",
    time: formatNanoFixed(e.timeNano),
  };
  if (e.attrs.length > 0) entry.attrs = Object.fromEntries(e.attrs);
  return entry;
}

const localCodec: Codec = {
  decode(b) {
    const { entries, used } = decodeFrames(b);
    return { entries: entries.map(fromProto), used };
  },
  async tail(src, size, n) {
    const u32 = async (at: number) => {
      const b = await src.readAt(at, at + FRAME_LEN_BYTES);
      return b.length === FRAME_LEN_BYTES ? new DataView(b.buffer, b.byteOffset).getUint32(0) : -1;
    };
    /** Where the frame ending at `end` starts, or -1 if no whole frame ends there. */
    const frameStart = async (end: number) => {
      if (end < 2 * FRAME_LEN_BYTES) return -1;
      const len = await u32(end - FRAME_LEN_BYTES);
      const start = end - 2 * FRAME_LEN_BYTES - len;
      return len >= 0 && start >= 0 && (await u32(start)) === len ? start : -1;
    };
    let end = size;
    if (end > 0 && await frameStart(end) < 0) {
      // A torn last frame (being written): find where the whole ones end, from the start.
      end = 0;
      let carry: Uint8Array = new Uint8Array(0);
      for (let off = 0; off < size;) {
        const block = await src.readAt(off, Math.min(size, off + CHUNK));
        if (block.length === 0) break;
        off += block.length;
        carry = concat([carry, block]);
        const { used, damaged } = decodeFrames(carry);
        end += used;
        carry = carry.slice(used);
        if (damaged) break;
      }
    }
    let start = end;
    for (let found = 0; found < n && start > 0; found++) {
      const s = await frameStart(start);
      if (s < 0) break;
      start = s;
    }
    return { entries: localCodec.decode(await src.readAt(start, end)).entries, end };
  },
};

function codecFor(format: LogFormat): Codec {
  return format === "local" ? localCodec : jsonCodec;
}

/** Reads `src` from `from` to its end in chunks, emitting entries; returns where they end. */
async function streamSource(
  src: Source,
  codec: Codec,
  out: (entries: LogEntry[]) => void,
  from = 0,
): Promise<number> {
  let carry: Uint8Array = new Uint8Array(0);
  let off = from;
  let done = from;
  while (off < src.size) {
    const block = await src.readAt(off, Math.min(src.size, off + CHUNK));
    if (block.length === 0) break;
    off += block.length;
    carry = carry.length ? concat([carry, block]) : block;
    const { entries, used } = codec.decode(carry);
    carry = carry.slice(used);
    done += used;
    out(entries);
  }
  return done;
}

/** A rotated file, opened: its handle stays valid whatever is renamed afterwards. */
interface RotatedFile {
  n: number;
  file: Deno.FsFile;
  gz: boolean;
}

/**
 * The current file and the rotated ones, opened as one consistent set (oldest first): the
 * current file is opened first, then the rotated ones, and if the current file was replaced
 * meanwhile (a rotation renamed them under us) the whole set is opened again.
 */
async function openLogSet(
  path: string,
): Promise<{ current: Deno.FsFile | null; rotated: RotatedFile[] }> {
  for (let attempt = 0;; attempt++) {
    const current = await openIfThere(path);
    const rotated: RotatedFile[] = [];
    for (const n of rotatedIndexes(path)) {
      const plain = await openIfThere(`${path}.${n}`);
      const gz = plain ? null : await openIfThere(`${path}.${n}.gz`);
      if (plain || gz) rotated.push({ n, file: (plain ?? gz)!, gz: !plain });
    }
    const ino = current ? (await current.stat()).ino : null;
    if (attempt >= 10 || ino === (await inoOf(path))) return { current, rotated };
    current?.close();
    rotated.forEach((r) => r.file.close());
  }
}

async function inoOf(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).ino;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The `lastTime` in a gzipped file's header (ns), or null. */
async function gzipLastTimeOf(file: Deno.FsFile): Promise<bigint | null> {
  return gzipLastTime(await fileSource(file, 4096).readAt(0, 4096));
}

/**
 * The bytes of a rotated file (gunzipped), or null if its gzip header says its last entry
 * is before `since` (Docker's reader skips it so). Takes the file: it is closed by the
 * source, or here.
 */
async function sourceOf(r: RotatedFile, since?: bigint): Promise<Source | null> {
  if (!r.gz) return fileSource(r.file, (await r.file.stat()).size);
  if (since !== undefined) {
    const last = await gzipLastTimeOf(r.file);
    if (last !== null && last < since) {
      r.file.close();
      return null;
    }
  }
  return memorySource(await gunzipFile(r.file));
}

/** How `readContainerLog` follows a log. */
export interface FollowOptions {
  /** Whether the container still runs: following ends once it does not. */
  running: () => boolean | Promise<boolean>;
  /** Between two reads: the poll interval, or with `watch` the slow fallback poll. */
  intervalMs: number;
  /** Directories whose changes wake the follower (inotify): the log's, the state's. */
  watch?: string[];
}

/**
 * Reads a container's log: its rotated files, then the current one, with `query`'s tail and
 * time window, handing each batch of entries to `emit`. With `follow`, keeps reading the
 * current file (across rotations) while `follow.running()` says so, then reads what is left
 * and returns. A missing log reads as empty.
 */
export async function readContainerLog(
  path: string,
  query: LogQuery,
  emit: (entries: LogEntry[]) => void,
  follow?: FollowOptions,
  format: LogFormat = "json-file",
): Promise<void> {
  const codec = codecFor(format);
  const filter = new LogFilter(query);
  /** The time of the last entry read from the current file, shown or not. */
  let lastTime: string | undefined;
  const out = (entries: LogEntry[]) => {
    if (entries.length > 0) lastTime = entries[entries.length - 1].time;
    const shown = filter.apply(entries);
    if (shown.length > 0) emit(shown);
  };
  const set = await openLogSet(path);
  let current = set.current;
  const rotated = set.rotated;
  // The size now: what is appended from here on is for following.
  const size = current ? (await current.stat()).size : 0;
  let offset = 0;
  const waiter = follow ? new ChangeWaiter(follow.watch) : null;
  try {
    if (query.tail !== Infinity) {
      const batches: LogEntry[][] = [];
      let need = query.tail;
      if (current) {
        const got = await codec.tail(fileSource(current, size), size, need);
        batches.unshift(got.entries);
        need -= got.entries.length;
        offset = got.end;
      }
      while (rotated.length > 0 && need > 0) {
        const src = await sourceOf(rotated.pop()!);
        if (!src) continue;
        try {
          const got = await codec.tail(src, src.size, need);
          batches.unshift(got.entries);
          need -= got.entries.length;
        } finally {
          src.close();
        }
      }
      out(batches.flat());
    } else {
      while (rotated.length > 0 && !filter.done) {
        const src = await sourceOf(rotated.shift()!, query.since);
        if (!src) continue;
        try {
          await streamSource(src, codec, out);
        } finally {
          src.close();
        }
      }
      if (filter.done) return;
      if (current) offset = await streamSource(fileSource(current, size), codec, out);
    }
    if (!follow || filter.done) return;
    let carry: Uint8Array = new Uint8Array(0);
    /** Reads the current file from `offset` to its end now. */
    const readOn = async () => {
      if (!current) return;
      await current.seek(offset, Deno.SeekMode.Start);
      const bytes = await readAvailable(current);
      offset += bytes.length;
      carry = carry.length ? concat([carry, bytes]) : bytes;
      const { entries, used } = codec.decode(carry);
      carry = carry.slice(used);
      out(entries);
    };
    for (;;) {
      const running = await follow.running();
      await readOn();
      if (filter.done) return;
      const ino = current ? (await current.stat()).ino : null;
      if (ino !== await inoOf(path) && (await inoOf(path)) !== null) {
        // Rotated (or created) under us: the old file is complete once the new one is
        // there. Read its end, then any file rotated out between two looks, then go on with
        // the new one, all from one consistent set of open files.
        await readOn();
        const next = await openLogSet(path);
        for await (const r of newerThan(next.rotated, ino, lastTime)) {
          const src = await sourceOf(r);
          if (!src) continue;
          try {
            await streamSource(src, codec, out);
          } finally {
            src.close();
          }
        }
        current?.close();
        current = next.current;
        offset = 0;
        carry = new Uint8Array(0);
        continue;
      }
      if (!running) return;
      if (query.until !== undefined && nowNanos() > query.until) return;
      await waiter!.wait(follow.intervalMs);
    }
  } finally {
    waiter?.close();
    current?.close();
    rotated.forEach((r) => r.file.close());
  }
}

/**
 * The rotated files newer than the one we followed (oldest first), closing the others; all
 * of them if it is not there (we had no file yet, or it was dropped since). Ours is the
 * plain file with its inode
 * `ino` or, gzipped since, the `.gz` whose header's lastTime is the time of the last entry
 * we read from it.
 */
function newerThan(
  files: RotatedFile[],
  ino: number | null,
  lastTime: string | undefined,
): AsyncIterable<RotatedFile> {
  const last = lastTime === undefined ? null : parseLogTime(lastTime);
  return (async function* () {
    let start = ino === null ? 0 : -1;
    for (let i = files.length - 1; i >= 0 && start < 0; i--) {
      const f = files[i];
      const ours = f.gz
        ? last !== null && (await gzipLastTimeOf(f.file)) === last
        : (await f.file.stat()).ino === ino;
      if (ours) start = i + 1;
    }
    // Not there: it was rotated out (max-file) before we looked. All that is left is newer.
    if (start < 0) start = 0;
    files.slice(0, start).forEach((f) => f.file.close());
    yield* files.slice(start);
  })();
}

async function openIfThere(path: string): Promise<Deno.FsFile | null> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Everything from the file's position to its end now. */
async function readAvailable(file: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await file.read(buf);
    if (n === null || n === 0) break;
    parts.push(buf.slice(0, n));
  }
  return parts.length === 0 ? new Uint8Array(0) : concat(parts);
}
