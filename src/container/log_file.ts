/**
 * The file a container's log is written to, rotated as Docker's `loggerutils.LogFile` does:
 * when the current file has reached `max-size` (checked before each entry), `NAME.1` becomes
 * `NAME.2` and so on (the oldest, `NAME.<max-file - 1>`, is dropped), the current file
 * becomes `NAME.1` and a new one is started. With `compress`, `NAME.1` is then gzipped into
 * `NAME.1.gz` in the background (log_gzip.ts) and the rotated files move as `NAME.N.gz`.
 *
 * Docker's writer waits for a compression to end before it rotates again; this one never
 * waits: a compression reads the file it was given (opened at the rotation) and, once done,
 * puts its `.gz` where that file has moved meanwhile (`.1` rotated twice since is `.3`),
 * unless it was dropped. The gzip is written as `NAME.zN.gz.tmp` and renamed into place, so
 * that a `.gz` is always complete; a plain `.N` is removed only after its `.gz` is there (a
 * reader prefers the plain file, as Docker's does).
 *
 * With `mode=non-blocking` the entries go to a bounded buffer (log_buffer.ts) and are written
 * by an asynchronous drain, so that whoever relays the container's output never waits on the
 * disk; when the buffer is full entries are dropped and counted, as Docker's ring logger does.
 *
 * @module
 */

import type { LogRotation } from "../config/logging.ts";
import { gzipInto } from "./log_gzip.ts";
import { LogBuffer } from "./log_buffer.ts";

/** What non-blocking mode queues: bytes of entries, or a rotation between them. */
interface Op {
  length: number;
  bytes?: Uint8Array;
  time: bigint;
}

function dropIfThere(p: string): void {
  try {
    Deno.removeSync(p);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Appends entries to a log file, rotating (and gzipping) it as its options say. */
export class LogFile {
  private file: Deno.FsFile;
  /** The size of the current file, counting what non-blocking mode has queued. */
  size: number;
  /** The time (ns) of the last entry written, for the gzip header of a rotated file. */
  private lastTime: bigint | null = null;
  /** The compressions under way, each with the number of rotations since it began. */
  private readonly compressing = new Set<{ done: Promise<void>; rotations: number }>();
  private compressions = 0;
  private readonly buffer?: LogBuffer<Op>;
  private draining: Promise<void> | null = null;
  /** Why the log could not be written, once it could not; then nothing more is written. */
  failure?: Error;

  constructor(
    private readonly path: string,
    readonly rotation: LogRotation,
    opts: { nonBlocking?: { maxBufferSize: number }; existing?: boolean } = {},
  ) {
    // `existing`: a writer taking over a log another one opened (a shim's monitor). Were the
    // file gone, its container was removed meanwhile: NotFound, rather than a new file there.
    this.file = Deno.openSync(path, { append: true, create: !opts.existing, mode: 0o640 });
    // What a compression cut short left behind (the plain file it read is still there).
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    const base = path.slice(path.lastIndexOf("/") + 1);
    for (const e of opts.existing ? [] : Deno.readDirSync(dir)) {
      if (e.name.startsWith(`${base}.z`) && e.name.endsWith(".gz.tmp")) {
        dropIfThere(`${dir}/${e.name}`);
      }
    }
    this.size = this.file.statSync().size;
    if (opts.nonBlocking) this.buffer = new LogBuffer<Op>(opts.nonBlocking.maxBufferSize);
  }

  /** Whether entries are queued rather than written at once (`mode=non-blocking`). */
  get nonBlocking(): boolean {
    return this.buffer !== undefined;
  }

  /** How many entries non-blocking mode dropped because its buffer was full. */
  get dropped(): number {
    return this.buffer?.dropped ?? 0;
  }

  /**
   * Appends one entry (or, in blocking mode, several: then they are checked against max-size
   * together by the caller) written at `time` (ns). In non-blocking mode the bytes are
   * copied into the buffer, or dropped if it is full. Never throws: see `failure`.
   */
  write(bytes: Uint8Array, time: bigint): void {
    if (this.failure) return;
    if (this.buffer) {
      if (this.buffer.push({ length: bytes.length, bytes: bytes.slice(), time })) {
        this.size += bytes.length;
        this.kick();
      }
      return;
    }
    try {
      for (let off = 0; off < bytes.length;) off += this.file.writeSync(bytes.subarray(off));
      this.size += bytes.length;
      this.lastTime = time;
    } catch (e) {
      this.failure = e as Error;
    }
  }

  /** Rotates if the current file is full (Docker checks before each entry). */
  rotateIfDue(): void {
    const { maxSize } = this.rotation;
    if (this.failure || maxSize === -1 || this.size < maxSize) return;
    if (this.buffer) {
      // In order with the entries.
      this.buffer.push({ length: 0, time: 0n });
      this.size = 0;
      this.kick();
      return;
    }
    try {
      this.rotateNow();
    } catch (e) {
      this.failure = e as Error;
    }
  }

  /** Moves the full file aside (`.1`, the oldest dropped), or drops it with max-file=1. */
  private rotateNow(): void {
    this.file.close();
    const { maxFiles, compress } = this.rotation;
    if (maxFiles < 2) {
      dropIfThere(this.path);
    } else {
      // Both forms move: a plain `.N` is left only by a compression that failed or was cut.
      dropIfThere(`${this.path}.${maxFiles - 1}`);
      dropIfThere(`${this.path}.${maxFiles - 1}.gz`);
      for (let i = maxFiles - 1; i > 1; i--) {
        renameIfThere(`${this.path}.${i - 1}.gz`, `${this.path}.${i}.gz`);
        renameIfThere(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      }
      Deno.renameSync(this.path, `${this.path}.1`);
    }
    this.file = Deno.openSync(this.path, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o640,
    });
    if (!this.buffer) this.size = 0;
    for (const job of this.compressing) job.rotations++;
    if (compress && maxFiles >= 2) this.compress(Deno.openSync(`${this.path}.1`), this.lastTime);
  }

  /**
   * Gzips the file just rotated to `.1` (open in `input`) in the background, then puts the
   * `.gz` where the file is by then. A failed compression leaves the plain file, which
   * readers read as well.
   */
  private compress(input: Deno.FsFile, lastTime: bigint | null): void {
    const tmp = `${this.path}.z${++this.compressions}.gz.tmp`;
    const job = { rotations: 0, done: Promise.resolve() };
    job.done = gzipInto(input, tmp, lastTime).then(
      () => {
        // Synchronous, so that no rotation comes between the look and the renames.
        const n = 1 + job.rotations;
        if (n >= this.rotation.maxFiles) return dropIfThere(tmp); // rotated out meanwhile
        Deno.renameSync(tmp, `${this.path}.${n}.gz`);
        dropIfThere(`${this.path}.${n}`);
      },
      () => {},
    ).catch(() => dropIfThere(tmp)).finally(() => this.compressing.delete(job));
    this.compressing.add(job);
  }

  /** Resolves once no compression runs. */
  private async compressed(): Promise<void> {
    while (this.compressing.size > 0) {
      await Promise.all([...this.compressing].map((j) => j.done));
    }
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => this.draining = null);
  }

  /** Writes out what non-blocking mode queued, with asynchronous writes. */
  private async drain(): Promise<void> {
    // Let the caller's write return first: the relay goes on at once.
    await Promise.resolve();
    while (this.buffer!.size > 0 && !this.failure) {
      for (const op of this.buffer!.takeAll()) {
        if (this.failure) break;
        try {
          if (!op.bytes) {
            this.rotateNow();
            continue;
          }
          for (let off = 0; off < op.bytes.length;) {
            off += await this.file.write(op.bytes.subarray(off));
          }
          this.lastTime = op.time;
        } catch (e) {
          this.failure = e as Error;
        }
      }
    }
  }

  /** Resolves once what non-blocking mode queued is written. */
  async drained(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Resolves once what is queued is written and no compression runs. */
  async idle(): Promise<void> {
    await this.drained();
    await this.compressed();
  }

  /** Writes out what is queued, waits for a compression, and closes the file. */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    try {
      this.file.close();
    } catch {
      // Closed by a failed rotation already.
    }
    await this.compressed();
  }
}
