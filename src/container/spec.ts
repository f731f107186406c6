/**
 * Turns what a user asked for (a `RunRequest`: strings, as typed) into a validated
 * `ContainerSpec`, the way Docker combines the image config with `run`'s options. All
 * validation of user input happens here, before anything is created on the host.
 *
 * @module
 */

import type { ImageRecord } from "../image/store.ts";
import { type ResourceLimits, validateLimits } from "../config/limits.ts";
import { availableCpus } from "../cgroups/cpus.ts";
import type { BindMount } from "./init_config.ts";
import type { ContainerSpec, RestartPolicy } from "../state/types.ts";
import { UsageError } from "../util/errors.ts";
import { SIGNALS } from "../../ffi/libc.ts";
import { resolveUser } from "../rootfs/user.ts";

/** The PATH a container gets when its image sets none (Docker's default). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A `run` request, with values still as the user typed them. */
export interface RunRequest {
  image: string;
  /** The trailing command and its arguments; empty means the image's Cmd. */
  command: string[];
  /** `--entrypoint`; the empty string clears the image's entrypoint. */
  entrypoint?: string;
  name?: string;
  /** `-e KEY=VALUE` or `-e KEY` (taken from the caller's environment). */
  env: string[];
  envFiles: string[];
  /** `-v HOST:CONTAINER[:ro|rw]`. */
  volumes: string[];
  workdir?: string;
  /** `-u USER[:GROUP]`; the image's User when absent. */
  user?: string;
  hostname?: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  autoRemove: boolean;
  limits: ResourceLimits;
  cgroupParent?: string;
  /** `--stop-signal`, as a number; SIGTERM when absent. */
  stopSignal?: number;
  /** `--stop-timeout` in seconds; 10 when absent. */
  stopTimeout?: number;
  /** `--init`: run the command under a small init that reaps zombies and forwards signals. */
  init?: boolean;
  /** `--restart`. */
  restart?: RestartPolicy;
}

/** Where `--init`'s program is bind-mounted inside the container (Docker's path). */
export const INIT_PATH = "/sbin/docker-init";

/** The host's static tini, which `--init` runs as PID 1 (Docker's docker-init is tini). */
export const HOST_INIT_BINARY = "/usr/bin/tini-static";

/** Parses `-v HOST:CONTAINER[:ro|rw]` for bind mounts. */
export function parseVolume(spec: string): BindMount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw new UsageError(`invalid volume specification: '${spec}': use HOST:CONTAINER[:ro]`);
  }
  const [source, destination, mode = "rw"] = parts;
  if (!source.startsWith("/")) {
    throw new UsageError(
      `invalid volume specification: '${spec}': the host path must be absolute ` +
        "(named volumes are not supported yet)",
    );
  }
  if (!destination.startsWith("/") || destination.replace(/\/+/g, "/") === "/") {
    throw new UsageError(
      `invalid volume specification: '${spec}': the container path must be absolute and not '/'`,
    );
  }
  if (mode !== "ro" && mode !== "rw") {
    throw new UsageError(`invalid volume specification: '${spec}': unknown mode '${mode}'`);
  }
  return { source: source.replace(/\/+$/, "") || "/", destination, readonly: mode === "ro" };
}

/** Reads an `--env-file`: KEY=VALUE lines, `#` comments, bare KEY taken from the caller. */
export function parseEnvFile(path: string, text: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const key = line.split("=", 1)[0];
    if (key === "" || /\s/.test(key)) {
      throw new UsageError(`${path}:${i + 1}: variable '${key}' contains whitespaces`);
    }
    out.push(line.includes("=") ? line : `${key}=${Deno.env.get(key) ?? ""}`);
  }
  return out;
}

/** Merges `KEY=VALUE` lists; later entries replace earlier ones with the same key. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) map.set(entry.split("=", 1)[0], entry);
  }
  return [...map.values()];
}

function explicitEnv(entries: string[]): string[] {
  return entries.map((e) => {
    if (e.startsWith("=")) throw new UsageError(`invalid environment variable: ${e}`);
    if (e.includes("=")) return e;
    const value = Deno.env.get(e);
    return value === undefined ? "" : `${e}=${value}`;
  }).filter((e) => e !== "");
}

/** Docker's hostname rule: RFC 1123 labels, at most 64 characters. */
function validateHostname(h: string): void {
  if (h.length > 64 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(h)) {
    throw new UsageError(`invalid hostname format: ${h}`);
  }
}

/** The image's StopSignal (`SIGQUIT`, `QUIT` or `3`), if it names one. */
function imageStopSignal(name: string | undefined): number | undefined {
  if (!name) return undefined;
  if (/^\d+$/.test(name)) return Number(name);
  return SIGNALS[name.toUpperCase()] ?? SIGNALS[`SIG${name.toUpperCase()}`];
}

/**
 * Combines the image config and the request into the container's spec.
 * `readFromLayers` reads a file of the image (top layer first), to resolve user names.
 * `id` supplies the default hostname (its first 12 characters), as Docker does.
 */
export function buildSpec(
  request: RunRequest,
  image: ImageRecord,
  id: string,
  readFromLayers: (path: string) => string = () => {
    throw new Error("no image files");
  },
): ContainerSpec {
  const cfg = image.config;
  let entrypoint = cfg.Entrypoint ?? [];
  let cmd = cfg.Cmd ?? [];
  if (request.entrypoint !== undefined) {
    entrypoint = request.entrypoint === "" ? [] : [request.entrypoint];
    cmd = []; // Docker: --entrypoint clears the image's Cmd
  }
  if (request.command.length > 0) cmd = request.command;
  const command = [...entrypoint, ...cmd];
  if (command.length === 0 || command[0] === "") {
    throw new UsageError("no command specified: the image has no Cmd or Entrypoint");
  }
  const mounts = request.volumes.map(parseVolume);
  let args = command;
  if (request.init) {
    try {
      Deno.statSync(HOST_INIT_BINARY);
    } catch {
      throw new UsageError(
        `--init needs ${HOST_INIT_BINARY} on the host: install Debian's tini (scripts/setup does)`,
      );
    }
    mounts.push({ source: HOST_INIT_BINARY, destination: INIT_PATH, readonly: true });
    args = [INIT_PATH, "--", ...command];
  }
  if (request.restart && request.restart.name !== "no") {
    if (request.autoRemove) throw new UsageError("Conflicting options: --restart and --rm");
    if (!request.detach) {
      throw new UsageError("--restart needs -d: restarts are done by the container's shim");
    }
  }
  if (request.stopTimeout !== undefined && request.stopTimeout < 0) {
    throw new UsageError(`invalid --stop-timeout: ${request.stopTimeout}`);
  }
  const hostname = request.hostname ?? id.slice(0, 12);
  validateHostname(hostname);
  const cwd = request.workdir ?? (cfg.WorkingDir || "/");
  if (!cwd.startsWith("/")) {
    throw new UsageError(
      `the working directory '${cwd}' is invalid, it needs to be an absolute path`,
    );
  }
  const fileEnv = request.envFiles.flatMap((f) => {
    let text: string;
    try {
      text = Deno.readTextFileSync(f);
    } catch (e) {
      throw new UsageError(`open ${f}: ${(e as Error).message}`);
    }
    return parseEnvFile(f, text);
  });
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (request.tty) base.push("TERM=xterm");
  const env = mergeEnv(base, cfg.Env ?? [], fileEnv, explicitEnv(request.env));
  if (!env.some((e) => e.startsWith("HOME="))) env.push("HOME=/root");
  // The host's CPUs are read only when a cpuset asks for some.
  validateLimits(request.limits, {
    cpus: request.limits.cpusetCpus === undefined
      ? undefined
      : availableCpus({ parent: request.cgroupParent }),
  });
  const userSpec = request.user ?? (cfg.User || "");
  let user = { uid: 0, gid: 0 };
  if (userSpec !== "") {
    try {
      user = resolveUser(userSpec, readFromLayers);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return {
    image: request.image,
    imageId: image.id,
    args,
    env,
    cwd,
    hostname,
    uid: user.uid,
    gid: user.gid,
    tty: request.tty,
    interactive: request.interactive,
    detach: request.detach,
    autoRemove: request.autoRemove,
    mounts,
    limits: request.limits,
    cgroupParent: request.cgroupParent,
    stopSignal: request.stopSignal ?? imageStopSignal(cfg.StopSignal) ?? SIGNALS.SIGTERM,
    stopTimeout: request.stopTimeout ?? 10,
    restart: request.restart,
    labels: cfg.Labels,
    exposedPorts: cfg.ExposedPorts ? Object.keys(cfg.ExposedPorts) : undefined,
  };
}
