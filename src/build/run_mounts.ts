/**
 * A RUN's `--mount`s, as the Dockerfile reference describes them, turned into the step
 * container's mounts (the engine's own `-v` and `--tmpfs` machinery, made by init inside the
 * container's mount namespace, so none is left on the host if the build dies):
 *
 * - `type=bind`: the context's `source` (default its root; what .dockerignore hides is not
 *   there) or, with `from=`, a path in a stage's or an image's root, read-only unless `rw`;
 *   with `rw` the writes go to a copy (the context) or an overlay's upper directory (a stage
 *   or image) and are thrown away after the step. The step's cache key includes the content
 *   of what is bound (`mountsKey`).
 * - `type=cache`: a directory kept across builds under the build cache (see cache.ts), by
 *   `id` (default: the target), made with `mode`/`uid`/`gid` and seeded from `from=`'s
 *   `source` when it is new; `sharing=shared` (default) lets steps use it at once, `locked`
 *   makes them take turns, `private` gives a step that finds it in use a new empty one.
 * - `type=tmpfs`: a tmpfs for the step only (`size=`).
 * - `type=secret` and `type=ssh` are refused: `build` has no `--secret` or `--ssh` yet.
 *
 * The directories a step needs (mount points of layer views, upper directories, copies of
 * the context) are in one `.build-mnt-*` directory under the image store, locked while the
 * step runs; one whose lock nobody holds (its build was killed) is removed by the next step
 * with mounts.
 * The mount points made in the container's root for the mounts are removed from the layer
 * (`removeMountStubs`): nothing of a mount lands in the image.
 *
 * @module
 */

import type { BindMount, LayerView, TmpfsMount } from "../config/container.ts";
import { type ImageRecord, type ImageStore, makeBuildScratch } from "../image/store.ts";
import type { CopySource, RunMount } from "./dockerfile.ts";
import { copyInto, copyKey, type CopyRequest, matchSources } from "./copy_step.ts";
import { type BuildCache, lockMount } from "./cache.ts";
import { withImageRoot } from "./image_root.ts";
import { secureJoin } from "../rootfs/secure_join.ts";
import { close, O, open, tryFlock } from "../../ffi/libc.ts";
import { lstatOrNull } from "../util/fs.ts";

/** Where a step's mounts take their files from. */
export interface MountInputs {
  /** The context directory (absolute, real). */
  context: string;
  /** The .dockerignore's verdict on a context path; absent: everything is there. */
  allowed?: (rel: string) => boolean;
  /** The image a `from=` names: a stage's (built already) or one resolved by reference. */
  image(from: CopySource): Promise<ImageRecord>;
  images: ImageStore;
  cache: BuildCache;
}

const SHARING = ["shared", "private", "locked"];

/**
 * Checks a RUN's mounts before anything runs: secret and ssh mounts are refused, and the
 * values of the others must make sense (`sharing`, octal `mode`, numeric `uid`/`gid`,
 * `size`). Throws one line.
 */
export function checkMounts(mounts: readonly RunMount[]): void {
  for (const m of mounts) {
    if (m.type === "secret" || m.type === "ssh") {
      throw new Error(
        `RUN --mount=type=${m.type} is not supported by m-docker build (there is no --${m.type} flag yet)`,
      );
    }
    const o = m.options;
    if (m.type === "cache") {
      if (o.sharing !== undefined && !SHARING.includes(o.sharing)) {
        throw new Error(`unsupported sharing value ${JSON.stringify(o.sharing)}: ${SHARING}`);
      }
      if (o.mode !== undefined && !/^[0-7]{1,4}$/.test(o.mode)) {
        throw new Error(`invalid mode ${JSON.stringify(o.mode)} for a cache mount: octal`);
      }
      for (const k of ["uid", "gid"]) {
        if (o[k] !== undefined && !/^\d+$/.test(o[k])) {
          throw new Error(`invalid ${k} ${JSON.stringify(o[k])} for a cache mount: a number`);
        }
      }
    }
    if (m.type === "tmpfs" && o.size !== undefined) tmpfsSize(o.size);
    if (m.target !== undefined && m.target.replace(/\/+/g, "/") === "/") {
      throw new Error("a RUN mount cannot be at /");
    }
  }
}

/** `size=` of a tmpfs mount in bytes: a number with an optional k, m or g (and b). */
function tmpfsSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)} for a tmpfs mount`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]!;
  return Number(m[1]) * unit;
}

/** A `source=` as a path relative to its root, with `..` unable to climb out. */
function relativeSource(source: string | undefined): string {
  const parts: string[] = [];
  for (const c of (source ?? "").split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") parts.pop();
    else parts.push(c);
  }
  return parts.join("/");
}

/** A context path with its links resolved inside the context (they may not leave it). */
function contextPath(context: string, source: string | undefined): string {
  const full = secureJoin(context, relativeSource(source));
  return full === context ? "" : full.slice(context.length + 1);
}

/** The copier's request for a whole source, with its owners. */
function wholeSource(rel: string): CopyRequest {
  return { sources: [rel], dest: "/", keepOwners: true };
}

/**
 * What the step's cache key must include for its mounts: for each bind mount, the digest of
 * what it binds (the context's files as COPY hashes them; a stage's or image's ID and the
 * path). Cache and tmpfs mounts add nothing: their content is not the step's input.
 */
export async function mountsKey(
  mounts: readonly RunMount[],
  inputs: MountInputs,
): Promise<string[]> {
  const parts: string[] = [];
  for (const m of mounts) {
    if (m.type !== "bind") continue;
    if (m.from) {
      const image = await inputs.image(m.from);
      parts.push(`bind ${m.target} ${image.id} /${relativeSource(m.source)}`);
      continue;
    }
    const rel = contextPath(inputs.context, m.source);
    const matched = matchSources(inputs.context, [rel], inputs.allowed);
    parts.push(
      `bind ${m.target} ${copyKey(inputs.context, matched, wholeSource(rel), inputs.allowed)}`,
    );
  }
  return parts;
}

/** A step's mounts, ready for its container, and what to undo once it is over. */
export interface PreparedMounts {
  mounts: BindMount[];
  tmpfs: TmpfsMount[];
  /** Every mount's target, for `removeMountStubs`. */
  targets: string[];
  /** Unlocks the cache mounts and removes the step's directories. */
  release(): void;
}

/** Makes what a step's mounts need; `signal` stops a wait for a locked cache mount. */
export async function prepareMounts(
  mounts: readonly RunMount[],
  inputs: MountInputs,
  signal?: AbortSignal,
): Promise<PreparedMounts> {
  if (mounts.length > 0) StepDir.sweep(inputs.images.dir);
  // Made only when a mount needs one (tmpfs alone does not).
  let made: StepDir | undefined;
  const work = { mkdir: (name: string) => (made ??= StepDir.make(inputs.images.dir)).mkdir(name) };
  const locks = new Map<string, number>();
  const release = () => {
    for (const fd of locks.values()) close(fd);
    locks.clear();
    made?.remove();
    made = undefined;
  };
  const out: PreparedMounts = { mounts: [], tmpfs: [], targets: [], release };
  try {
    for (const [i, m] of mounts.entries()) {
      const target = m.target!;
      out.targets.push(target);
      if (m.type === "tmpfs") {
        const options = ["rw", "nosuid", "nodev"];
        if (m.options.size !== undefined) options.push(`size=${tmpfsSize(m.options.size)}`);
        out.tmpfs.push({ destination: target, options });
      } else if (m.type === "bind" && m.from) {
        const image = await inputs.image(m.from);
        const view: LayerView = {
          lowerDirs: image.layers.map((l) => inputs.images.ensureLayerLink(l)).reverse(),
          mountPoint: work.mkdir(`view-${i}`),
          path: relativeSource(m.source),
        };
        if (!m.readonly) {
          // Writable: an overlay whose upper directory goes with the step.
          view.upperDir = work.mkdir(`upper-${i}`);
          view.workDir = work.mkdir(`work-${i}`);
        }
        out.mounts.push({
          source: view.mountPoint,
          destination: target,
          readonly: m.readonly,
          layers: view,
        });
      } else if (m.type === "bind") {
        out.mounts.push(bindContext(m, i, inputs, work));
      } else if (m.type === "cache") {
        out.mounts.push(await cacheMount(m, i, inputs, work, locks, signal));
      }
    }
    return out;
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * A bind mount of the context: its directory itself when the mount is read-only and
 * .dockerignore hides nothing in it; otherwise a copy of what the context sends, which a
 * writable mount may change (the copy goes with the step).
 */
function bindContext(m: RunMount, i: number, inputs: MountInputs, work: Work): BindMount {
  const rel = contextPath(inputs.context, m.source);
  const matched = matchSources(inputs.context, [rel], inputs.allowed);
  const path = rel === "" ? inputs.context : `${inputs.context}/${rel}`;
  if (m.readonly && !hidesAnything(inputs, rel)) {
    return { source: path, destination: m.target!, readonly: true };
  }
  const copy = work.mkdir(`context-${i}`);
  copyInto(copy, inputs.context, matched, wholeSource(rel), inputs.allowed);
  const source = matched[0].directory ? copy : `${copy}/${rel.slice(rel.lastIndexOf("/") + 1)}`;
  return { source, destination: m.target!, readonly: m.readonly };
}

/** Whether .dockerignore hides anything at or below the context path `rel`. */
function hidesAnything(inputs: MountInputs, rel: string): boolean {
  const allowed = inputs.allowed;
  if (!allowed) return false;
  const visit = (r: string): boolean => {
    if (r !== "" && !allowed(r)) return true;
    const info = lstatOrNull(r === "" ? inputs.context : `${inputs.context}/${r}`);
    if (!info?.isDirectory) return false;
    for (const e of Deno.readDirSync(r === "" ? inputs.context : `${inputs.context}/${r}`)) {
      if (visit(r === "" ? e.name : `${r}/${e.name}`)) return true;
    }
    return false;
  };
  return visit(rel);
}

/** A cache mount: its kept directory, locked as `sharing` says, or a private new one. */
async function cacheMount(
  m: RunMount,
  i: number,
  inputs: MountInputs,
  work: Work,
  locks: Map<string, number>,
  signal?: AbortSignal,
): Promise<BindMount> {
  const o = m.options;
  const id = o.id || m.target!;
  const sharing = o.sharing ?? "shared";
  const from = m.from ? await inputs.image(m.from) : undefined;
  const init = {
    mode: parseInt(o.mode ?? "755", 8),
    uid: Number(o.uid ?? 0),
    gid: Number(o.gid ?? 0),
    seed: from === undefined ? undefined : (data: string) => {
      withImageRoot(inputs.images, from, (root) => {
        const rel = relativeSource(m.source);
        const full = secureJoin(root, rel);
        const inside = full === root ? "" : full.slice(root.length + 1);
        copyInto(data, root, matchSources(root, [inside]), wholeSource(inside));
      });
    },
  };
  const dir = inputs.cache.mountDir(id, init);
  let data = `${dir}/data`;
  // The same id twice in one step is one directory, locked once.
  if (!locks.has(dir)) {
    const fd = await lockMount(dir, sharing !== "shared", sharing !== "private", signal);
    if (fd === null) {
      // private, and another step has it: a new one of this step's own.
      const own = work.mkdir(`cache-${i}`);
      data = `${own}/data`;
      Deno.mkdirSync(data);
      init.seed?.(data);
      Deno.chmodSync(data, init.mode);
      Deno.chownSync(data, init.uid, init.gid);
    } else locks.set(dir, fd);
  }
  return { source: data, destination: m.target!, readonly: m.readonly };
}

/**
 * The mount points made in the container's root for `targets` (empty directories and empty
 * files that no lower layer has), and the parents made only for them, taken out of the
 * step's upper directory before it becomes the layer.
 */
export function removeMountStubs(
  upperDir: string,
  lowerDirs: readonly string[],
  targets: readonly string[],
): void {
  const parts = (p: string) => p.split("/").filter((c) => c !== "" && c !== ".");
  const deepest = [...targets].sort((a, b) => parts(b).length - parts(a).length);
  const inLower = (rel: string) => lowerDirs.some((l) => lstatOrNull(`${l}/${rel}`) !== null);
  for (const target of deepest) {
    const rel = parts(target);
    while (rel.length > 0) {
      const path = `${upperDir}/${rel.join("/")}`;
      const info = lstatOrNull(path);
      if (!info || inLower(rel.join("/"))) break;
      const empty = info.isDirectory
        ? [...Deno.readDirSync(path)].length === 0
        : info.isFile && info.size === 0;
      if (!empty) break;
      Deno.removeSync(path);
      rel.pop();
    }
  }
}

/** Makes directories in the step's directory. */
interface Work {
  mkdir(name: string): string;
}

/**
 * The directory of one step's mount material, locked (flock on its `lock`) while the step
 * runs.
 */
class StepDir {
  private constructor(readonly path: string, private readonly fd: number) {}

  /** Removes the step directories of builds that died (their lock is free). */
  static sweep(imagesDir: string): void {
    for (const e of Deno.readDirSync(imagesDir)) {
      if (e.name.startsWith(".build-mnt-")) removeIfAbandoned(`${imagesDir}/${e.name}`);
    }
  }

  static make(imagesDir: string): StepDir {
    const path = makeBuildScratch(imagesDir, "mnt");
    try {
      const fd = open(`${path}/lock`, O.RDWR | O.CREAT | O.CLOEXEC, 0o600);
      tryFlock(fd, true); // a new file: no one else can hold it
      return new StepDir(path, fd);
    } catch (e) {
      Deno.removeSync(path, { recursive: true });
      throw e;
    }
  }

  /** Makes `name` in it; returns its path. */
  mkdir(name: string): string {
    const p = `${this.path}/${name}`;
    Deno.mkdirSync(p, { mode: 0o700 });
    return p;
  }

  remove(): void {
    try {
      Deno.removeSync(this.path, { recursive: true });
    } finally {
      close(this.fd);
    }
  }
}

/** Removes a step directory whose lock no one holds (its build is gone). */
function removeIfAbandoned(path: string): void {
  let fd: number;
  try {
    fd = open(`${path}/lock`, O.RDWR | O.CLOEXEC);
  } catch {
    return; // being made (or already gone)
  }
  try {
    if (!tryFlock(fd, true)) return;
    Deno.removeSync(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  } finally {
    close(fd);
  }
}
