/**
 * `m-docker build`: a parsed Dockerfile's stages executed on this engine. Each stage starts
 * from its base (an image, `scratch`, or an earlier stage) and takes its instructions in
 * order: a RUN runs in a container and its changes become a layer; COPY and ADD make a layer
 * of the files they bring; the others change the image config and add a history entry.
 * Only the stages the target needs are built.
 *
 * Every step that makes an image first looks in the layer cache: a step is reused when its
 * parent image, its instruction (as substituted) and, for COPY and ADD, the content of what
 * it copies are the same (src/build/cache.ts). `noCache` skips the lookup.
 *
 * With `sourceDateEpoch` (SOURCE_DATE_EPOCH, as BuildKit reads it) every layer's times are
 * clamped to it and every `created` is it: the same inputs then give the same image ID.
 *
 * @module
 */

import type { Engine } from "../engine.ts";
import { resolveImage } from "../engine.ts";
import type { ImageRecord, ImageRunConfig } from "../image/store.ts";
import type { NetworkSpec } from "../config/network.ts";
import { DEFAULT_NETWORK, defaultNetworkSpec, parseNetworkMode } from "../config/network.ts";
import { BuildCache } from "./cache.ts";
import { addDirectoryLayer, stageFrom, type StageImage, storeStageImage } from "./image.ts";
import { copyInto, copyKey, type CopyRequest, matchSources } from "./copy_step.ts";
import { runInContainer } from "./run_step.ts";
import type { BuildProgress } from "./progress.ts";
import { withImageRoot } from "./image_root.ts";

/** One instruction of a stage, substituted, as the executor takes it. */
export type BuildInstruction =
  | {
    kind: "run";
    /** The instruction as written in history and shown in progress (`RUN echo hi`). */
    text: string;
    /** Shell form: the command line, run by the stage's SHELL. */
    shell?: string;
    /** Exec form: the argv. */
    exec?: string[];
    /** Build args in scope, `KEY=value`: in the command's environment, not the image's. */
    buildEnv: string[];
    /** `RUN --network=none|host|default`; absent: the build's. */
    network?: string;
  }
  | {
    kind: "copy";
    text: string;
    add: boolean;
    sources: string[];
    /** As written; relative to the stage's WORKDIR when not absolute. */
    dest: string;
    /** `--from=STAGE|IMAGE`. */
    from?: string;
    /** `--chown=UID[:GID]` (numeric here; names are resolved by the caller or refused). */
    chown?: { uid: number; gid: number };
    chmod?: number;
  }
  | {
    kind: "config";
    text: string;
    /** Changes the stage's config (ENV, CMD, USER, ...). */
    apply: (config: ImageRunConfig) => void;
    /** No history entry (ARG, as BuildKit). */
    silent?: boolean;
  };

/** A stage of the Dockerfile. */
export interface BuildStage {
  /** `AS name`, lower case. */
  name?: string;
  /** The base: an image reference, `scratch`, or an earlier stage's name or index. */
  from: string;
  /** FROM's own line, for progress. */
  fromText: string;
  instructions: BuildInstruction[];
}

/** What to build and how. */
export interface BuildOptions {
  stages: BuildStage[];
  /** The stage to build (name or index); default the last. */
  target?: string;
  /** The context directory (a COPY's source root). */
  context: string;
  /** The .dockerignore's verdict on a context path; absent: everything is sent. */
  allowed?: (rel: string) => boolean;
  noCache?: boolean;
  /** Pull every base image again (`--pull`). */
  pull?: boolean;
  /** The build's network (`--network`); default bridge, as Docker's. */
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
  const stages = opts.stages;
  if (stages.length === 0) throw new BuildStepError("the Dockerfile has no FROM");
  const targetIndex = stageIndex(stages, opts.target ?? String(stages.length - 1), true)!;
  const needed = neededStages(stages, targetIndex);
  const cache = new BuildCache(engine.roots.root);
  const built = new Map<number, ImageRecord>();
  const created = opts.sourceDateEpoch !== undefined
    ? new Date(opts.sourceDateEpoch * 1000).toISOString()
    : undefined;
  const now = () => created ?? new Date().toISOString();
  const clamp = opts.sourceDateEpoch;
  const network = opts.network ?? networkFor(undefined);
  let last: ImageRecord | undefined;
  for (const index of needed) {
    const stage = stages[index];
    const label = stages.length > 1 ? `${stage.name ?? `stage-${index}`} ` : "";
    const total = stage.instructions.filter((i) => !(i.kind === "config" && i.silent)).length + 1;
    let n = 1;
    const stepName = (text: string) => `[${label}${n}/${total}] ${text}`;
    // FROM
    const fromStep = opts.progress.step(stepName(stage.fromText));
    const baseIndex = stageIndex(stages, stage.from, false, index);
    let base: ImageRecord | null;
    if (baseIndex !== undefined) base = built.get(baseIndex)!;
    else if (stage.from.toLowerCase() === "scratch") base = null;
    else {
      base = await resolveImage(
        engine,
        stage.from,
        opts.pull ? "always" : "missing",
        (line) => fromStep.log(line),
      );
    }
    fromStep.done();
    let image: StageImage = stageFrom(base);
    let current: ImageRecord | null = base;
    for (const ins of stage.instructions) {
      if (ins.kind === "config" && ins.silent) {
        ins.apply(image.config);
        continue;
      }
      n++;
      const step = opts.progress.step(stepName(ins.text));
      try {
        if (ins.kind === "config") {
          // Cached too: a new `created` would make a new image, and every later step miss.
          const key = await cache.key([current?.id ?? "scratch", ins.text]);
          const hit = opts.noCache ? null : cache.lookup(engine.images, key);
          if (hit) {
            current = hit;
            image = stageFrom(hit);
            step.cached();
            continue;
          }
          ins.apply(image.config);
          image.history.push({ created: now(), created_by: ins.text, empty_layer: true });
          current = await storeStageImage(engine.images, image, now());
          cache.store(key, current.id);
          step.done();
          continue;
        }
        // Steps that make a layer: the cache first.
        const parentId = current?.id ?? "scratch";
        let keyParts: string[];
        let copy: { root: string; request: CopyRequest; fromImage?: ImageRecord } | undefined;
        if (ins.kind === "copy") {
          copy = await copySource(engine, ins, image, stages, built, index, opts);
          const matchedKey = withRoot(engine, copy, (root) => {
            const matched = matchSources(root, copy!.request.sources, allowedFor(copy!, opts));
            return copyKey(root, matched, copy!.request, allowedFor(copy!, opts));
          });
          keyParts = [parentId, ins.text, matchedKey];
        } else {
          keyParts = [parentId, ins.text, ...ins.buildEnv, ins.network ?? ""];
        }
        const key = await cache.key(keyParts);
        const hit = opts.noCache ? null : cache.lookup(engine.images, key);
        if (hit) {
          current = hit;
          image = stageFrom(hit);
          step.cached();
          continue;
        }
        const started = Date.now();
        let layer: { digest: string; size: number } | null;
        if (ins.kind === "run") {
          const argv = ins.exec ?? [...(image.config.Shell ?? ["/bin/sh", "-c"]), ins.shell!];
          const stepImage = current ?? await storeStageImage(engine.images, image, now());
          layer = await runInContainer(
            engine,
            stepImage,
            {
              argv,
              env: ins.buildEnv,
              network: ins.network ? networkFor(ins.network) : network,
            },
            (chunk) => step.output(chunk, Date.now() - started),
            async (state) =>
              await addDirectoryLayer(engine.images, state.rootfs.upperDir, {
                exclude: (rel, info) => PLACED.has(rel) && info.isFile && info.size === 0,
                clampMtime: clamp,
                lowerDirs: state.rootfs.lowerDirs,
              }),
            opts.signal,
          );
        } else {
          const tmp = Deno.makeTempDirSync({ dir: engine.images.dir, prefix: ".build-" });
          try {
            const allowed = allowedFor(copy!, opts);
            withRoot(engine, copy!, (root) => {
              const matched = matchSources(root, copy!.request.sources, allowed);
              copyInto(tmp, root, matched, copy!.request, allowed);
            });
            layer = await addDirectoryLayer(engine.images, tmp, { clampMtime: clamp });
          } finally {
            Deno.removeSync(tmp, { recursive: true });
          }
        }
        if (layer) {
          image.layers.push(layer.digest);
          image.size += layer.size;
          image.history.push({ created: now(), created_by: ins.text });
        } else {
          image.history.push({ created: now(), created_by: ins.text, empty_layer: true });
        }
        current = await storeStageImage(engine.images, image, now());
        cache.store(key, current.id);
        step.done();
      } catch (e) {
        step.error((e as Error).message);
        throw new BuildStepError(`${stepName(ins.text)}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (index === targetIndex && opts.labels && Object.keys(opts.labels).length) {
      // `--label`s: on the final image only, as a last config change (cached like one).
      const labels = opts.labels;
      const key = await cache.key([current?.id ?? "scratch", "LABEL", JSON.stringify(labels)]);
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
    built.set(index, current);
    last = current;
  }
  return last!;
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

/** A stage named by `ref` (its name, or its index), before `before` when given. */
function stageIndex(
  stages: readonly BuildStage[],
  ref: string,
  required: boolean,
  before = stages.length,
): number | undefined {
  const lower = ref.toLowerCase();
  for (let i = 0; i < before; i++) if (stages[i].name === lower) return i;
  if (/^\d+$/.test(ref) && Number(ref) < before) return Number(ref);
  if (required) throw new BuildStepError(`target stage "${ref}" could not be found`);
  return undefined;
}

/** The stages the target needs (through FROM and COPY --from), in Dockerfile order. */
export function neededStages(stages: readonly BuildStage[], target: number): number[] {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i)) return;
    need.add(i);
    const from = stageIndex(stages, stages[i].from, false, i);
    if (from !== undefined) visit(from);
    for (const ins of stages[i].instructions) {
      if (ins.kind !== "copy" || ins.from === undefined) continue;
      const dep = stageIndex(stages, ins.from, false, i);
      if (dep !== undefined) visit(dep);
    }
  };
  visit(target);
  return [...need].sort((a, b) => a - b);
}

/** Where a COPY reads from: the context, or a stage's or image's root (mounted later). */
async function copySource(
  engine: Engine,
  ins: Extract<BuildInstruction, { kind: "copy" }>,
  image: StageImage,
  stages: readonly BuildStage[],
  built: ReadonlyMap<number, ImageRecord>,
  index: number,
  opts: BuildOptions,
): Promise<{ root: string; request: CopyRequest; fromImage?: ImageRecord }> {
  const workdir = image.config.WorkingDir || "/";
  const dest = ins.dest.startsWith("/") ? ins.dest : `${workdir.replace(/\/+$/, "")}/${ins.dest}`;
  const request: CopyRequest = {
    sources: ins.sources,
    dest,
    chown: ins.chown,
    chmod: ins.chmod,
    keepOwners: ins.from !== undefined && ins.chown === undefined,
  };
  if (ins.from === undefined) return { root: opts.context, request };
  const dep = stageIndex(stages, ins.from, false, index);
  const fromImage = dep !== undefined ? built.get(dep)! : await resolveImage(engine, ins.from);
  return { root: "", request, fromImage };
}

function allowedFor(
  copy: { fromImage?: ImageRecord },
  opts: BuildOptions,
): (rel: string) => boolean {
  return copy.fromImage ? () => true : (opts.allowed ?? (() => true));
}

/** Runs `fn` (sync) with the copy's source root: the context, or an image's files mounted. */
function withRoot<T>(
  engine: Engine,
  copy: { root: string; fromImage?: ImageRecord },
  fn: (root: string) => T,
): T {
  if (!copy.fromImage) return fn(copy.root);
  return withImageRoot(engine.images, copy.fromImage, fn);
}
