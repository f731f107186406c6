/**
 * `m-docker build`: a parsed Dockerfile's stages executed on this engine. Each stage starts
 * from its base (an image, `scratch`, or an earlier stage) and takes its instructions in
 * order: a RUN runs in a container and its changes become a layer; COPY and ADD make a layer
 * of the files they bring; the others change the image config and add a history entry.
 * Only the stages the target needs are built.
 *
 * Every step that makes an image first looks in the layer cache: a step is reused when its
 * parent image, its instruction (as substituted) and, for COPY and ADD, the content of what
 * it copies (for a RUN, of what its bind mounts bind) are the same (src/build/cache.ts). `noCache` skips the lookup.
 *
 * With `sourceDateEpoch` (SOURCE_DATE_EPOCH, as BuildKit reads it) every layer's times are
 * clamped to it and every `created` is it: the same inputs then give the same image ID.
 *
 * @module
 */

import type { Engine } from "../engine.ts";
import { resolveImage } from "../engine.ts";
import { type ImageRecord, makeBuildScratch } from "../image/store.ts";
import type { NetworkSpec } from "../config/network.ts";
import { DEFAULT_NETWORK, defaultNetworkSpec, parseNetworkMode } from "../config/network.ts";
import { BuildCache } from "./cache.ts";
import { addDirectoryLayer, stageFrom, type StageImage, storeStageImage } from "./image.ts";
import {
  copyInto,
  copyKey,
  type CopyRequest,
  CopySourceError,
  matchSources,
  unpackArchive,
} from "./copy_step.ts";
import { runInContainer } from "./run_step.ts";
import {
  checkMounts,
  type MountInputs,
  mountsKey,
  prepareMounts,
  removeMountStubs,
} from "./run_mounts.ts";
import type { BuildProgress, StepProgress } from "./progress.ts";
import { withImageRoot } from "./image_root.ts";
import {
  type BuildPlan,
  type ConfigInstruction,
  type CopyInstruction,
  isRemoteSource,
  type RunInstruction,
  type Stage,
} from "./dockerfile.ts";
import { imageHistory } from "../image/history.ts";

/** What to build and how. */
export interface BuildOptions {
  /** The parsed Dockerfile (src/build/dockerfile.ts): the stages the target needs. */
  plan: BuildPlan;
  /** The context directory (a COPY's source root). */
  context: string;
  /** The .dockerignore's verdict on a context path; absent: everything is sent. */
  allowed?: (rel: string) => boolean;
  noCache?: boolean;
  /** Pull every base image again (`--pull`). */
  pull?: boolean;
  /**
   * The images FROM and COPY --from name, already found or pulled (by `loadBuild`): used as
   * they are, so that `--pull` asks the registry once and the build runs on the images whose
   * configs the plan was made with. A reference not here is resolved as `pull` says.
   */
  images?: ReadonlyMap<string, ImageRecord>;
  /**
   * The context is empty because the Dockerfile came alone on stdin: a COPY from it says so
   * when it finds nothing.
   */
  noContext?: boolean;
  /** The build's network (`--network`); default the engine's default, as `run`'s. */
  network?: NetworkSpec;
  /** Labels added to the final image (`--label`). */
  labels?: Record<string, string>;
  /** SOURCE_DATE_EPOCH, in seconds. */
  sourceDateEpoch?: number;
  progress: BuildProgress;
  /** Aborts the build (Ctrl-C): the running step's container is killed and removed. */
  signal?: AbortSignal;
}

/** A build error that names the step (`[2/3] RUN false`). */
export class BuildStepError extends Error {
  override name = "BuildStepError";
}

/** Builds the target stage; returns its image (untagged: the caller tags it). */
export async function buildImage(engine: Engine, opts: BuildOptions): Promise<ImageRecord> {
  const plan = opts.plan;
  const byIndex = new Map(plan.stages.map((st) => [st.index, st]));
  const cache = new BuildCache(engine.roots.root);
  const built = new Map<number, ImageRecord>();
  const created = opts.sourceDateEpoch !== undefined
    ? new Date(opts.sourceDateEpoch * 1000).toISOString()
    : undefined;
  const now = () => created ?? new Date().toISOString();
  const clamp = opts.sourceDateEpoch;
  const network = opts.network ?? networkFor(undefined);
  const many = plan.stages.length > 1;
  // A RUN mount's from=: a stage built already, or an image resolved once per build.
  const resolved = new Map<string, Promise<ImageRecord>>();
  const mountInputs: MountInputs = {
    context: opts.context,
    allowed: opts.allowed,
    images: engine.images,
    cache,
    image: (from) => {
      if (from.kind === "stage") return Promise.resolve(built.get(from.index)!);
      let p = resolved.get(from.ref);
      if (!p) {
        p = resolveImage(engine, from.ref, opts.pull ? "always" : "missing");
        resolved.set(from.ref, p);
      }
      return p;
    },
  };
  /** Builds one stage, once every stage it needs is in `built`. */
  const buildStage = async (stage: Stage, signal: AbortSignal): Promise<ImageRecord> => {
    const index = stage.index;
    const label = many ? `${stage.name ?? `stage-${index}`} ` : "";
    const counted = stage.instructions.filter((i) => i.kind !== "arg");
    const total = counted.length + 1;
    let n = 1;
    const stepName = (text: string) => `[${label}${n}/${total}] ${text}`;
    const fromStep = opts.progress.step(stepName(fromText(stage)));
    let base: ImageRecord | null;
    if (stage.base.kind === "stage") base = built.get(stage.base.index)!;
    else if (stage.base.kind === "scratch") base = null;
    else {
      base = opts.images?.get(stage.base.ref) ?? await resolveImage(
        engine,
        stage.base.ref,
        opts.pull ? "always" : "missing",
        (line) => fromStep.log(line),
      );
    }
    fromStep.done();
    let image: StageImage = stageFrom(base);
    // A pulled base keeps its history in its config blob, not in its record.
    if (base) image.history = structuredClone(imageHistory(engine.images, base));
    let current: ImageRecord | null = base;
    /** Reuses the image a step with `key` made, if the cache has it. */
    const fromCache = (key: string, step: StepProgress): boolean => {
      const hit = opts.noCache ? null : cache.lookup(engine.images, key);
      if (!hit) return false;
      current = hit;
      image = stageFrom(hit);
      step.cached();
      return true;
    };
    for (const ins of stage.instructions) {
      if (ins.kind === "arg") continue; // in the RUNs' environment only, as BuildKit
      n++;
      const step = opts.progress.step(stepName(ins.text));
      try {
        const parentId: string = (current as ImageRecord | null)?.id ?? "scratch";
        if (ins.kind === "run" || ins.kind === "copy" || ins.kind === "add") {
          let layer: { digest: string; size: number } | null;
          let createdBy = ins.text;
          let key: string;
          if (ins.kind === "run") {
            refuseRunFeatures(ins);
            // The argv too: a heredoc's body is not in the instruction's text. A bind
            // mount's content is the step's input, as a COPY's source is.
            key = await cache.key([
              parentId,
              ins.text,
              JSON.stringify(ins.argv),
              ins.script?.data ?? "",
              ...ins.env,
              ins.network ?? "",
              ...await mountsKey(ins.mounts, mountInputs),
            ]);
            if (fromCache(key, step)) continue;
            createdBy = `RUN ${ins.argv.join(" ")}`;
            const stepImage = current ?? await storeStageImage(engine.images, image, now());
            const mounts = await prepareMounts(ins.mounts, mountInputs, signal);
            try {
              const started = Date.now();
              layer = await runInContainer(
                engine,
                stepImage,
                {
                  argv: ins.argv,
                  env: ins.env,
                  network: ins.network ? networkFor(ins.network) : network,
                  mounts: mounts.mounts,
                  tmpfs: mounts.tmpfs,
                  // A `#!` heredoc: its script is a file in /dev, the layer never has it.
                  files: ins.script ? [ins.script] : undefined,
                },
                (chunk) => step.output(chunk, Date.now() - started),
                async (state) => {
                  removeMountStubs(state.rootfs.upperDir, state.rootfs.lowerDirs, mounts.targets);
                  return await addDirectoryLayer(engine.images, state.rootfs.upperDir, {
                    exclude: (rel, info) => PLACED.has(rel) && info.isFile && info.size === 0,
                    clampMtime: clamp,
                    lowerDirs: state.rootfs.lowerDirs,
                  });
                },
                signal,
              );
            } finally {
              mounts.release();
            }
          } else {
            const copy = await copyPlan(engine, ins, current, built, opts);
            key = await cache.key([parentId, ins.text, copy.key]);
            if (fromCache(key, step)) {
              copy.dispose();
              continue;
            }
            try {
              layer = await copy.layer(clamp);
            } finally {
              copy.dispose();
            }
          }
          if (layer) {
            image.layers.push(layer.digest);
            image.size += layer.size;
            image.history.push({ created: now(), created_by: createdBy });
          } else {
            image.history.push({ created: now(), created_by: createdBy, empty_layer: true });
          }
          current = await storeStageImage(engine.images, image, now());
          cache.store(key, current.id);
          step.done();
          continue;
        }
        // Config steps are cached too: a new `created` would make a new image, and every
        // later step miss.
        const key = await cache.key([parentId, ins.text]);
        if (fromCache(key, step)) continue;
        image.config = structuredClone((ins as ConfigInstruction).config);
        image.history.push({ created: now(), created_by: ins.text, empty_layer: true });
        current = await storeStageImage(engine.images, image, now());
        cache.store(key, current.id);
        step.done();
      } catch (e) {
        step.error((e as Error).message);
        throw new BuildStepError(`${stepName(ins.text)}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (index === plan.target && opts.labels && Object.keys(opts.labels).length) {
      // `--label`s: on the final image only, as a last config change (cached like one).
      const labels = opts.labels;
      const key = await cache.key([
        (current as ImageRecord | null)?.id ?? "scratch",
        "LABEL",
        JSON.stringify(labels),
      ]);
      const hit = opts.noCache ? null : cache.lookup(engine.images, key);
      if (hit) current = hit;
      else {
        image.config.Labels = { ...image.config.Labels, ...labels };
        current = await storeStageImage(engine.images, image, now());
        cache.store(key, current.id);
      }
    }
    // A stage of FROM alone is its base image itself.
    current ??= await storeStageImage(engine.images, image, now());
    return current;
  };

  // Stages that do not need each other build at the same time, each as soon as the stages
  // it needs are built (plan.order has those first). The first to fail stops the others,
  // and the build returns only when every stage has stopped: a failed build leaves no step
  // container running.
  const stop = new AbortController();
  const stopAll = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", stopAll, { once: true });
  if (opts.signal?.aborted) stopAll();
  let firstError: unknown;
  const tasks = new Map<number, Promise<void>>();
  for (const index of plan.order) {
    const stage = byIndex.get(index)!;
    const needs = stageDependencies(stage).map((d) => tasks.get(d)!);
    tasks.set(
      index,
      (async () => {
        try {
          await Promise.all(needs);
          stop.signal.throwIfAborted();
          built.set(index, await buildStage(stage, stop.signal));
        } catch (e) {
          if (!stop.signal.aborted) {
            firstError = e;
            stop.abort(e);
          }
          throw e;
        }
      })(),
    );
  }
  const settled = await Promise.allSettled(tasks.values());
  opts.signal?.removeEventListener("abort", stopAll);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw firstError ?? (failed as PromiseRejectedResult).reason;
  return built.get(plan.target)!;
}

/** The stages `stage` needs built before it: its FROM, COPY --from and RUN --mount from=. */
function stageDependencies(stage: Stage): number[] {
  const out = new Set(stage.needs);
  if (stage.base.kind === "stage") out.add(stage.base.index);
  for (const ins of stage.instructions) {
    if ((ins.kind === "copy" || ins.kind === "add") && ins.from?.kind === "stage") {
      out.add(ins.from.index);
    }
    if (ins.kind === "run") {
      for (const m of ins.mounts) if (m.from?.kind === "stage") out.add(m.from.index);
    }
  }
  out.delete(stage.index);
  return [...out];
}

/** FROM's line as progress shows it. */
function fromText(stage: Stage): string {
  const base = stage.base.kind === "image"
    ? stage.base.ref
    : stage.base.kind === "scratch"
    ? "scratch"
    : `stage ${stage.base.index}`;
  return `FROM ${base}${stage.name ? ` AS ${stage.name}` : ""}`;
}

/** What a RUN may ask for that this engine does not do yet: refused, not ignored. */
function refuseRunFeatures(ins: RunInstruction): void {
  checkMounts(ins.mounts);
  if (ins.security === "insecure") {
    throw new Error("RUN --security=insecure is not supported by m-docker build");
  }
}

/** Files m-docker placed in every container's upper layer as mount points. */
const PLACED = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf"]);

/**
 * `--network` of the build or of one RUN (`default` is the engine's default network:
 * M_DOCKER_DEFAULT_NETWORK, as for `run`, else Docker's bridge).
 */
export function networkFor(mode: string | undefined): NetworkSpec {
  const name = mode === undefined || mode === "default"
    ? Deno.env.get("M_DOCKER_DEFAULT_NETWORK") || DEFAULT_NETWORK
    : mode;
  return { ...defaultNetworkSpec(), mode: parseNetworkMode(name) };
}

/** A COPY or ADD ready to run: its cache key, and how to make its layer. */
interface CopyPlan {
  key: string;
  layer(clamp: number | undefined): Promise<{ digest: string; size: number } | null>;
  dispose(): void;
}

/**
 * Plans a COPY or ADD: where its sources are (the context; a stage's or image's root,
 * mounted only while it is read; a temporary directory for heredoc contents and fetched
 * URLs), the request in the copier's terms, and the digest of what it copies.
 */
async function copyPlan(
  engine: Engine,
  ins: CopyInstruction,
  current: ImageRecord | null,
  built: ReadonlyMap<number, ImageRecord>,
  opts: BuildOptions,
): Promise<CopyPlan> {
  if (ins.kind === "add" && ins.sources.some(isRemoteSource) && ins.sources.length > 1) {
    throw new Error("ADD takes one URL at a time here");
  }
  const fromImage = ins.from === undefined
    ? undefined
    : ins.from.kind === "stage"
    ? built.get(ins.from.index)!
    : opts.images?.get(ins.from.ref) ??
      await resolveImage(engine, ins.from.ref, opts.pull ? "always" : "missing");
  const owner = ins.chown === undefined
    ? undefined
    : await resolveOwner(engine, current, ins.chown);
  const chmod = ins.chmod === undefined ? undefined : parseChmod(ins.chmod);
  // Heredoc contents and remote files are written to a directory of their own first.
  let scratch: string | undefined;
  let root = opts.context;
  let sources = ins.sources;
  let allowed = opts.allowed ?? (() => true);
  if (ins.contents.length || (ins.kind === "add" && sources.some(isRemoteSource))) {
    const dir = scratch = makeBuildScratch(engine.images.dir, "src");
    root = dir;
    allowed = () => true;
    try {
      for (const c of ins.contents) Deno.writeTextFileSync(`${dir}/${c.path}`, c.data);
      sources = ins.contents.map((c) => c.path);
      if (ins.kind === "add" && ins.sources.some(isRemoteSource)) {
        sources = [await fetchSource(ins.sources[0], dir, ins.checksum)];
      }
    } catch (e) {
      // A fetch that failed (or a digest that did not match) leaves nothing in the store.
      Deno.removeSync(dir, { recursive: true });
      throw e;
    }
  }
  const request: CopyRequest = {
    sources,
    dest: ins.dest,
    chown: owner,
    chmod,
    keepOwners: fromImage !== undefined && owner === undefined,
    // ADD unpacks a local tar archive (not a fetched one), unless --unpack=false.
    unpack: ins.kind === "add" && !ins.sources.some(isRemoteSource) && ins.unpack !== false,
  };
  if (ins.exclude.length) request.exclude = ins.exclude;
  if (ins.parents) request.parents = true;
  const withSources = <T>(fn: (root: string) => T): T =>
    fromImage ? withImageRoot(engine.images, fromImage, fn) : fn(root);
  const dispose = () => {
    if (scratch) Deno.removeSync(scratch, { recursive: true });
  };
  // From an empty context (a Dockerfile alone on stdin), "not found" says why.
  const fromNoContext = opts.noContext && !fromImage && !scratch;
  const matched: typeof matchSources = (...args) => {
    try {
      return matchSources(...args);
    } catch (e) {
      if (!fromNoContext || !(e instanceof CopySourceError)) throw e;
      throw new CopySourceError(
        `${e.message} (no build context: the Dockerfile came alone on stdin)`,
      );
    }
  };
  try {
    const key = withSources((r) =>
      copyKey(r, matched(r, request.sources, fromImage ? undefined : allowed), request, allowed)
    );
    return {
      key,
      async layer(clamp) {
        const tmp = makeBuildScratch(engine.images.dir, "copy");
        try {
          const archives = withSources((r) =>
            copyInto(
              tmp,
              r,
              matched(r, request.sources, fromImage ? undefined : allowed),
              request,
              allowed,
            )
          );
          for (const a of archives) await unpackArchive(a);
          return await addDirectoryLayer(engine.images, tmp, { clampMtime: clamp });
        } finally {
          Deno.removeSync(tmp, { recursive: true });
        }
      },
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

/** `--chmod=0640` (octal). */
function parseChmod(text: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new Error(`invalid --chmod value: ${text}`);
  return parseInt(text, 8);
}

/**
 * `--chown=USER[:GROUP]`: numbers as they are; names looked up in the stage's
 * /etc/passwd and /etc/group (a group defaults to the user's primary one, as Docker's).
 */
async function resolveOwner(
  engine: Engine,
  image: ImageRecord | null,
  spec: string,
): Promise<{ uid: number; gid: number }> {
  const [user, group] = spec.split(":");
  const numeric = (s: string) => /^\d+$/.test(s);
  if (numeric(user) && (group === undefined || numeric(group))) {
    return { uid: Number(user), gid: Number(group ?? user) };
  }
  const read = (path: string) => {
    if (!image) return "";
    return withImageRoot(engine.images, image, (r) => {
      try {
        return Deno.readTextFileSync(`${r}${path}`);
      } catch {
        return "";
      }
    });
  };
  const { resolveUser } = await import("../rootfs/user.ts");
  const ids = resolveUser(spec, read);
  return { uid: ids.uid, gid: ids.gid };
}

/** The digests `ADD --checksum` takes, by their Web Crypto names. */
const CHECKSUM_ALGORITHMS: Record<string, string> = {
  sha256: "SHA-256",
  sha384: "SHA-384",
  sha512: "SHA-512",
};

/**
 * ADD of a URL: fetched into `dir` under the last component of its path (`index.html` when
 * it has none), mode 0600 and the time of its Last-Modified header (now without one), as
 * Docker's; its digest checked against `checksum` (`sha256:HEX`) when one is given.
 */
async function fetchSource(url: string, dir: string, checksum?: string): Promise<string> {
  if (!/^https?:\/\//i.test(url)) throw new Error(`ADD of ${url} is not supported (git, ssh)`);
  let algorithm: string | undefined;
  if (checksum) {
    const m = /^([a-z0-9]+):[0-9a-f]+$/.exec(checksum);
    algorithm = m ? CHECKSUM_ALGORITHMS[m[1]] : undefined;
    if (!algorithm) {
      throw new Error(
        `unsupported checksum ${JSON.stringify(checksum)}: sha256:HEX, sha384: or sha512:`,
      );
    }
  }
  const last = new URL(url).pathname.split("/").filter((p) => p).pop();
  let name = last ?? "index.html";
  try {
    name = decodeURIComponent(name);
  } catch { /* not percent-encoding: the name as it is */ }
  // A name that would leave the directory (an encoded `/`, `..`) is not one.
  if (name.includes("/") || name === "." || name === ".." || name.includes("\0")) {
    throw new Error(`cannot take a file name from ${url}`);
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`failed to fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`failed to fetch ${url}: ${res.status} ${res.statusText}`);
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (checksum && algorithm) {
    const hash = new Uint8Array(await crypto.subtle.digest(algorithm, body));
    const hex = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
    const got = `${checksum.split(":")[0]}:${hex}`;
    if (got !== checksum) throw new Error(`checksum mismatch: expected ${checksum}, got ${got}`);
  }
  const path = `${dir}/${name}`;
  Deno.writeFileSync(path, body, { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
  const modified = Date.parse(res.headers.get("last-modified") ?? "");
  if (!Number.isNaN(modified)) Deno.utimeSync(path, new Date(modified), new Date(modified));
  return name;
}
