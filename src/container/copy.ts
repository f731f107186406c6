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
 * Files are streamed a chunk at a time (a tar stream too, either way), so a copy's memory
 * does not grow with what it copies. A remapped container's files are seen from the host
 * (its running root, or its overlay on idmapped layers, mounted as start does) with the
 * host's ids, 100000+N: owners are translated to the container's at the edge, as Docker's
 * daemon does with its id mapping.
 *
 * @module
 */

import {
  CLONE,
  close,
  fsmountDetached,
  idmapMount,
  lchown,
  mknod,
  mount,
  moveMount,
  MS,
  O,
  open,
  openTreeClone,
  unshare,
} from "../../ffi/libc.ts";
import { spawnInNamespaces } from "../../ffi/nsclone.ts";
import { secureJoin } from "../rootfs/secure_join.ts";
import type { TarEntryType } from "../image/tar.ts";
import { containerId, hostId, idMapLine, type UsernsRemap } from "../config/userns.ts";
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
  /** A file's size in bytes (0 for anything else). */
  size: number;
  /**
   * Streams a file's contents to `sink`, a chunk at a time; each chunk is used before the
   * next is read (its buffer may be reused). Absent: an empty file.
   */
  body?: (sink: (chunk: Uint8Array) => void) => void | Promise<void>;
}

/** How much of a file is read at a time. */
const CHUNK_BYTES = 1 << 20;

/** Ids translated one way between the host's view of a container's files and the container's. */
export interface IdMap {
  uid(id: number): number;
  gid(id: number): number;
}

/**
 * A remapped container's ids as the container sees them, from the host ids its files have
 * (ids outside its range are its overflow id, as its processes see them). Undefined for a
 * container that is not remapped: the ids are the same.
 */
export function containerIdsOf(remap: UsernsRemap | undefined): IdMap | undefined {
  if (!remap) return undefined;
  return {
    uid: (id) => containerId(remap.uid, id),
    gid: (id) => containerId(remap.gid, id),
  };
}

/**
 * The host ids a remapped container's ids are, for what is written into it. An id beyond
 * the range has none: refused with Docker's message.
 */
export function hostIdsOf(remap: UsernsRemap | undefined): IdMap | undefined {
  if (!remap) return undefined;
  const map = (range: UsernsRemap["uid"], id: number) => {
    if (id < 0 || id >= range.size) {
      throw new CopyError(`Container ID ${id} cannot be mapped to a host ID`);
    }
    return hostId(range, id);
  };
  return { uid: (id) => map(remap.uid, id), gid: (id) => map(remap.gid, id) };
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
 * private mount namespace of this thread (a remapped container's on idmapped layers, as
 * its start makes it). The namespace, and the mount with it, goes when the process ends.
 */
export function containerRoot(state: ContainerState): string {
  if (isRunning(state)) return `/proc/${state.pid}/root`;
  unshare(CLONE.NEWNS);
  mount(null, "/", null, MS.REC | MS.PRIVATE);
  if (state.spec.userns) {
    attachIdmappedOverlay(state.rootfs, state.spec.userns);
    return state.rootfs.mountPoint;
  }
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

/**
 * A user namespace with the container's id maps, held by descriptor: a child is cloned into
 * a new one, its maps written while it waits, the namespace opened, and the child told to
 * exit (it never execs). The namespace lives as long as the descriptor.
 */
function userNamespaceFor(remap: UsernsRemap): number {
  let fd = -1;
  const held = new Error("the user namespace is held");
  try {
    spawnInNamespaces(
      { path: "/", args: ["m-docker-userns"], env: [], namespaces: CLONE.NEWUSER },
      (pid) => {
        Deno.writeTextFileSync(`/proc/${pid}/uid_map`, idMapLine(remap.uid));
        Deno.writeTextFileSync(`/proc/${pid}/gid_map`, idMapLine(remap.gid));
        fd = open(`/proc/${pid}/ns/user`, O.RDONLY | O.CLOEXEC);
        // Not a failure: the go-ahead byte is not sent, so the child exits and is reaped.
        throw held;
      },
    );
  } catch (e) {
    if (e !== held) {
      if (fd >= 0) close(fd);
      throw e;
    }
  }
  return fd;
}

/**
 * Mounts a stopped remapped container's overlay at its mount point as its start does
 * (src/rootfs/detached.ts): the image's layers idmapped to its range, its own upper layer
 * as it is, so that every file has the host id the running container's would.
 */
function attachIdmappedOverlay(rootfs: ContainerState["rootfs"], remap: UsernsRemap): void {
  const userns = userNamespaceFor(remap);
  const fds: number[] = [];
  try {
    for (const dir of rootfs.lowerDirs) {
      const fd = openTreeClone(dir, false);
      fds.push(fd);
      idmapMount(fd, userns, dir);
    }
    const overlay = fsmountDetached("overlay", [
      ["lowerdir", fds.map((fd) => `/proc/self/fd/${fd}`).join(":")],
      ["upperdir", rootfs.upperDir],
      ["workdir", rootfs.workDir],
    ]);
    fds.push(overlay);
    moveMount(overlay, rootfs.mountPoint);
  } finally {
    for (const fd of fds) close(fd);
    close(userns);
  }
}

function stat(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
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
      size: 0,
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
        yield {
          ...base,
          type: "file",
          size: info.size,
          body: (sink) => readChunks(path, info, sink),
        };
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

/**
 * Streams the file at `path` to `sink`. The file opened must be the one walked (`info`): a
 * container that swapped it for a link meanwhile would have the host's file read.
 */
function readChunks(path: string, info: Deno.FileInfo, sink: (chunk: Uint8Array) => void): void {
  using f = Deno.openSync(path, { read: true });
  const opened = f.statSync();
  if (opened.dev !== info.dev || opened.ino !== info.ino || !opened.isFile) {
    throw new CopyError(`${path} changed while it was copied`);
  }
  const buf = new Uint8Array(CHUNK_BYTES);
  for (;;) {
    const n = f.readSync(buf);
    if (n === null || n === 0) return;
    sink(buf.subarray(0, n));
  }
}

/** Where extracted entries go: under `root`, in the directory `dir` (a path inside it). */
export interface CopyTarget {
  root: string;
  dir: string;
  /** The first name component of every entry becomes this (Docker's rename on copy). */
  rename?: { from: string; to: string };
  /** Owners for everything written; undefined keeps the entries' own (`-a`). */
  owner?: { uid: number; gid: number };
  /** How the entries' own owners are translated when they are kept (a remapped target). */
  ids?: IdMap;
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
    const uid = target.owner?.uid ?? target.ids?.uid(e.uid) ?? e.uid;
    const gid = target.owner?.gid ?? target.ids?.gid(e.gid) ?? e.gid;
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
        // createNew: whatever appears there meanwhile (a symlink planted by the container)
        // fails the copy instead of being written through.
        using f = Deno.openSync(full, { write: true, createNew: true, mode: e.mode });
        if (e.body) await e.body((chunk) => writeAll(f, chunk));
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

function writeAll(w: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += w.writeSync(data.subarray(off));
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
  // stat, not lstat: a running container's root is the link /proc/PID/root (the rest of
  // the path is resolved already).
  if (!stat(secureJoin(root, parent))?.isDirectory) {
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
  /** How the source's owners are translated when they are kept (`-a` across a remap). */
  ids?: IdMap;
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
  const target: CopyTarget = { root: to.root, dir, owner: opts.owner, ids: opts.ids };
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
    size: 0,
  };
}

/**
 * A tar stream's members as copy entries (for `cp - CONTAINER:DIR`): each body streams from
 * the archive as the entry is written, so nothing of it is held.
 */
export async function* tarEntries(stream: ReadableStream<Uint8Array>): AsyncGenerator<CopyEntry> {
  const { readTar } = await import("../image/tar.ts");
  for await (const e of readTar(stream)) {
    yield { ...e, body: (sink) => e.readBody(sink) };
  }
}

/**
 * Writes the tar archive of a source (for `cp CONTAINER:PATH -`) to `out` as it walks it,
 * as Docker streams it; `ids` translates the owners (a remapped container's, to its own).
 * A file that changed size meanwhile keeps the size its header gave (cut or zero-filled), so
 * that the archive stays readable.
 */
export async function writeSourceArchive(
  src: ResolvedSource,
  out: (chunk: Uint8Array) => void,
  ids?: IdMap,
): Promise<void> {
  const { entryHeader, tarPadding, TAR_END } = await import("../image/tar_writer.ts");
  for (const e of walkSource(src)) {
    const name = e.type === "directory" ? `${e.name}/` : e.name;
    const uid = ids ? ids.uid(e.uid) : e.uid, gid = ids ? ids.gid(e.gid) : e.gid;
    out(entryHeader({ ...e, body: undefined, name, uid, gid }, e.size));
    let left = e.size;
    if (e.body) {
      await e.body((chunk) => {
        const part = chunk.subarray(0, Math.min(chunk.length, left));
        if (part.length > 0) out(part);
        left -= part.length;
      });
    }
    for (; left > 0; left -= Math.min(left, CHUNK_BYTES)) {
      out(new Uint8Array(Math.min(left, CHUNK_BYTES)));
    }
    out(tarPadding(e.size));
  }
  out(TAR_END);
}
