/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`, so that
 * `logs -t`, `--tail`, `--since` and `-f` have a time and a stream for every line. The
 * writer rotates as Docker's `loggerutils.LogFile` does (`max-size`, `max-file`: the
 * current file is renamed `.1`, `.1` becomes `.2`, ...); the reader reads the rotated
 * files oldest first, then the current one, and follows the current one across rotations.
 *
 * @module
 */

import {
  DEFAULT_LOG_CONFIG,
  logAttributes,
  type LogConfig,
  type LogRotation,
  logRotation,
} from "../config/logging.ts";
import type { ContainerState } from "../state/types.ts";
import { formatNanoFixed, nowNanos, parseLogTime } from "../util/docker_time.ts";

/** One line of a container's output. */
export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  /** Extra attributes (`--log-opt labels=`, `env=`, `tag=`), shown by `logs --details`. */
  attrs?: Record<string, string>;
  time: string;
}

/** The driver a container logs with (older containers: json-file). */
export function logConfigOf(state: ContainerState): LogConfig {
  return state.spec.logConfig ?? DEFAULT_LOG_CONFIG;
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

/** The writer for a container's log as its driver asks, or null when it keeps none. */
export function openContainerLog(state: ContainerState): JsonLogWriter | null {
  const path = logFilePath(state);
  if (path === null) return null;
  const cfg = logConfigOf(state);
  if (cfg.type === "local") {
    Deno.mkdirSync(`${state.containerDir}/local-logs`, { mode: 0o700, recursive: true });
  }
  return new JsonLogWriter(path, {
    rotation: logRotation(cfg),
    attrs: logAttributes(cfg, {
      id: state.id,
      name: state.name,
      image: state.spec.image,
      env: state.spec.env,
      labels: state.spec.labels,
    }),
  });
}

/** Characters a JSON string must escape, but for the newlines that end lines. */
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u0009\u000b-\u001f]/;

/**
 * Appends a container's output to its log, a line at a time, rotating it when full. A
 * chunk whose text needs no escaping (most output) becomes its entries with one `join`,
 * which keeps the cost of logging a fast writer small.
 */
export class JsonLogWriter {
  private file: Deno.FsFile;
  private size: number;
  private readonly rotation: LogRotation;
  /** `","stream":"stdout"` and the attributes, per stream: the same for every entry. */
  private readonly middle: Record<string, string>;
  private readonly encoder = new TextEncoder();
  private buf = new Uint8Array(1 << 16);
  private partial: Record<string, string> = { stdout: "", stderr: "" };
  private decoder: Record<string, TextDecoder> = {
    stdout: new TextDecoder(),
    stderr: new TextDecoder(),
  };

  constructor(
    private readonly path: string,
    opts: { rotation?: LogRotation; attrs?: Record<string, string> } = {},
  ) {
    this.rotation = opts.rotation ?? { maxSize: -1, maxFiles: 1 };
    const attrs = opts.attrs && Object.keys(opts.attrs).length > 0
      ? `,"attrs":${JSON.stringify(Object.fromEntries(Object.entries(opts.attrs).sort()))}`
      : "";
    this.middle = {
      stdout: `,"stream":"stdout"${attrs},"time":"`,
      stderr: `,"stream":"stderr"${attrs},"time":"`,
    };
    this.file = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
    this.size = this.file.statSync().size;
  }

  /**
   * Why the log could not be written (a full disk, say), once it could not: from then on
   * output is no longer logged. The writer never throws, so that a container's output keeps
   * flowing to whoever relays it (a relay that stopped would block the container).
   */
  failure?: Error;

  /** Records a chunk of output; complete lines are written at once, the rest is held. */
  write(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    if (this.failure) return;
    try {
      this.add(stream, chunk);
    } catch (e) {
      this.failure = e as Error;
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

  /** Writes out any unfinished line and closes the log. */
  close(): void {
    try {
      for (const stream of ["stdout", "stderr"] as const) {
        if (this.partial[stream] && !this.failure) this.emit(stream, this.partial[stream], "");
        this.partial[stream] = "";
      }
    } catch (e) {
      this.failure ??= e as Error;
    }
    try {
      this.file.close();
    } catch {
      // Closed by a failed rotation already.
    }
  }

  /** Writes `text`'s lines (without their last newline) as entries, each ending in `end`. */
  private emit(stream: "stdout" | "stderr", text: string, end: string): void {
    const tail = `${end}"${this.middle[stream]}${formatNanoFixed(nowNanos())}"}\n`;
    const { maxSize } = this.rotation;
    // At most this many bytes (3 per UTF-16 unit, at most a line per unit): whether a
    // rotation may be due within this chunk.
    const most = text.length * 3 + (text.length + 1) * (tail.length + 9);
    if (!NEEDS_ESCAPE.test(text) && (maxSize === -1 || this.size + most < maxSize)) {
      // No escaping, no rotation due: each newline becomes the end of one entry and the start
      // of the next, in one pass that makes no string per line.
      this.writeOut(`{"log":"${text.replaceAll("\n", `${tail}{"log":"`)}${tail}`);
      return;
    }
    const lines = text.split("\n");
    if (maxSize === -1) {
      let out = "";
      for (const l of lines) out += `{"log":${JSON.stringify(l).slice(0, -1)}${tail}`;
      this.writeOut(out);
      return;
    }
    // Docker checks the size before each entry: a file may pass max-size by one entry.
    for (const l of lines) {
      if (this.size >= maxSize) this.rotate();
      this.writeOut(`{"log":${JSON.stringify(l).slice(0, -1)}${tail}`);
    }
  }

  /** Encodes into a buffer kept from one chunk to the next (8x cheaper than `encode`). */
  private writeOut(out: string): void {
    let done = 0;
    let read = 0;
    while (read < out.length) {
      if (this.buf.length < (out.length - read) * 3) {
        this.buf = new Uint8Array(Math.max(this.buf.length * 2, (out.length - read) * 3));
      }
      const r = this.encoder.encodeInto(read === 0 ? out : out.slice(read), this.buf);
      read += r.read;
      const bytes = this.buf.subarray(0, r.written);
      for (let off = 0; off < bytes.length;) off += this.file.writeSync(bytes.subarray(off));
      done += r.written;
    }
    this.size += done;
  }

  /** Moves the full file aside (`.1`, the oldest dropped), or drops it with max-file=1. */
  private rotate(): void {
    this.file.close();
    const { maxFiles } = this.rotation;
    const drop = (p: string) => {
      try {
        Deno.removeSync(p);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    };
    if (maxFiles < 2) {
      drop(this.path);
    } else {
      drop(`${this.path}.${maxFiles - 1}`);
      for (let i = maxFiles - 1; i > 1; i--) {
        try {
          Deno.renameSync(`${this.path}.${i - 1}`, `${this.path}.${i}`);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      Deno.renameSync(this.path, `${this.path}.1`);
    }
    this.file = Deno.openSync(this.path, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o640,
    });
    this.size = 0;
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

/**
 * The rotated files of the log at `path`, oldest first (`path.3`, `path.2`, `path.1`),
 * whatever max-file was: what is on disk is what there is to read.
 */
export function rotatedFiles(path: string): string[] {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const base = path.slice(path.lastIndexOf("/") + 1);
  const found: number[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      const m = e.name.startsWith(`${base}.`) && /^\d+$/.exec(e.name.slice(base.length + 1));
      if (m) found.push(Number(m[0]));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found.sort((a, b) => b - a).map((n) => `${path}.${n}`);
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
const NEWLINE = 0x0a;

async function readAt(file: Deno.FsFile, start: number, end: number): Promise<Uint8Array> {
  const buf = new Uint8Array(end - start);
  await file.seek(start, Deno.SeekMode.Start);
  let off = 0;
  while (off < buf.length) {
    const n = await file.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** The last `n` complete lines of the first `size` bytes of `file` (fewer if it has fewer). */
async function lastLines(file: Deno.FsFile, size: number, n: number): Promise<string[]> {
  const decoder = new TextDecoder();
  const lines: string[] = [];
  let end = size;
  // Bytes after the last newline are a torn entry: not a line yet.
  let carry = new Uint8Array(0);
  let first = true;
  while (end > 0 && lines.length < n) {
    const start = Math.max(0, end - CHUNK);
    const block = await readAt(file, start, end);
    const joined = new Uint8Array(block.length + carry.length);
    joined.set(block);
    joined.set(carry, block.length);
    let stop = joined.length;
    for (let i = joined.length - 1; i >= 0 && lines.length < n; i--) {
      if (joined[i] !== NEWLINE) continue;
      if (!first) lines.push(decoder.decode(joined.subarray(i + 1, stop)));
      first = false;
      stop = i;
    }
    carry = joined.slice(0, stop);
    end = start;
  }
  if (end === 0 && carry.length > 0 && lines.length < n && !first) {
    lines.push(decoder.decode(carry));
  }
  return lines.reverse();
}

/**
 * Reads a container's log: its rotated files, then the current one, with `query`'s tail and
 * time window, handing each batch of entries to `emit`. With `follow`, keeps reading the
 * current file (across rotations) while `follow.running()` says so, checking every
 * `follow.intervalMs`, then reads what is left and returns. A missing log reads as empty.
 */
export async function readContainerLog(
  path: string,
  query: LogQuery,
  emit: (entries: LogEntry[]) => void,
  follow?: { running: () => boolean; intervalMs: number },
): Promise<void> {
  const filter = new LogFilter(query);
  const out = (entries: LogEntry[]) => {
    const shown = filter.apply(entries);
    if (shown.length > 0) emit(shown);
  };
  let current: Deno.FsFile | null = null;
  try {
    current = await Deno.open(path, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // The current file first, so that a rotation from here on cannot hide its end from us.
  const size = current ? (await current.stat()).size : 0;
  const rotated = rotatedFiles(path);
  let rest = "";
  try {
    if (query.tail !== Infinity) {
      const lines: string[] = [];
      let need = query.tail;
      const older: Deno.FsFile[] = [];
      try {
        if (current && need > 0) {
          const got = await lastLines(current, size, need);
          lines.unshift(...got);
          need -= got.length;
        }
        for (let i = rotated.length - 1; i >= 0 && need > 0; i--) {
          const f = await openIfThere(rotated[i]);
          if (!f) continue;
          older.push(f);
          const got = await lastLines(f, (await f.stat()).size, need);
          lines.unshift(...got);
          need -= got.length;
        }
      } finally {
        older.forEach((f) => f.close());
      }
      out(parseLines(lines));
      if (current) rest = await tornEnd(current, size);
    } else {
      for (const p of rotated) {
        const f = await openIfThere(p);
        if (!f) continue;
        try {
          await streamFile(f, Infinity, out);
        } finally {
          f.close();
        }
        if (filter.done) return;
      }
      if (current) rest = await streamFile(current, size, out);
    }
    if (!follow || filter.done) return;
    let offset = size;
    let decoder = new TextDecoder();
    for (;;) {
      const running = follow.running();
      if (current) {
        await current.seek(offset, Deno.SeekMode.Start);
        const bytes = await readAvailable(current);
        offset += bytes.length;
        const parsed = parseLogLines(rest + decoder.decode(bytes, { stream: true }));
        rest = parsed.rest;
        out(parsed.entries);
        if (filter.done) return;
      }
      // Rotated (or created) under us: what we hold is complete; go on with the new file,
      // after any file rotated out between two looks (the old one is then `.2` or older).
      const replaced = await reopenIfReplaced(path, current);
      if (replaced) {
        if (current) {
          const between = await rotatedSince(path, (await current.stat()).ino);
          for (const p of between) {
            const f = await openIfThere(p);
            if (!f) continue;
            try {
              await streamFile(f, Infinity, out);
            } finally {
              f.close();
            }
          }
        }
        current?.close();
        current = replaced;
        offset = 0;
        rest = "";
        decoder = new TextDecoder();
        continue;
      }
      if (!running) return;
      if (query.until !== undefined && nowNanos() > query.until) return;
      await new Promise((r) => setTimeout(r, follow.intervalMs));
    }
  } finally {
    current?.close();
  }
}

/** The rotated files newer than the one with inode `ino`, oldest first (none if not found). */
async function rotatedSince(path: string, ino: number | null): Promise<string[]> {
  const files = rotatedFiles(path);
  for (let i = files.length - 1; i >= 0; i--) {
    try {
      if ((await Deno.stat(files[i])).ino === ino) return files.slice(i + 1);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return [];
}

async function openIfThere(path: string): Promise<Deno.FsFile | null> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** A new file at `path` that is not `current` (after a rotation), opened; else null. */
async function reopenIfReplaced(
  path: string,
  current: Deno.FsFile | null,
): Promise<Deno.FsFile | null> {
  let ino: number | null;
  try {
    ino = (await Deno.stat(path)).ino;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (current && (await current.stat()).ino === ino) return null;
  return await openIfThere(path);
}

/** Everything from the file's position to its end now. */
async function readAvailable(file: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await file.read(buf);
    if (n === null || n === 0) break;
    parts.push(buf.slice(0, n));
    length += n;
  }
  const all = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return all;
}

/** Reads the first `size` bytes of `file` in chunks, emitting entries; returns the torn end. */
async function streamFile(
  file: Deno.FsFile,
  size: number,
  out: (entries: LogEntry[]) => void,
): Promise<string> {
  const decoder = new TextDecoder();
  let rest = "";
  let off = 0;
  await file.seek(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(CHUNK);
  while (off < size) {
    const n = await file.read(
      size === Infinity ? buf : buf.subarray(0, Math.min(CHUNK, size - off)),
    );
    if (n === null || n === 0) break;
    off += n;
    const parsed = parseLogLines(rest + decoder.decode(buf.subarray(0, n), { stream: true }));
    rest = parsed.rest;
    out(parsed.entries);
  }
  return rest;
}

/** The bytes after the last newline in the first `size` bytes of `file`: a torn entry. */
async function tornEnd(file: Deno.FsFile, size: number): Promise<string> {
  let start = size;
  const decoder = new TextDecoder();
  while (start > 0) {
    const from = Math.max(0, start - 4096);
    const block = await readAt(file, from, start);
    const i = block.lastIndexOf(NEWLINE);
    if (i >= 0) return decoder.decode(await readAt(file, from + i + 1, size));
    start = from;
  }
  return decoder.decode(await readAt(file, 0, size));
}
