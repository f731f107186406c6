/**
 * `m-docker build [OPTIONS] CONTEXT` and `builder prune`: flags in, the Dockerfile read and
 * parsed (src/build/plan.ts), the build run (src/build/build.ts), the image tagged. Errors
 * exit 1, as Docker's build does.
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import { action, type CliContext, CliError, println } from "./context.ts";
import { listFlag, stringFlag } from "./params.ts";
import { UsageError } from "../util/errors.ts";

interface BuildFlags {
  file?: string;
  tag?: string[];
  buildArg?: string[];
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  label?: string[];
  iidfile?: string;
  quiet?: boolean;
  progress?: string;
  network?: string;
  platform?: string;
}

/** `KEY=VALUE` pairs of `--label`; `KEY` alone is an empty value, as Docker's. */
function pairs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid key=value: "${item}"`);
    out[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? "" : item.slice(eq + 1);
  }
  return out;
}

/** `--build-arg K=V` (or `K`, taking K from this environment, as Docker's). */
function buildArgs(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid build-arg: "${item}"`);
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    else {
      const v = Deno.env.get(item);
      if (v !== undefined) out[item] = v;
    }
  }
  return out;
}

async function build(this: CliContext, flags: BuildFlags, context: string): Promise<number> {
  const progressMode = flags.progress ?? "auto";
  if (!["auto", "plain", "tty", "quiet"].includes(progressMode)) {
    throw new UsageError(`invalid progress mode: "${progressMode}"`);
  }
  if (flags.platform && flags.platform !== "linux/amd64") {
    throw new CliError(
      `platform ${flags.platform} is not supported: this engine builds linux/amd64`,
    );
  }
  const { loadBuild } = await import("../build/plan.ts");
  const { buildImage, networkFor } = await import("../build/build.ts");
  const { plainProgress, quietProgress } = await import("../build/progress.ts");
  const quiet = flags.quiet || progressMode === "quiet";
  const args = buildArgs(flags.buildArg);
  const write = (s: string) => this.process.stderr.write(s);
  const loaded = await loadBuild(this.engine, context, {
    dockerfile: flags.file,
    buildArgs: args,
    target: flags.target,
    pull: flags.pull,
    progress: quiet ? undefined : (line) => write(`${line}\n`),
  });
  const progress = quiet ? quietProgress : plainProgress(write);
  for (const w of loaded.warnings) if (!quiet) write(`WARNING: ${w}\n`);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new CliError("build interrupted", 130));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const epoch = loaded.plan.sourceDateEpoch;
    const image = await buildImage(this.engine, {
      plan: loaded.plan,
      context: loaded.context,
      allowed: loaded.allowed,
      noCache: flags.noCache,
      pull: flags.pull,
      images: loaded.images,
      noContext: loaded.noContext,
      network: flags.network ? networkFor(flags.network) : undefined,
      labels: pairs(flags.label),
      sourceDateEpoch: epoch,
      progress,
      signal: abort.signal,
    });
    const names = flags.tag ?? [];
    for (const name of names) this.engine.images.tag(image.id, name);
    progress.note("exporting to image", [
      `writing image ${image.id} done`,
      ...names.map((n) => `naming to ${n} done`),
    ]);
    if (flags.iidfile) Deno.writeTextFileSync(flags.iidfile, image.id);
    if (quiet) println(this, image.id);
    return 0;
  } catch (e) {
    if (abort.signal.aborted) throw abort.signal.reason;
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    loaded.dispose();
  }
}

/** `build` */
export const buildImageCommand = buildCommand<BuildFlags, [string], CliContext>({
  func: action(build),
  parameters: {
    flags: {
      file: { ...stringFlag, brief: "Name of the Dockerfile (default: PATH/Dockerfile)" },
      tag: { ...listFlag, brief: "Name and optionally a tag (name:tag)" },
      buildArg: { ...listFlag, brief: "Set build-time variables" },
      target: { ...stringFlag, brief: "Set the target build stage to build" },
      noCache: { kind: "boolean", optional: true, brief: "Do not use cache when building" },
      pull: { kind: "boolean", optional: true, brief: "Always attempt to pull a newer base" },
      label: { ...listFlag, brief: "Set metadata for an image" },
      iidfile: { ...stringFlag, brief: "Write the image ID to the file" },
      quiet: { kind: "boolean", optional: true, brief: "Suppress the build output" },
      progress: { ...stringFlag, brief: "Type of progress output (auto, plain, tty, quiet)" },
      network: { ...stringFlag, brief: "Networking mode for the RUN instructions" },
      platform: { ...stringFlag, brief: "Set target platform (linux/amd64)" },
    },
    aliases: { f: "file", t: "tag", q: "quiet" },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Build context: a directory, or - for stdin",
        parse: String,
        placeholder: "PATH",
      }],
    },
  },
  docs: { brief: "Build an image from a Dockerfile" },
});

/** `builder prune` */
const builderPruneCommand = buildCommand<{ force?: boolean; all?: boolean }, [], CliContext>({
  func: action(async function (this: CliContext, flags: { force?: boolean }) {
    if (!flags.force) {
      const { confirm } = await import("./prompt.ts");
      if (!await confirm(this, "WARNING! This will remove all dangling build cache.")) return 0;
    }
    const { BuildCache } = await import("../build/cache.ts");
    const gone = new BuildCache(this.engine.roots.root).prune();
    if (gone.length) {
      println(this, "Deleted build cache objects:");
      for (const k of gone) println(this, k.slice(0, 25));
    }
    println(this, `Total:\t${gone.length} cache entries reclaimed`);
    return 0;
  }),
  parameters: {
    flags: {
      force: { kind: "boolean", optional: true, brief: "Do not prompt for confirmation" },
      all: { kind: "boolean", optional: true, brief: "Remove all unused build cache" },
    },
    aliases: { f: "force", a: "all" },
  },
  docs: { brief: "Remove build cache" },
});

/** `builder ...` */
export const builderRoutes = buildRouteMap({
  routes: { prune: builderPruneCommand },
  docs: { brief: "Manage builds" },
});
