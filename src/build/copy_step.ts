/**
 * `COPY` and `ADD`: files from the build context (or from another stage's or image's root)
 * become a layer. Sources are matched as Go's filepath.Match matches (`*` stays within one
 * path component); a directory's contents are copied, not the directory; the destination is
 * a directory when it ends in `/`, when there are several sources, or when a source is a
 * directory. Owners are root's unless `--chown` (or, from a stage, the stage's own owners);
 * `--chmod` sets the mode of what is copied. All sync calls: a stage's root may be an
 * overlay mounted in a mount namespace of this thread's own.
 *
 * The step's cache key hashes what is copied (names, types, modes, owners, link targets and
 * content), as BuildKit does, not modification times.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { lchown } from "../../ffi/libc.ts";
import { globMatch } from "./glob.ts";
import { IgnoreMatcher } from "./ignore.ts";
import { lstatOrNull } from "../util/fs.ts";

/** One matched source: its path relative to the source root, and its kind. */
export interface MatchedSource {
  rel: string;
  directory: boolean;
  /**
   * For `--parents`: how many leading components of `rel` are not kept at the destination
   * (those before a `/./` in the pattern, rsync's pivot); 0 keeps them all.
   */
  drop: number;
}

/** What a COPY asks for, substituted and resolved against the stage's WORKDIR. */
export interface CopyRequest {
  /** Source patterns, relative to the source root (leading `/` and `./` ignored). */
  sources: string[];
  /** The destination in the image, absolute; a trailing `/` means a directory. */
  dest: string;
  /** `--chown`: the owner of everything copied, numeric. */
  chown?: { uid: number; gid: number };
  /** `--chmod`: the mode of everything copied. */
  chmod?: number;
  /** Keep the source's owners (a stage or image source without `--chown`). */
  keepOwners: boolean;
  /** ADD: a local tar archive (plain or gzip) is unpacked at the destination. */
  unpack?: boolean;
  /**
   * `--exclude`: patterns in .dockerignore's syntax. A path is left out when one matches it
   * relative to the source it comes from (a directory's contents by their path inside it, a
   * file by its name), or matches one of its parents there.
   */
  exclude?: string[];
  /**
   * `--parents`: each source keeps its path relative to the source root (after a `/./` in
   * its pattern, when there is one) under the destination, which is always a directory.
   */
  parents?: boolean;
}

/** An archive ADD unpacks: the file, and the directory (in the layer) it goes into. */
export interface PendingArchive {
  file: string;
  into: string;
}

/** Whether `path` starts as a tar archive (`ustar` at 257) or a gzip stream. */
function isArchive(path: string): boolean {
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(path);
    const head = new Uint8Array(512);
    const n = f.readSync(head) ?? 0;
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return n >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === "ustar";
  } catch {
    return false;
  } finally {
    f?.close();
  }
}

/** A COPY whose sources match nothing: BuildKit's message. */
export class CopySourceError extends Error {
  override name = "CopySourceError";
}

const GLOB = /[*?[\\]/;

function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * The sources under `root` that `patterns` name, sorted, each once. `allowed` (the
 * .dockerignore's verdict, by relative path) hides what the context does not send.
 */
export function matchSources(
  root: string,
  patterns: readonly string[],
  allowed: (rel: string) => boolean = () => true,
): MatchedSource[] {
  const out = new Map<string, MatchedSource>();
  for (const pattern of patterns) {
    const parts = components(pattern);
    const drop = pivotOf(pattern);
    if (parts.includes("..")) {
      throw new CopySourceError(`${pattern}: outside of the build context`);
    }
    let found = 0;
    const walk = (dir: string, rel: string, i: number) => {
      if (i === parts.length) {
        const info = lstatOrNull(dir);
        if (!info || (rel !== "" && !allowed(rel))) return;
        if (!out.has(rel)) out.set(rel, { rel, directory: info.isDirectory, drop });
        found++;
        return;
      }
      const part = parts[i];
      if (!GLOB.test(part)) {
        walk(`${dir}/${part}`, rel ? `${rel}/${part}` : part, i + 1);
        return;
      }
      let names: string[];
      try {
        names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (globMatch(part, name)) {
          walk(`${dir}/${name}`, rel ? `${rel}/${name}` : name, i + 1);
        }
      }
    };
    walk(root, "", 0);
    if (found === 0) {
      throw new CopySourceError(
        `failed to compute cache key: "/${parts.join("/")}": not found`,
      );
    }
  }
  return [...out.values()].sort((a, b) => a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
}

/**
 * How many components of a pattern come before its first `/./` (rsync's pivot for
 * `--parents`); 0 when it has none. A leading `./` is not a pivot.
 */
export function pivotOf(pattern: string): number {
  const raw = pattern.split("/");
  let seen = 0;
  let started = false;
  for (const c of raw) {
    if (c === "") continue;
    if (c === ".") {
      if (started) return seen;
      continue;
    }
    started = true;
    seen++;
  }
  return 0;
}

/** `--exclude`'s verdict on a path brought by `src`, by its path relative to `src`. */
function excluder(req: CopyRequest): (src: MatchedSource, rel: string) => boolean {
  if (!req.exclude?.length) return () => false;
  const matcher = new IgnoreMatcher(req.exclude);
  return (src, rel) => {
    const inside = src.directory
      ? (src.rel === "" ? rel : rel.slice(src.rel.length).replace(/^\//, ""))
      : rel.slice(rel.lastIndexOf("/") + 1);
    return inside !== "" && matcher.excludes(inside);
  };
}

/**
 * The matched sources `--exclude` leaves (a file source excluded by its own name goes).
 * Throws on a malformed pattern.
 */
export function withoutExcluded(
  matched: readonly MatchedSource[],
  req: CopyRequest,
): MatchedSource[] {
  const excluded = excluder(req);
  return matched.filter((m) => m.directory || !excluded(m, m.rel));
}

/** Every path a matched source brings (itself, and a directory's contents), sorted. */
function expand(
  root: string,
  src: MatchedSource,
  allowed: (rel: string) => boolean,
  excluded: (src: MatchedSource, rel: string) => boolean = () => false,
): Array<{ rel: string; info: Deno.FileInfo }> {
  const out: Array<{ rel: string; info: Deno.FileInfo }> = [];
  const visit = (rel: string) => {
    const info = lstatOrNull(rel === "" ? root : `${root}/${rel}`);
    if (!info) return;
    out.push({ rel, info });
    if (!info.isDirectory) return;
    const names = [...Deno.readDirSync(rel === "" ? root : `${root}/${rel}`)].map((e) => e.name)
      .sort();
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      if (allowed(child) && !excluded(src, child)) visit(child);
    }
  };
  visit(src.rel);
  return out;
}

/**
 * The content key of a COPY: a digest of every path it brings (relative to its source),
 * its type, mode, owner (when kept), link target and content, and of the request itself.
 * Sync (node:crypto, loaded by `build` alone): a stage's root is a mount of this thread's.
 */
export function copyKey(
  root: string,
  matched: readonly MatchedSource[],
  req: CopyRequest,
  allowed: (rel: string) => boolean = () => true,
): string {
  const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
  const lines: string[] = [JSON.stringify(req)];
  const excluded = excluder(req);
  for (const src of withoutExcluded(matched, req)) {
    for (const { rel, info } of expand(root, src, allowed, excluded)) {
      const path = rel === "" ? root : `${root}/${rel}`;
      const owner = req.keepOwners ? `${info.uid}:${info.gid}` : "";
      let what = "";
      if (info.isSymlink) what = `-> ${Deno.readLinkSync(path)}`;
      else if (info.isFile) what = sha256(Deno.readFileSync(path));
      else if (!info.isDirectory) what = `special ${info.rdev}`;
      lines.push(`${rel}\0${(info.mode ?? 0) & 0o7777}\0${owner}\0${what}`);
    }
  }
  return sha256(lines.join("\n"));
}

/**
 * Copies the matched sources from `root` into `layerDir` (the new layer's directory, the
 * image's `/`) at `req.dest`, as Docker lays them out. Returns the archives an ADD is to
 * unpack (the caller does, asynchronously, once the sources' root need not be mounted).
 */
export function copyInto(
  layerDir: string,
  root: string,
  matched: readonly MatchedSource[],
  req: CopyRequest,
  allowed: (rel: string) => boolean = () => true,
): PendingArchive[] {
  const archives: PendingArchive[] = [];
  const wild = req.sources.some((s) => GLOB.test(s));
  const destIsDir = req.parents || req.dest.endsWith("/") || matched.length > 1 || wild ||
    matched.some((m) => m.directory);
  const dest = components(req.dest);
  const at = (parts: string[]) => `${layerDir}/${parts.join("/")}`;
  // The destination's parents, as Docker makes them: 0755, root's.
  const parents = destIsDir ? dest : dest.slice(0, -1);
  for (let i = 1; i <= parents.length; i++) {
    const p = at(parents.slice(0, i));
    if (!lstatOrNull(p)) {
      Deno.mkdirSync(p, { mode: 0o755 });
      Deno.chmodSync(p, 0o755);
    }
  }
  const owner = (info: Deno.FileInfo) =>
    req.chown ?? (req.keepOwners ? { uid: info.uid ?? 0, gid: info.gid ?? 0 } : { uid: 0, gid: 0 });
  const excluded = excluder(req);
  for (const src of withoutExcluded(matched, req)) {
    // --parents: the source's own path (after its pivot) is kept under the destination.
    const kept = req.parents ? components(src.rel).slice(src.drop) : [];
    const into = req.parents ? [...dest, ...(src.directory ? kept : kept.slice(0, -1))] : dest;
    if (req.parents) makeParents(layerDir, root, src, dest, kept, owner);
    const base = src.directory ? "" : components(src.rel).pop()!;
    const path = `${root}/${src.rel}`;
    if (req.unpack && !src.directory && isArchive(path)) {
      const into = at(dest);
      if (!lstatOrNull(into)) Deno.mkdirSync(into, { recursive: true, mode: 0o755 });
      archives.push({ file: path, into });
      continue;
    }
    for (const { rel, info } of expand(root, src, allowed, excluded)) {
      const inside = src.rel === "" ? rel : rel.slice(src.rel.length).replace(/^\//, "");
      const target = src.directory
        ? at([...into, ...components(inside)])
        : destIsDir
        ? at([...into, base])
        : at(dest);
      const from = rel === "" ? root : `${root}/${rel}`;
      const mode = req.chmod ?? ((info.mode ?? 0o644) & 0o7777);
      if (info.isDirectory) {
        if (!lstatOrNull(target)) Deno.mkdirSync(target);
        Deno.chmodSync(target, req.chmod ?? ((info.mode ?? 0o755) & 0o7777));
      } else if (info.isSymlink) {
        Deno.symlinkSync(Deno.readLinkSync(from), target);
      } else if (info.isFile) {
        Deno.copyFileSync(from, target);
        Deno.chmodSync(target, mode);
      } else continue; // devices, fifos and sockets are not copied from a context
      const o = owner(info);
      lchown(target, o.uid, o.gid);
      const mtime = info.mtime ?? new Date(0);
      if (!info.isSymlink) Deno.utimeSync(target, mtime, mtime);
    }
  }
  return archives;
}

/**
 * `--parents`: the directories between the destination and a source (its kept path's
 * parents) made as the source root has them (mode, owner as the copy's owners, times), once.
 */
function makeParents(
  layerDir: string,
  root: string,
  src: MatchedSource,
  dest: string[],
  kept: string[],
  owner: (info: Deno.FileInfo) => { uid: number; gid: number },
): void {
  const all = components(src.rel);
  for (let i = 1; i < kept.length; i++) {
    const target = `${layerDir}/${[...dest, ...kept.slice(0, i)].join("/")}`;
    if (lstatOrNull(target)) continue;
    const info = lstatOrNull(`${root}/${all.slice(0, src.drop + i).join("/")}`);
    Deno.mkdirSync(target);
    Deno.chmodSync(target, (info?.mode ?? 0o755) & 0o7777);
    const o = info ? owner(info) : { uid: 0, gid: 0 };
    lchown(target, o.uid, o.gid);
    if (info?.mtime) Deno.utimeSync(target, info.mtime, info.mtime);
  }
}

/** Unpacks an ADD's archive (plain tar or gzip) into `into`, with the archive's owners. */
export async function unpackArchive(a: PendingArchive): Promise<void> {
  const { applyLayer } = await import("../image/layer_apply.ts");
  const head = new Uint8Array(2);
  using probe = Deno.openSync(a.file);
  probe.readSync(head);
  const file = await Deno.open(a.file);
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const { gunzipped } = await import("../image/gunzip.ts");
  await applyLayer(gz ? gunzipped(file.readable) : file.readable, a.into, "files");
}
