/**
 * The volume store: named and anonymous volumes of the `local` driver, laid out as Docker's,
 * under the data root:
 *
 *   <root>/volumes/NAME/_data        what the container sees (bind-mounted into it)
 *   <root>/volumes/NAME/volume.json  { Name, Driver, Labels, Options, CreatedAt }
 *
 * A volume appears whole: it is built under a hidden name and renamed into place, so that a
 * reader (or a crash) never sees a volume without its metadata. Removal renames it away
 * first, for the same reason. The store knows nothing of containers: whether a volume is in
 * use is the caller's question (src/container/volumes.ts), asked under the container store's
 * lock.
 *
 * @module
 */

import { syncDirectory, writeFileAtomic } from "../util/atomic_file.ts";
import { ExitCodeError } from "../util/errors.ts";
import { compareStrings } from "../util/compare.ts";

/** The label Docker puts on the anonymous volumes it creates for containers. */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";

/** What is recorded about one volume (Docker's field names, as `volume inspect` shows them). */
export interface VolumeRecord {
  Name: string;
  Driver: "local";
  /** Null when the volume was made by `run` (Docker's too), `{}` by `volume create`. */
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  /** RFC 3339 without fractions, as Docker prints it. */
  CreatedAt: string;
}

/** A volume as listed: its record and where its data is. */
export interface Volume extends VolumeRecord {
  /** The host directory the container sees: `<root>/volumes/NAME/_data`. */
  Mountpoint: string;
}

/** What `create` may set. */
export interface VolumeOptions {
  labels?: Record<string, string> | null;
  options?: Record<string, string> | null;
}

/** Docker's rule for local volume names (`[a-zA-Z0-9][a-zA-Z0-9_.-]`, two characters at least). */
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** True when `name` may name a local volume. */
export function isValidVolumeName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** No volume has this name: Docker's `get NAME: no such volume`, exit 1. */
export class NoSuchVolumeError extends ExitCodeError {
  override name = "NoSuchVolumeError";
  constructor(readonly volume: string) {
    super(`get ${volume}: no such volume`, 1);
  }
}

/** The name is not one a local volume can have (Docker's message). */
export class InvalidVolumeNameError extends ExitCodeError {
  override name = "InvalidVolumeNameError";
  constructor(volume: string) {
    super(
      `create ${volume}: "${volume}" includes invalid characters for a local volume name, ` +
        `only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      1,
    );
  }
}

/** A random 64-hex name, as Docker gives anonymous volumes and `volume create` without one. */
export function randomVolumeName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Docker's CreatedAt: the second, in UTC, no fraction. */
function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** The local volumes under one data root. */
export class VolumeStore {
  /** `<root>/volumes`. */
  readonly dir: string;

  /** The store under data root `root`; `dir` names its directory itself instead. */
  constructor(root: string, dir = `${root}/volumes`) {
    this.dir = dir;
  }

  /** The store that holds the volume whose data directory is `mountpoint`. */
  static ofMountpoint(mountpoint: string): VolumeStore {
    return new VolumeStore("", mountpoint.replace(/\/[^/]+\/_data$/, ""));
  }

  /** The data directory of volume `name` (whether or not it exists). */
  mountpoint(name: string): string {
    return `${this.dir}/${name}/_data`;
  }

  /** Volume `name`, or null when there is none. */
  find(name: string): Volume | null {
    if (!isValidVolumeName(name)) return null;
    let text: string;
    try {
      text = Deno.readTextFileSync(`${this.dir}/${name}/volume.json`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
      throw e;
    }
    const rec = JSON.parse(text) as VolumeRecord;
    return { ...rec, Mountpoint: this.mountpoint(name) };
  }

  /** Volume `name`; throws `NoSuchVolumeError` when there is none. */
  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw new NoSuchVolumeError(name);
    return v;
  }

  /** Every volume, by name. */
  list(): Volume[] {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    return entries.filter((e) => e.isDirectory && isValidVolumeName(e.name))
      .map((e) => this.find(e.name)).filter((v): v is Volume => v !== null)
      .sort((a, b) => compareStrings(a.Name, b.Name));
  }

  /**
   * Creates volume `name` unless it exists; `created` says which. An existing volume is
   * returned as it is (Docker's `volume create` of an existing name succeeds too).
   */
  ensure(name: string, opts: VolumeOptions = {}): { volume: Volume; created: boolean } {
    if (!isValidVolumeName(name)) throw new InvalidVolumeNameError(name);
    const existing = this.find(name);
    if (existing) return { volume: existing, created: false };
    Deno.mkdirSync(this.dir, { recursive: true, mode: 0o701 });
    const tmp = `${this.dir}/.new-${name}-${Deno.pid}`;
    removeIfThere(tmp); // a crashed create's leftover
    const record: VolumeRecord = {
      Name: name,
      Driver: "local",
      Labels: opts.labels === undefined ? null : opts.labels,
      Options: opts.options === undefined ? null : opts.options,
      CreatedAt: now(),
    };
    try {
      Deno.mkdirSync(`${tmp}/_data`, { recursive: true, mode: 0o755 });
      Deno.chmodSync(`${tmp}/_data`, 0o755);
      writeFileAtomic(`${tmp}/volume.json`, JSON.stringify(record) + "\n", {
        mode: 0o600,
        syncDirectory: false,
      });
      syncDirectory(tmp);
      Deno.renameSync(tmp, `${this.dir}/${name}`);
    } catch (e) {
      try {
        Deno.removeSync(tmp, { recursive: true });
      } catch { /* never made */ }
      // Someone else made it meanwhile: theirs stands.
      const raced = this.find(name);
      if (raced) return { volume: raced, created: false };
      throw e;
    }
    syncDirectory(this.dir);
    return { volume: { ...record, Mountpoint: this.mountpoint(name) }, created: true };
  }

  /**
   * Removes volume `name` and its data. Whether it is in use is for the caller to have
   * checked. Throws `NoSuchVolumeError` when there is none.
   */
  remove(name: string): void {
    this.get(name);
    const away = `${this.dir}/.rm-${name}-${Deno.pid}`;
    Deno.renameSync(`${this.dir}/${name}`, away);
    Deno.removeSync(away, { recursive: true });
  }

  /** True when the volume's data directory has no entries (or is missing). */
  isEmpty(name: string): boolean {
    try {
      for (const _ of Deno.readDirSync(this.mountpoint(name))) return false;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      throw e;
    }
    return true;
  }

  /** Bytes the volume's data uses (files' sizes; what `volume prune` reclaims). */
  size(name: string): number {
    const walk = (path: string): number => {
      let total = 0;
      for (const e of Deno.readDirSync(path)) {
        const p = `${path}/${e.name}`;
        const info = Deno.lstatSync(p);
        total += info.isDirectory ? walk(p) : info.size;
      }
      return total;
    };
    try {
      return walk(this.mountpoint(name));
    } catch {
      return 0;
    }
  }
}
