/**
 * Docker's copy-up: a volume that is empty when a container first mounts it is seeded with
 * what the image has at the mount's destination (owners, modes, times, symlinks and device
 * nodes kept), and the volume's own directory takes the owner and mode of the image's.
 *
 * The image is read from its layers as overlayfs would show them (the overlay is mounted
 * only inside the container's own mount namespace): the top-most layer that has a name
 * wins, a whiteout (a 0/0 character device) hides it, and a directory marked opaque
 * (`trusted.overlay.opaque`) hides what the layers below have under it.
 *
 * @module
 */

import { lchown, lgetxattr, mknod } from "../../ffi/libc.ts";

/** Added to the image's owners in the volume (a remapped container's ranges); none: 0. */
export interface IdShift {
  uid: number;
  gid: number;
}

const NO_SHIFT: IdShift = { uid: 0, gid: 0 };

function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

function isWhiteout(info: Deno.FileInfo): boolean {
  return info.isCharDevice === true && (info.rdev ?? 0) === 0;
}

function isOpaque(path: string): boolean {
  const v = lgetxattr(path, "trusted.overlay.opaque");
  return v !== null && new TextDecoder().decode(v) === "y";
}

/**
 * The layers (top first) through which directory `rel` is seen, given the layers its parent
 * is seen through; null when the merged view has no directory there.
 */
function directoryLayers(layers: string[], rel: string): string[] | null {
  const out: string[] = [];
  for (const layer of layers) {
    const info = lstat(`${layer}${rel}`);
    if (info === null) continue;
    if (!info.isDirectory) {
      // A file or whiteout on top hides the name; below a directory it ends the stack.
      if (out.length === 0) return null;
      break;
    }
    out.push(layer);
    if (isOpaque(`${layer}${rel}`)) break;
  }
  return out.length === 0 ? null : out;
}

/** Owner, mode and times of `src` onto `dst` (the path itself, symlinks never followed). */
function copyMetadata(src: Deno.FileInfo, dst: string, shift: IdShift, symlink: boolean): void {
  lchown(dst, (src.uid ?? 0) + shift.uid, (src.gid ?? 0) + shift.gid);
  if (symlink) return;
  // After the chown, which clears set-id bits.
  Deno.chmodSync(dst, (src.mode ?? 0o644) & 0o7777);
  if (src.atime && src.mtime) Deno.utimeSync(dst, src.atime, src.mtime);
}

function copyEntry(layers: string[], rel: string, dst: string, shift: IdShift): void {
  const from = layers.find((l) => lstat(`${l}${rel}`) !== null);
  if (!from) return;
  const src = `${from}${rel}`;
  const info = lstat(src)!;
  if (isWhiteout(info)) return;
  if (info.isDirectory) {
    const below = directoryLayers(layers, rel)!;
    Deno.mkdirSync(dst);
    copyDirectory(below, rel, dst, shift);
    copyMetadata(info, dst, shift, false);
  } else if (info.isSymlink) {
    Deno.symlinkSync(Deno.readLinkSync(src), dst);
    copyMetadata(info, dst, shift, true);
  } else if (info.isFile) {
    Deno.copyFileSync(src, dst);
    copyMetadata(info, dst, shift, false);
  } else if (info.isCharDevice || info.isBlockDevice || info.isFifo) {
    const rdev = info.rdev ?? 0;
    const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
    const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
    mknod(dst, info.isFifo ? "fifo" : info.isCharDevice ? "char" : "block", 0o600, major, minor);
    copyMetadata(info, dst, shift, false);
  }
  // Sockets are not copied, as Docker's copy skips them.
}

/** Copies the merged content of directory `rel` (seen through `layers`) into `dst`. */
function copyDirectory(layers: string[], rel: string, dst: string, shift: IdShift): void {
  const names = new Set<string>();
  for (const layer of layers) {
    for (const e of Deno.readDirSync(`${layer}${rel}`)) names.add(e.name);
  }
  for (const name of [...names].sort()) {
    copyEntry(layers, `${rel}/${name}`, `${dst}/${name}`, shift);
  }
}

/**
 * Seeds `dst` (an empty volume directory) with the image's content at `path`, as Docker's
 * copy-up does. Returns false, copying nothing, when the image has no directory there.
 * `lowerDirs` are the image's layers, top first.
 */
export function copyImageContent(
  lowerDirs: readonly string[],
  path: string,
  dst: string,
  shift: IdShift = NO_SHIFT,
): boolean {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  let layers: string[] | null = [...lowerDirs];
  let rel = "";
  for (const part of parts) {
    if (part === "..") return false;
    rel += `/${part}`;
    layers = directoryLayers(layers, rel);
    if (layers === null) return false;
  }
  copyDirectory(layers, rel, dst, shift);
  const top = lstat(`${layers[0]}${rel}`)!;
  copyMetadata(top, dst, shift, false);
  return true;
}
