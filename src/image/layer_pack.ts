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
import { lstatOrNull } from "../util/fs.ts";

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
  /**
   * Owners of the top layer's files as the tarball records them: a remapped container's
   * upper layer holds host ids (see config/userns.ts `containerOwners`).
   */
  topOwners?: (uid: number, gid: number) => { uid: number; gid: number };
  /**
   * The latest modification time a tarball records, in seconds (`SOURCE_DATE_EPOCH`, as
   * BuildKit's rewrite-timestamp): later times are clamped to it, so that the same inputs
   * make the same bytes whenever they are built.
   */
  clampMtime?: number;
}

/** The entries of a layer tarball for the contents of `root`, parents before children. */
export function packDirectory(root: string, opts: PackOptions = {}): TarWriteEntry[] {
  return packLayers([root], opts);
}

function isOpaque(path: string): boolean {
  const v = lgetxattr(path, "trusted.overlay.opaque");
  return v !== null && new TextDecoder().decode(v) === "y";
}

/**
 * The entries of the filesystem that overlayfs would show for `layers` (top first), without
 * mounting it: the top-most layer that has a name wins, whiteouts hide names below them and
 * opaque directories hide everything below. With one layer, its whiteouts are kept as OCI
 * whiteouts (a layer tarball); with several, the result is flat (an `export`).
 */
export function packLayers(layers: string[], opts: PackOptions = {}): TarWriteEntry[] {
  const flat = layers.length > 1;
  const entries: TarWriteEntry[] = [];
  const seen = new Map<string, string>(); // dev:ino -> first path, for hard links
  /** `dirs`: this directory in every layer that still shows through, top first. */
  const walk = (dirs: string[], rel: string) => {
    const names = new Set<string>();
    for (const d of dirs) for (const e of Deno.readDirSync(d)) names.add(e.name);
    for (const name of [...names].sort()) {
      const relative = rel ? `${rel}/${name}` : name;
      let found: { path: string; info: Deno.FileInfo; at: number } | undefined;
      for (const [at, d] of dirs.entries()) {
        const info = lstatOrNull(`${d}/${name}`);
        if (info) {
          found = { path: `${d}/${name}`, info, at };
          break;
        }
      }
      if (!found) continue;
      const { path, info } = found;
      if (opts.exclude?.(relative, info)) continue;
      // `dirs` starts below the top layer where the top lacks a directory: check the path.
      const owners = opts.topOwners && path.startsWith(`${layers[0]}/`)
        ? opts.topOwners(info.uid ?? 0, info.gid ?? 0)
        : { uid: info.uid ?? 0, gid: info.gid ?? 0 };
      const base: TarWriteEntry = {
        name: relative,
        mode: (info.mode ?? 0o644) & 0o7777,
        uid: owners.uid,
        gid: owners.gid,
        mtime: Math.min(
          Math.floor((info.mtime?.getTime() ?? 0) / 1000),
          opts.clampMtime ?? Infinity,
        ),
      };
      if (info.isCharDevice && info.rdev === 0) {
        // A whiteout: in a flat filesystem the name is simply gone.
        if (!flat) {
          entries.push({ ...base, name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, mode: 0o600 });
        }
      } else if (info.isDirectory) {
        entries.push({ ...base, type: "directory" });
        // Lower layers show through this directory until one is opaque or is not a directory.
        const below: string[] = [];
        for (const d of dirs.slice(found.at)) {
          const p = `${d}/${name}`;
          const i = lstatOrNull(p);
          if (!i || !i.isDirectory) break;
          below.push(p);
          if (isOpaque(p)) break;
        }
        if (!flat && isOpaque(path)) {
          entries.push({ name: `${relative}/.wh..wh..opq`, mode: 0o600 });
        }
        walk(below, relative);
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
  walk(layers, "");
  return entries;
}
