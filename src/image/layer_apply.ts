/**
 * Applying a layer tarball to a directory, safely. Layers come from registries and files
 * nobody vetted, so every entry is checked before it touches the disk. What is refused is a
 * write that would land outside the layer: a name whose `..` climbs above the root, a file
 * below a symlink (one of this layer's, or one already in the directory), a hard link to
 * anything but an entry of the layer. As Docker and containerd do, an absolute name is
 * applied relative to the root (`/tmp/x` is `tmp/x`), and a symlink's target is data, kept
 * whatever it is: it is resolved inside the container when used. A refused archive throws
 * `HostileLayerError`; the caller unpacks into a directory of its own and deletes it, so
 * nothing of a bad layer remains.
 *
 * OCI whiteouts become overlayfs whiteouts (a 0/0 character device, and the
 * `trusted.overlay.opaque` xattr for `.wh..wh..opq`), since layers are stacked as overlay
 * lower directories, as Docker's overlay2 driver does. In a flat rootfs (`import`) there is
 * nothing below to hide, and they are dropped.
 *
 * Unpacking is synchronous per chunk (the parser hands each file's contents over as views of
 * the chunk, and a file that lies whole in one is written by one call that also sets its
 * mode), and it asks the filesystem nothing it already knows: the layer starts as an empty
 * directory that only this code writes to, so what exists in it (and whether a parent is a
 * real directory or a symlink) is kept in a table rather than found by an `lstat` per path
 * component. Owners are set only where a new file's would differ, modes again only where
 * `chown` may have cleared set-id bits.
 *
 * @module
 */

import { lchown, lsetxattr, mknod } from "../../ffi/libc.ts";
import { UsageError } from "../util/errors.ts";
import { type TarEntry, TarParser, type TarSink } from "./tar.ts";
import { lstatOrNull } from "../util/fs.ts";

/** An archive that tries to reach outside its layer. */
export class HostileLayerError extends UsageError {
  override name = "HostileLayerError";
}

/**
 * How to treat OCI whiteouts (`.wh.NAME`, `.wh..wh..opq`): as overlayfs whiteouts
 * (`overlay`: a layer stacked under others), by removing what they name (`drop`: a layer
 * applied onto one directory), or as the ordinary files their names say (`files`: an
 * archive that is not a layer, such as a build context or a tar that ADD unpacks, which
 * Docker extracts as it is).
 */
export type WhiteoutMode = "overlay" | "drop" | "files";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * An entry name (or hard link target) as path components inside the layer, cleaned as Go's
 * `filepath.Clean` would: empty and `.` components dropped, `..` taking away the one before.
 * A name that starts with `/` is rooted, so `..` stops at the root (`/../x` is `x`) and the
 * result is relative to it; a relative name whose `..` climbs above the root is refused, as
 * Docker refuses a "breakout".
 */
export function entryComponents(name: string, what = "entry"): string[] {
  const rooted = name.startsWith("/");
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0) parts.pop();
    else if (!rooted) throw new HostileLayerError(`${what} "${name}" climbs out of the layer`);
  }
  return parts;
}

/** What is at a path of the layer, as far as unpacking needs to know. */
const NONE = 0, DIRECTORY = 1, SYMLINK = 2, OTHER = 3;
type Kind = typeof NONE | typeof DIRECTORY | typeof SYMLINK | typeof OTHER;

function kindOf(info: Deno.FileInfo | null): Kind {
  if (info === null) return NONE;
  return info.isDirectory ? DIRECTORY : info.isSymlink ? SYMLINK : OTHER;
}

/**
 * What the layer's directory holds, by path relative to it. When the directory is empty at
 * the start (always, for the store's), only this code writes to it and the table is the
 * truth; otherwise every question goes to the filesystem, as `lstat` without following.
 */
class LayerTree {
  private readonly known: Map<string, Kind> | null;
  /** The size of each regular file (each name of a hard-linked one), with `known`. */
  private readonly sizes: Map<string, number> | null;
  /** Counts removals: a directory found real before one may be gone since. */
  generation = 0;
  /** Directories with the set-group-ID bit, whose new entries take the directory's group. */
  private readonly setgid = new Set<string>();

  constructor(readonly root: string) {
    let empty = true;
    for (const _ of Deno.readDirSync(root)) {
      empty = false;
      break;
    }
    this.known = empty ? new Map() : null;
    this.sizes = empty ? new Map() : null;
    if ((Deno.statSync(root).mode ?? 0) & 0o2000) this.setgid.add("");
  }

  kind(rel: string): Kind {
    if (this.known === null) return kindOf(lstatOrNull(`${this.root}/${rel}`));
    return this.known.get(rel) ?? NONE;
  }

  add(rel: string, kind: Kind): void {
    this.known?.set(rel, kind);
  }

  /** `rel` (just added) is a regular file of `size` bytes. */
  addSize(rel: string, size: number): void {
    this.sizes?.set(rel, size);
  }

  /** The size of the regular file at `rel`, if the table knows it as one. */
  size(rel: string): number | undefined {
    return this.sizes?.get(rel);
  }

  /**
   * Bytes in the regular files the layer holds, a hard link's once per name (what a walk of
   * the directory adding up `lstat` sizes finds); null when the table is not the truth.
   */
  filesSize(): number | null {
    if (this.sizes === null) return null;
    let total = 0;
    for (const n of this.sizes.values()) total += n;
    return total;
  }

  /** `rel` was removed, with whatever was below it. */
  forget(rel: string): void {
    this.generation++;
    this.setgid.delete(rel);
    if (this.known === null) return;
    const wasDirectory = this.known.get(rel) === DIRECTORY;
    this.known.delete(rel);
    this.sizes?.delete(rel);
    if (!wasDirectory) return;
    const below = `${rel}/`;
    for (const key of this.known.keys()) if (key.startsWith(below)) this.known.delete(key);
    for (const key of this.sizes?.keys() ?? []) if (key.startsWith(below)) this.sizes?.delete(key);
    for (const key of this.setgid) if (key.startsWith(below)) this.setgid.delete(key);
  }

  /** True when what is made in the directory `rel` may get a group other than ours. */
  groupInherited(rel: string): boolean {
    // Unknown trees are asked nothing more: every owner is then set.
    return this.known === null || this.setgid.has(rel);
  }

  setGroupInherited(rel: string, on: boolean): void {
    if (on) this.setgid.add(rel);
    else this.setgid.delete(rel);
  }
}

/** `a/b` from a parent path and a name; the layer's root is "". */
const join = (parent: string, name: string) => parent === "" ? name : `${parent}/${name}`;

/** Totals of an applied layer. */
export interface AppliedLayer {
  entries: number;
  /** Bytes of regular file contents. */
  size: number;
  /**
   * Bytes in the regular files the layer ends up with, a hard link's once per name, as
   * `directorySize` would count them without a walk; null unless the directory started empty.
   */
  filesSize: number | null;
}

/** Whether new files are ours as root:root already (so an entry owned 0:0 needs no chown). */
const runsAsRoot = () => Deno.uid() === 0 && Deno.gid() === 0;

/**
 * Writes the entries a `TarParser` reads into the layer's directory, checking each first.
 * `close` must be called in every case (it closes a file left open by a failure).
 */
class LayerWriter implements TarSink {
  private readonly tree: LayerTree;
  private readonly directoryTimes: Array<[string, number]> = [];
  private readonly asRoot = runsAsRoot();
  private entries = 0;
  private size = 0;
  /** The file whose contents are arriving in pieces. */
  private open: { file: Deno.FsFile; path: string; parent: string; entry: TarEntry } | null = null;

  constructor(private readonly root: string, private readonly whiteouts: WhiteoutMode) {
    this.tree = new LayerTree(root);
  }

  entry(entry: TarEntry, body: Uint8Array | null): void {
    const parts = entryComponents(entry.name);
    if (parts.length === 0) return; // "./" itself: the layer root is ours
    this.entries++;
    const base = parts[parts.length - 1];
    const parent = this.ensureParents(parts, entry.name);
    if (this.whiteouts !== "files" && base === OPAQUE) {
      if (this.whiteouts === "overlay") {
        lsetxattr(this.path(parent), "trusted.overlay.opaque", new TextEncoder().encode("y"));
      }
      return;
    }
    if (this.whiteouts !== "files" && base.startsWith(WHITEOUT)) {
      const name = base.slice(WHITEOUT.length);
      if (name === "" || name === "." || name === "..") {
        throw new HostileLayerError(`whiteout "${entry.name}" names no file`);
      }
      const hidden = join(parent, name);
      this.clear(hidden, false);
      if (this.whiteouts === "overlay") {
        mknod(this.path(hidden), "char", 0, 0, 0);
        this.tree.add(hidden, OTHER);
      }
      return;
    }
    const rel = join(parent, base);
    const path = this.path(rel);
    this.clear(rel, entry.type === "directory");
    switch (entry.type) {
      case "directory": {
        const fresh = this.tree.kind(rel) === NONE;
        if (fresh) {
          Deno.mkdirSync(path, { mode: 0o755 });
          this.tree.add(rel, DIRECTORY);
        }
        this.setMetadata(path, parent, entry, true, fresh);
        this.tree.setGroupInherited(rel, (entry.mode & 0o2000) !== 0);
        this.directoryTimes.push([path, entry.mtime]);
        return;
      }
      case "file":
        this.tree.add(rel, OTHER);
        this.tree.addSize(rel, entry.size);
        if (body !== null) {
          // One call: open, the mode (fchmod, so the umask does not matter), the contents.
          Deno.writeFileSync(path, body, { createNew: true, mode: entry.mode & 0o777 });
          this.size += body.length;
          this.setMetadata(path, parent, entry, (entry.mode & 0o7000) !== 0, true);
        } else {
          const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
          this.open = { file, path, parent, entry };
        }
        return;
      case "symlink":
        // The target is kept as it is: nothing is written through it here (a parent that is
        // a symlink is refused), and the container resolves it inside its own root.
        Deno.symlinkSync(entry.linkname, path);
        this.tree.add(rel, SYMLINK);
        this.setMetadata(path, parent, entry, false, true);
        return;
      case "hardlink": {
        // Relative to the layer's root, an absolute target too (`/etc/shadow` is the layer's
        // etc/shadow, if it has one), as Docker and containerd link it.
        const targetParts = entryComponents(entry.linkname, `hard link "${entry.name}" ->`);
        const target = this.existing(targetParts);
        if (target === null) {
          throw new HostileLayerError(
            `hard link "${entry.name}" -> "${entry.linkname}" points to nothing in the layer`,
          );
        }
        Deno.linkSync(this.path(target), path);
        this.tree.add(rel, this.tree.kind(target));
        const size = this.tree.size(target);
        if (size !== undefined) this.tree.addSize(rel, size);
        return; // a hard link shares its target's metadata
      }
      case "char":
      case "block":
      case "fifo":
        mknod(path, entry.type, 0o600, entry.devmajor, entry.devminor);
        this.tree.add(rel, OTHER);
        this.setMetadata(path, parent, entry, true, true);
        return;
    }
  }

  data(chunk: Uint8Array): void {
    // No file is open when the entry wrote nothing (a whiteout, the root): skipped.
    const file = this.open?.file;
    if (file) { for (let off = 0; off < chunk.length;) off += file.writeSync(chunk.subarray(off)); }
  }

  end(): void {
    if (this.open === null) return;
    const { file, path, parent, entry } = this.open;
    this.open = null;
    file.close();
    this.size += entry.size;
    this.setMetadata(path, parent, entry, true, true);
  }

  /** The totals, after the directories' times are set (creating their contents changed them). */
  finish(): AppliedLayer {
    for (const [path, mtime] of this.directoryTimes.reverse()) Deno.utimeSync(path, mtime, mtime);
    return { entries: this.entries, size: this.size, filesSize: this.tree.filesSize() };
  }

  close(): void {
    this.open?.file.close();
    this.open = null;
  }

  private path(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }

  /** The parent last made sure of, while `tree.generation` was `lastGeneration`. */
  private lastParent = "";
  private lastGeneration = -1;

  /** Makes sure every parent of `parts` is a real directory (never a symlink); returns it. */
  private ensureParents(parts: string[], name: string): string {
    if (parts.length === 1) return "";
    // Archives list a directory's entries together: the same parent as the last entry's,
    // with nothing removed since, is still a real directory.
    const wanted = parts.length === 2 ? parts[0] : parts.slice(0, -1).join("/");
    if (wanted === this.lastParent && this.lastGeneration === this.tree.generation) return wanted;
    let dir = "";
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i];
      const parent = dir;
      dir = join(dir, part);
      const kind = this.tree.kind(dir);
      if (kind === DIRECTORY) continue;
      if (kind === SYMLINK) {
        throw new HostileLayerError(
          `entry "${name}" would be written through the symlink "${part}"`,
        );
      }
      if (kind === OTHER) {
        throw new HostileLayerError(`entry "${name}" has the non-directory "${part}" as a parent`);
      }
      Deno.mkdirSync(this.path(dir), { mode: 0o755 });
      this.tree.add(dir, DIRECTORY);
      // A new directory in a set-group-ID one is set-group-ID too.
      if (this.tree.groupInherited(parent)) this.tree.setGroupInherited(dir, true);
    }
    this.lastParent = dir;
    this.lastGeneration = this.tree.generation;
    return dir;
  }

  /**
   * An existing entry of the layer, reached without following any symlink on the way; null
   * if there is none.
   */
  private existing(parts: string[]): string | null {
    if (parts.length === 0) return null;
    let rel = "";
    for (let i = 0; i < parts.length; i++) {
      rel = join(rel, parts[i]);
      const kind = this.tree.kind(rel);
      if (kind === NONE) return null;
      if (i < parts.length - 1 && kind !== DIRECTORY) return null;
    }
    return rel;
  }

  /** Removes whatever is at `rel` (not following symlinks), unless it is a directory we keep. */
  private clear(rel: string, keepDirectory: boolean): void {
    const kind = this.tree.kind(rel);
    if (kind === NONE || (keepDirectory && kind === DIRECTORY)) return;
    Deno.removeSync(this.path(rel), { recursive: kind === DIRECTORY });
    this.tree.forget(rel);
  }

  /**
   * Owner, extended attributes, mode (when `chmod`: after chown, which clears set-id bits)
   * and time. What was `fresh`ly made is already ours, so 0:0 needs no chown when we are
   * root, unless its directory hands down its group.
   */
  private setMetadata(
    path: string,
    parent: string,
    e: TarEntry,
    chmod: boolean,
    fresh: boolean,
  ): void {
    const ours = fresh && this.asRoot && !this.tree.groupInherited(parent);
    if (e.uid !== 0 || e.gid !== 0 || !ours) {
      lchown(path, e.uid, e.gid);
    }
    for (const key in e.xattrs) {
      try {
        lsetxattr(path, key, e.xattrs[key].slice());
      } catch {
        // The filesystem under the store may not support this namespace (e.g. security.*).
      }
    }
    if (e.type === "symlink") return; // chmod and utime would follow it
    if (chmod) Deno.chmodSync(path, e.mode);
    if (e.type !== "directory") Deno.utimeSync(path, e.mtime, e.mtime);
  }
}

/**
 * Applies the tar whose bytes `chunks` yields (uncompressed) to `root`, which must already
 * exist. Each chunk is used only until the next is asked for, so a reader may reuse its
 * buffer. The source is read to its end, past the end-of-archive blocks, so that whoever
 * digests it sees all of it.
 */
export async function applyLayer(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  root: string,
  whiteouts: WhiteoutMode,
): Promise<AppliedLayer> {
  const writer = new LayerWriter(root, whiteouts);
  try {
    const parser = new TarParser(writer);
    for await (const chunk of chunks) parser.push(chunk);
    parser.finish();
    return writer.finish();
  } finally {
    writer.close();
  }
}
