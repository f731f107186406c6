/**
 * Applying a layer tarball to a directory, safely. Layers come from registries and files
 * nobody vetted, so every entry is checked before it touches the disk: no absolute names,
 * no `..`, no writing through a symlink, no symlink or hard link that leads out of the
 * layer. A refused archive throws `HostileLayerError`; the caller unpacks into a directory
 * of its own and deletes it, so nothing of a bad layer remains.
 *
 * OCI whiteouts become overlayfs whiteouts (a 0/0 character device, and the
 * `trusted.overlay.opaque` xattr for `.wh..wh..opq`), since layers are stacked as overlay
 * lower directories, as Docker's overlay2 driver does. In a flat rootfs (`import`) there is
 * nothing below to hide, and they are dropped.
 *
 * @module
 */

import { lchown, lsetxattr, mknod } from "../../ffi/libc.ts";
import { UsageError } from "../util/errors.ts";
import { readTar, type TarEntry } from "./tar.ts";
import { lstatOrNull } from "../util/fs.ts";

/** An archive that tries to reach outside its layer. */
export class HostileLayerError extends UsageError {
  override name = "HostileLayerError";
}

/** How to treat OCI whiteouts. */
export type WhiteoutMode = "overlay" | "drop";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** Normalises an entry name to path components; refuses absolute names and `..`. */
export function entryComponents(name: string, what = "entry"): string[] {
  if (name.startsWith("/")) throw new HostileLayerError(`${what} "${name}" has an absolute path`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new HostileLayerError(`${what} "${name}" contains ".."`);
  return parts;
}

/**
 * True when a relative symlink target, read from the link's directory, climbs above the
 * layer's root. Absolute targets are resolved against the container's root when used, so
 * they cannot escape.
 */
export function symlinkEscapes(linkComponents: string[], target: string): boolean {
  if (target.startsWith("/")) return false;
  let depth = linkComponents.length - 1; // the directory the link is in
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    depth += part === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

/** Makes sure every parent of `parts` inside `root` is a real directory (never a symlink). */
function ensureParents(root: string, parts: string[], name: string): string {
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = `${dir}/${part}`;
    const info = lstatOrNull(dir);
    if (info === null) Deno.mkdirSync(dir, { mode: 0o755 });
    else if (info.isSymlink) {
      throw new HostileLayerError(`entry "${name}" would be written through the symlink "${part}"`);
    } else if (!info.isDirectory) {
      throw new HostileLayerError(`entry "${name}" has the non-directory "${part}" as a parent`);
    }
  }
  return dir;
}

/**
 * The path of an existing entry of the layer, reached without following any symlink on the
 * way; null if there is none.
 */
function existingInLayer(root: string, parts: string[]): string | null {
  if (parts.length === 0) return null;
  let path = root;
  for (const [i, part] of parts.entries()) {
    path = `${path}/${part}`;
    const info = lstatOrNull(path);
    if (info === null) return null;
    if (i < parts.length - 1 && !info.isDirectory) return null;
  }
  return path;
}

/** Removes whatever is at `path` (not following symlinks), unless it is a directory we keep. */
function clear(path: string, keepDirectory: boolean): void {
  const info = lstatOrNull(path);
  if (info === null || (keepDirectory && info.isDirectory)) return;
  Deno.removeSync(path, { recursive: info.isDirectory });
}

function setMetadata(path: string, e: TarEntry): void {
  lchown(path, e.uid, e.gid);
  for (const [key, value] of Object.entries(e.xattrs)) {
    try {
      lsetxattr(path, key, value.slice());
    } catch {
      // The filesystem under the store may not support this namespace (e.g. security.*).
    }
  }
  if (e.type === "symlink") return; // chmod and utime would follow it
  // After chown, which clears set-id bits.
  Deno.chmodSync(path, e.mode);
  if (e.type !== "directory") Deno.utimeSync(path, e.mtime, e.mtime);
}

/** Totals of an applied layer. */
export interface AppliedLayer {
  entries: number;
  /** Bytes of regular file contents. */
  size: number;
}

/** Applies the tar `stream` (uncompressed) to `root`, which must already exist. */
export async function applyLayer(
  stream: ReadableStream<Uint8Array>,
  root: string,
  whiteouts: WhiteoutMode,
): Promise<AppliedLayer> {
  const directoryTimes: Array<[string, number]> = [];
  let entries = 0, size = 0;
  for await (const entry of readTar(stream)) {
    const parts = entryComponents(entry.name);
    if (parts.length === 0) continue; // "./" itself: the layer root is ours
    entries++;
    const base = parts[parts.length - 1];
    const parent = ensureParents(root, parts, entry.name);
    if (base === OPAQUE) {
      if (whiteouts === "overlay") {
        lsetxattr(parent, "trusted.overlay.opaque", new TextEncoder().encode("y"));
      }
      continue;
    }
    if (base.startsWith(WHITEOUT)) {
      const hidden = `${parent}/${base.slice(WHITEOUT.length)}`;
      entryComponents(base.slice(WHITEOUT.length), "whiteout");
      clear(hidden, false);
      if (whiteouts === "overlay") mknod(hidden, "char", 0, 0, 0);
      continue;
    }
    const path = `${parent}/${base}`;
    clear(path, entry.type === "directory");
    switch (entry.type) {
      case "directory":
        if (lstatOrNull(path) === null) Deno.mkdirSync(path, { mode: 0o755 });
        directoryTimes.push([path, entry.mtime]);
        break;
      case "file": {
        const file = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
        try {
          await entry.readBody((chunk) => {
            for (let off = 0; off < chunk.length;) off += file.writeSync(chunk.subarray(off));
          });
        } finally {
          file.close();
        }
        size += entry.size;
        break;
      }
      case "symlink":
        if (symlinkEscapes(parts, entry.linkname)) {
          throw new HostileLayerError(
            `symlink "${entry.name}" -> "${entry.linkname}" points outside the layer`,
          );
        }
        Deno.symlinkSync(entry.linkname, path);
        break;
      case "hardlink": {
        const targetParts = entryComponents(entry.linkname, "hard link target");
        const target = existingInLayer(root, targetParts);
        if (target === null) {
          throw new HostileLayerError(
            `hard link "${entry.name}" -> "${entry.linkname}" points to nothing in the layer`,
          );
        }
        Deno.linkSync(target, path);
        continue; // a hard link shares its target's metadata
      }
      case "char":
      case "block":
      case "fifo":
        mknod(path, entry.type, 0o600, entry.devmajor, entry.devminor);
        break;
    }
    setMetadata(path, entry);
  }
  // Directories last: creating their contents changed their times.
  for (const [path, mtime] of directoryTimes.reverse()) Deno.utimeSync(path, mtime, mtime);
  return { entries, size };
}
