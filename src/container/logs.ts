/**
 * Container logs, in Docker's two file formats: `json-file` (one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`) and `local`
 * (length-framed protobuf entries, log_proto.ts), so that `logs -t`, `--tail`, `--since` and
 * `-f` have a time and a stream for every line. The files rotate and may be gzipped
 * (log_file.ts); the reader reads the rotated files oldest first (plain or `.gz`), then the
 * current one, and follows the current one across rotations.
 *
 * @module
 */

import {
  DEFAULT_LOG_CONFIG,
  logAttributes,
  type LogConfig,
  logMode,
  type LogRotation,
  logRotation,
} from "../config/logging.ts";
import type { ContainerState } from "../state/types.ts";
import { formatNanoFixed, nowNanos, parseLogTime } from "../util/docker_time.ts";
import { LogFile } from "./log_file.ts";
import { gunzipFile, gzipLastTime } from "./log_gzip.ts";
import { decodeFrames, FRAME_LEN_BYTES, frameLogEntry, type ProtoLogEntry } from "./log_proto.ts";
import { ChangeWaiter } from "./log_watch.ts";

/** One line of a container's output. */
export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  /** Extra attributes (`--log-opt labels=`, `env=`, `tag=`), shown by `logs --details`. */
  attrs?: Record<string, string>;
  time: string;
}

/** The two formats a log file may have on disk. */
export type LogFormat = "json-file" | "local";

/** The driver a container logs with (older containers: json-file). */
export function logConfigOf(state: ContainerState): LogConfig {
  return state.spec.logConfig ?? DEFAULT_LOG_CONFIG;
}

/**
 * The format of a container's log file. A `local` log that m-docker wrote before it had
 * Docker's format is json-file lines (its first byte is `{`; a frame's is the length's high
 * byte, 0): it is read, and written on, as such.
 */
export function logFormatOf(state: ContainerState): LogFormat {
  if (logConfigOf(state).type !== "local") return "json-file";
  const path = logFilePath(state)!;
  for (const p of [path, ...rotatedFiles(path).reverse()]) {
    if (p.endsWith(".gz")) continue;
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(p, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    try {
      const first = new Uint8Array(1);
      if (f.readSync(first) === 1) return first[0] === 0x7b ? "json-file" : "local";
    } finally {
      f.close();
    }
  }
  return "local";
}

/**
 * Where a container's log is written: its json-file log, `local-logs/container.log` for
 * `local` (Docker's place; it is not shown as LogPath, as in Docker), or null for `none`.
 */
export function logFilePath(state: ContainerState): string | null {
  const type = logConfigOf(state).type;
  if (type === "none") return null;
  return type === "local" ? `${state.containerDir}/local-logs/container.log` : state.logPath;
}

/** What writes a container's output to its log (either format). */
export interface LogWriter {
  /** Records a chunk of output; complete lines are written (or queued) at once. */
  write(stream: "stdout" | "stderr", chunk: Uint8Array): void;
  /**
   * Writes out any unfinished line (the container's output ended: Docker's copier logs it
   * at end of file) and what is queued. The log stays open, for a restart.
   */
  flush(): Promise<void>;
  /** Flushes, then closes the log (once a compression under way has ended). */
  close(): Promise<void>;
  /**
   * Why the log could not be written (a full disk, say), once it could not: from then on
   * output is no longer logged. A writer never throws, so that a container's output keeps
   * flowing to whoever relays it (a relay that stopped would block the container).
   */
  readonly failure?: Error;
  /** How many entries `mode=non-blocking` dropped because its buffer was full. */
  readonly dropped: number;
}

/** Options every writer takes. */
export interface LogWriterOptions {
  rotation?: Partial<LogRotation>;
  attrs?: Record<string, string>;
  /** `mode=non-blocking`: a buffer of at most this many bytes, drained asynchronously. */
  nonBlocking?: { maxBufferSize: number };
}

function logFileFor(path: string, opts: LogWriterOptions): LogFile {
  const rotation = { maxSize: -1, maxFiles: 1, compress: false, ...opts.rotation };
  return new LogFile(path, rotation, { nonBlocking: opts.nonBlocking });
}

/** The writer for a container's log as its driver asks, or null when it keeps none. */
export function openContainerLog(state: ContainerState): LogWriter | null {
  const path = logFilePath(state);
  if (path === null) return null;
  const cfg = logConfigOf(state);
  if (cfg.type === "local") {
    Deno.mkdirSync(`${state.containerDir}/local-logs`, { mode: 0o700, recursive: true });
  }
  const mode = logMode(cfg);
  const opts: LogWriterOptions = {
    rotation: logRotation(cfg),
    attrs: logAttributes(cfg, {
      id: state.id,
      name: state.name,
      image: state.spec.image,
      env: state.spec.env,
      labels: state.spec.labels,
    }),
    nonBlocking: mode.nonBlocking ? { maxBufferSize: mode.maxBufferSize } : undefined,
  };
  return logFormatOf(state) === "local"
    ? new LocalLogWriter(path, opts)
    : new JsonLogWriter(path, opts);
}

/** Characters a JSON string must escape, but for the newlines that end lines. */
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u0009\u000b-\u001f]/;

/**
 * Appends a container's output to its json-file log, a line at a time. A chunk whose text
 * needs no escaping (most output) becomes its entries with one `join`, which keeps the cost
 * of logging a fast writer small.
 */
export class JsonLogWriter implements LogWriter {
  private readonly out: LogFile;
  /** `","stream":"stdout"` and the attributes, per stream: the same for every entry. */
  private readonly middle: Record<string, string>;
  private readonly encoder = new TextEncoder();
  private buf = new Uint8Array(1 << 16);
  private partial: Record<string, string> = { stdout: "", stderr: "" };
  private decoder: Record<string, TextDecoder> = {
    stdout: new TextDecoder(),
    stderr: new TextDecoder(),
  };

  constructor(path: string, opts: LogWriterOptions = {}) {
    const attrs = opts.attrs && Object.keys(opts.attrs).length > 0
      ? `,"attrs":${JSON.stringify(Object.fromEntries(Object.entries(opts.attrs).sort()))}`
      : "";
    this.middle = {
      stdout: `,"stream":"stdout"${attrs},"time":"`,
      stderr: `,"stream":"stderr"${attrs},"time":"`,
    };
    this.out = logFileFor(path, opts);
  }

  get failure(): Error | undefined {
    return this.out.failure;
  }

  get dropped(): number {
    return this.out.dropped;
  }

  /** Resolves once what is queued is written and no compression runs (for tests). */
  idle(): Promise<void> {
    return this.out.idle();
  }

  write(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    if (this.out.failure) return;
    try {
      this.add(stream, chunk);
    } catch (e) {
      this.out.failure = e as Error;
    }
  }

  private add(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    const text = this.partial[stream] + this.decoder[stream].decode(chunk, { stream: true });
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.partial[stream] = text;
      return;
    }
    this.partial[stream] = text.slice(end + 1);
    this.emit(stream, text.slice(0, end), "\\n");
  }

  async flush(): Promise<void> {
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        if (this.partial[stream] && !this.out.failure) this.emit(stream, this.partial[stream], "");
        this.partial[stream] = "";
      }
    } catch (e) {
      this.out.failure ??= e as Error;
    }
    await this.out.drained();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
  }

  /** Writes `text`'s lines (without their last newline) as entries, each ending in `end`. */
  private emit(stream: "stdout" | "stderr", text: string, end: string): void {
    const now = nowNanos();
    const tail = `${end}"${this.middle[stream]}${formatNanoFixed(now)}"}\n`;
    const { maxSize } = this.out.rotation;
    // At most this many bytes (3 per UTF-16 unit, at most a line per unit): whether a
    // rotation may be due within this chunk. Non-blocking mode queues (and drops) entries
    // one by one, as Docker's ring buffer does messages.
    const most = text.length * 3 + (text.length + 1) * (tail.length + 9);
    const whole = !this.out.nonBlocking && (maxSize === -1 || this.out.size + most < maxSize);
    if (whole && !NEEDS_ESCAPE.test(text)) {
      // No escaping, no rotation due: each newline becomes the end of one entry and the start
      // of the next, in one pass that makes no string per line.
      this.writeOut(`{"log":"${text.replaceAll("\n", `${tail}{"log":"`)}${tail}`, now);
      return;
    }
    const lines = text.split("\n");
    if (whole) {
      let out = "";
      for (const l of lines) out += `{"log":${JSON.stringify(l).slice(0, -1)}${tail}`;
      this.writeOut(out, now);
      return;
    }
    // Docker checks the size before each entry: a file may pass max-size by one entry. Each
    // entry has a time of its own here (as each of Docker's messages has), so that no two
    // rotated files end at the same time: a follower finds its file by that time once the
    // file is gzipped.
    for (const [i, l] of lines.entries()) {
      const t = i === 0 ? now : nowNanos();
      this.out.rotateIfDue();
      this.writeOut(
        `{"log":${JSON.stringify(l).slice(0, -1)}${end}"${this.middle[stream]}${
          formatNanoFixed(t)
        }"}\n`,
        t,
      );
    }
  }

  /** Encodes into a buffer kept from one chunk to the next (8x cheaper than `encode`). */
  private writeOut(out: string, time: bigint): void {
    if (this.buf.length < out.length * 3) {
      this.buf = new Uint8Array(Math.max(this.buf.length * 2, out.length * 3));
    }
    const r = this.encoder.encodeInto(out, this.buf);
    this.out.write(this.buf.subarray(0, r.written), time);
  }
}

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}

/** One entry of a `local` log: a line, or a piece of one (`partial`: no newline after it). */
interface Piece {
  line: Uint8Array;
  partial: boolean;
}

/**
 * The longest line an entry holds: Docker's copier buffers 16 KiB at most (moby
 * daemon/logger `defaultBufSize`) and logs a longer line as partial messages.
 */
const PARTIAL_MAX = 16 * 1024;

/**
 * Appends a container's output to its `local` log, Docker's framed protobuf: each line is one
 * `LogEntry` (source, time_nano, the line without its newline, the attributes sorted by key).
 * A line longer than 16 KiB, and an unfinished one written at the end, become partial
 * entries, read back without a newline (so a long line reads back whole).
 */
export class LocalLogWriter implements LogWriter {
  private readonly out: LogFile;
  private readonly attrs: [string, string][];
  private partial: Record<string, Uint8Array> = { stdout: EMPTY, stderr: EMPTY };

  constructor(path: string, opts: LogWriterOptions = {}) {
    this.attrs = Object.entries(opts.attrs ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
    this.out = logFileFor(path, opts);
  }

  get failure(): Error | undefined {
    return this.out.failure;
  }

  get dropped(): number {
    return this.out.dropped;
  }

  /** Resolves once what is queued is written and no compression runs (for tests). */
  idle(): Promise<void> {
    return this.out.idle();
  }

  write(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    if (this.out.failure) return;
    const entries: Piece[] = [];
    /** Adds a line as entries of at most 16 KiB, all partial but the last if it is complete. */
    const add = (line: Uint8Array, complete: boolean): Uint8Array => {
      let off = 0;
      for (; line.length - off > PARTIAL_MAX; off += PARTIAL_MAX) {
        entries.push({ line: line.subarray(off, off + PARTIAL_MAX), partial: true });
      }
      if (!complete) return line.slice(off);
      entries.push({ line: line.subarray(off), partial: false });
      return EMPTY;
    };
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const line = chunk.subarray(start, nl);
      add(start === 0 ? concat([this.partial[stream], line]) : line, true);
      if (start === 0) this.partial[stream] = EMPTY;
      start = nl + 1;
    }
    this.partial[stream] = add(concat([this.partial[stream], chunk.subarray(start)]), false);
    try {
      if (entries.length > 0) this.emit(stream, entries);
    } catch (e) {
      this.out.failure = e as Error;
    }
  }

  private emit(stream: "stdout" | "stderr", lines: Piece[]): void {
    const timeNano = nowNanos();
    const frame = ({ line, partial }: Piece, t: bigint) =>
      frameLogEntry({ source: stream, timeNano: t, line, partial, attrs: this.attrs });
    const { maxSize } = this.out.rotation;
    if (!this.out.nonBlocking) {
      const frames = lines.map((line) => frame(line, timeNano));
      const total = frames.reduce((n, f) => n + f.length, 0);
      if (maxSize === -1 || this.out.size + total < maxSize) {
        this.out.write(concat(frames), timeNano);
        return;
      }
    }
    // One entry at a time, each with a time of its own (see JsonLogWriter.emit).
    for (const [i, line] of lines.entries()) {
      const t = i === 0 ? timeNano : nowNanos();
      this.out.rotateIfDue();
      this.out.write(frame(line, t), t);
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
  }

  async flush(): Promise<void> {
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream].length > 0 && !this.out.failure) {
        try {
          this.emit(stream, [{ line: this.partial[stream], partial: true }]);
        } catch (e) {
          this.out.failure ??= e as Error;
        }
      }
      this.partial[stream] = EMPTY;
    }
    await this.out.drained();
  }
}

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

/**
 * The indexes of the rotated files of the log at `path` (`path.N` or `path.N.gz`), oldest
 * (highest) first, whatever max-file was: what is on disk is what there is to read.
 */
function rotatedIndexes(path: string): number[] {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const base = path.slice(path.lastIndexOf("/") + 1);
  const found = new Set<number>();
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.startsWith(`${base}.`)) continue;
      const m = /^(\d+)(\.gz)?$/.exec(e.name.slice(base.length + 1));
      if (m) found.add(Number(m[1]));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return [...found].sort((a, b) => b - a);
}

function existsSync(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The rotated files of the log at `path`, oldest first (`path.3`, `path.2.gz`, `path.1`):
 * the plain file where there are both (a gzip being written, as Docker's reader prefers it).
 */
export function rotatedFiles(path: string): string[] {
  return rotatedIndexes(path).map((n) =>
    existsSync(`${path}.${n}`) ? `${path}.${n}` : `${path}.${n}.gz`
  );
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
  running: () => boolean;
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
      const running = follow.running();
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
