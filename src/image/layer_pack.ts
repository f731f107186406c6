/**
 * The reverse of layer_apply.ts: a directory becomes a layer tarball. Overlay whiteouts
 * (0/0 character devices, the `trusted.overlay.opaque` xattr) become OCI whiteouts
 * (`.wh.name`, `.wh..wh..opq`); hard links are kept as such; owners, modes and times are
 * kept. Sync calls only, so it can run inside another mount namespace.
 *
 * @module
 */

import { lgetxattr } from "../../ffi/libc.ts";
import type { TarWriteEntry } from "./tar_writer.ts";

/** Linux's major/minor from a device number. */
function devParts(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  return {
    major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)),
    minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)),
  };
}

/** Options for `packDirectory`. */
export interface PackOptions {
  /** Relative paths to leave out (files m-docker itself placed, such as mountpoints). */
  exclude?: (relative: string, info: Deno.FileInfo) => boolean;
}

/** The entries of a layer tarball for the contents of `root`, parents before children. */
export function packDirectory(root: string, opts: PackOptions = {}): TarWriteEntry[] {
  const entries: TarWriteEntry[] = [];
  const seen = new Map<string, string>(); // dev:ino -> first path, for hard links
  const walk = (dir: string, rel: string) => {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    for (const name of names) {
      const path = `${dir}/${name}`;
      const relative = rel ? `${rel}/${name}` : name;
      const info = Deno.lstatSync(path);
      if (opts.exclude?.(relative, info)) continue;
      const base: TarWriteEntry = {
        name: relative,
        mode: (info.mode ?? 0o644) & 0o7777,
        uid: info.uid ?? 0,
        gid: info.gid ?? 0,
        mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
      };
      if (info.isCharDevice && info.rdev === 0) {
        entries.push({ ...base, name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, mode: 0o600 });
      } else if (info.isDirectory) {
        entries.push({ ...base, type: "directory" });
        const opaque = lgetxattr(path, "trusted.overlay.opaque");
        if (opaque && new TextDecoder().decode(opaque) === "y") {
          entries.push({ name: `${relative}/.wh..wh..opq`, mode: 0o600 });
        }
        walk(path, relative);
      } else if (info.isSymlink) {
        entries.push({ ...base, type: "symlink", linkname: Deno.readLinkSync(path) });
      } else if (info.isFile) {
        const key = `${info.dev}:${info.ino}`;
        const first = (info.nlink ?? 1) > 1 ? seen.get(key) : undefined;
        if (first) entries.push({ ...base, type: "hardlink", linkname: first });
        else {
          seen.set(key, relative);
          entries.push({ ...base, type: "file", body: Deno.readFileSync(path) });
        }
      } else if (info.isCharDevice || info.isBlockDevice) {
        const { major, minor } = devParts(info.rdev ?? 0);
        entries.push({
          ...base,
          type: info.isCharDevice ? "char" : "block",
          devmajor: major,
          devminor: minor,
        });
      } else if (info.isFifo) {
        entries.push({ ...base, type: "fifo" });
      }
      // Sockets are not carried in layers.
    }
  };
  walk(root, "");
  return entries;
}
