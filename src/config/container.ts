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
import type { HealthConfig } from "./health.ts";
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
  /** A volume's data directory mounted here (`source` is it): its name, and whether it is anonymous. */
  volume?: MountedVolume;
  /** `bind-propagation=`: how mounts below it propagate; absent: `rprivate`. */
  propagation?: MountPropagation;
  /** The mode as typed after `-v`'s second colon (`ro`, `rw,nocopy`): inspect's Mode. */
  mode?: string;
  /** Given with `--mount` (HostConfig.Mounts), not `-v` (HostConfig.Binds). */
  viaMount?: boolean;
  /** What is bound is a path in a view of image layers (a build's RUN --mount from=). */
  layers?: LayerView;
}

/**
 * Image layers seen as one directory, made in the container's mount namespace only (so no
 * mount of it is left on the host whatever happens): the layers (top first) are mounted at
 * `mountPoint`, a host directory, as an overlay (with `upperDir` and `workDir`, writable:
 * the writes land there), or as a bind of the one layer, or not at all when there is none.
 * Then `path` (relative, resolved inside the view, never out of it) is bound as a mount's
 * source.
 */
export interface LayerView {
  lowerDirs: string[];
  upperDir?: string;
  workDir?: string;
  mountPoint: string;
  path: string;
}

/** The propagation modes of `bind-propagation=` (Docker's, Linux's). */
export const MOUNT_PROPAGATIONS = [
  "rprivate",
  "private",
  "rshared",
  "shared",
  "rslave",
  "slave",
] as const;

/** One of `MOUNT_PROPAGATIONS`. */
export type MountPropagation = typeof MOUNT_PROPAGATIONS[number];

/** The volume behind a mount. */
export interface MountedVolume {
  name: string;
  /** Made for this container (`-v /path`, the image's VOLUME): `rm -v` and `--rm` remove it. */
  anonymous?: boolean;
}

/**
 * A volume to mount (`-v NAME:/path`, `-v /path`, `--mount type=volume`): created on first
 * use, seeded from the image when empty unless `noCopy`.
 */
export interface VolumeMountRequest {
  /** The volume's name; absent: a new anonymous volume. */
  name?: string;
  /** Absolute path inside the container, never `/`. */
  destination: string;
  readonly: boolean;
  /** `volume-nocopy` (or `-v`'s `nocopy`): no copy-up from the image. */
  noCopy?: boolean;
  /** The mode as typed (inspect's Mode). */
  mode?: string;
  /** Given with `--mount`. */
  viaMount?: boolean;
  /** `volume-label=` and `volume-opt=` for a volume this creates. */
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** `--volumes-from C[:ro|rw]`: every mount of container C; the mode overrides theirs. */
export interface VolumesFromRequest {
  container: string;
  mode?: "ro" | "rw";
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
  /**
   * The signal the container's first process gets when the process that started it ends
   * (a build's RUN step: it dies with a killed build). Absent: it runs on, as Docker's do.
   */
  parentDeathSignal?: number;
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
  /** Labels (the image's, then `--label`'s) and exposed ports, shown by `inspect`. */
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
  /** Its healthcheck (the image's merged with `--health-*`), as Docker's Config.Healthcheck. */
  healthcheck?: HealthConfig;
  /** The image's SHELL, which a `CMD-SHELL` healthcheck runs under; absent: `/bin/sh -c`. */
  shell?: string[];
  /** `--log-driver`/`--log-opt` (HostConfig.LogConfig); absent: json-file, no options. */
  logConfig?: LogConfig;
}
