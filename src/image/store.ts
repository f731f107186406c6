/**
 * The image store: unpacked layers addressed by the digest of their content, image records
 * addressed by the digest of their config (Docker's image ID), and a table of references
 * (`name:tag`) pointing at image IDs. Layers are shared: every image and container that
 * uses a layer stacks the same directory as an overlay lower dir.
 *
 * ```
 * <root>/image/layers/<hex>/diff/     the layer's files, complete before the rename
 * <root>/image/images/<hex>.json      { id, layers, config, created, size }
 * <root>/image/repositories.json      { "busybox:latest": "sha256:<hex>" }
 * <root>/image/blobs/sha256/<hex>      registry blobs kept for `push`: a pulled image's
 *                                      manifest, config and compressed layers as pulled, and
 *                                      the gzip blobs made once for locally made layers
 * <root>/image/blobs/repos/<hex>.json  [ "registry/repository", ... ] that have the blob,
 *                                      for cross-repository mounts
 * <root>/image/layers/<hex>/gzip.json  { digest, size, diffId } of a local layer's gzip blob
 * ```
 *
 * @module
 */

import { writeFileAtomic } from "../util/atomic_file.ts";
import { familiarName, parseReference } from "./reference.ts";
import type { HealthConfig } from "../config/health.ts";
import { compareStrings } from "../util/compare.ts";
import { isProcessAlive, processStartTime } from "../state/proc.ts";

/** The parts of an OCI image config that `run` applies. */
export interface ImageRunConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, unknown>;
  /** The image's VOLUME paths: each gets an anonymous volume unless something is mounted there. */
  Volumes?: Record<string, unknown>;
  /** Docker's HEALTHCHECK (`Test`, durations in nanoseconds). */
  Healthcheck?: HealthConfig;
  /** Docker's SHELL, for `CMD-SHELL` healthchecks. */
  Shell?: string[];
}

/** The fields of an image config's `config` object that m-docker keeps. */
export function pickRunConfig(c: ImageRunConfig | undefined): ImageRunConfig {
  const { Env, Cmd, Entrypoint, WorkingDir, User, StopSignal, Labels, ExposedPorts } = c ?? {};
  const { Volumes, Healthcheck, Shell } = c ?? {};
  return {
    Env,
    Cmd,
    Entrypoint,
    WorkingDir,
    User,
    StopSignal,
    Labels,
    ExposedPorts,
    Volumes,
    Healthcheck,
    Shell,
  };
}

/** One image as the store keeps it. */
export interface ImageRecord {
  /** `sha256:<hex>` of the image config. */
  id: string;
  /** Layer digests (`sha256:<hex>`), bottom first. */
  layers: string[];
  config: ImageRunConfig;
  created: string;
  /** Unpacked size in bytes. */
  size: number;
  /** The image config's `os` and `architecture` (`linux`, `amd64`); absent in older stores. */
  os?: string;
  architecture?: string;
  /** `REPOSITORY@sha256:...` of the manifests it was pulled by (Docker's RepoDigests). */
  repoDigests?: string[];
  /**
   * The manifest it was pulled by (its bytes are a blob), so that `push` sends the same bytes
   * and the digests stay; absent for images made here and in older stores.
   */
  manifest?: { digest: string; mediaType: string };
  /** The image config's `history`, for images made here (a pulled one's is in its config blob). */
  history?: HistoryEntry[];
  /** The image it was committed from (Docker's Parent), for `history`'s IDs. */
  parent?: string;
}

/** One entry of an image config's `history`, as the OCI image spec has it. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** A local layer's gzip blob, made once for `push` and kept so that pushes are identical. */
export interface CompressedLayer {
  /** The digest and size of the gzip blob. */
  digest: string;
  size: number;
  /** The digest of the uncompressed tar (what an image config's `diff_ids` list). */
  diffId: string;
}

/** An image reference that names no image in the store. */
export class NoSuchImageError extends Error {
  override name = "NoSuchImageError";
  constructor(ref: string) {
    super(`Unable to find image '${ref}' locally`);
  }
}

/**
 * Normalises a reference to the short name images are kept under, as Docker shows them:
 * `busybox` and `docker.io/library/busybox` are both `busybox:latest`.
 */
export function normalizeReference(ref: string): string {
  try {
    return familiarName(parseReference(ref));
  } catch {
    return ref; // not a reference: may still be an image ID
  }
}

const hex = (digest: string) => digest.replace(/^sha256:/, "");

/** Reads and writes the image store under `<root>/image`. */
export class ImageStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = `${root}/image`;
  }

  /** The directory holding a layer's files. */
  layerDiffDir(digest: string): string {
    return `${this.dir}/layers/${hex(digest)}/diff`;
  }

  /**
   * A short path to a layer's files (`<store>/l/<20 hex>` -> `../layers/<hex>/diff`), as
   * Docker's overlay2 keeps: overlayfs takes all lower directories in one mount option of at
   * most a page, which full paths would fill at about 35 layers.
   */
  layerLink(digest: string): string {
    return `${this.dir}/l/${hex(digest).slice(0, 20)}`;
  }

  /** Makes sure a layer's short link exists (layers unpacked before links existed too). */
  ensureLayerLink(digest: string): string {
    const link = this.layerLink(digest);
    try {
      Deno.lstatSync(link);
    } catch {
      Deno.mkdirSync(`${this.dir}/l`, { recursive: true });
      try {
        Deno.symlinkSync(`../layers/${hex(digest)}/diff`, link);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e; // a concurrent run made it
      }
    }
    return link;
  }

  /** Where a kept registry blob lives. */
  blobPath(digest: string): string {
    return `${this.dir}/blobs/sha256/${hex(digest)}`;
  }

  /** True when the blob is kept. */
  hasBlob(digest: string): boolean {
    try {
      return Deno.statSync(this.blobPath(digest)).isFile;
    } catch {
      return false;
    }
  }

  /** A kept blob's bytes, or null. */
  readBlob(digest: string): Uint8Array<ArrayBuffer> | null {
    try {
      return Deno.readFileSync(this.blobPath(digest));
    } catch {
      return null;
    }
  }

  /** Keeps `bytes` as the blob `digest` (the caller has checked the digest). */
  writeBlob(digest: string, bytes: Uint8Array<ArrayBuffer>): void {
    Deno.mkdirSync(`${this.dir}/blobs/sha256`, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.blobPath(digest), bytes);
  }

  /**
   * A temporary file in the blob directory for a blob whose digest is not known yet (a
   * download being checked): `placeBlob` renames it into place.
   */
  tempBlobPath(): string {
    Deno.mkdirSync(`${this.dir}/blobs/sha256`, { recursive: true, mode: 0o700 });
    return Deno.makeTempFileSync({ dir: `${this.dir}/blobs/sha256`, prefix: ".tmp-" });
  }

  /** Moves a checked temporary blob into place. */
  placeBlob(digest: string, tmp: string): void {
    Deno.renameSync(tmp, this.blobPath(digest));
  }

  /** The repositories (`registry/repository`) known to have a blob: pulled from or pushed to. */
  blobRepositories(digest: string): string[] {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.dir}/blobs/repos/${hex(digest)}.json`));
    } catch {
      return [];
    }
  }

  /** Notes that `repository` (`registry/repository`) has the blob. */
  addBlobRepository(digest: string, repository: string): void {
    const known = this.blobRepositories(digest);
    if (known.includes(repository)) return;
    Deno.mkdirSync(`${this.dir}/blobs/repos`, { recursive: true, mode: 0o700 });
    writeFileAtomic(
      `${this.dir}/blobs/repos/${hex(digest)}.json`,
      JSON.stringify([...known, repository]),
    );
  }

  /** A local layer's gzip blob, if one was made and is still kept. */
  compressedLayer(layer: string): CompressedLayer | null {
    try {
      const c = JSON.parse(
        Deno.readTextFileSync(`${this.dir}/layers/${hex(layer)}/gzip.json`),
      ) as CompressedLayer;
      return this.hasBlob(c.digest) ? c : null;
    } catch {
      return null;
    }
  }

  /** Records a local layer's gzip blob (already written with `writeBlob`). */
  setCompressedLayer(layer: string, c: CompressedLayer): void {
    writeFileAtomic(`${this.dir}/layers/${hex(layer)}/gzip.json`, JSON.stringify(c));
  }

  /** True when the layer is fully unpacked (it is renamed into place only when complete). */
  hasLayer(digest: string): boolean {
    try {
      return Deno.statSync(this.layerDiffDir(digest)).isDirectory;
    } catch {
      return false;
    }
  }

  /**
   * Adds a layer by filling a temporary directory with `fill` and renaming it into place,
   * so that a crash or a refused archive never leaves a half layer where a container
   * could use it.
   */
  async addLayer(digest: string, fill: (dir: string) => void | Promise<void>): Promise<void> {
    if (this.hasLayer(digest)) return;
    // Only root reads layers: an image's files keep their owners and setuid bits (Docker's 0700).
    Deno.mkdirSync(`${this.dir}/layers`, { recursive: true, mode: 0o700 });
    const tmp = Deno.makeTempDirSync({ dir: `${this.dir}/layers`, prefix: ".tmp-" });
    try {
      Deno.mkdirSync(`${tmp}/diff`, { mode: 0o755 });
      await fill(`${tmp}/diff`);
      Deno.renameSync(tmp, `${this.dir}/layers/${hex(digest)}`);
      this.ensureLayerLink(digest);
    } catch (e) {
      Deno.removeSync(tmp, { recursive: true });
      if (this.hasLayer(digest)) return; // a concurrent writer won the race
      throw e;
    }
  }

  /**
   * Moves a layer unpacked before its digest was known into place: `tmp` is a directory of
   * the store's `layers` (made with the `.tmp-` prefix, so that a crash leaves it to be
   * pruned) holding the layer as `diff`. One rename, as `addLayer`'s. False when the layer
   * was there already; `tmp` is then the caller's to remove.
   */
  placeLayer(digest: string, tmp: string): boolean {
    if (this.hasLayer(digest)) return false;
    try {
      Deno.renameSync(tmp, `${this.dir}/layers/${hex(digest)}`);
    } catch (e) {
      if (this.hasLayer(digest)) return false; // a concurrent writer won the race
      throw e;
    }
    this.ensureLayerLink(digest);
    return true;
  }

  /**
   * Records a single-layer image made here (the built-in image, `import`): its ID is the
   * digest of its config, as Docker's (the history, which came later, stays out of it, so
   * that IDs are as before). Points `reference` at it and returns it.
   */
  async addSingleLayerImage(
    layer: string,
    config: ImageRunConfig,
    created: string,
    reference: string,
    meta?: { os: string; architecture: string; history?: HistoryEntry[] },
    size = directorySize(this.layerDiffDir(layer)),
  ): Promise<ImageRecord> {
    const { history, ...platform } = meta ?? {};
    const document = { config, rootfs: { diff_ids: [layer] }, created, ...platform };
    const image: ImageRecord = {
      id: await sha256(JSON.stringify(document)),
      layers: [layer],
      config,
      created,
      size,
      ...platform,
      ...(history ? { history } : {}),
    };
    this.addImage(image, reference);
    return image;
  }

  /** Records an image and points `reference` at it. */
  addImage(image: ImageRecord, reference?: string): void {
    Deno.mkdirSync(`${this.dir}/images`, { recursive: true });
    writeFileAtomic(`${this.dir}/images/${hex(image.id)}.json`, JSON.stringify(image));
    if (reference) this.tag(image.id, reference);
  }

  /** Points `reference` (normalised) at an image ID. */
  tag(id: string, reference: string): void {
    this.editReferences((repos) => {
      repos[normalizeReference(reference)] = id;
    });
  }

  /** Removes a reference; returns the image ID it pointed at, or null. */
  untag(reference: string): string | null {
    let id: string | null = null;
    this.editReferences((repos) => {
      const key = normalizeReference(reference);
      id = repos[key] ?? null;
      delete repos[key];
    });
    return id;
  }

  /** Read-modify-write of the reference table under a lock, so concurrent pulls keep both. */
  private editReferences(edit: (repos: Record<string, string>) => void): void {
    Deno.mkdirSync(this.dir, { recursive: true });
    using lock = Deno.openSync(`${this.dir}/.lock`, { read: true, write: true, create: true });
    lock.lockSync(true);
    const repos = this.references();
    edit(repos);
    writeFileAtomic(`${this.dir}/repositories.json`, JSON.stringify(repos, null, 2));
  }

  /** Deletes an image record and every reference to it (its layers stay: see `pruneLayers`). */
  removeImage(id: string): void {
    this.editReferences((repos) => {
      for (const [ref, target] of Object.entries(repos)) if (target === id) delete repos[ref];
    });
    try {
      Deno.removeSync(`${this.dir}/images/${hex(id)}.json`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  /**
   * What builds killed outright left in the store's directory (`makeBuildScratch`): one
   * named for a process that has gone, or, named before names carried their owner, an hour
   * old at least.
   */
  private pruneBuildScratch(): void {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.name.startsWith(".build-")) continue;
      const path = `${this.dir}/${e.name}`;
      try {
        const owner = SCRATCH_OWNER.exec(e.name);
        if (owner) {
          if (isProcessAlive(Number(owner[1]), Number(owner[2]))) continue;
        } else if (Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0) < 60 * 60 * 1000) {
          continue;
        }
        Deno.removeSync(path, { recursive: true });
      } catch { /* gone meanwhile, or still a mount point: the next prune */ }
    }
  }

  /**
   * Deletes every layer that no image uses and whose directory is not in `inUse` (the
   * lower directories of containers), and what interrupted pulls left (`.tmp-*`).
   * Returns the removed layers' digests.
   */
  pruneLayers(inUse: ReadonlySet<string>): string[] {
    const wanted = new Set(this.list().flatMap((i) => i.layers.map(hex)));
    const removed: string[] = [];
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(`${this.dir}/layers`)];
    } catch { /* no layers yet: scratch and blobs may still be there */ }
    for (const e of entries) {
      const path = `${this.dir}/layers/${e.name}`;
      const tmp = e.name.startsWith(".tmp-");
      if (!tmp && (wanted.has(e.name) || inUse.has(`${path}/diff`))) continue;
      try {
        Deno.removeSync(this.layerLink(`sha256:${e.name}`));
      } catch { /* no link */ }
      // A temporary directory may belong to a pull in progress: only old ones are debris.
      if (tmp && Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0) < 60 * 60 * 1000) {
        continue;
      }
      Deno.removeSync(path, { recursive: true });
      if (!tmp) removed.push(`sha256:${e.name}`);
    }
    this.pruneBuildScratch();
    this.pruneBlobs();
    return removed;
  }

  /**
   * Deletes kept blobs that no image's manifest, config or layer names any more (a blob
   * being written is a hidden file, left to age as a layer's temporary directory is).
   */
  private pruneBlobs(): void {
    const wanted = new Set<string>();
    for (const image of this.list()) {
      wanted.add(hex(image.id));
      for (const layer of image.layers) {
        const c = this.compressedLayer(layer);
        if (c) wanted.add(hex(c.digest));
      }
      if (!image.manifest) continue;
      wanted.add(hex(image.manifest.digest));
      const bytes = this.readBlob(image.manifest.digest);
      if (!bytes) continue;
      try {
        const m = JSON.parse(new TextDecoder().decode(bytes)) as {
          config?: { digest: string };
          layers?: Array<{ digest: string }>;
        };
        for (const d of [m.config, ...(m.layers ?? [])]) if (d) wanted.add(hex(d.digest));
      } catch { /* a damaged manifest keeps nothing */ }
    }
    for (const kind of ["sha256", "repos"]) {
      let entries: Deno.DirEntry[] = [];
      try {
        entries = [...Deno.readDirSync(`${this.dir}/blobs/${kind}`)];
      } catch {
        continue;
      }
      for (const e of entries) {
        const path = `${this.dir}/blobs/${kind}/${e.name}`;
        if (e.name.startsWith(".")) { // a download or an atomic write in progress, or debris
          if (Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0) < 60 * 60 * 1000) continue;
        } else if (wanted.has(e.name.replace(/\.json$/, ""))) continue;
        Deno.removeSync(path);
      }
    }
  }

  /** Every reference and the image ID it points at. */
  references(): Record<string, string> {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.dir}/repositories.json`));
    } catch {
      return {};
    }
  }

  /** All images, each with the references pointing at it. */
  list(): Array<ImageRecord & { tags: string[] }> {
    const refs = Object.entries(this.references());
    const out: Array<ImageRecord & { tags: string[] }> = [];
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(`${this.dir}/images`)];
    } catch {
      return out;
    }
    for (const e of entries) {
      if (!e.name.endsWith(".json")) continue;
      const image = this.readImage(`sha256:${e.name.slice(0, -5)}`);
      if (image) {
        out.push({
          ...image,
          tags: refs.filter(([, id]) => id === image.id).map(([r]) => r),
        });
      }
    }
    return out.sort((a, b) => compareStrings(b.created, a.created));
  }

  /** One image by ID, or null. */
  readImage(id: string): ImageRecord | null {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.dir}/images/${hex(id)}.json`));
    } catch {
      return null;
    }
  }

  /** Finds an image by reference, full ID, or unique ID prefix; null if none matches. */
  find(ref: string): ImageRecord | null {
    const byRef = this.references()[normalizeReference(ref)];
    if (byRef) return this.readImage(byRef);
    const h = hex(ref);
    if (/^[0-9a-f]{4,64}$/.test(h)) {
      const matches = this.list().filter((i) => hex(i.id).startsWith(h));
      if (matches.length === 1) return matches[0];
    }
    return null;
  }
}

/** Bytes in regular files under `dir` (an unpacked layer's size). */
export function directorySize(dir: string): number {
  let total = 0;
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) total += directorySize(p);
    else if (e.isFile) total += Deno.lstatSync(p).size;
  }
  return total;
}

/** sha256 of bytes, as `sha256:<hex>`. */
export async function sha256(data: Uint8Array<ArrayBuffer> | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A build scratch directory's name: `.build-KIND-PID.STARTTIME-RANDOM`. */
const SCRATCH_OWNER = /^\.build-[a-z]+-(\d+)\.(\d+)-/;

let ownStart: number | null | undefined;

/**
 * Makes a build's scratch directory (`kind`: what it holds) in the image store's
 * directory `imagesDir`, named for this process (its PID and start time): a prune (every
 * `rmi` runs one) keeps it while the build lives, however long its RUN takes, and removes it
 * once a killed build has left it.
 */
export function makeBuildScratch(imagesDir: string, kind: string): string {
  ownStart ??= processStartTime(Deno.pid);
  return Deno.makeTempDirSync({
    dir: imagesDir,
    prefix: `.build-${kind}-${Deno.pid}.${ownStart}-`,
  });
}
