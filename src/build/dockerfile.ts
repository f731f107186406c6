/**
 * A Dockerfile as a build plan: its stages, each with its instructions in order, parsed,
 * checked and variable-substituted as Docker's builder (BuildKit's dockerfile frontend)
 * does, for the executor to run. Nothing here touches a file, an image or a container.
 *
 * What it does:
 * - every instruction of the Dockerfile reference, shell and JSON forms, flags
 *   (`COPY --from/--chown/--chmod/--link/--parents/--exclude`, `ADD --checksum/...`,
 *   `RUN --mount/--network/--security`, `HEALTHCHECK --interval/...`, `FROM --platform`);
 * - substitution where Docker substitutes (ADD, COPY, ENV, EXPOSE, FROM, LABEL,
 *   STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults, RUN --mount values), not in RUN, CMD or
 *   ENTRYPOINT (the shell does that); ENV and ARG scopes: ARGs before the first FROM serve
 *   FROM lines only, unless a stage declares them again; an ENV names the same variable in
 *   the same environment as an ARG, the later one winning, as in BuildKit;
 * - the predefined ARGs: the proxies (HTTP_PROXY, ... in either case), given to every RUN
 *   without being declared; BUILDPLATFORM, TARGETPLATFORM and the rest, in the global scope;
 *   SOURCE_DATE_EPOCH, read for the image's timestamps;
 * - `--target`: only the stages the target needs through FROM, COPY --from and
 *   RUN --mount from=, in file order, and the order to build them in;
 * - ONBUILD: kept as text for the image config, and the base image's (or base stage's)
 *   triggers run first in a stage built on it;
 * - `--build-arg`s that nothing declares are reported (Docker warns of them).
 *
 * Errors are one line naming the file and line: `Dockerfile:7: unknown instruction: COPPY`.
 * The caller decides the exit code.
 *
 * Why not the `dockerfile-ast` package (npm): it is an editor's parser (the Docker language
 * server's). It never fails (an editor must keep going), reports positions rather than
 * meaning, has no substitution of Docker's kind, exposes heredocs as ranges through an API
 * it calls experimental, and brings `vscode-languageserver-types` and
 * `vscode-languageserver-textdocument` (about 1 MB unpacked with itself); its last release
 * still mishandles the escape character in comments (fixed after it). We would have written
 * the substitution, the flags, the stage graph and every error on top of it anyway, so the
 * whole is written here (syntax.ts, shell_lex.ts) from the Dockerfile reference, with
 * Docker's error messages.
 *
 * @module
 */

import {
  chompHeredoc,
  DockerfileSyntaxError,
  type Heredoc,
  type Node,
  parseHeredoc,
  parseSyntax,
} from "./syntax.ts";
import { type EnvLookup, ShellLex } from "./shell_lex.ts";
import { cleanPath } from "./glob.ts";
import { parseGoDuration } from "../util/duration.ts";
import { hostPlatform } from "../image/platform.ts";
import type { HealthConfig } from "../config/health.ts";
import type { ImageRunConfig } from "../image/store.ts";

/** A Dockerfile error: `Dockerfile:7: unknown instruction: COPPY`. */
export class DockerfileError extends Error {
  override name = "DockerfileError";
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** An image config as a stage starts from and ends with (the OCI config's fields). */
export interface StageConfig extends ImageRunConfig {
  /** ONBUILD triggers, as text. */
  OnBuild?: string[];
}

/** What `parseDockerfile` needs besides the text. */
export interface ParseOptions {
  /** The name errors give the file (`Dockerfile`). */
  file?: string;
  /** `--build-arg NAME=VALUE`s. */
  buildArgs?: Record<string, string>;
  /** `--target`: the stage to build (by name); the last stage when absent. */
  target?: string;
  /** `--platform`: the target platform (TARGETPLATFORM); the host's when absent. */
  platform?: string;
  /** The platform the build runs on (BUILDPLATFORM); the host's when absent. */
  buildPlatform?: string;
  /**
   * The config of a base image (`FROM ref`), when the caller has it: its Env, WorkingDir,
   * Shell and ONBUILD triggers enter substitution and the plan. Without it a stage starts
   * from an empty config.
   */
  baseImage?: (ref: string, platform: string | undefined) => StageConfig | undefined;
}

/** Where a stage starts. */
export type StageBase =
  | { kind: "scratch" }
  | { kind: "image"; ref: string }
  | { kind: "stage"; index: number };

/** Where COPY --from or a RUN mount's from= takes files. */
export type CopySource = { kind: "stage"; index: number } | { kind: "image"; ref: string };

/** Common to every instruction. */
interface Base {
  /** 1-based line where it starts. */
  line: number;
  /** The instruction as written (continuations joined), for the image's history. */
  text: string;
  /** It came from an ONBUILD trigger of the base. */
  trigger?: boolean;
}

/** A `RUN --mount=...`, its values substituted. */
export interface RunMount {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  target?: string;
  source?: string;
  from?: CopySource;
  readonly: boolean;
  /** The other options as written (`id`, `sharing`, `mode`, `uid`, `gid`, `size`, ...). */
  options: Record<string, string>;
}

/** RUN: `argv` is ready to execute (the shell form already wrapped in the SHELL). */
export interface RunInstruction extends Base {
  kind: "run";
  argv: string[];
  shellForm: boolean;
  /** The build-time environment of the command: the image's, ENV's and ARG's, and proxies. */
  env: string[];
  heredocs: Heredoc[];
  /** A single heredoc with a `#!` line: written to `path` (mode 0755) and run as argv[0]. */
  script?: { path: string; data: string };
  mounts: RunMount[];
  network?: "default" | "none" | "host";
  security?: "sandbox" | "insecure";
}

/** COPY and ADD, substituted; `dest` is absolute (a trailing `/` kept). */
export interface CopyInstruction extends Base {
  kind: "copy" | "add";
  sources: string[];
  /** Heredoc sources: a file named `path` holding `data`. */
  contents: Array<{ path: string; data: string }>;
  dest: string;
  from?: CopySource;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD only. */
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
}

/** The instructions that only change the image config (the stage's `config` has the result). */
export type ConfigInstruction = Base & {
  kind:
    | "cmd"
    | "entrypoint"
    | "env"
    | "label"
    | "expose"
    | "volume"
    | "user"
    | "workdir"
    | "stopsignal"
    | "healthcheck"
    | "shell"
    | "onbuild"
    | "maintainer"
    | "arg";
  /** What the instruction said, substituted: argv, pairs, ports, paths, a name... */
  value: unknown;
  /** The stage's image config once this instruction has taken effect. */
  config: StageConfig;
};

/** One instruction of a stage. */
export type Instruction = RunInstruction | CopyInstruction | ConfigInstruction;

/** One `FROM` and what follows it. */
export interface Stage {
  /** Its position among all the Dockerfile's stages (COPY --from=N counts these). */
  index: number;
  /** `AS name`, lower-cased. */
  name?: string;
  base: StageBase;
  /** `FROM --platform=`, substituted. */
  platform?: string;
  line: number;
  instructions: Instruction[];
  /** The image config the stage ends with. */
  config: StageConfig;
  /** The stages it needs (FROM, COPY --from, RUN --mount from=), by index. */
  needs: number[];
}

/** A Dockerfile ready to build. */
export interface BuildPlan {
  file: string;
  escape: string;
  /** `# syntax=` as written (m-docker ignores it), if any. */
  syntax?: string;
  /** The stages the target needs, in file order. */
  stages: Stage[];
  /** Index (into the Dockerfile's stages) of the stage to build. */
  target: number;
  /** Stage indexes in an order that builds each after the stages it needs. */
  order: number[];
  /** The images FROM, COPY --from and mounts name, each once. */
  images: string[];
  /** `--build-arg`s no ARG declares (Docker warns of them). */
  unusedBuildArgs: string[];
  /** SOURCE_DATE_EPOCH, seconds, when given. */
  sourceDateEpoch?: number;
  /** Things worth a warning, one line each. */
  notes: string[];
}

const PROXY_ARGS = ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"];
const PLATFORM_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDOSVERSION",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETOSVERSION",
  "TARGETARCH",
  "TARGETVARIANT",
  "TARGETSTAGE",
];
const DEFAULT_SHELL = ["/bin/sh", "-c"];
const INSTRUCTIONS = new Set([
  "add",
  "arg",
  "cmd",
  "copy",
  "entrypoint",
  "env",
  "expose",
  "from",
  "healthcheck",
  "label",
  "maintainer",
  "onbuild",
  "run",
  "shell",
  "stopsignal",
  "user",
  "volume",
  "workdir",
]);
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Whether an ADD source is fetched rather than read from the context. */
export function isRemoteSource(src: string): boolean {
  return /^(https?|git|ssh):\/\//i.test(src) || /^git@[^:]+:/.test(src);
}

function isProxyArg(name: string): boolean {
  return PROXY_ARGS.includes(name.toUpperCase());
}

/** An ordered environment where a later value replaces an earlier one in place. */
class Env {
  private map = new Map<string, string>();
  constructor(list: string[] = []) {
    for (const kv of list) {
      const eq = kv.indexOf("=");
      this.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? "" : kv.slice(eq + 1));
    }
  }
  set(k: string, v: string): void {
    this.map.set(k, v);
  }
  get(k: string): string | undefined {
    return this.map.get(k);
  }
  has(k: string): boolean {
    return this.map.has(k);
  }
  clone(): Env {
    const e = new Env();
    for (const [k, v] of this.map) e.set(k, v);
    return e;
  }
  list(): string[] {
    return [...this.map].map(([k, v]) => `${k}=${v}`);
  }
  lookup: EnvLookup = (name) => this.map.get(name);
}

type FlagKind = "string" | "bool" | "strings";

/**
 * An instruction's `--name=value` words, checked against the flags it takes: a flag it
 * does not take, a repeated one (but for the kind given several times), a missing value
 * and a boolean that is neither true nor false are errors, with Docker's messages.
 */
function parseFlags(
  words: string[],
  spec: Record<string, FlagKind>,
): Map<string, string | string[]> {
  const seen = new Map<string, string | string[]>();
  for (const word of words) {
    if (word === "--") break; // the end of the flags, should one be left here
    if (!word.startsWith("--")) throw new Error(`arg should start with -- : ${word}`);
    const [flag, value] = splitOnce(word, "=");
    const name = flag.slice(2);
    const kind = spec[name];
    if (kind === undefined) throw new Error(`unknown flag: ${flag}`);
    const previous = seen.get(name);
    if (previous !== undefined && kind !== "strings") {
      throw new Error(`duplicate flag specified: ${flag}`);
    }
    // A boolean flag alone means true; every other kind needs its `=value`.
    if (value === undefined && kind !== "bool") throw new Error(`missing a value on flag: ${flag}`);
    switch (kind) {
      case "bool": {
        if (value === "") throw new Error(`missing a value on flag: ${flag}`);
        const b = value === undefined ? "true" : value.toLowerCase();
        if (b !== "true" && b !== "false") {
          throw new Error(`expecting boolean value for flag ${flag}, not: ${value}`);
        }
        seen.set(name, b);
        break;
      }
      case "string":
        seen.set(name, value!);
        break;
      case "strings":
        seen.set(name, [...(previous as string[] | undefined ?? []), value!]);
    }
  }
  return seen;
}

/** `s` cut at the first `sep`: [before, after], after undefined when there is none. */
function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + sep.length)];
}

/** One FROM and its nodes, before substitution. */
interface RawStage {
  index: number;
  name?: string;
  baseName: string;
  platform?: string;
  node: Node;
  nodes: Node[];
}

/**
 * Parses, checks and substitutes a Dockerfile into the plan of the stages `target` needs.
 * Throws `DockerfileError` (file and line in its message) on the first error.
 *
 * @example
 * ```ts
 * const plan = parseDockerfile("FROM alpine AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /\n", {
 *   file: "Dockerfile",
 *   buildArgs: {},
 * });
 * plan.stages.length; // 2
 * ```
 */
export function parseDockerfile(text: string, options: ParseOptions = {}): BuildPlan {
  return new Planner(text, options).plan();
}

class Planner {
  private file: string;
  private buildArgs: Record<string, string>;
  private lex!: ShellLex;
  private notes: string[] = [];
  private declared = new Set<string>();

  constructor(private text: string, private options: ParseOptions) {
    this.file = options.file ?? "Dockerfile";
    this.buildArgs = options.buildArgs ?? {};
  }

  private fail(line: number, reason: string): never {
    throw new DockerfileError(this.file, line, reason);
  }

  /** Runs `fn`, turning what it throws into an error at `line`. */
  private at<T>(line: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      this.fail(line, (e as Error).message);
    }
  }

  plan(): BuildPlan {
    let parsed;
    try {
      parsed = parseSyntax(this.text);
    } catch (e) {
      if (e instanceof DockerfileSyntaxError) this.fail(e.line, e.message);
      throw e;
    }
    this.lex = new ShellLex(parsed.escape);
    if (parsed.directives.syntax !== undefined) {
      this.notes.push(
        `${this.file}: ignoring "# syntax=${parsed.directives.syntax}": m-docker parses Dockerfiles itself`,
      );
    }
    for (const line of parsed.emptyContinuationLines) {
      this.notes.push(
        `${this.file}:${line}: empty continuation line (Docker will make this an error)`,
      );
    }
    for (const n of parsed.nodes) this.check(n);

    // The ARGs before the first FROM, then the stages.
    const metaArgs: Node[] = [];
    const raw: RawStage[] = [];
    for (const n of parsed.nodes) {
      const cmd = n.cmd.toLowerCase();
      if (cmd === "from") raw.push(this.rawStage(n, raw.length));
      else if (raw.length === 0) {
        if (cmd !== "arg") this.fail(n.startLine, "no build stage in current context");
        metaArgs.push(n);
      } else raw[raw.length - 1].nodes.push(n);
    }
    const names = new Map<string, number>();
    for (const s of raw) {
      if (!s.name) continue;
      // Docker builds it, with a warning: FROM takes the closest earlier stage of the name,
      // COPY --from and --target the last one.
      if (names.has(s.name)) {
        this.notes.push(
          `${this.file}:${s.node.startLine}: duplicate stage name ${JSON.stringify(s.name)}`,
        );
      }
      names.set(s.name, s.index);
    }

    let target = raw.length - 1;
    if (this.options.target !== undefined) {
      const t = names.get(this.options.target.toLowerCase());
      if (t === undefined) {
        throw new DockerfileError(
          this.file,
          raw[raw.length - 1].node.startLine,
          `target stage ${JSON.stringify(this.options.target)} could not be found`,
        );
      }
      target = t;
    }

    const global = this.globalArgs(metaArgs, raw[target].name ?? "default");
    const bases = raw.map((s) => this.resolveFrom(s, global, raw));

    // What each stage needs, then what the target needs.
    const needs = raw.map((s, i) => this.stageNeeds(s, bases[i].base, names, raw.length));
    const keep = new Set<number>();
    const order: number[] = [];
    const visiting = new Set<number>();
    const visit = (i: number) => {
      if (keep.has(i)) return;
      if (visiting.has(i)) {
        this.fail(
          raw[i].node.startLine,
          `circular dependency detected on stage: ${raw[i].name ?? i}`,
        );
      }
      visiting.add(i);
      for (const d of needs[i]) visit(d);
      visiting.delete(i);
      keep.add(i);
      order.push(i);
    };
    visit(target);

    // In file order: a stage's FROM names only earlier stages. Every stage is checked (as
    // Docker parses them all); only those the target needs are substituted for real.
    const stages: Stage[] = [];
    const built = new Map<number, Stage>();
    for (let i = 0; i < raw.length; i++) {
      const dry = !keep.has(i);
      const stage = this.dispatch(
        raw[i],
        bases[i],
        global,
        names,
        raw.length,
        built,
        needs[i],
        dry,
      );
      built.set(i, stage);
      if (!dry) stages.push(stage);
    }

    const images = new Set<string>();
    for (const s of stages) {
      if (s.base.kind === "image") images.add(s.base.ref);
      for (const ins of s.instructions) {
        if ((ins.kind === "copy" || ins.kind === "add") && ins.from?.kind === "image") {
          images.add(ins.from.ref);
        }
        if (ins.kind === "run") {
          for (const m of ins.mounts) if (m.from?.kind === "image") images.add(m.from.ref);
        }
      }
    }

    const unusedBuildArgs = Object.keys(this.buildArgs).filter((k) =>
      !this.declared.has(k) && !isProxyArg(k) && k !== "SOURCE_DATE_EPOCH" &&
      !PLATFORM_ARGS.includes(k) && !k.startsWith("BUILDKIT_")
    ).sort();
    if (unusedBuildArgs.length > 0) {
      this.notes.push(`One or more build-args [${unusedBuildArgs.join(" ")}] were not consumed`);
    }

    let sourceDateEpoch: number | undefined;
    const epoch = this.buildArgs.SOURCE_DATE_EPOCH ?? global.get("SOURCE_DATE_EPOCH");
    if (epoch !== undefined && epoch !== "") {
      if (!/^\d+$/.test(epoch)) {
        throw new DockerfileError(
          this.file,
          1,
          `invalid SOURCE_DATE_EPOCH: ${JSON.stringify(epoch)}`,
        );
      }
      sourceDateEpoch = Number(epoch);
    }

    return {
      file: this.file,
      escape: parsed.escape,
      syntax: parsed.directives.syntax,
      stages,
      target,
      order,
      images: [...images],
      unusedBuildArgs,
      sourceDateEpoch,
      notes: this.notes,
    };
  }

  /** Checks that a node is an instruction, and its ONBUILD trigger too. */
  private check(n: Node): void {
    const cmd = n.cmd.toLowerCase();
    if (!INSTRUCTIONS.has(cmd)) this.fail(n.startLine, `unknown instruction: ${n.cmd}`);
    if (cmd !== "onbuild") return;
    if (!n.sub) this.fail(n.startLine, "ONBUILD requires at least one argument");
    const sub = n.sub.cmd.toUpperCase();
    if (sub === "ONBUILD") {
      this.fail(n.startLine, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (sub === "MAINTAINER" || sub === "FROM") {
      this.fail(n.startLine, `${sub} isn't allowed as an ONBUILD trigger`);
    }
    if (!INSTRUCTIONS.has(sub.toLowerCase())) {
      this.fail(n.startLine, `unknown instruction: ${n.sub.cmd}`);
    }
  }

  private rawStage(n: Node, index: number): RawStage {
    return this.at(n.startLine, () => {
      const flags = parseFlags(n.flags, { platform: "string" });
      const args = n.args;
      let name: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === "as") {
        name = args[2].toLowerCase();
        if (!STAGE_NAME.test(name)) {
          throw new Error(
            `invalid name for build stage: ${
              JSON.stringify(args[2])
            }, name can't start with a number or contain symbols`,
          );
        }
      } else if (args.length !== 1) throw new Error("FROM requires either one or three arguments");
      return {
        index,
        name,
        baseName: args[0],
        platform: flags.get("platform") as string | undefined,
        node: n,
        nodes: [],
      };
    });
  }

  /** The global scope: platform args, then the ARGs before the first FROM. */
  private globalArgs(metaArgs: Node[], targetName: string): Env {
    const target = this.options.platform ?? hostPlatform();
    const build = this.options.buildPlatform ?? hostPlatform();
    const split = (p: string) => {
      const [os = "", arch = "", variant = ""] = p.split("/");
      return { os, arch, variant };
    };
    const t = split(target), b = split(build);
    const defaults: Array<[string, string]> = [
      ["BUILDPLATFORM", build],
      ["BUILDOS", b.os],
      ["BUILDOSVERSION", ""],
      ["BUILDARCH", b.arch],
      ["BUILDVARIANT", b.variant],
      ["TARGETPLATFORM", target],
      ["TARGETOS", t.os],
      ["TARGETOSVERSION", ""],
      ["TARGETARCH", t.arch],
      ["TARGETVARIANT", t.variant],
      ["TARGETSTAGE", targetName],
    ];
    const env = new Env();
    for (const [k, v] of defaults) env.set(k, this.buildArgs[k] ?? v);
    for (const n of metaArgs) {
      this.at(n.startLine, () => {
        parseFlags(n.flags, {});
        for (const [key, value] of this.argPairs(n)) {
          this.declared.add(key);
          if (key in this.buildArgs) env.set(key, this.buildArgs[key]);
          else if (value !== undefined) {
            env.set(key, this.lex.processWord(value, env.lookup).result);
          }
        }
      });
    }
    return env;
  }

  private argPairs(n: Node): Array<[string, string | undefined]> {
    if (n.args.length === 0) throw new Error("ARG requires at least one argument");
    return n.args.map((a) => {
      const eq = a.indexOf("=");
      if (eq === 0) throw new Error("ARG names can not be blank");
      return eq < 0 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1)];
    });
  }

  private resolveFrom(
    s: RawStage,
    global: Env,
    raw: RawStage[],
  ): { base: StageBase; platform?: string } {
    return this.at(s.node.startLine, () => {
      const ref = this.lex.processWord(s.baseName, global.lookup).result;
      const earlier = raw.slice(0, s.index).findLast((r) => r.name === ref.toLowerCase());
      if (ref === "") throw new Error(`base name (${s.baseName}) should not be blank`);
      let platform: string | undefined;
      if (s.platform !== undefined) {
        platform = this.lex.processWord(s.platform, global.lookup).result;
        if (platform === "") throw new Error(`empty platform value from expression ${s.platform}`);
        if (!/^[a-z0-9_.-]+(\/[a-z0-9_.-]+){0,2}$/i.test(platform)) {
          throw new Error(`failed to parse platform ${s.platform}: ${JSON.stringify(platform)}`);
        }
      }
      const stage = earlier?.index;
      if (stage !== undefined) {
        return { base: { kind: "stage", index: stage }, platform };
      }
      if (ref.toLowerCase() === "scratch") return { base: { kind: "scratch" }, platform };
      return { base: { kind: "image", ref }, platform };
    });
  }

  /** A COPY --from or mount from= value: a stage (name or index) or an image. */
  private source(value: string, names: Map<string, number>, count: number): CopySource {
    if (this.lex.processWord(value, () => undefined).result !== value) {
      throw new Error(
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
      );
    }
    if (/^\d+$/.test(value)) {
      const i = Number(value);
      if (i >= count) {
        throw new Error(`invalid stage index ${value}: there are only ${count} stages`);
      }
      return { kind: "stage", index: i };
    }
    const named = names.get(value.toLowerCase());
    return named !== undefined ? { kind: "stage", index: named } : { kind: "image", ref: value };
  }

  private stageNeeds(
    s: RawStage,
    base: StageBase,
    names: Map<string, number>,
    count: number,
  ): number[] {
    const out = new Set<number>();
    if (base.kind === "stage") out.add(base.index);
    const need = (src: CopySource) => {
      if (src.kind !== "stage") return;
      if (src.index === s.index) {
        throw new Error(`circular dependency detected on stage: ${s.name ?? s.index}`);
      }
      out.add(src.index);
    };
    for (const n of s.nodes) {
      // An ONBUILD trigger's --from is for the images built on this one.
      if (n.sub) continue;
      const cmd = n.cmd.toLowerCase();
      this.at(n.startLine, () => {
        if (cmd === "copy") {
          const from = parseFlags(n.flags, COPY_FLAGS).get("from") as string | undefined;
          if (from !== undefined) need(this.source(from, names, count));
        } else if (cmd === "run") {
          const flags = parseFlags(n.flags, RUN_FLAGS);
          for (const m of (flags.get("mount") as string[] | undefined) ?? []) {
            const from = parseMountOptions(m).from;
            if (from !== undefined) need(this.source(from, names, count));
          }
        }
      });
    }
    return [...out].sort((a, b) => a - b);
  }

  private dispatch(
    s: RawStage,
    from: { base: StageBase; platform?: string },
    global: Env,
    names: Map<string, number>,
    count: number,
    built: Map<number, Stage>,
    needs: number[],
    dry: boolean,
  ): Stage {
    let baseConfig: StageConfig = {};
    if (from.base.kind === "stage") baseConfig = built.get(from.base.index)!.config;
    else if (from.base.kind === "image" && !dry) {
      baseConfig = this.options.baseImage?.(from.base.ref, from.platform) ?? {};
    }
    const config: StageConfig = structuredClone(baseConfig);
    const triggers = dry ? [] : config.OnBuild ?? [];
    delete config.OnBuild;
    const state: DispatchState = {
      env: new Env(config.Env ?? []),
      config,
      cmdSet: false,
      dry,
      global,
      names,
      count,
    };
    const instructions: Instruction[] = [];
    for (const t of triggers) {
      let nodes: Node[];
      try {
        nodes = parseSyntax(t).nodes;
      } catch (e) {
        this.fail(
          s.node.startLine,
          `ONBUILD trigger ${JSON.stringify(t)}: ${(e as Error).message}`,
        );
      }
      for (const n of nodes) {
        n.startLine = s.node.startLine;
        this.check(n);
        instructions.push({
          ...this.at(n.startLine, () => this.instruction(n, state)),
          trigger: true,
        });
      }
    }
    for (const n of s.nodes) {
      instructions.push(this.at(n.startLine, () => this.instruction(n, state)));
    }
    return {
      index: s.index,
      name: s.name,
      base: from.base,
      platform: from.platform,
      line: s.node.startLine,
      instructions,
      config,
      needs,
    };
  }

  /**
   * Substitutes one word. A stage the target does not need is checked but not built, and
   * Docker substitutes nothing there: its substitution errors (`${X:?unset}`) do not count.
   */
  private expand(word: string, state: DispatchState, lex = this.lex): string {
    try {
      return lex.processWord(word, state.env.lookup).result;
    } catch (e) {
      if (state.dry) return word;
      throw e;
    }
  }

  private instruction(n: Node, state: DispatchState): Instruction {
    const cmd = n.cmd.toLowerCase();
    const text = n.original.trim();
    const line = n.startLine;
    const c = state.config;
    // Made once the instruction has changed `c`: its snapshot is the config after it.
    const configIns = (value: unknown): ConfigInstruction => ({
      kind: cmd as ConfigInstruction["kind"],
      line,
      text,
      value,
      config: structuredClone(c),
    });
    switch (cmd) {
      case "run":
        return this.run(n, state, text);
      case "copy":
      case "add":
        return this.copy(n, state, text);
      case "cmd": {
        parseFlags(n.flags, {});
        const argv = this.commandLine(n, state, false)!;
        c.Cmd = argv;
        state.cmdSet = true;
        return configIns(argv);
      }
      case "entrypoint": {
        parseFlags(n.flags, {});
        const argv = this.commandLine(n, state, true);
        if (argv) c.Entrypoint = argv;
        else delete c.Entrypoint;
        // A base image's CMD does not survive a new ENTRYPOINT (Docker's rule).
        if (!state.cmdSet) delete c.Cmd;
        return configIns(argv ?? null);
      }
      case "env": {
        parseFlags(n.flags, {});
        const pairs = this.pairs(n, "ENV", state);
        const env = new Env(c.Env ?? []);
        for (const [k, v] of pairs) {
          state.env.set(k, v);
          env.set(k, v);
        }
        c.Env = env.list();
        return configIns(pairs);
      }
      case "label": {
        parseFlags(n.flags, {});
        const pairs = this.pairs(n, "LABEL", state);
        c.Labels = { ...c.Labels };
        for (const [k, v] of pairs) c.Labels[k] = v;
        return configIns(pairs);
      }
      case "arg": {
        parseFlags(n.flags, {});
        const out: Array<[string, string | undefined]> = [];
        for (const [key, def] of this.argPairs(n)) {
          if (!state.dry) this.declared.add(key);
          let value: string | undefined;
          if (key in this.buildArgs) value = this.buildArgs[key];
          else if (def !== undefined) value = this.expand(def, state);
          else value = state.global.get(key);
          if (value !== undefined) state.env.set(key, value);
          out.push([key, value]);
        }
        return configIns(out);
      }
      case "expose": {
        parseFlags(n.flags, {});
        if (n.args.length === 0) throw new Error("EXPOSE requires at least one argument");
        const ports: string[] = [];
        for (const a of n.args) {
          for (const p of this.expand(a, state).split(/\s+/).filter((p) => p !== "")) {
            ports.push(...exposedPorts(p));
          }
        }
        c.ExposedPorts = { ...c.ExposedPorts };
        for (const p of ports) c.ExposedPorts[p] = {};
        return configIns(ports);
      }
      case "volume": {
        parseFlags(n.flags, {});
        if (n.args.length === 0) throw new Error("VOLUME requires at least one argument");
        const paths = n.args.map((a) => {
          const v = this.expand(a, state).trim();
          if (v === "") throw new Error("VOLUME specified can not be an empty string");
          return v;
        });
        c.Volumes = { ...c.Volumes };
        for (const p of paths) c.Volumes[p] = {};
        return configIns(paths);
      }
      case "user":
      case "stopsignal":
      case "maintainer": {
        parseFlags(n.flags, {});
        const name = cmd.toUpperCase();
        if (n.args.length !== 1) throw new Error(`${name} requires exactly one argument`);
        const v = cmd === "maintainer" ? n.args[0] : this.expand(n.args[0], state);
        if (cmd === "user") c.User = v;
        if (cmd === "stopsignal") {
          if (!/^(\d+|(SIG)?[A-Z][A-Z0-9]*([+-]\d+)?)$/i.test(v)) {
            throw new Error(`invalid signal: ${v}`);
          }
          c.StopSignal = v;
        }
        return configIns(v);
      }
      case "workdir": {
        parseFlags(n.flags, {});
        if (n.args.length !== 1) throw new Error("WORKDIR requires exactly one argument");
        const p = this.expand(n.args[0], state);
        const dir = cleanPath(p.startsWith("/") ? p : `${c.WorkingDir || "/"}/${p}`);
        c.WorkingDir = dir;
        return configIns(dir);
      }
      case "healthcheck": {
        const h = healthcheck(n);
        c.Healthcheck = h;
        return configIns(h);
      }
      case "shell": {
        parseFlags(n.flags, {});
        if (n.args.length === 0) throw new Error("SHELL requires at least one argument");
        if (!n.json) throw new Error("SHELL requires the arguments to be in JSON form");
        c.Shell = [...n.args];
        return configIns(c.Shell);
      }
      case "onbuild": {
        parseFlags(n.flags, {});
        let expr = n.original.replace(/^\s*ONBUILD\s*/i, "");
        for (const h of n.heredocs) expr += `\n${h.content}${h.name}`;
        c.OnBuild = [...(c.OnBuild ?? []), expr];
        return configIns(expr);
      }
    }
    throw new Error(`unknown instruction: ${n.cmd}`);
  }

  /** CMD's and ENTRYPOINT's argv: the JSON form as is, the shell form wrapped in SHELL. */
  private commandLine(n: Node, state: DispatchState, emptyAsNil: boolean): string[] | undefined {
    if (n.json) return emptyAsNil && n.args.length === 0 ? undefined : [...n.args];
    if (n.args.length === 0) return emptyAsNil ? undefined : [];
    return [...(state.config.Shell ?? DEFAULT_SHELL), n.args.join(" ")];
  }

  private pairs(n: Node, name: string, state: DispatchState): Array<[string, string]> {
    if (n.args.length === 0) throw new Error(`${name} requires at least one argument`);
    const out: Array<[string, string]> = [];
    for (let i = 0; i < n.args.length; i += 3) {
      if (n.args[i] === "") throw new Error(`${name} names can not be blank`);
      // Every pair sees the environment from before the instruction, as in Docker.
      out.push([this.expand(n.args[i], state), this.expand(n.args[i + 1], state)]);
    }
    return out;
  }

  private run(n: Node, state: DispatchState, text: string): RunInstruction {
    const flags = parseFlags(n.flags, RUN_FLAGS);
    const mounts = ((flags.get("mount") as string[] | undefined) ?? []).map((m) =>
      this.mount(m, state)
    );
    const network = flags.get("network") as string | undefined;
    if (network !== undefined && !["default", "none", "host"].includes(network)) {
      throw new Error(`unsupported network mode ${JSON.stringify(network)}: default, none or host`);
    }
    const security = flags.get("security") as string | undefined;
    if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
      throw new Error(`unsupported security mode ${JSON.stringify(security)}: sandbox or insecure`);
    }
    const shell = state.config.Shell ?? DEFAULT_SHELL;
    let argv: string[];
    let script: RunInstruction["script"];
    if (n.json) argv = [...n.args];
    else if (n.heredocs.length === 0) argv = n.args.length ? [...shell, n.args[0]] : [];
    else {
      if (n.args.length !== 1) {
        throw new Error(`parsing produced an invalid run command: ${n.args}`);
      }
      if (parseHeredoc(n.args[0])) {
        // The command is only a heredoc: its body is the script.
        const h = n.heredocs[0];
        const data = h.chomp ? chompHeredoc(h.content) : h.content;
        if (data.startsWith("#!")) {
          script = { path: `/dev/pipes/${h.name}`, data };
          argv = [script.path];
        } else argv = [...shell, data];
      } else {
        let full = n.args[0];
        for (const h of n.heredocs) full += `\n${h.content}${h.name}`;
        argv = [...shell, full];
      }
    }
    if (argv.length === 0) throw new Error("RUN requires at least one argument");
    const env = state.env.clone();
    for (const [k, v] of Object.entries(this.buildArgs)) {
      if (isProxyArg(k) && !env.has(k)) env.set(k, v);
    }
    const out: RunInstruction = {
      kind: "run",
      line: n.startLine,
      text,
      argv,
      shellForm: !n.json,
      env: env.list(),
      heredocs: n.heredocs,
      mounts,
    };
    if (script) out.script = script;
    if (network) out.network = network as RunInstruction["network"];
    if (security) out.security = security as RunInstruction["security"];
    return out;
  }

  private mount(spec: string, state: DispatchState): RunMount {
    const raw = parseMountOptions(spec);
    const opts: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) opts[k] = this.expand(v, state);
    const type = (opts.type ?? "bind") as RunMount["type"];
    if (!["bind", "cache", "tmpfs", "secret", "ssh"].includes(type)) {
      throw new Error(`unsupported mount type ${JSON.stringify(type)}`);
    }
    const { target, source, from, readonly, ...options } = opts;
    delete options.type;
    if (target === undefined && type !== "secret" && type !== "ssh") {
      throw new Error(`mount type=${type} requires a target`);
    }
    const out: RunMount = {
      type,
      readonly: readonly === undefined ? type === "bind" : readonly !== "false",
      options,
    };
    if (target !== undefined) {
      out.target = target.startsWith("/")
        ? target
        : cleanPath(`${state.config.WorkingDir || "/"}/${target}`);
    }
    if (source !== undefined) out.source = source;
    if (from !== undefined) out.from = this.source(from, state.names, state.count);
    return out;
  }

  private copy(n: Node, state: DispatchState, text: string): CopyInstruction {
    const cmd = n.cmd.toLowerCase() as "copy" | "add";
    const NAME = cmd.toUpperCase();
    const flags = parseFlags(n.flags, cmd === "copy" ? COPY_FLAGS : ADD_FLAGS);
    if (n.args.length < 2) {
      throw new Error(
        `${NAME} requires at least two arguments, but only one was provided. Destination could not be determined`,
      );
    }
    const destWord = n.args[n.args.length - 1];
    if (parseHeredoc(destWord)) throw new Error(`${NAME} cannot accept a heredoc as a destination`);
    const docs = new Map(n.heredocs.map((h) => [h.name, h]));
    const sources: string[] = [];
    const contents: Array<{ path: string; data: string }> = [];
    for (const src of n.args.slice(0, -1)) {
      const h = parseHeredoc(src);
      if (!h) {
        sources.push(this.expand(src, state));
        continue;
      }
      let data = docs.get(h.name)?.content ?? "";
      if (h.chomp) data = chompHeredoc(data);
      if (h.expand) {
        data = this.expand(data, state, new ShellLex("\\", { skipProcessQuotes: true }));
      }
      contents.push({ path: h.name, data });
    }
    const dest = this.expand(destWord, state);
    const str = (k: string) => {
      const v = flags.get(k) as string | undefined;
      return v === undefined ? undefined : this.expand(v, state);
    };
    const out: CopyInstruction = {
      kind: cmd,
      line: n.startLine,
      text,
      sources,
      contents,
      dest: resolveDest(dest, state.config.WorkingDir),
      link: flags.get("link") === "true",
      parents: flags.get("parents") === "true",
      exclude: ((flags.get("exclude") as string[] | undefined) ?? []).map((e) =>
        this.expand(e, state)
      ),
    };
    const chown = str("chown"), chmod = str("chmod");
    if (chown !== undefined && chown !== "") out.chown = chown;
    if (chmod !== undefined && chmod !== "") {
      if (
        !/^[0-7]{1,4}$/.test(chmod) &&
        !/^[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*$/.test(chmod)
      ) {
        throw new Error(`invalid chmod parameter: ${JSON.stringify(chmod)}`);
      }
      out.chmod = chmod;
    }
    if (cmd === "copy") {
      const from = flags.get("from") as string | undefined;
      if (from !== undefined) out.from = this.source(from, state.names, state.count);
    } else {
      const checksum = str("checksum");
      if (checksum !== undefined && checksum !== "") {
        if (sources.length !== 1 || !isRemoteSource(sources[0])) {
          throw new Error("checksum can only be used with a single http(s) or git source");
        }
        out.checksum = checksum;
      }
      if (flags.has("keep-git-dir")) out.keepGitDir = flags.get("keep-git-dir") === "true";
      if (flags.has("unpack")) out.unpack = flags.get("unpack") === "true";
    }
    return out;
  }
}

interface DispatchState {
  /** What substitution sees: the base's Env, ENV's and ARG's values. */
  env: Env;
  config: StageConfig;
  cmdSet: boolean;
  /** Only checking a stage the target does not need. */
  dry: boolean;
  global: Env;
  names: Map<string, number>;
  count: number;
}

const COPY_FLAGS: Record<string, FlagKind> = {
  chown: "string",
  from: "string",
  chmod: "string",
  link: "bool",
  exclude: "strings",
  parents: "bool",
};
const ADD_FLAGS: Record<string, FlagKind> = {
  chown: "string",
  chmod: "string",
  link: "bool",
  "keep-git-dir": "bool",
  checksum: "string",
  unpack: "bool",
  exclude: "strings",
};
const RUN_FLAGS: Record<string, FlagKind> = {
  mount: "strings",
  network: "string",
  security: "string",
};

const MOUNT_ALIASES: Record<string, string> = {
  dst: "target",
  destination: "target",
  src: "source",
  ro: "readonly",
  rw: "readwrite",
};

/**
 * A `--mount` value's comma-separated `key=value` fields. A field may be double-quoted to
 * hold commas (`""` inside quotes is one `"`); keys are case-insensitive and their aliases
 * (`dst`, `src`, `ro`, ...) become the names in the reference; a key alone means true;
 * `rw`/`readwrite` is stored as the opposite `readonly`.
 */
export function parseMountOptions(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of csvFields(spec)) {
    if (field.trim() === "") continue;
    const [rawKey, rawValue] = splitOnce(field, "=");
    const lower = rawKey.trim().toLowerCase();
    const key = MOUNT_ALIASES[lower] ?? lower;
    const value = rawValue ?? "true";
    if (key === "readwrite") out.readonly = value === "false" ? "true" : "false";
    else out[key] = value;
  }
  return out;
}

/** The fields of one comma-separated line; quotes group, `""` within them is a quote. */
function csvFields(line: string): string[] {
  const fields = [""];
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "," && !inQuotes) fields.push("");
    else if (c !== '"') fields[fields.length - 1] += c;
    else if (inQuotes && line[i + 1] === '"') {
      fields[fields.length - 1] += '"';
      i++;
    } else inQuotes = !inQuotes;
  }
  return fields;
}

const PORT_PROTOCOLS = ["tcp", "udp", "sctp"];

/** EXPOSE's `80`, `80/udp`, `8000-8002/tcp` as `port/proto` keys, one a port. */
function exposedPorts(spec: string): string[] {
  const bad = () => new Error(`invalid containerPort: ${spec}`);
  const [range, protocol = "tcp"] = splitOnce(spec, "/");
  const proto = protocol.toLowerCase();
  if (!PORT_PROTOCOLS.includes(proto)) throw bad();
  const [first, last = first] = splitOnce(range, "-");
  if (!/^\d+$/.test(first) || !/^\d+$/.test(last)) throw bad();
  const lo = Number(first), hi = Number(last);
  if (hi < lo || hi > 65535) throw bad();
  return Array.from({ length: hi - lo + 1 }, (_, k) => `${lo + k}/${proto}`);
}

const HEALTHCHECK_FLAGS: Record<string, FlagKind> = {
  interval: "string",
  timeout: "string",
  "start-period": "string",
  "start-interval": "string",
  retries: "string",
};

/** HEALTHCHECK's config: NONE, or CMD with its command and the flags' durations and retries. */
function healthcheck(n: Node): HealthConfig {
  const [type, ...command] = n.args;
  if (type === undefined) throw new Error("HEALTHCHECK requires at least one argument");
  const kind = type.toUpperCase();
  if (kind === "NONE") {
    if (command.length > 0) throw new Error("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  const flags = parseFlags(n.flags, HEALTHCHECK_FLAGS);
  if (kind !== "CMD") {
    throw new Error(`Unknown type ${JSON.stringify(kind)} in HEALTHCHECK (try CMD)`);
  }
  // The JSON form runs as is (CMD); the shell form is one string for the shell (CMD-SHELL).
  const test = n.json ? command : command.length > 0 ? [command.join(" ")] : [];
  if (test.length === 0) throw new Error("Missing command after HEALTHCHECK CMD");
  const h: HealthConfig = { Test: [n.json ? "CMD" : "CMD-SHELL", ...test] };

  const durations: Array<[string, "Interval" | "Timeout" | "StartPeriod" | "StartInterval"]> = [
    ["interval", "Interval"],
    ["timeout", "Timeout"],
    ["start-period", "StartPeriod"],
    ["start-interval", "StartInterval"],
  ];
  for (const [flag, field] of durations) {
    const text = flags.get(flag) as string | undefined;
    if (!text) continue; // unset or empty: the default
    const ns = parseGoDuration(text);
    if (ns === 0) continue; // zero also means the default
    if (ns < 1e6) throw new Error(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
    h[field] = ns;
  }
  const retries = flags.get("retries") as string | undefined;
  if (retries) {
    if (!/^[+-]?\d+$/.test(retries)) {
      throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    }
    const count = Number(retries);
    if (count < 0) throw new Error(`--retries cannot be negative (${count})`);
    h.Retries = count;
  }
  return h;
}

/** COPY's destination made absolute against the working directory; a trailing `/` stays. */
function resolveDest(dest: string, workdir: string | undefined): string {
  const slash = dest.endsWith("/") || dest === "." || dest === "";
  const p = dest.startsWith("/") ? dest : `${workdir || "/"}/${dest}`;
  const clean = cleanPath(p);
  return slash && clean !== "/" ? clean + "/" : clean;
}
