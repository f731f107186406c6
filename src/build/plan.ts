/**
 * What `build` reads before it runs anything: the context (a directory, or `-`: a tar
 * archive or a Dockerfile alone on stdin, unpacked into a temporary directory), the
 * Dockerfile (`-f`, else the context's `Dockerfile`), its .dockerignore, and the plan, parsed
 * twice: once to learn the base images, which are then found or pulled, and again with
 * their configs, whose Env, WorkingDir, Shell and ONBUILD triggers the plan depends on.
 *
 * @module
 */

import type { Engine } from "../engine.ts";
import { resolveImage } from "../engine.ts";
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
  const dispose = () => {
    if (scratch) Deno.removeSync(scratch, { recursive: true });
  };
  try {
    if (contextArg === "-") {
      const input = await new Response(Deno.stdin.readable).arrayBuffer();
      scratch = Deno.makeTempDirSync({ prefix: "m-docker-build-" });
      context = scratch;
      const bytes = new Uint8Array(input);
      if (isTar(bytes)) {
        const { applyLayer } = await import("../image/layer_apply.ts");
        await applyLayer([bytes], context, "drop");
      } else dockerfileText = new TextDecoder().decode(bytes);
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
    }
    const file = opts.dockerfile === undefined ? `${context}/Dockerfile` : dockerfilePath(
      opts.dockerfile,
      context,
    );
    if (dockerfileText === undefined) {
      try {
        dockerfileText = Deno.readTextFileSync(file);
      } catch {
        throw new Error(`failed to read dockerfile: open ${file}: no such file or directory`);
      }
    }
    const name = opts.dockerfile ? opts.dockerfile.split("/").pop()! : "Dockerfile";
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
    for (const ref of first.images) {
      if (ref.toLowerCase() === "scratch") continue;
      const image = await resolveImage(
        engine,
        ref,
        opts.pull ? "always" : "missing",
        opts.progress,
      );
      configs.set(ref, image.config);
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
