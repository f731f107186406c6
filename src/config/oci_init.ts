/**
 * What the OCI runtime (`m-docker runtime create`) sends the init process for a bundle's
 * container: the bundle's config.json already checked and turned into mount(2) calls,
 * namespace flags, numbers and paths, so that init only executes it. Plain data, trusted by
 * init; the type-only imports keep init's start-up path free of code.
 *
 * @module
 */
import type { CgroupFsPlan } from "./init.ts";
import type { DeviceNode } from "./devices.ts";
import type { Ulimit } from "./container.ts";

/** One entry of the bundle's `mounts`, as the calls that make it. */
export interface OciMountCall {
  /** The host path (bind), or the filesystem's source word (`proc`, `tmpfs`). */
  source: string | null;
  /** The path inside the container (absolute); resolved under the root by init. */
  destination: string;
  /** The filesystem type; null for a bind mount. */
  fstype: string | null;
  /** MS_* flags for the mount itself (MS_BIND, MS_REC for a bind). */
  flags: number;
  /** Filesystem options (`mode=755,size=65536k`). */
  data?: string;
  /** A bind's flags (ro, nosuid, ...) need a remount: these MS_* flags, with MS_REMOUNT. */
  remountFlags?: number;
  /** MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (with MS_REC) calls, in order. */
  propagation: number[];
  /** `type: cgroup`: the host's cgroup hierarchies, mounted as the container's own. */
  cgroup?: CgroupFsPlan;
  /**
   * Without a cgroup namespace a cgroup filesystem would show the host's whole tree: the
   * container's own directories are bound instead (runc's way), by hierarchy (`memory`, or
   * `unified` on v2), from the host paths of its cgroup.
   */
  cgroupBind?: Record<string, string>;
}

/** The process the container runs, as init sets it up. */
export interface OciProcessPlan {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** The primary group first, then `additionalGids`. */
  groups: number[];
  umask?: number;
  terminal: boolean;
  consoleSize?: { rows: number; columns: number };
  /** The bounding set, by number: every other capability leaves it before the exec. */
  bounding: number[];
  rlimits: Ulimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

/** Everything init needs to turn itself into a bundle's container. */
export interface OciInitConfig {
  kind: "oci";
  /** The bundle's root filesystem, an absolute host path. */
  root: string;
  rootReadonly: boolean;
  /** MS_* flags for `/` before anything is mounted (default MS_SLAVE|MS_REC, as runc). */
  rootPropagation: number;
  /**
   * Init was cloned into a user namespace of its own (config.json's uidMappings): device
   * nodes are bound from the host's, since mknod is refused there, as runc does.
   */
  userns?: boolean;
  /** CLONE_NEW* flags init unshares (mount, UTS, IPC, cgroup), once in its cgroup. */
  unshare: number;
  /** Namespaces init joins by path first: [CLONE_NEW* flag, path]. */
  join: Array<[number, string]>;
  mounts: OciMountCall[];
  /** `linux.devices`, made under /dev once the mounts are in place. */
  devices: DeviceNode[];
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  sysctl?: Record<string, string>;
  process: OciProcessPlan;
  /** The compiled seccomp filter, base64; absent: none. */
  seccomp?: string;
  /**
   * The descriptor of the container's exec FIFO, opened read-write by the runtime: init
   * blocks reading one byte from it once the container is built, until `start` writes it.
   */
  execFifoFd: number;
  /**
   * `--preserve-fds N`: the runtime's descriptors 3..3+N-1, which init holds from
   * PRESERVED_FDS_BASE up and puts back at 3.. just before the exec.
   */
  preserveFds?: number;
  /** The hooks init runs in the container's namespaces, and the state document they read. */
  containerHooks?: {
    createContainer: Array<{ path: string; args?: string[]; env?: string[]; timeout?: number }>;
    startContainer: Array<{ path: string; args?: string[]; env?: string[]; timeout?: number }>;
    /** The OCI state document (status `created`). */
    state: object;
  };
}

/** Where init keeps the descriptors it is to pass on (above its own: socket, FIFO, stderr). */
export const PRESERVED_FDS_BASE = 100;
