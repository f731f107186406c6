/**
 * `cp` between a container and the host, as Docker's: files and directories either way,
 * a tar stream on stdin or stdout for `-`, owners kept only with `archive` (`-a`), the
 * source's own symlink followed only with `followLink` (`-L`).
 *
 * A running container's files are reached through its PID 1's root (/proc/PID/root); a
 * stopped one's through its overlay, mounted for the copy in a mount namespace of the
 * calling thread's own (gone when the process ends). Either way the root is a directory
 * whose symlinks mean paths inside the container, so every path is resolved with
 * `secureJoin` (never following a link out of it), nothing that is not a directory is
 * written through (it is removed first and created anew, exclusively), and owners and
 * times are set on the path itself (lchown). Copying to the host follows the same rules
 * under the destination directory. Sync file calls only: they must run on the thread
 * that entered the mount namespace.
 *
 * @module
 */

import { CLONE, lchown, mknod, mount, MS, unshare } from "../../ffi/libc.ts";
import { secureJoin } from "../rootfs/secure_join.ts";
import type { TarEntryType } from "../image/tar.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { isRunning } from "./reconcile.ts";

/** One thing to copy: a tar member's fields, with its contents for a file. */
export interface CopyEntry {
  /** Relative, `/`-separated: the source's base name first (`etc`, `etc/hosts`). */
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** A file's contents, read when the entry is written. */
  data?: () => Uint8Array | Promise<Uint8Array>;
}

/** A copy failed the way Docker's does; exits 1. */
export class CopyError extends ExitCodeError {
  override name = "CopyError";
  constructor(message: string) {
    super(message, 1);
  }
}

/**
 * The directory under which the container's files are seen, for the rest of this process:
 * /proc/PID/root of a running container, or its overlay mounted at its mount point in a new
 * private mount namespace of this thread.
 */
export function containerRoot(state: ContainerState): string {
  if (isRunning(state)) return `/proc/${state.pid}/root`;
  if (state.spec.userns) {
    throw new CopyError(
      "cp of a stopped container with --userns=remap is not supported yet: start it first",
    );
  }
  unshare(CLONE.NEWNS);
  mount(null, "/", null, MS.REC | MS.PRIVATE);
  const { lowerDirs, upperDir, workDir, mountPoint } = state.rootfs;
  // Not rootfs/setup.ts's mountOverlay: sharing init's module would split init's bundle
  // chunk (one more file for every container start to load). The layers are short links
  // in one directory: named from it, many fit in the page overlayfs takes its options in.
  const base = lowerDirs[0]?.slice(0, lowerDirs[0].lastIndexOf("/"));
  const cwd = Deno.cwd();
  let lowers = lowerDirs;
  if (base && lowerDirs.every((l) => l.slice(0, l.lastIndexOf("/")) === base)) {
    Deno.chdir(base);
    lowers = lowerDirs.map((l) => l.slice(l.lastIndexOf("/") + 1));
  }
  try {
    mount(
      "overlay",
      mountPoint,
      "overlay",
      0,
      `lowerdir=${lowers.join(":")},upperdir=${upperDir},workdir=${workDir}`,
    );
  } finally {
    Deno.chdir(cwd);
  }
  return mountPoint;
}

function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/** `a/b/` and `a/b/.` name the directory's contents in Docker's rules. */
function meansContents(path: string): boolean {
  return /(^|\/)\.$/.test(path);
}

function baseName(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return parts.at(-1) ?? "";
}

/** Linux's major/minor from a device number. */
function devParts(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  return {
    major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)),
    minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)),
  };
}

/** Where a source path is, resolved: the host path of the thing itself, and its lstat. */
export interface ResolvedSource {
  path: string;
  info: Deno.FileInfo;
  /** The name its entries start with (`.`-ending paths copy contents: empty). */
  base: string;
}

/**
 * Resolves `path` under `root` (a container's root, or `/` for the host): its parents with
 * `secureJoin`; the last component only with `followLink`. Null when it does not exist.
 */
export function resolveSource(
  root: string,
  path: string,
  followLink: boolean,
): ResolvedSource | null {
  const contents = meansContents(path) || path.endsWith("/");
  const name = baseName(path);
  const parentPath = path.replace(/\/+\.?\/*$/, "").split("/").slice(0, -1).join("/") || "/";
  let full = name === ""
    ? root.replace(/\/+$/, "") || "/"
    : secureJoin(root, `${parentPath}/${name}`);
  if (name !== "" && !followLink) {
    // The link itself, not what it points to: resolve only the parents.
    full = `${secureJoin(root, parentPath)}/${name}`;
  }
  const info = lstat(full);
  if (!info) return null;
  return { path: full, info, base: contents && info.isDirectory ? "" : name };
}

/** The entries of a resolved source, parents first; symlinks inside it are not followed. */
export function* walkSource(src: ResolvedSource): Generator<CopyEntry> {
  const seen = new Map<string, string>();
  function* visit(path: string, name: string, info: Deno.FileInfo): Generator<CopyEntry> {
    const base = {
      name,
      mode: (info.mode ?? 0o644) & 0o7777,
      uid: info.uid ?? 0,
      gid: info.gid ?? 0,
      mtime: Math.floor((info.mtime?.getTime() ?? 0) / 1000),
      linkname: "",
      devmajor: 0,
      devminor: 0,
    };
    if (info.isDirectory) {
      if (name !== "") yield { ...base, type: "directory" };
      const names = [...Deno.readDirSync(path)].map((e) => e.name).sort();
      for (const child of names) {
        const p = `${path}/${child}`;
        const i = lstat(p);
        if (i) yield* visit(p, name === "" ? child : `${name}/${child}`, i);
      }
    } else if (info.isSymlink) {
      yield { ...base, type: "symlink", linkname: Deno.readLinkSync(path) };
    } else if (info.isFile) {
      const key = `${info.dev}:${info.ino}`;
      const first = (info.nlink ?? 1) > 1 ? seen.get(key) : undefined;
      if (first !== undefined) {
        yield { ...base, type: "hardlink", linkname: first };
      } else {
        seen.set(key, name);
        yield { ...base, type: "file", data: () => Deno.readFileSync(path) };
      }
    } else if (info.isCharDevice || info.isBlockDevice) {
      const { major, minor } = devParts(info.rdev ?? 0);
      yield {
        ...base,
        type: info.isCharDevice ? "char" : "block",
        devmajor: major,
        devminor: minor,
      };
    } else if (info.isFifo) {
      yield { ...base, type: "fifo" };
    }
    // Sockets are not copied (as tar).
  }
  yield* visit(src.path, src.base, src.info);
}

/** Where extracted entries go: under `root`, in the directory `dir` (a path inside it). */
export interface CopyTarget {
  root: string;
  dir: string;
  /** The first name component of every entry becomes this (Docker's rename on copy). */
  rename?: { from: string; to: string };
  /** Owners for everything written; undefined keeps the entries' own (`-a`). */
  owner?: { uid: number; gid: number };
}

function targetName(t: CopyTarget, name: string): string {
  if (!t.rename) return name;
  const [first, ...rest] = name.split("/");
  return first === t.rename.from ? [t.rename.to, ...rest].join("/") : name;
}

/** Refuses archive names that climb out (`../x`, `/x`): they must stay in the target. */
function checkedName(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new CopyError(`invalid archive entry name: "${name}"`);
  return parts.join("/");
}

/** Writes entries under the target: the way `tar -x` would, but never out of `root`. */
export async function extractEntries(
  target: CopyTarget,
  entries: Iterable<CopyEntry> | AsyncIterable<CopyEntry>,
): Promise<void> {
  const dirTimes: Array<[string, number]> = [];
  for await (const e of entries) {
    const rel = checkedName(targetName(target, e.name));
    if (rel === "") continue;
    // The parents resolve inside the root; the name itself is never followed (as tar: a
    // link there is replaced, not written through).
    const slash = rel.lastIndexOf("/");
    const parent = secureJoin(target.root, `${target.dir}/${rel.slice(0, Math.max(slash, 0))}`);
    const full = `${parent}/${rel.slice(slash + 1)}`;
    const existing = lstat(full);
    const uid = target.owner?.uid ?? e.uid, gid = target.owner?.gid ?? e.gid;
    if (e.type === "directory") {
      if (existing && !existing.isDirectory) Deno.removeSync(full);
      if (!existing || !existing.isDirectory) Deno.mkdirSync(full, { mode: e.mode });
      lchown(full, uid, gid);
      Deno.chmodSync(full, e.mode);
      dirTimes.push([full, e.mtime]);
      continue;
    }
    if (existing?.isDirectory) {
      throw new CopyError(`cannot overwrite directory "${rel}" with non-directory`);
    }
    if (existing) Deno.removeSync(full);
    switch (e.type) {
      case "file": {
        const data = e.data ? await e.data() : new Uint8Array();
        // createNew: whatever appears there meanwhile (a symlink planted by the container)
        // fails the copy instead of being written through.
        using f = Deno.openSync(full, { write: true, createNew: true, mode: e.mode });
        let off = 0;
        while (off < data.length) off += f.writeSync(data.subarray(off));
        f.utimeSync(e.mtime, e.mtime);
        break;
      }
      case "symlink":
        Deno.symlinkSync(e.linkname, full);
        break;
      case "hardlink": {
        const source = checkedName(targetName(target, e.linkname));
        Deno.linkSync(secureJoin(target.root, `${target.dir}/${source}`), full);
        break;
      }
      case "char":
      case "block":
      case "fifo":
        mknod(full, e.type, e.mode, e.devmajor, e.devminor);
        break;
    }
    lchown(full, uid, gid);
    // After the owner: chown clears set-id bits. The umask narrowed the mode at creation.
    if (e.type === "file") Deno.chmodSync(full, e.mode);
  }
  // Directories' times last: writing into them changed them.
  for (const [path, mtime] of dirTimes.reverse()) {
    try {
      Deno.utimeSync(path, mtime, mtime);
    } catch { /* best effort, as tar */ }
  }
}

/**
 * Docker's rules for where a source lands, given the destination as it is: into an
 * existing directory under the source's name (its contents for `dir/.`), or as the
 * destination itself when that does not exist or is a file. Returns the directory to
 * extract into (a path under `root`) and the name the source takes there ("" for contents
 * poured into it).
 */
export function placeSource(
  root: string,
  src: ResolvedSource,
  destPath: string,
): { dir: string; name: string } {
  const base = root.replace(/\/+$/, "");
  const dest = secureJoin(root, destPath);
  const relDest = dest === base ? "/" : dest.slice(base.length);
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.statSync(dest);
  } catch { /* does not exist */ }
  if (info?.isDirectory) return { dir: relDest, name: src.base };
  if (destPath.endsWith("/")) throw new CopyError("no such directory");
  if (info && src.info.isDirectory) throw new CopyError("cannot copy directory");
  const parent = relDest.split("/").slice(0, -1).join("/") || "/";
  if (!lstat(secureJoin(root, parent))?.isDirectory) {
    throw new CopyError(`no such directory`);
  }
  return { dir: parent, name: baseName(relDest) };
}

/** Options of `copyPath`. */
export interface CopyOptions {
  /** Follow the source path's own symlink (`-L`). */
  followLink: boolean;
  /** Owners of what is written; undefined keeps the source's (`-a`). */
  owner?: { uid: number; gid: number };
}

/**
 * Copies `from.path` (under `from.root`) to `to.path` (under `to.root`) by Docker's rules
 * (`placeSource`). Throws `CopyError` for a destination that does not fit, and
 * `Deno.errors.NotFound` when the source does not exist.
 */
export async function copyPath(
  from: { root: string; path: string },
  to: { root: string; path: string },
  opts: CopyOptions,
): Promise<void> {
  const src = resolveSource(from.root, from.path, opts.followLink);
  if (!src) throw new Deno.errors.NotFound(from.path);
  const { dir, name } = placeSource(to.root, src, to.path);
  const target: CopyTarget = { root: to.root, dir, owner: opts.owner };
  if (src.base === "" && name !== "") {
    // `dir/.` to a new name: the directory is made, then filled.
    await extractEntries(target, underName(name, walkSource(src), directoryEntry(src, name)));
  } else {
    await extractEntries({ ...target, rename: { from: src.base, to: name } }, walkSource(src));
  }
}

/** Prefixes every entry's name with `base/` (contents copied into a new directory). */
export async function* underName(
  base: string,
  entries: Iterable<CopyEntry> | AsyncIterable<CopyEntry>,
  dir: CopyEntry,
): AsyncGenerator<CopyEntry> {
  yield { ...dir, name: base };
  for await (const e of entries) {
    const linkname = e.type === "hardlink" ? `${base}/${e.linkname}` : e.linkname;
    yield { ...e, name: `${base}/${e.name}`, linkname };
  }
}

/** The entry of the directory a `dir/.` source is, for `underName`. */
export function directoryEntry(src: ResolvedSource, name: string): CopyEntry {
  return {
    name,
    type: "directory",
    mode: (src.info.mode ?? 0o755) & 0o7777,
    uid: src.info.uid ?? 0,
    gid: src.info.gid ?? 0,
    mtime: Math.floor((src.info.mtime?.getTime() ?? 0) / 1000),
    linkname: "",
    devmajor: 0,
    devminor: 0,
  };
}

/** A tar stream's members as copy entries (for `cp - CONTAINER:DIR`). */
export async function* tarEntries(stream: ReadableStream<Uint8Array>): AsyncGenerator<CopyEntry> {
  const { readTar } = await import("../image/tar.ts");
  for await (const e of readTar(stream)) {
    const chunks: Uint8Array[] = [];
    await e.readBody((c) => chunks.push(c.slice()));
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      data.set(c, off);
      off += c.length;
    }
    yield { ...e, data: () => data };
  }
}

/** The tar archive of a source (for `cp CONTAINER:PATH -`), as Docker streams it. */
export async function sourceArchive(src: ResolvedSource): Promise<Uint8Array<ArrayBuffer>> {
  const { writeTar } = await import("../image/tar_writer.ts");
  const entries = [];
  for (const e of walkSource(src)) {
    const body = e.data ? await e.data() : undefined;
    const name = e.type === "directory" ? `${e.name}/` : e.name;
    entries.push({ ...e, name, body });
  }
  return writeTar(entries);
}
