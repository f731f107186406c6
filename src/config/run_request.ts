/**
 * A request to create a container, as every front end hands it to the library: plain data,
 * already parsed (the Docker-style CLI turns `-v`, `-e KEY` and `--env-file` into it; the OCI
 * runtime will turn a bundle's config.json into it). `validateRunRequest` is the one check at
 * the edge; nothing below it validates again.
 *
 * @module
 */

import type { UsernsMode, UsernsRemap } from "./userns.ts";
import { type HealthConfig, validateHealthConfig } from "./health.ts";
import { type HostResources, type ResourceLimits, validateLimits } from "./limits.ts";
import { isValidContainerName } from "../util/names.ts";
import type {
  BindMount,
  RestartPolicy,
  SeccompChoice,
  TmpfsMount,
  Ulimit,
  VolumeMountRequest,
  VolumesFromRequest,
} from "./container.ts";
import { validateConfinement } from "./confine.ts";
import { type NetworkSpec, validateNetworkSpec } from "./network.ts";
import { InvalidConfigError } from "./errors.ts";
import { normalizeCapabilities } from "./capabilities.ts";
import { type DeviceRequest, type DeviceRule, isDeviceAccess } from "./devices.ts";
import { type LogConfig, validateLogConfig } from "./logging.ts";

/** What a caller asks for; the image's config fills in what is absent. */
export interface RunRequest {
  /** The image reference as the user typed it. */
  image: string;
  /** The trailing command and its arguments; empty means the image's Cmd. */
  command: string[];
  /** The entrypoint; the empty string clears the image's entrypoint. */
  entrypoint?: string;
  /** The container's name; absent or empty means a random one, as Docker does. */
  name?: string;
  /** `KEY=VALUE` entries, later ones overriding earlier ones and the image's. */
  env: string[];
  mounts: BindMount[];
  workdir?: string;
  /** `USER[:GROUP]`, names or numbers; the image's User when absent. */
  user?: string;
  hostname?: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  autoRemove: boolean;
  limits: ResourceLimits;
  cgroupParent?: string;
  /** The signal `stop` sends, as a number; the image's StopSignal or SIGTERM when absent. */
  stopSignal?: number;
  /** Seconds `stop` waits before SIGKILL; 10 when absent. */
  stopTimeout?: number;
  /** Run the command under a small init that reaps zombies and forwards signals. */
  init?: boolean;
  restart?: RestartPolicy;
  /** `--group-add`: more supplementary groups, names in the image's /etc/group or numbers. */
  groupAdd?: string[];
  /** Networking; absent: the default `bridge` network, nothing published. */
  network?: NetworkSpec;
  /** `-P`: publish every exposed port (the image's and `expose`) to a host port of its own. */
  publishAll?: boolean;
  /** `--expose`: more exposed ports, as `80/tcp`. */
  expose?: string[];
  /** `--security-opt seccomp=`; absent: Docker's default profile. */
  seccomp?: SeccompChoice;
  /** `--cap-add` and `--cap-drop`, as typed (`NET_RAW`, `cap_sys_admin`, `ALL`). */
  capAdd?: string[];
  capDrop?: string[];
  /** `--privileged`: every capability, no seccomp, no masked or read-only kernel paths. */
  privileged?: boolean;
  /** `--security-opt no-new-privileges`: PR_SET_NO_NEW_PRIVS before the command runs. */
  noNewPrivileges?: boolean;
  /** `--security-opt` as typed, for `inspect`. */
  securityOpt?: string[];
  /** `--read-only`: the root filesystem read-only. */
  readonlyRootfs?: boolean;
  /** `--tmpfs` mounts (see `parseTmpfs`). */
  tmpfs?: TmpfsMount[];
  /** `--shm-size` in bytes; absent: 64 MiB. */
  shmSizeBytes?: number;
  /** `--ulimit`s (see `parseUlimit`). */
  ulimits?: Ulimit[];
  /** `--oom-score-adj`, -1000..1000. */
  oomScoreAdj?: number;
  /** `--sysctl`s (see `parseSysctl`): namespaced ones only. */
  sysctls?: Record<string, string>;
  /** `--device`s; create looks the host's nodes up. */
  devices?: DeviceRequest[];
  /** `--device-cgroup-rule`s (see `parseDeviceRule`). */
  deviceCgroupRules?: DeviceRule[];
  /** `--userns` as `inspect` shows it: absent when neither the flag nor a default chose. */
  usernsMode?: UsernsMode;
  /** Remapped: the host ranges of the container's ids (read from the subuid files). */
  userns?: UsernsRemap;
  /** Named and anonymous volumes (`-v NAME:/path`, `-v /path`, `--mount type=volume`). */
  volumes?: VolumeMountRequest[];
  /** `--volumes-from`: other containers' mounts, in order. */
  volumesFrom?: VolumesFromRequest[];
  /** `--health-*` or `--no-healthcheck`; merged with the image's (`Test: []` keeps its test). */
  healthcheck?: HealthConfig;
  /** `--label` and `--label-file`: the container's labels, over the image's. */
  labels?: Record<string, string>;
  /** `--log-driver` and `--log-opt`; absent: json-file with no options. */
  logConfig?: LogConfig;
}

/** Docker's hostname rule: RFC 1123 labels, at most 64 characters. */
export function isValidHostname(h: string): boolean {
  return h.length <= 64 && /^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(h);
}

/** True for an absolute path that is not the root itself. */
function isMountDestination(path: string): boolean {
  return path.startsWith("/") && path.replace(/\/+/g, "/") !== "/";
}

/**
 * Checks everything in a request that does not depend on the image, with Docker's messages;
 * `host` says what the host has to offer (its CPUs, for a cpuset). Throws
 * `InvalidConfigError` naming the field; returns nothing on success.
 *
 * @example
 * ```ts
 * validateRunRequest({ ...request, hostname: "-bad" }); // throws: invalid hostname format: -bad
 * ```
 */
export function validateRunRequest(r: RunRequest, host: HostResources = {}): void {
  if (r.name && !isValidContainerName(r.name)) {
    throw new InvalidConfigError(
      "name",
      `Invalid container name (${r.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  if (r.hostname !== undefined && !isValidHostname(r.hostname)) {
    throw new InvalidConfigError("hostname", `invalid hostname format: ${r.hostname}`);
  }
  if (r.workdir !== undefined && !r.workdir.startsWith("/")) {
    throw new InvalidConfigError(
      "workdir",
      `the working directory '${r.workdir}' is invalid, it needs to be an absolute path`,
    );
  }
  for (const [i, m] of r.mounts.entries()) {
    if (!m.source.startsWith("/")) {
      throw new InvalidConfigError(`mounts[${i}].source`, `invalid mount source: '${m.source}'`);
    }
    if (!isMountDestination(m.destination)) {
      throw new InvalidConfigError(
        `mounts[${i}].destination`,
        `invalid mount destination: '${m.destination}': it must be absolute and not '/'`,
      );
    }
  }
  for (const [i, v] of (r.volumes ?? []).entries()) {
    if (!isMountDestination(v.destination)) {
      throw new InvalidConfigError(
        `volumes[${i}].destination`,
        `invalid mount destination: '${v.destination}': it must be absolute and not '/'`,
      );
    }
  }
  for (const [i, e] of r.env.entries()) {
    if (!e.includes("=") || e.startsWith("=")) {
      throw new InvalidConfigError(`env[${i}]`, `invalid environment variable: ${e}`);
    }
  }
  validateLimits(r.limits, host);
  normalizeCapabilities(r.capAdd ?? [], "capAdd");
  normalizeCapabilities(r.capDrop ?? [], "capDrop");
  const netMode = r.network?.mode.kind;
  validateConfinement({
    sysctls: r.sysctls,
    oomScoreAdj: r.oomScoreAdj,
    network: netMode === "host" ? "host" : netMode === "container" ? "joined" : "own",
  });
  for (const [i, d] of (r.devices ?? []).entries()) {
    if (!isMountDestination(d.containerPath)) {
      throw new InvalidConfigError(
        `devices[${i}].containerPath`,
        `bad format for path: ${d.containerPath}`,
      );
    }
    if (!isDeviceAccess(d.access)) {
      throw new InvalidConfigError(`devices[${i}].access`, `invalid device mode: ${d.access}`);
    }
  }
  for (const [i, m] of (r.tmpfs ?? []).entries()) {
    if (!isMountDestination(m.destination)) {
      throw new InvalidConfigError(
        `tmpfs[${i}].destination`,
        `invalid mount destination: '${m.destination}': it must be absolute and not '/'`,
      );
    }
  }
  if (r.shmSizeBytes !== undefined && r.shmSizeBytes <= 0) {
    throw new InvalidConfigError("shmSizeBytes", "invalid --shm-size: it must be more than 0");
  }
  if (r.network) validateNetworkSpec(r.network);
  if (r.healthcheck) validateHealthConfig(r.healthcheck);
  if (r.logConfig) validateLogConfig(r.logConfig);
  if (r.stopTimeout !== undefined && r.stopTimeout < 0) {
    throw new InvalidConfigError("stopTimeout", `invalid --stop-timeout: ${r.stopTimeout}`);
  }
  if (r.restart && r.restart.name !== "no") {
    if (r.autoRemove) {
      throw new InvalidConfigError("restart", "Conflicting options: --restart and --rm");
    }
    if (!r.detach) {
      throw new InvalidConfigError(
        "restart",
        "--restart needs -d: restarts are done by the container's shim",
      );
    }
  }
}
