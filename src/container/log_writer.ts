/**
 * Writing a container's log, in Docker's two file formats: `json-file` (one JSON object per
 * line, `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`) and
 * `local` (length-framed protobuf entries, log_proto.ts), rotated and maybe gzipped by
 * log_file.ts. Every container's monitor (`run`'s CLI, the shim) writes one; only `logs` and
 * the like read them (logs.ts), so the reader is not loaded with this.
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
import { formatNanoFixed, nowNanos } from "../util/docker_time.ts";
import { LogFile } from "./log_file.ts";
import { frameLogEntry } from "./log_proto.ts";

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
  /** Take over a log file another writer opened: never create it (NotFound if it is gone). */
  existing?: boolean;
}

function logFileFor(path: string, opts: LogWriterOptions): LogFile {
  const rotation = { maxSize: -1, maxFiles: 1, compress: false, ...opts.rotation };
  return new LogFile(path, rotation, { nonBlocking: opts.nonBlocking, existing: opts.existing });
}

/**
 * The writer for a container's log as its driver asks, or null when it keeps none. With
 * `existing`, the log must be there already (a monitor continuing its shim's): a removed
 * container's log is not made again (Deno.errors.NotFound).
 */
export function openContainerLog(
  state: ContainerState,
  { existing = false }: { existing?: boolean } = {},
): LogWriter | null {
  const path = logFilePath(state);
  if (path === null) return null;
  const cfg = logConfigOf(state);
  if (cfg.type === "local" && !existing) {
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
    existing,
  };
  return logFormatOf(state) === "local"
    ? new LocalLogWriter(path, opts)
    : new JsonLogWriter(path, opts);
}

/** Characters a JSON string must escape, but for the newlines that end lines. */
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u0009\u000b-\u001f]/;

/**
 * What both log formats share: the log file (rotation, compression, non-blocking mode) that
 * their entries go to, its state, and the close that writes out an unfinished line first.
 */
abstract class FileLogWriter implements LogWriter {
  protected readonly out: LogFile;

  constructor(path: string, opts: LogWriterOptions) {
    this.out = logFileFor(path, opts);
  }

  abstract write(stream: "stdout" | "stderr", chunk: Uint8Array): void;
  abstract flush(): Promise<void>;

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

  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
  }
}

/**
 * Appends a container's output to its json-file log, a line at a time. A chunk whose text
 * needs no escaping (most output) becomes its entries with one `join`, which keeps the cost
 * of logging a fast writer small.
 */
export class JsonLogWriter extends FileLogWriter {
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
    super(path, opts);
    const attrs = opts.attrs && Object.keys(opts.attrs).length > 0
      ? `,"attrs":${JSON.stringify(Object.fromEntries(Object.entries(opts.attrs).sort()))}`
      : "";
    this.middle = {
      stdout: `,"stream":"stdout"${attrs},"time":"`,
      stderr: `,"stream":"stderr"${attrs},"time":"`,
    };
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

/** The byte that ends a log line. */
export const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

/** The bytes of `parts`, one after another. */
export function concat(parts: Uint8Array[]): Uint8Array {
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
export class LocalLogWriter extends FileLogWriter {
  private readonly attrs: [string, string][];
  private partial: Record<string, Uint8Array> = { stdout: EMPTY, stderr: EMPTY };

  constructor(path: string, opts: LogWriterOptions = {}) {
    super(path, opts);
    this.attrs = Object.entries(opts.attrs ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
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

/**
 * The indexes of the rotated files of the log at `path` (`path.N` or `path.N.gz`), oldest
 * (highest) first, whatever max-file was: what is on disk is what there is to read.
 */
export function rotatedIndexes(path: string): number[] {
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
