/**
 * The persisted shape of a container: what the user asked for (`ContainerSpec`, fixed at
 * create) and what happened to it (`ContainerState`). Plain data, JSON on disk.
 *
 * @module
 */

import type { BindMount } from "../container/init_config.ts";
import type { ResourceLimits } from "../config/limits.ts";
import type { CgroupLayout } from "../cgroups/types.ts";

/** What a container was created with. Validated once, at the edge, then trusted. */
export interface ContainerSpec {
  /** The image reference as the user typed it (shown by `ps`). */
  image: string;
  /** The image's ID (sha256 of its config). */
  imageId: string;
  /** The full command: entrypoint followed by cmd. */
  args: string[];
  env: string[];
  cwd: string;
  hostname: string;
  uid: number;
  gid: number;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  autoRemove: boolean;
  mounts: BindMount[];
  limits: ResourceLimits;
  cgroupParent?: string;
  /** Signal `stop` sends first, and seconds it waits before SIGKILL. */
  stopSignal: number;
  stopTimeout: number;
  /** The image's labels and exposed ports, shown by `inspect` (no port publishing yet). */
  labels?: Record<string, string>;
  exposedPorts?: string[];
  /** `--restart`: what the shim does when the container exits on its own. */
  restart?: RestartPolicy;
}

/** Docker's restart policies: no, on-failure[:max retries], always. */
export type RestartPolicy =
  | { name: "no" }
  | { name: "on-failure"; maxRetries?: number }
  | { name: "always" };

/** The life of a container: created, running, exited (Docker's words). */
export type ContainerStatus = "created" | "running" | "exited";

/** Everything m-docker records about one container. */
export interface ContainerState {
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
  /** Set by `stop`, `kill` and `rm -f`, so that a restart policy does not bring it back. */
  stopRequested?: boolean;
  /** How many times the restart policy has restarted it. */
  restartCount?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  rootfs: { lowerDirs: string[]; upperDir: string; workDir: string; mountPoint: string };
  containerDir: string;
  logPath: string;
  cgroup: { layout: CgroupLayout; paths: Record<string, string> };
}
