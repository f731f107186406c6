/**
 * The system calls that build and enter a container, behind one interface, so that the code
 * that decides what to mount (src/rootfs/) can run against a recording fake in unit tests and
 * against the kernel in init. youki's `Syscall` trait plays the same part.
 *
 * `realSyscalls` is the kernel. It is on init's start-up path: import nothing here but the
 * FFI modules.
 *
 * @module
 */

import { ERRNO, SyscallError } from "./errors.ts";
import * as libc from "./libc.ts";
import { loadSeccompFilter } from "./seccomp.ts";
import {
  type LateSpawnChoices,
  type NamespacedSpawnOptions,
  spawnInNamespaces,
} from "./nsclone.ts";

/** What is at a path: only the distinctions the rootfs plan needs. */
export type FileKind = "directory" | "file" | "symlink" | "other";

/** The calls the container set-up makes. Paths are as the calling thread sees them. */
export interface Syscalls {
  /** mount(2); `source`, `fstype` and `data` may be null, as in C. */
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data?: string | null,
  ): void;
  /** umount2(2); `detach` is MNT_DETACH. */
  umount(target: string, detach?: boolean): void;
  /** mount_setattr(2) with `libc.AT` flags and `libc.MOUNT_ATTR` bits; ENOSYS before 5.12. */
  mountSetattr(path: string, flags: number, attrSet: number, attrClr?: number): void;
  /** pivot_root(2). */
  pivotRoot(newRoot: string, putOld: string): void;
  /** unshare(2) on the calling thread. */
  unshare(flags: number): void;
  /** setns(2); `what` names the namespace in errors. */
  setns(fd: number, nstype: number, what?: string): void;
  /** chdir(2). */
  chdir(path: string): void;
  /** fchdir(2). */
  fchdir(fd: number): void;
  /** chroot(2). */
  chroot(path: string): void;
  /** open(2); returns the descriptor. */
  open(path: string, flags: number, mode?: number): number;
  /** close(2). */
  close(fd: number): void;
  /** lchown(2): the owner of the path itself. */
  lchown(path: string, uid: number, gid: number): void;
  /** mknod(2) of a device node or fifo. */
  mknod(
    path: string,
    kind: "char" | "block" | "fifo",
    mode: number,
    major: number,
    minor: number,
  ): void;
  /** umask(2); returns the previous mask. */
  umask(mask: number): number;
  /** sethostname(2). */
  sethostname(name: string): void;
  /** Drops one capability from the calling thread's bounding set. */
  dropBoundingCapability(cap: number): void;
  /** Empties the calling thread's inheritable and ambient capability sets. */
  clearInheritableCapabilities(): void;
  /** Sets PR_SET_NO_NEW_PRIVS on the calling thread (`--security-opt no-new-privileges`). */
  setNoNewPrivs(): void;
  /** Sets the calling thread's uid, gid and groups (see `libc.setCredentials`). */
  setCredentials(uid: number, gid: number, groups: readonly number[]): void;
  /** Installs a seccomp filter (struct sock_filter[] bytes) on the calling thread, for good. */
  loadSeccompFilter(program: Uint8Array<ArrayBuffer>): void;
  /** A new pseudo-terminal from the devpts instance behind `ptmxPath`. */
  openPty(ptmxPath: string): { master: number; ptsNumber: number };
  /** TIOCSWINSZ. */
  setWindowSize(fd: number, rows: number, columns: number): void;
  /** posix_spawn(3); returns the child's pid. */
  spawn(opts: libc.SpawnOptions): number;
  /** A child cloned into new namespaces, a user namespace too (see ffi/nsclone.ts). */
  spawnInNamespaces(
    opts: NamespacedSpawnOptions,
    prepare?: (pid: number) => LateSpawnChoices | void,
  ): number;
  /** open_tree(2) OPEN_TREE_CLONE: a detached bind mount of `path` (recursive: with submounts). */
  openTreeClone(path: string, recursive: boolean): number;
  /** Makes the detached mount `fd` idmapped through the user namespace `usernsFd`. */
  idmapMount(fd: number, usernsFd: number, what: string): void;
  /** A detached new mount of `fstype` with string options (fsopen, fsconfig, fsmount). */
  fsmountDetached(fstype: string, options: ReadonlyArray<[string, string]>): number;
  /** move_mount(2): attaches the detached mount `fd` at `target`. */
  moveMount(fd: number, target: string): void;
  /** mkdir -p: makes `path` and its missing parents; an existing directory is fine. */
  mkdirAll(path: string, mode?: number): void;
  /** symlink(2): `path` becomes a link to `target`. */
  symlink(target: string, path: string): void;
  /** Creates an empty regular file; fails if anything is at `path` already. */
  createFile(path: string, mode?: number): void;
  /**
   * What is at `path` (a final symlink itself unless `follow`), or null when nothing is
   * (ENOENT, or ENOTDIR from a parent that is no directory). Other errors are thrown.
   */
  fileKind(path: string, follow?: boolean): FileKind | null;
  /** readlink(2). */
  readLink(path: string): string;
  /** A whole small file as text, such as /proc/self/mountinfo. */
  readTextFile(path: string): string;
  /** Writes a small file such as /proc/self/oom_score_adj (no create, no truncate needed). */
  writeTextFile(path: string, text: string): void;
  /** prlimit64(2) on `pid` (0: this process; -1 is unlimited); returns what it replaced. */
  setRlimit(resource: number, soft: number, hard: number, pid?: number): libc.Rlimit;
}

function kindOf(mode: number): FileKind {
  switch (mode & libc.S_IFMT) {
    case libc.S_IFDIR:
      return "directory";
    case libc.S_IFREG:
      return "file";
    case libc.S_IFLNK:
      return "symlink";
    default:
      return "other";
  }
}

function fileKind(path: string, follow = false): FileKind | null {
  try {
    return kindOf(libc.statMode(path, follow));
  } catch (e) {
    if (e instanceof SyscallError && (e.errno === ERRNO.ENOENT || e.errno === ERRNO.ENOTDIR)) {
      return null;
    }
    throw e;
  }
}

function mkdirAll(path: string, mode = 0o755): void {
  // Looked at first: the common case (the image has the directory) costs one stat, and an
  // EEXIST from mkdir is then taken as "there". (Under the 6.1 guest kernel's overlayfs a
  // stat right after such an EEXIST was seen not to agree with it.)
  if (fileKind(path, true) === "directory") return;
  try {
    libc.mkdir(path, mode);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.errno === ERRNO.EEXIST) {
      const kind = fileKind(path, true);
      if (kind === "directory" || kind === null) return;
      throw new SyscallError("mkdir", e.errno, `${path} (there is a ${kind})`);
    }
    const parent = path.slice(0, path.lastIndexOf("/"));
    if (e.errno !== ERRNO.ENOENT || parent === "" || parent === path) throw e;
    mkdirAll(parent, mode);
    libc.mkdir(path, mode);
  }
}

function createFile(path: string, mode = 0o644): void {
  const flags = libc.O.WRONLY | libc.O.CREAT | libc.O.EXCL | libc.O.NOFOLLOW | libc.O.CLOEXEC;
  libc.close(libc.open(path, flags, mode));
}

/** The kernel: every call is the real one, on the calling thread. */
export const realSyscalls: Syscalls = {
  mount: libc.mount,
  umount: libc.umount,
  mountSetattr: (path, flags, attrSet, attrClr = 0) =>
    libc.mountSetattr(path, flags, attrSet, attrClr),
  pivotRoot: libc.pivotRoot,
  unshare: libc.unshare,
  setns: libc.setns,
  chdir: libc.chdir,
  fchdir: libc.fchdir,
  chroot: libc.chroot,
  open: libc.open,
  close: libc.close,
  mknod: libc.mknod,
  lchown: libc.lchown,
  umask: libc.umask,
  sethostname: libc.sethostname,
  dropBoundingCapability: libc.dropBoundingCapability,
  setNoNewPrivs: libc.setNoNewPrivs,
  clearInheritableCapabilities: libc.clearInheritableCapabilities,
  setCredentials: libc.setCredentials,
  loadSeccompFilter: (program) => loadSeccompFilter(program),
  openPty: libc.openPty,
  setWindowSize: libc.setWindowSize,
  spawn: libc.spawn,
  spawnInNamespaces,
  openTreeClone: libc.openTreeClone,
  idmapMount: libc.idmapMount,
  fsmountDetached: libc.fsmountDetached,
  moveMount: libc.moveMount,
  mkdirAll,
  symlink: libc.symlink,
  createFile,
  fileKind,
  readLink: libc.readlink,
  readTextFile: (path) => Deno.readTextFileSync(path),
  writeTextFile: (path, text) => Deno.writeTextFileSync(path, text),
  setRlimit: libc.setRlimit,
};
