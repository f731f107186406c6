/**
 * The persisted shape of a container: what it was created with (`ContainerSpec`, from the
 * config layer, fixed at create) and what happened to it (`ContainerState`). Plain data,
 * JSON on disk.
 *
 * @module
 */

import type { CgroupLayout } from "../cgroups/types.ts";
import type { ContainerSpec } from "../config/container.ts";
import type { RootfsLayout } from "../config/init.ts";
import type { HealthState } from "../config/health.ts";

/** The life of a container: created, running, exited (Docker's words). */
export type ContainerStatus = "created" | "running" | "exited";

/** The shape of `state.json` this code writes and reads; a file with another is dead. */
export const STATE_VERSION = 1;

/** Everything m-docker records about one container. */
export interface ContainerState {
  /** `STATE_VERSION` of the code that wrote it. */
  version: number;
  id: string;
  name: string;
  spec: ContainerSpec;
  status: ContainerStatus;
  /** Host PID of the container's PID 1 while it runs. */
  pid?: number;
  /** Its start time in clock ticks (/proc/PID/stat), to tell it from a reused PID. */
  pidStartTime?: number;
  /** The process waiting on the container (the shim, or the CLI in the foreground). */
  monitorPid?: number;
  monitorStartTime?: number;
  exitCode?: number;
  oomKilled?: boolean;
  /** Set when m-docker itself failed the start; the message shown to the user. */
  error?: string;
  /** `pause`d: its cgroup is frozen (it still counts as running, as in Docker). */
  paused?: boolean;
  /** Set by `stop`, `kill` and `rm -f`, so that a restart policy does not bring it back. */
  stopRequested?: boolean;
  /** How many times the restart policy has restarted it. */
  restartCount?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  rootfs: RootfsLayout;
  containerDir: string;
  logPath: string;
  cgroup: { layout: CgroupLayout; paths: Record<string, string> };
  /**
   * The network table's directory (`<root>/network`), where its addresses and published
   * ports are recorded while it runs: what to release when it stops, even after a crash.
   */
  networkDir?: string;
  /** Its place on its networks while it runs (shown by `inspect` and `ps`). */
  networking?: ContainerNetworking;
  /** With a healthcheck: its health since it last started (`State.Health`). */
  health?: HealthState;
}

/** A running container's addresses and published ports. */
export interface ContainerNetworking {
  attachments: NetworkAttachment[];
  ports: PublishedPort[];
}

/** A container's place on one network. */
export interface NetworkAttachment {
  networkId: string;
  networkName: string;
  bridge: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  hostVeth: string;
  aliases: string[];
}

/** A published port with the host port it got. */
export interface PublishedPort {
  protocol: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
  containerPort: number;
}
