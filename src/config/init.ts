/**
 * What the parent sends the init process over the init socket, and the one line init sends
 * back when it fails: plain data, validated by the parent before it is sent, trusted by init.
 *
 * This module must stay free of imports but types: it is on init's start-up path.
 *
 * @module
 */

import type { DeviceNode } from "./devices.ts";
import type { BindMount, TmpfsMount, Ulimit } from "./container.ts";

/** The variable naming the descriptor a remapped init's real stderr waits on while it boots. */
export const INIT_STDERR_ENV = "M_DOCKER_INIT_STDERR_FD";

/** The overlay root of one container: image layers top first, then its own upper and work. */
export interface RootfsLayout {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mountPoint: string;
}

/** Host files bind-mounted over /etc/hostname, /etc/hosts and /etc/resolv.conf. */
export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/**
 * What init mounts at /sys/fs/cgroup, read-only, from inside its cgroup namespace (so each
 * hierarchy shows the container's own cgroup as its root): the unified hierarchy (`v2`), or
 * a tmpfs holding each v1 hierarchy the host has, by its directory name (`memory`,
 * `cpu,cpuacct`, `systemd`) and its mount options (`memory`, `cpu,cpuacct`, `name=systemd`).
 */
export type CgroupFsPlan =
  | { version: 2 }
  | { version: 1; hierarchies: Array<{ dir: string; options: string }> };

/**
 * A remapped container's mounts, which init (root of a user namespace only) may not make from
 * host paths: the parent made them, detached, and sent their descriptors with the config.
 * Each number is an index into those descriptors until init replaces it with its own fd.
 */
export interface UsernsMounts {
  /**
   * The mount point (O_PATH): init changes into it before it unshares its mount namespace,
   * which carries the working directory over, so that it can mount on it there.
   */
  mountPoint: number;
  /** The overlay root, made by the parent from idmapped image layers. */
  rootfs: number;
  /** Bind mounts of the generated /etc files. */
  etc: { hostname: number; hosts: number; resolvConf: number };
  /** Recursive bind mounts of `mounts`' sources, in the same order, and whether each is a directory. */
  mounts: Array<{ fd: number; directory: boolean }>;
}

/** Everything init needs to turn itself into the container's first process. */
export interface InitConfig {
  rootfs: RootfsLayout;
  etcFiles: EtcFiles;
  mounts: BindMount[];
  hostname: string;
  /** argv of the user's command; args[0] is resolved against PATH inside the container. */
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** Supplementary groups (the primary first); absent: the primary group alone. */
  groups?: number[];
  /** Allocate a pseudo-terminal in the container's devpts and send its master back. */
  tty: boolean;
  /** The terminal's initial size: set before the command runs, so its first look is right. */
  consoleSize?: { rows: number; columns: number };
  /**
   * Bring `lo` up: the container has a network namespace of its own (made by the parent at
   * spawn, so that it can configure it while init boots), not the host's or another's.
   */
  loopbackUp: boolean;
  /**
   * The seccomp filter init loads just before it takes the user's identity and execs: the
   * bytes of a struct sock_filter[] in base64, compiled by the parent for this container.
   * Absent: no filter (`--security-opt seccomp=unconfined`).
   */
  seccomp?: string;
  /**
   * The capabilities the command keeps, by number: all others leave the bounding set (a
   * non-root user's effective and permitted sets are emptied by the change of identity).
   * Absent: Docker's default set.
   */
  capabilities?: number[];
  /** Leave /proc and /sys unmasked and writable (`--privileged`). */
  privileged?: boolean;
  /** Set PR_SET_NO_NEW_PRIVS before exec. */
  noNewPrivileges?: boolean;
  /** /sys/fs/cgroup; absent: none is mounted (sysfs's empty directory shows). */
  cgroupFs?: CgroupFsPlan;
  /** `--read-only`: the root is remounted read-only once everything is mounted on it. */
  readonlyRootfs?: boolean;
  /** `--tmpfs`: tmpfs mounts, their options already merged with Docker's defaults. */
  tmpfs?: TmpfsMount[];
  /** `--shm-size` in bytes; absent: 64 MiB. */
  shmSizeBytes?: number;
  /** `--ulimit`: resource limits set just before exec. */
  ulimits?: Ulimit[];
  /** `--oom-score-adj`: written to /proc/self/oom_score_adj. */
  oomScoreAdj?: number;
  /** `--sysctl`: namespaced kernel parameters, validated at create, written by init. */
  sysctls?: Record<string, string>;
  /** Device nodes to make in the container (`--device`, and the host's under --privileged). */
  devices?: DeviceNode[];
  /** Remapped (`--userns=remap`): init is root of its own user namespace only. */
  userns?: UsernsMounts;
}

/** The one line init writes back when it fails; success is EOF (the socket closes on exec). */
export interface InitFailure {
  error: string;
  /** 125 for a setup failure, 126 when the command cannot be invoked, 127 when not found. */
  exitCode: number;
}

/**
 * Where a container's network namespace comes from: a new one (made at spawn: `bridge` and
 * `none`), the host's own (`--network host`), or another container's (`container:`).
 */
export type NetnsPlan = { kind: "new" } | { kind: "host" } | { kind: "join"; path: string };

/** A NetnsPlan as one command-line word, for the shim's argv; `parseNetnsPlan` reads it. */
export function formatNetnsPlan(p: NetnsPlan): string {
  return p.kind === "join" ? `join:${p.path}` : p.kind;
}

/** Reads `formatNetnsPlan`'s word. */
export function parseNetnsPlan(s: string | undefined): NetnsPlan {
  if (s === "host") return { kind: "host" };
  if (s?.startsWith("join:")) return { kind: "join", path: s.slice(5) };
  return { kind: "new" };
}
