/**
 * What a container is made of, as plain data: its spec (fixed at create), its mounts and
 * its restart policy. Every layer above reads these types; this module imports nothing but
 * other config modules, so the config can be validated once, at the edge, then trusted
 * (runc's `libcontainer/configs` plays this part).
 *
 * @module
 */

import type { ResourceLimits } from "./limits.ts";
import type { NetworkSpec } from "./network.ts";
import type { DeviceNode, DeviceRule } from "./devices.ts";
import type { UsernsMode, UsernsRemap } from "./userns.ts";
import type { LogConfig } from "./logging.ts";

/** The PATH a container gets when its image sets none (Docker's default). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Where `--init`'s program is bind-mounted inside the container (Docker's path). */
export const INIT_PATH = "/sbin/docker-init";

/** A bind mount from the host into the container (`-v HOST:CTR[:ro]`). */
export interface BindMount {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the container, never `/`. */
  destination: string;
  readonly: boolean;
}

/** A tmpfs inside the container (`--tmpfs PATH[:OPTS]`). */
export interface TmpfsMount {
  /** Absolute path inside the container, never `/`. */
  destination: string;
  /** mount(8)-style options (`rw`, `noexec`, `size=64m`, `mode=1777`), later ones winning. */
  options: string[];
}

/** A resource limit (`--ulimit nofile=1024:2048`); -1 is unlimited. */
export interface Ulimit {
  /** The name Docker uses: `nofile`, `nproc`, `core`, ... (see `ULIMIT_NAMES`). */
  name: string;
  soft: number;
  hard: number;
}

/** The resource names `--ulimit` takes, as Docker's (its `ulimitNameMapping`). */
export const ULIMIT_NAMES = [
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
] as const;

/** Docker's restart policies: no, on-failure[:max retries], always. */
export type RestartPolicy =
  | { name: "no" }
  | { name: "on-failure"; maxRetries?: number }
  | { name: "always" };

/**
 * `--security-opt seccomp=`: no filter at all (`unconfined`), or a profile of the user's in
 * Docker's JSON format, its text as read at create (Docker keeps the text too, so a later
 * change to the file does not change the container). Docker's default profile when absent.
 */
export type SeccompChoice = "unconfined" | { profileJson: string };

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
  /** Supplementary groups, the primary group first; absent: the primary group alone. */
  groups?: number[];
  /** `--group-add` as typed, for `inspect`. */
  groupAdd?: string[];
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
  /**
   * How it is networked. Absent in containers created before networking existed: they had a
   * namespace of their own with only `lo`, which is `--network none`.
   */
  network?: NetworkSpec;
  /** The seccomp filter; absent: Docker's default profile (also for older containers). */
  seccomp?: SeccompChoice;
  /**
   * The capabilities of its processes (names, `CAP_CHOWN`), computed at create from the
   * defaults, `--cap-add`, `--cap-drop` and `--privileged`. Absent: Docker's default set.
   */
  capabilities?: string[];
  /** What `inspect` shows in HostConfig: the flags as given. */
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  /** `--privileged`: no seccomp filter, no masked or read-only kernel paths, /sys writable. */
  privileged?: boolean;
  /** `--security-opt no-new-privileges`. */
  noNewPrivileges?: boolean;
  /** `--read-only`: the root filesystem is mounted read-only. */
  readonlyRootfs?: boolean;
  /** `--tmpfs` mounts. */
  tmpfs?: TmpfsMount[];
  /** `--shm-size` in bytes; absent: 64 MiB. */
  shmSizeBytes?: number;
  /** `--ulimit`s. */
  ulimits?: Ulimit[];
  /** `--oom-score-adj`. */
  oomScoreAdj?: number;
  /** `--sysctl`s. */
  sysctls?: Record<string, string>;
  /** `--device`s, resolved at create to the host's nodes. */
  devices?: DeviceNode[];
  /** `--device-cgroup-rule`s. */
  deviceCgroupRules?: DeviceRule[];
  /** `--userns` (HostConfig.UsernsMode): absent when neither the flag nor a default chose. */
  usernsMode?: UsernsMode;
  /** Remapped: the container's root is `userns.uid.hostStart` on the host (see config/userns.ts). */
  userns?: UsernsRemap;
  /** `--log-driver`/`--log-opt` (HostConfig.LogConfig); absent: json-file, no options. */
  logConfig?: LogConfig;
}
