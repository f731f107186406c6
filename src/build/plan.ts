/**
 * What `build` reads before it runs anything: the context (a directory, or `-`: a tar
 * archive, plain or gzip, or a Dockerfile alone on stdin, unpacked into a temporary
 * directory), the Dockerfile (`-f`, inside the archive for `-`; `-f -` reads it from stdin;
 * else the context's `Dockerfile`), its .dockerignore, and the plan, parsed
 * twice: once to learn the base images, which are then found or pulled, and again with
 * their configs, whose Env, WorkingDir, Shell and ONBUILD triggers the plan depends on.
 *
 * @module
 */

import type { Engine } from "../engine.ts";
import { resolveImage } from "../engine.ts";
import type { ImageRecord } from "../image/store.ts";
import { type BuildPlan, parseDockerfile, type StageConfig } from "./dockerfile.ts";
import { IgnoreMatcher, loadIgnorePatterns } from "./ignore.ts";

/** A build's inputs, ready for `buildImage`. */
export interface LoadedBuild {
  plan: BuildPlan;
  /** The context directory. */
  context: string;
  /** The .dockerignore's verdict: false for what the context does not send. */
  allowed: (rel: string) => boolean;
  /** Warnings to show (unused build args, ignored directives). */
  warnings: string[];
  /** The images the plan names, found or pulled once (`--pull`: pulled), by reference. */
  images: Map<string, ImageRecord>;
  /** The context is empty: the Dockerfile came alone on stdin. */
  noContext: boolean;
  /** Removes a context unpacked from stdin. */
  dispose(): void;
}

/** What `loadBuild` is told besides the context. */
export interface LoadOptions {
  /** `-f`: the Dockerfile's path; `-` reads it from stdin. */
  dockerfile?: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** Pull base images even when present (`--pull`). */
  pull?: boolean;
  /** Where pull progress goes. */
  progress?: (line: string) => void;
}

/** Reads the context and the Dockerfile and plans the build. */
export async function loadBuild(
  engine: Engine,
  contextArg: string,
  opts: LoadOptions,
): Promise<LoadedBuild> {
  let context = contextArg;
  let dockerfileText: string | undefined;
  let scratch: string | undefined;
  let noContext = false;
  const dispose = () => {
    if (scratch) Deno.removeSync(scratch, { recursive: true });
  };
  try {
    if (contextArg === "-" && opts.dockerfile === "-") {
      throw new Error("invalid argument: can't use stdin for both build context and dockerfile");
    }
    let file: string;
    let shownFile: string;
    if (contextArg === "-") {
      const bytes = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
      scratch = Deno.makeTempDirSync({ prefix: "m-docker-build-" });
      context = scratch;
      const archive = await contextArchive(bytes);
      if (archive) {
        const { applyLayer } = await import("../image/layer_apply.ts");
        await applyLayer([archive], context, "files");
      } else {
        dockerfileText = new TextDecoder().decode(bytes);
        noContext = true;
      }
      // `-f` names a file in the archive, never one of the current directory.
      const inside = opts.dockerfile ?? "Dockerfile";
      const parts = inside.split("/").filter((p) => p !== "" && p !== ".");
      if (parts.includes("..")) {
        throw new Error(`the Dockerfile (${inside}) must be within the build context`);
      }
      file = `${context}/${parts.join("/")}`;
      shownFile = inside;
    } else {
      let info: Deno.FileInfo;
      try {
        info = Deno.statSync(contextArg);
      } catch {
        throw new Error(`unable to prepare context: path "${contextArg}" not found`);
      }
      if (!info.isDirectory) {
        throw new Error(`unable to prepare context: path "${contextArg}" is not a directory`);
      }
      context = Deno.realPathSync(contextArg);
      if (opts.dockerfile === "-") {
        // `-f -`: the Dockerfile on stdin, the context's .dockerignore still applies.
        dockerfileText = await new Response(Deno.stdin.readable).text();
        file = `${context}/Dockerfile`;
      } else {
        file = opts.dockerfile === undefined
          ? `${context}/Dockerfile`
          : dockerfilePath(opts.dockerfile, context);
      }
      shownFile = file;
    }
    if (dockerfileText === undefined) {
      try {
        dockerfileText = Deno.readTextFileSync(file);
      } catch {
        throw new Error(`failed to read dockerfile: open ${shownFile}: no such file or directory`);
      }
    }
    const name = opts.dockerfile && opts.dockerfile !== "-"
      ? opts.dockerfile.split("/").pop()!
      : "Dockerfile";
    const parse = (baseImage?: (ref: string) => StageConfig | undefined) =>
      parseDockerfile(dockerfileText!, {
        file: name,
        buildArgs: opts.buildArgs,
        target: opts.target,
        baseImage,
      });
    // First for the images it names, then with their configs.
    const first = parse();
    const configs = new Map<string, StageConfig>();
    const images = new Map<string, ImageRecord>();
    for (const ref of first.images) {
      if (ref.toLowerCase() === "scratch") continue;
      const image = await resolveImage(
        engine,
        ref,
        opts.pull ? "always" : "missing",
        opts.progress,
      );
      configs.set(ref, image.config);
      images.set(ref, image);
    }
    const plan = parse((ref) => configs.get(ref));
    const ignore = new IgnoreMatcher(loadIgnorePatterns(context, file));
    const warnings = [...plan.notes];
    return {
      plan,
      context,
      // The Dockerfile and .dockerignore always reach the build, as Docker's do.
      allowed: (rel) => rel === "Dockerfile" || rel === ".dockerignore" || !ignore.excludes(rel),
      warnings,
      images,
      noContext,
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

/** `-f`: relative to the current directory when it is there, else to the context. */
function dockerfilePath(path: string, context: string): string {
  if (path.startsWith("/")) return path;
  try {
    Deno.statSync(path);
    return Deno.realPathSync(path);
  } catch {
    return `${context}/${path}`;
  }
}

/** A tar archive (`ustar` at 257) rather than a Dockerfile. */
function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 &&
    new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar";
}

/** Compressions Docker takes a context in and this engine does not (its magic numbers). */
const UNSUPPORTED_COMPRESSIONS: Array<[string, number[]]> = [
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

/**
 * What came on stdin as a tar archive (a gzip one uncompressed), or null when it is not
 * one: a Dockerfile alone, as Docker tells them apart.
 */
async function contextArchive(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
  const starts = (magic: number[]) => magic.every((b, i) => bytes[i] === b);
  for (const [name, magic] of UNSUPPORTED_COMPRESSIONS) {
    if (starts(magic)) {
      throw new Error(
        `a ${name}-compressed build context is not supported: send a plain or gzip-compressed tar archive`,
      );
    }
  }
  if (starts([0x1f, 0x8b])) {
    // The engine's gunzip (zlib where the system has it), as a pulled layer's; its pieces
    // are reused, so each is copied.
    const { gunzipped } = await import("../image/gunzip.ts");
    const pieces = async function* () {
      for await (const piece of gunzipped(ReadableStream.from([bytes]))) yield piece.slice();
    };
    const plain = new Uint8Array(await new Response(ReadableStream.from(pieces())).arrayBuffer());
    if (!isTar(plain)) throw new Error("the gzip stream on stdin is not a tar archive");
    return plain;
  }
  return isTar(bytes) ? bytes : null;
}
