/**
 * Combines a validated `RunRequest` with the image's config into the container's spec, the
 * way Docker does (entrypoint and cmd, env, working directory, user, stop signal). Pure: the
 * caller gathers what it needs from the host and the image and passes it in.
 *
 * @module
 */

import type { ImageRecord } from "../image/store.ts";
import { type ContainerSpec, DEFAULT_PATH, INIT_PATH } from "../config/container.ts";
import { mergeEnv } from "../config/env.ts";
import { InvalidConfigError } from "../config/errors.ts";
import { tweakCapabilities } from "../config/capabilities.ts";
import type { RunRequest } from "../config/run_request.ts";
import { defaultNetworkSpec, type NetworkSpec, type PortMapping } from "../config/network.ts";
import { SIGNALS } from "../../ffi/libc.ts";
import { resolveGroups, resolveUser } from "../rootfs/user.ts";
import { mergeHealthConfig } from "../config/health.ts";

/** The host's static tini, which `--init` runs as PID 1 (Docker's docker-init is tini). */
export const HOST_INIT_BINARY = "/usr/bin/tini-static";

/** What `buildSpec` needs from outside the request and the image's config. */
export interface SpecInputs {
  /** The container's ID: its first 12 characters are the default hostname, as Docker's. */
  id: string;
  /** Reads a file of the image as the container will see it, to resolve user names. */
  readImageFile: (path: string) => string;
  /** The host's init binary for `--init`, or null when the host has none. */
  initBinary: string | null;
  /** The host's own hostname: a container on the host's network takes it, as Docker's. */
  hostHostname?: string;
}

/** The image's StopSignal (`SIGQUIT`, `QUIT` or `3`), if it names one. */
function imageStopSignal(name: string | undefined): number | undefined {
  if (!name) return undefined;
  if (/^\d+$/.test(name)) return Number(name);
  return SIGNALS[name.toUpperCase()] ?? SIGNALS[`SIG${name.toUpperCase()}`];
}

/**
 * Combines the image config and a request (already checked by `validateRunRequest`) into
 * the container's spec. Throws `InvalidConfigError` for what only the image can tell: no
 * command at all, a relative WorkingDir, an unknown user, `--init` with no init binary.
 */
export function buildSpec(
  request: RunRequest,
  image: ImageRecord,
  inputs: SpecInputs,
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
    throw new InvalidConfigError(
      "command",
      "no command specified: the image has no Cmd or Entrypoint",
    );
  }
  const mounts = [...request.mounts];
  let args = command;
  if (request.init) {
    if (inputs.initBinary === null) {
      throw new InvalidConfigError(
        "init",
        `--init needs ${HOST_INIT_BINARY} on the host: install Debian's tini (scripts/setup does)`,
      );
    }
    mounts.push({ source: inputs.initBinary, destination: INIT_PATH, readonly: true });
    args = [INIT_PATH, "--", ...command];
  }
  const network = request.network ?? defaultNetworkSpec();
  const hostname = request.hostname ??
    (network.mode.kind === "host" && inputs.hostHostname
      ? inputs.hostHostname
      : inputs.id.slice(0, 12));
  const exposed = [...new Set([...Object.keys(cfg.ExposedPorts ?? {}), ...(request.expose ?? [])])];
  const cwd = request.workdir ?? (cfg.WorkingDir || "/");
  if (!cwd.startsWith("/")) {
    throw new InvalidConfigError(
      "workdir",
      `the working directory '${cwd}' is invalid, it needs to be an absolute path`,
    );
  }
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (request.tty) base.push("TERM=xterm");
  const env = mergeEnv(base, cfg.Env ?? [], request.env);
  if (!env.some((e) => e.startsWith("HOME="))) env.push("HOME=/root");
  const userSpec = request.user ?? (cfg.User || "");
  let user = { uid: 0, gid: 0, groups: [0] };
  let added: number[] = [];
  try {
    if (userSpec !== "") user = resolveUser(userSpec, inputs.readImageFile);
    added = resolveGroups(request.groupAdd ?? [], inputs.readImageFile);
  } catch (e) {
    throw new InvalidConfigError(
      request.groupAdd?.length ? "groupAdd" : "user",
      (e as Error).message,
    );
  }
  // Supplementary groups: the user's from the image's /etc/group, then --group-add's.
  const groups = [...new Set([user.gid, ...user.groups, ...added])];
  return {
    image: request.image,
    imageId: image.id,
    args,
    env,
    cwd,
    hostname,
    uid: user.uid,
    gid: user.gid,
    groups: groups.length > 1 ? groups : undefined,
    groupAdd: request.groupAdd?.length ? request.groupAdd : undefined,
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
    // The container's labels over the image's, as Docker merges them.
    labels: request.labels && Object.keys(request.labels).length > 0
      ? { ...cfg.Labels, ...request.labels }
      : cfg.Labels,
    exposedPorts: exposed.length > 0 ? exposed : undefined,
    network: request.publishAll ? withPublishedExposed(network, exposed) : network,
    seccomp: request.seccomp,
    capabilities: tweakCapabilities(
      request.capAdd ?? [],
      request.capDrop ?? [],
      request.privileged ?? false,
    ),
    capAdd: request.capAdd?.length ? request.capAdd : undefined,
    capDrop: request.capDrop?.length ? request.capDrop : undefined,
    securityOpt: request.securityOpt?.length ? request.securityOpt : undefined,
    privileged: request.privileged || undefined,
    noNewPrivileges: request.noNewPrivileges || undefined,
    readonlyRootfs: request.readonlyRootfs || undefined,
    usernsMode: request.usernsMode,
    userns: request.userns,
    tmpfs: request.tmpfs?.length ? request.tmpfs : undefined,
    shmSizeBytes: request.shmSizeBytes,
    ulimits: request.ulimits?.length ? request.ulimits : undefined,
    oomScoreAdj: request.oomScoreAdj,
    sysctls: request.sysctls && Object.keys(request.sysctls).length > 0
      ? request.sysctls
      : undefined,
    deviceCgroupRules: request.deviceCgroupRules?.length ? request.deviceCgroupRules : undefined,
    healthcheck: mergeHealthConfig(request.healthcheck, cfg.Healthcheck),
    shell: cfg.Shell?.length ? cfg.Shell : undefined,
    logConfig: request.logConfig,
  };
}

/**
 * `-P`: every exposed port (`80/tcp`) that `-p` does not already publish goes to a host port
 * chosen at start.
 */
function withPublishedExposed(network: NetworkSpec, exposed: string[]): NetworkSpec {
  const ports: PortMapping[] = [...network.ports];
  for (const key of exposed) {
    const [port, proto = "tcp"] = key.split("/");
    const containerPort = Number(port);
    if (!Number.isInteger(containerPort) || (proto !== "tcp" && proto !== "udp")) continue;
    if (ports.some((p) => p.containerPort === containerPort && p.protocol === proto)) continue;
    ports.push({ hostPort: 0, containerPort, protocol: proto });
  }
  return { ...network, ports };
}
