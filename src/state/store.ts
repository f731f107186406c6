/**
 * Containers' on-disk state: one directory per container under the state root, holding
 * `state.json` (the container's state, rewritten as it changes), `resources.json` (what it
 * owns on the host, written once at create) and a lock file.
 *
 * The rules that keep it consistent:
 * - Every change is a read-modify-write under the container's lock on the state as it is
 *   then (`update`), written atomically (`writeFileAtomic`), and durably unless it records
 *   only what a power loss ends anyway (`Durability`): a crash then finds it or the state
 *   before it.
 * - A container's directory appears under its ID only complete and locked (`create` builds
 *   it under a hidden name and renames it into place) and disappears whole (`remove`
 *   renames it away first). Nothing ever re-creates it: a write for a removed container
 *   finds no directory and writes nothing.
 * - A state file that cannot be used (corrupt, truncated, another version, missing) makes
 *   the container `dead`, shown by `ps -a` and removable with everything it owned, which
 *   `resources.json` still names.
 *
 * @module
 */

import { lstatOrNull } from "../util/fs.ts";
import { fsync, syncDirectory, type SyncFn, writeFileAtomic } from "../util/atomic_file.ts";
import {
  type ContainerResources,
  InvalidStateError,
  parseJson,
  resourcesOf,
  validateResources,
  validateState,
} from "./schema.ts";
import { type ContainerState, STATE_VERSION } from "./types.ts";
import { compareStrings } from "../util/compare.ts";

/** A container reference that matched nothing. */
export class NoSuchContainerError extends Error {
  override name = "NoSuchContainerError";
  constructor(ref: string) {
    super(`No such container: ${ref}`);
  }
}

/** A container reference that matched more than one container by ID prefix. */
export class AmbiguousContainerError extends Error {
  override name = "AmbiguousContainerError";
  constructor(ref: string) {
    super(`multiple containers found with provided prefix: ${ref}`);
  }
}

/**
 * A container whose state cannot be used: its state file is corrupt, truncated, of another
 * version, or was never written (a create killed midway). Docker calls such a container
 * `dead`; all that can be done with it is to remove it.
 */
export interface DeadContainer {
  id: string;
  status: "dead";
  /** Why it is dead, for `inspect`. */
  error: string;
  /** From its resources record; empty when it has none. */
  name: string;
  createdAt: string;
  /** What it owns on the host; null when it has no record (then it owns nothing else). */
  resources: ContainerResources | null;
}

/** Any container in the store, dead or not. */
export type ContainerEntry = ContainerState | DeadContainer;

/** True when the entry is a dead container. */
export function isDead(entry: ContainerEntry): entry is DeadContainer {
  return entry.status === "dead";
}

/** A command that needs a container's state met a dead container. */
export class DeadContainerError extends Error {
  override name = "DeadContainerError";
  constructor(readonly dead: DeadContainer) {
    super(
      `container ${dead.id} is dead (${dead.error}); ` +
        `remove it with: m-docker rm -f ${dead.id.slice(0, 12)}`,
    );
  }
}

/** A container lock held by its creator (see `StateStore.create`). */
export interface HeldLock {
  release(): void;
}

const ID_PATTERN = /^[0-9a-f]{64}$/;
/** A container directory being built by `create`, before its rename into place. */
const NEW_PREFIX = ".new-";
/** A container directory being deleted by `remove`, after its rename out of place. */
const REMOVING_PREFIX = ".removing-";

/**
 * How far a state write waits for the disk (a power loss or kernel crash; a killed process
 * loses nothing the kernel was given either way):
 * - `durable` (the default): the new file and its rename, fsynced: a crash finds this state.
 *   For whatever must outlive a crash: what the container is and owns, how it ended.
 * - `whole`: the new file fsynced, its rename not: a crash finds this state or the one
 *   before, either whole. For facts a power loss ends anyway (its processes, that it runs,
 *   the addresses the network table also holds only while the machine runs).
 * - `none`: neither. For a record removed right after (a `--rm` container's exit, then its
 *   removal; the exit tombstone, whose readers die with the machine): a crash may find the
 *   state before it, or (on filesystems that do not order a rename after the data it
 *   replaces, unlike ext4) a torn one, which reads as a dead container that `rm` removes
 *   with everything it owned, since its durable resources record names that.
 */
export type Durability = "durable" | "whole" | "none";

/** What writeFileAtomic is told for each durability. */
function writeOptions(durability: Durability, sync: SyncFn) {
  if (durability === "none") return { sync: () => {}, syncDirectory: false };
  return { sync, syncDirectory: durability === "durable" };
}

/** Reads and writes container state under one state root. */
export class StateStore {
  /** `sync` is fsync (a test may inject one to watch it). */
  constructor(readonly dir: string, private readonly sync: SyncFn = fsync) {}

  /** The state directory of one container. */
  containerStateDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  /** Every container with a usable state, oldest first. */
  list(): ContainerState[] {
    return this.entries().filter((e): e is ContainerState => !isDead(e));
  }

  /**
   * Every container, dead ones included, oldest first. Also sweeps what crashed creates
   * and removals left under hidden names, and old tombstones.
   */
  entries(): ContainerEntry[] {
    let names: Deno.DirEntry[];
    try {
      names = [...Deno.readDirSync(this.dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    this.sweepTombstones(names);
    this.sweepDebris(names);
    const out: ContainerEntry[] = [];
    for (const entry of names) {
      if (!entry.isDirectory || !ID_PATTERN.test(entry.name)) continue;
      const found = this.load(entry.name, false);
      if (found) out.push(found);
    }
    return out.sort((a, b) => compareStrings(a.createdAt, b.createdAt));
  }

  /**
   * One container's state, or null if it has none (never created, or removed). Throws
   * `DeadContainerError` when its state cannot be used.
   */
  read(id: string): ContainerState | null {
    return usable(this.load(id, false));
  }

  /**
   * One container, dead or not, or null. `locked`: the caller holds the container's lock
   * (so a missing state file is a dead container, not a create in progress).
   */
  readEntry(id: string, opts: { locked?: boolean } = {}): ContainerEntry | null {
    return this.load(id, opts.locked ?? false);
  }

  /**
   * `locked`: the caller holds the container's lock, so a missing state file cannot be a
   * create in progress.
   */
  private load(id: string, locked: boolean): ContainerEntry | null {
    const dir = this.containerStateDir(id);
    let text: string;
    try {
      text = Deno.readTextFileSync(`${dir}/state.json`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (!lstatOrNull(dir)) return null;
      // Being removed (the remover holds the lock), or a create that was killed.
      if (!locked && !this.lockIsFree(id)) return null;
      if (!lstatOrNull(dir)) return null;
      return this.dead(id, "it has no state file: its create was interrupted");
    }
    try {
      return validateState(parseJson(text), id);
    } catch (e) {
      if (!(e instanceof InvalidStateError)) throw e;
      return this.dead(id, `its state file is unusable: ${e.message}`);
    }
  }

  private dead(id: string, error: string): DeadContainer {
    const dir = this.containerStateDir(id);
    let resources: ContainerResources | null = null;
    try {
      resources = validateResources(
        parseJson(Deno.readTextFileSync(`${dir}/resources.json`)),
        id,
      );
    } catch (e) {
      if (!(e instanceof InvalidStateError || e instanceof Deno.errors.NotFound)) throw e;
    }
    let createdAt = resources?.createdAt;
    if (createdAt === undefined) {
      try {
        createdAt = Deno.statSync(dir).mtime?.toISOString();
      } catch { /* gone meanwhile */ }
    }
    return {
      id,
      status: "dead",
      error,
      name: resources?.name ?? "",
      createdAt: createdAt ?? new Date(0).toISOString(),
      resources,
    };
  }

  /** True when nobody holds the container's lock (asked without waiting). */
  private lockIsFree(id: string): boolean {
    let lock: Deno.FsFile;
    try {
      lock = Deno.openSync(`${this.containerStateDir(id)}/.lock`, {
        read: true,
        write: true,
        create: true,
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false; // removed meanwhile
      throw e;
    }
    try {
      return lock.tryLockSync(true);
    } finally {
      lock.close();
    }
  }

  /**
   * Makes a new container's state directory holding its first state and its resources
   * record, and returns the container's lock, held until the caller releases it (when the
   * container is complete). The directory is built under a hidden name and renamed into
   * place, so that it never appears without its state file or unlocked. Call holding the
   * store lock (`withLock(null, ...)`): `entries` sweeps hidden leftovers only when it can
   * take that lock.
   */
  create(state: ContainerState): HeldLock {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const building = `${this.dir}/${NEW_PREFIX}${state.id}`;
    Deno.mkdirSync(building, { mode: 0o700 });
    let lock: Deno.FsFile | undefined;
    try {
      lock = Deno.openSync(`${building}/.lock`, { read: true, write: true, create: true });
      lock.lockSync(true);
      const opts = { mode: 0o600, sync: this.sync, syncDirectory: false };
      writeFileAtomic(`${building}/resources.json`, JSON.stringify(resourcesOf(state)), opts);
      writeFileAtomic(`${building}/state.json`, serialize(state), opts);
      syncDirectory(building, this.sync);
      Deno.renameSync(building, this.containerStateDir(state.id));
      syncDirectory(this.dir, this.sync);
    } catch (e) {
      lock?.close();
      removeTree(building);
      throw e;
    }
    const held = lock;
    return { release: () => held.close() };
  }

  /**
   * Read-modify-write of one container's state, under its lock, on the state as it is
   * now: `change` edits `s` in place (returning false writes nothing). Returns the state
   * as written, or null when the container is gone (then nothing is written). Throws
   * `DeadContainerError` when its state cannot be used. `durability` (default `durable`)
   * may depend on the state as changed.
   */
  update(
    id: string,
    change: (s: ContainerState) => void | boolean,
    durability: Durability | ((s: ContainerState) => Durability) = "durable",
  ): ContainerState | null {
    return this.withLock(id, () => {
      const s = usable(this.load(id, true));
      if (!s) return null;
      if (change(s) !== false) {
        this.write(s, typeof durability === "function" ? durability(s) : durability);
      }
      return s;
    });
  }

  /** Writes state atomically. Only under the container's lock, which proved it exists. */
  private write(state: ContainerState, durability: Durability): void {
    writeFileAtomic(`${this.containerStateDir(state.id)}/state.json`, serialize(state), {
      mode: 0o600,
      ...writeOptions(durability, this.sync),
    });
  }

  /**
   * Leaves a container's exit code behind its removal (`--rm`), for `wait`ers that were
   * waiting when it went. Kept a minute; `list` sweeps older ones. Not durable (`none`):
   * those waiters die with the machine, and a torn one reads as no tombstone.
   */
  writeTombstone(id: string, exitCode: number): void {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(
      `${this.dir}/.exit-${id}`,
      JSON.stringify({ exitCode }),
      writeOptions("none", this.sync),
    );
  }

  /** The exit code a removed container left, if it left one. */
  readTombstone(id: string): number | null {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.dir}/.exit-${id}`)).exitCode;
    } catch {
      return null;
    }
  }

  private sweepTombstones(entries: Deno.DirEntry[]): void {
    for (const e of entries) {
      if (!e.name.startsWith(".exit-")) continue;
      try {
        const path = `${this.dir}/${e.name}`;
        if (Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0) > 60_000) {
          Deno.removeSync(path);
        }
      } catch { /* gone meanwhile */ }
    }
  }

  /**
   * Removes what a killed `create` or `remove` left under a hidden name. Neither owns
   * anything else: a create makes nothing on the host before its directory is in place,
   * and a removal renames the directory away only after everything else is gone.
   */
  private sweepDebris(entries: Deno.DirEntry[]): void {
    const building = entries.filter((e) => e.name.startsWith(NEW_PREFIX));
    const removing = entries.filter((e) => e.name.startsWith(REMOVING_PREFIX));
    if (building.length > 0) {
      // A create holds the store lock from its mkdir to its rename: if the lock is free,
      // every hidden directory is a dead create's.
      using storeLock = Deno.openSync(`${this.dir}/.lock`, {
        read: true,
        write: true,
        create: true,
      });
      if (storeLock.tryLockSync(true)) {
        for (const e of building) removeTree(`${this.dir}/${e.name}`);
      }
    }
    for (const e of removing) {
      const path = `${this.dir}/${e.name}`;
      try {
        // The remover holds its lock until it is done; without create: never add a file to
        // a directory someone is deleting.
        using lock = Deno.openSync(`${path}/.lock`, { read: true, write: true });
        if (!lock.tryLockSync(true)) continue;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) continue;
      }
      removeTree(path);
    }
  }

  /**
   * Deletes a container's state directory; call holding its lock, after everything else
   * it owned is gone. Renamed away first, so that no reader sees it half deleted.
   */
  remove(id: string): void {
    const gone = `${this.dir}/${REMOVING_PREFIX}${id}`;
    try {
      Deno.renameSync(this.containerStateDir(id), gone);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      // A leftover of an earlier removal is in the way.
      removeTree(gone);
      Deno.renameSync(this.containerStateDir(id), gone);
    }
    // The container is gone now; what a crash leaves of the rest, `entries` sweeps.
    removeTree(gone);
  }

  /**
   * Runs `fn` holding an exclusive lock on the whole store (`id` null), for changes that
   * must see every container such as claiming a name; or on one container. A container
   * that does not exist, or was removed while this waited for the lock, is never locked
   * or re-created: `fn` does not run and the result is null.
   */
  withLock<T>(id: null, fn: () => T): T;
  withLock<T>(id: string, fn: () => T): T | null;
  withLock<T>(id: string | null, fn: () => T): T | null {
    if (id === null) {
      Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      using lock = Deno.openSync(`${this.dir}/.lock`, { read: true, write: true, create: true });
      lock.lockSync(true);
      return fn();
    }
    const path = `${this.containerStateDir(id)}/.lock`;
    let lock: Deno.FsFile;
    try {
      // Creating the lock file cannot re-create the directory: open fails if it is gone.
      lock = Deno.openSync(path, { read: true, write: true, create: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    try {
      lock.lockSync(true);
      // A remover renames the directory away while holding the lock: if it did while we
      // waited, the file we locked is no longer the container's.
      if (!isSameFile(lock, path)) return null;
      return fn();
    } finally {
      lock.close();
    }
  }

  /**
   * Finds a container by full ID, name, or unique ID prefix, as Docker does. Throws
   * `DeadContainerError` when it is dead (see `resolveEntry`).
   */
  resolve(ref: string): ContainerState {
    return usable(this.resolveEntry(ref))!;
  }

  /** Finds a container, dead or not, by full ID, name, or unique ID prefix. */
  resolveEntry(ref: string): ContainerEntry {
    const all = this.entries();
    const name = ref.replace(/^\//, "");
    const exact = all.find((c) => c.id === ref) ??
      all.find((c) => c.name !== "" && c.name === name);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw new AmbiguousContainerError(ref);
    throw new NoSuchContainerError(ref);
  }
}

function usable(entry: ContainerEntry | null): ContainerState | null {
  if (entry && isDead(entry)) throw new DeadContainerError(entry);
  return entry;
}

function serialize(state: ContainerState): string {
  return JSON.stringify({ ...state, version: STATE_VERSION });
}

function isSameFile(file: Deno.FsFile, path: string): boolean {
  try {
    const a = file.statSync();
    const b = Deno.statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Deletes a directory tree, ignoring failure: what remains is swept later. */
function removeTree(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* swept by a later `entries` */ }
}
