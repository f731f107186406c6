/**
 * The event journal that `m-docker events` reads: with no daemon to hold events in memory,
 * every process that changes a container appends one JSON line per event to a file under
 * the state root, `events.jsonl`, in the shape of Docker's event messages. At
 * `MAX_JOURNAL_BYTES` the file is renamed to `events.jsonl.1` (replacing the one before),
 * so the journal keeps between one and two files' worth; readers read `.1` then the current
 * file, and a follower that finds the file renamed under it drains the old one first.
 *
 * Recording never fails the operation that records: a journal that cannot be written
 * loses the event, nothing else. Sync APIs only: the shim and every lifecycle path call it.
 *
 * @module
 */

import type { ContainerState } from "./types.ts";

/** What an event is about, as Docker's `Type`. */
export type EventType = "container" | "image" | "network" | "volume";

/** One event, as Docker's API sends it (`docker events --format '{{json .}}'`). */
export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch, as decimal digits (beyond a double's precision). */
  timeNano: string;
  /** Docker's older fields, kept for container events: `status` (the action), `id`, `from`. */
  status?: string;
  id?: string;
  from?: string;
}

/** What a caller says about an event; the time is taken when it is recorded. */
export interface NewEvent {
  type: EventType;
  action: string;
  id: string;
  attributes?: Record<string, string>;
}

/** The journal is rotated once it grows past this. */
export const MAX_JOURNAL_BYTES = 1 << 20;

/**
 * The current journal file and the rotated one: files in the state root itself (a
 * directory there would look like a container's to whoever counts them).
 */
export function journalFiles(stateDir: string): { current: string; previous: string } {
  return { current: `${stateDir}/events.jsonl`, previous: `${stateDir}/events.jsonl.1` };
}

let lastNano = 0n;

/**
 * Now in nanoseconds since the epoch: the clock's milliseconds with the monotonic clock's
 * fraction, never repeating within this process (so that events keep their order).
 */
function nowNano(): bigint {
  const ms = performance.timeOrigin + performance.now();
  let ns = BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.floor((ms % 1) * 1e6));
  if (ns <= lastNano) ns = lastNano + 1n;
  lastNano = ns;
  return ns;
}

/** The journal line of an event: Docker's JSON, with `timeNano` as a plain integer. */
export function eventLine(e: EngineEvent): string {
  const { timeNano, ...rest } = e;
  const json = JSON.stringify(rest);
  return `${json.slice(0, -1)},"timeNano":${timeNano}}`;
}

/** Parses a journal line (or returns null for a torn or foreign one). */
export function parseEventLine(line: string): EngineEvent | null {
  const nano = /"timeNano":(\d+)/.exec(line)?.[1];
  if (!nano) return null;
  try {
    const e = JSON.parse(line) as EngineEvent;
    if (typeof e.Action !== "string" || typeof e.Type !== "string" || !e.Actor) return null;
    e.timeNano = nano;
    return e;
  } catch {
    return null;
  }
}

/** The event as recorded now. */
export function makeEvent(e: NewEvent, nano = nowNano()): EngineEvent {
  // Sorted, as Go's encoding/json writes a map.
  const attributes = Object.fromEntries(
    Object.entries(e.attributes ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
  const out: EngineEvent = {
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: attributes },
    scope: "local",
    time: Number(nano / 1_000_000_000n),
    timeNano: nano.toString(),
  };
  if (e.type === "container") {
    // Docker's API still sends these beside Type/Action for containers.
    return { status: e.action, id: e.id, from: attributes.image ?? "", ...out };
  }
  return out;
}

/**
 * Appends an event to the journal under `stateDir`, rotating it when it has grown too big.
 * Never throws: an event that cannot be recorded is lost, and only that.
 */
export function recordEvent(
  stateDir: string,
  event: NewEvent,
  maxBytes = MAX_JOURNAL_BYTES,
): void {
  try {
    appendLine(stateDir, eventLine(makeEvent(event)), maxBytes);
  } catch {
    // The journal is a record of what happened, never a reason for it not to happen.
  }
}

/**
 * Records an event about a container: Docker's attributes `image` and `name`, its labels,
 * and `extra` (`exitCode` of `die`, `signal` of `kill`).
 */
export function recordContainerEvent(
  stateDir: string,
  state: Pick<ContainerState, "id" | "name"> & {
    spec?: Pick<ContainerState["spec"], "image" | "labels">;
  },
  action: string,
  extra: Record<string, string> = {},
): void {
  recordEvent(stateDir, {
    type: "container",
    action,
    id: state.id,
    attributes: {
      ...(state.spec?.labels ?? {}),
      image: state.spec?.image ?? "",
      name: state.name,
      ...extra,
    },
  });
}

function appendLine(stateDir: string, line: string, maxBytes: number): void {
  const { current, previous } = journalFiles(stateDir);
  const data = new TextEncoder().encode(line + "\n");
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(current, { append: true, create: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    file = Deno.openSync(current, { append: true, create: true, mode: 0o600 });
  }
  let size: number;
  try {
    // One write(2) with O_APPEND: lines from concurrent writers never interleave.
    let off = 0;
    while (off < data.length) off += file.writeSync(data.subarray(off));
    size = file.statSync().size;
  } finally {
    file.close();
  }
  if (size < maxBytes) return;
  // Rotate under the journal's lock, checking again: of two writers that both saw it big,
  // only the first renames (the second finds a new, small file).
  using lock = Deno.openSync(`${stateDir}/.events.lock`, {
    read: true,
    write: true,
    create: true,
  });
  lock.lockSync(true);
  try {
    if (Deno.statSync(current).size < maxBytes) return;
  } catch {
    return;
  }
  Deno.renameSync(current, previous);
}

/** Every event in the journal, oldest first: the rotated file, then the current one. */
export function readEvents(stateDir: string): EngineEvent[] {
  const { current, previous } = journalFiles(stateDir);
  const out: EngineEvent[] = [];
  for (const path of [previous, current]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    for (const line of text.split("\n")) {
      const e = line ? parseEventLine(line) : null;
      if (e) out.push(e);
    }
  }
  return out;
}

/**
 * Follows the journal from its current end: `poll` returns the events appended since the
 * last call (or since the follower was made), across a rotation. Call `close` when done.
 */
export class JournalFollower {
  private file: Deno.FsFile | null = null;
  private ino = -1;
  private pending = "";
  private decoder = new TextDecoder();
  private readonly path: string;
  private readonly previous: string;
  /** Inodes already read to their end (or that were past when the follower started). */
  private done = new Set<number>();

  /** Starts at the journal's end, so that only events after now are seen. */
  constructor(stateDir: string) {
    ({ current: this.path, previous: this.previous } = journalFiles(stateDir));
    const before = inode(this.previous);
    if (before !== null) this.done.add(before);
    this.open(true);
  }

  private open(atEnd: boolean): void {
    try {
      this.file = Deno.openSync(this.path, { read: true });
      this.ino = this.file.statSync().ino ?? -1;
      if (atEnd) this.file.seekSync(0, Deno.SeekMode.End);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      this.file = null;
      this.ino = -1;
    }
  }

  /** The events appended since the last poll. */
  poll(): EngineEvent[] {
    const out: EngineEvent[] = [];
    if (this.file !== null) this.drain(out);
    const now = inode(this.path);
    if (this.file !== null && now === this.ino) return out;
    // Rotated (or not there before): finish the file held, then read the rotated file if
    // it is one not seen yet (the journal rotated again after ours), then the new one.
    if (this.file !== null) {
      this.drain(out);
      this.file.close();
      this.file = null;
      this.done = new Set([this.ino]);
    }
    const prev = inode(this.previous);
    if (prev !== null && !this.done.has(prev)) {
      try {
        using f = Deno.openSync(this.previous, { read: true });
        this.readWhole(f, out);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    // Only the rotated file as it is now counts as read: an inode that is gone may be
    // reused by the next journal file.
    this.done = new Set(prev === null ? [] : [prev]);
    this.open(false);
    if (this.file !== null) this.drain(out);
    return out;
  }

  private readWhole(f: Deno.FsFile, out: EngineEvent[]): void {
    const held = { file: this.file, pending: this.pending, decoder: this.decoder };
    this.file = f;
    this.pending = "";
    this.decoder = new TextDecoder();
    try {
      this.drain(out);
    } finally {
      ({ file: this.file, pending: this.pending, decoder: this.decoder } = held);
    }
  }

  private drain(out: EngineEvent[]): void {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = this.file!.readSync(buf);
      if (n === null || n === 0) break;
      this.pending += this.decoder.decode(buf.subarray(0, n), { stream: true });
    }
    const lines = this.pending.split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) {
      const e = line ? parseEventLine(line) : null;
      if (e) out.push(e);
    }
  }

  /** Closes the journal. */
  close(): void {
    this.file?.close();
    this.file = null;
  }
}

function inode(path: string): number | null {
  try {
    return Deno.statSync(path).ino ?? null;
  } catch {
    return null;
  }
}
