/**
 * Containers' on-disk state: one directory per container under the state root, holding
 * `state.json` (written atomically: temp file, fsync, rename) and a lock file. Commands
 * that change a container hold its lock, so concurrent commands never interleave writes.
 *
 * @module
 */

import type { ContainerState } from "./types.ts";

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

/** Reads and writes container state under one state root. */
export class StateStore {
  constructor(readonly dir: string) {}

  /** The state directory of one container. */
  containerStateDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  /** Every container with a readable state file, oldest first. */
  list(): ContainerState[] {
    const out: ContainerState[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    this.sweepTombstones(entries);
    for (const entry of entries) {
      if (!entry.isDirectory || !/^[0-9a-f]{64}$/.test(entry.name)) continue;
      const state = this.read(entry.name);
      if (state) out.push(state);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** One container's state, or null if it has none (never created, or removed). */
  read(id: string): ContainerState | null {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.containerStateDir(id)}/state.json`));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return null;
      throw e;
    }
  }

  /** Writes state atomically: readers see the old file or the new one, never a mix. */
  write(state: ContainerState): void {
    const dir = this.containerStateDir(state.id);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${dir}/.state.json.${Deno.pid}`;
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      file.writeSync(new TextEncoder().encode(JSON.stringify(state)));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, `${dir}/state.json`);
  }

  /**
   * Leaves a container's exit code behind its removal (`--rm`), for `wait`ers that were
   * waiting when it went. Kept a minute; `list` sweeps older ones.
   */
  writeTombstone(id: string, exitCode: number): void {
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(`${this.dir}/.exit-${id}`, JSON.stringify({ exitCode }));
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

  /** Deletes a container's state directory. */
  remove(id: string): void {
    try {
      Deno.removeSync(this.containerStateDir(id), { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  /**
   * Runs `fn` holding an exclusive lock: on one container (`id`), or on the whole store
   * (`id` omitted) for changes that must see every container, such as claiming a name.
   */
  withLock<T>(id: string | null, fn: () => T): T {
    const dir = id ? this.containerStateDir(id) : this.dir;
    // A container's directory is never re-created here: once it is removed, the container
    // is gone, and `fn` will find no state to act on.
    if (!id) Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    let lock: Deno.FsFile;
    try {
      lock = Deno.openSync(`${dir}/.lock`, { read: true, write: true, create: true });
    } catch (e) {
      if (id && e instanceof Deno.errors.NotFound) return fn();
      throw e;
    }
    try {
      lock.lockSync(true);
      return fn();
    } finally {
      lock.close();
    }
  }

  /** Finds a container by full ID, name, or unique ID prefix, as Docker does. */
  resolve(ref: string): ContainerState {
    const all = this.list();
    const name = ref.replace(/^\//, "");
    const exact = all.find((c) => c.id === ref) ?? all.find((c) => c.name === name);
    if (exact) return exact;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw new AmbiguousContainerError(ref);
    throw new NoSuchContainerError(ref);
  }
}
