/**
 * The libc bindings m-docker needs, and nothing else. This is the only module that calls
 * `Deno.dlopen`: everything above it works with numbers, strings and typed errors.
 *
 * Every wrapper is synchronous and runs on the calling (main) thread, which matters: after
 * `unshare` or `setns` only the main thread is in the new namespaces (see DESIGN.md). The
 * few `*Async` wrappers block a worker thread instead and must not be used for anything
 * that depends on the caller's namespaces.
 *
 * @module
 */

import { SyscallError } from "./errors.ts";

/**
 * Binding a libc symbol costs about 0.15 ms (Deno compiles a trampoline for each), so a
 * table of every function we call would add ~10 ms to each process start. Nearly all calls
 * therefore go through the one `syscall(2)` symbol; posix_spawn, used only by the parent
 * roles, is bound separately and only when needed.
 */
const coreSymbols = {
  __errno_location: { parameters: [], result: "pointer" },
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
  syscallAsync: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

const spawnSymbols = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addclosefrom_np: { parameters: ["buffer", "i32"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let core: Deno.DynamicLibrary<typeof coreSymbols>["symbols"] | undefined;
let spawnLib: Deno.DynamicLibrary<typeof spawnSymbols>["symbols"] | undefined;

function libc(): Deno.DynamicLibrary<typeof coreSymbols>["symbols"] {
  return core ??= Deno.dlopen("libc.so.6", coreSymbols).symbols;
}

/** x86_64 system call numbers (the only architecture m-docker supports so far). */
const SYS = {
  read: 0,
  write: 1,
  close: 3,
  poll: 7,
  rt_sigaction: 13,
  rt_sigprocmask: 14,
  ioctl: 16,
  dup: 32,
  fcntl: 72,
  flock: 73,
  socket: 41,
  sendto: 44,
  recvfrom: 45,
  sendmsg: 46,
  recvmsg: 47,
  connect: 42,
  bind: 49,
  socketpair: 53,
  setsockopt: 54,
  execve: 59,
  wait4: 61,
  kill: 62,
  chdir: 80,
  fchdir: 81,
  umask: 95,
  setsid: 112,
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  pivot_root: 155,
  chroot: 161,
  gettid: 186,
  prctl: 157,
  mount: 165,
  umount2: 166,
  sethostname: 170,
  lsetxattr: 189,
  lgetxattr: 192,
  lchown: 94,
  openat: 257,
  mknodat: 259,
  unshare: 272,
  dup3: 292,
  prlimit64: 302,
  pipe2: 293,
  setns: 308,
  mkdirat: 258,
  newfstatat: 262,
  symlinkat: 266,
  readlinkat: 267,
  close_range: 436,
  mount_setattr: 442,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  capget: 125,
  capset: 126,
} as const;

if (Deno.build.arch !== "x86_64") {
  throw new Error(`m-docker supports x86_64 only for now, not ${Deno.build.arch}`);
}

/** An argument for a raw syscall: a number, a buffer (passed by address), or null. */
export type Arg = number | bigint | ArrayBufferView | null;

function argValue(a: Arg): bigint {
  if (a === null) return 0n;
  if (typeof a === "number") return BigInt(a);
  if (typeof a === "bigint") return a;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a as BufferSource)));
}

/** A raw system call; returns the kernel's result, or -1 with errno set. */
function sys(nr: number, ...args: Arg[]): number {
  const a = [...args.map(argValue), 0n, 0n, 0n, 0n, 0n, 0n];
  const r = Number(rawSyscall().call(BigInt(nr), a[0], a[1], a[2], a[3], a[4], a[5]));
  // The kernel's own convention: -4095..-1 is -errno. Kept here, at once, for errno().
  if (r < 0 && r > -4096) {
    lastErrno = -r;
    return -1;
  }
  return r;
}

/**
 * The errno of the last failed `sys` call. libc's errno cannot be trusted here: between a
 * failed syscall(3) and the read of __errno_location, Deno may run other code on the same
 * thread (a garbage collection taking a futex) that sets it again; a stat that failed with
 * ENOENT was seen to report EAGAIN under load. The raw stub returns -errno instead.
 */
let lastErrno = 0;

/**
 * x86-64 machine code for `long raw(long nr, long a1, ..., long a6)`: the arguments moved
 * from the C calling convention to the kernel's, `syscall`, and the kernel's result returned
 * as it is (no errno). 28 bytes:
 *   mov rax, rdi; mov rdi, rsi; mov rsi, rdx; mov rdx, rcx; mov r10, r8; mov r8, r9;
 *   mov r9, [rsp+8] (the seventh argument, on the stack); syscall; ret
 */
const RAW_SYSCALL_CODE = new Uint8Array([
  0x48,
  0x89,
  0xf8,
  0x48,
  0x89,
  0xf7,
  0x48,
  0x89,
  0xd6,
  0x48,
  0x89,
  0xca,
  0x4d,
  0x89,
  0xc2,
  0x4d,
  0x89,
  0xc8,
  0x4c,
  0x8b,
  0x4c,
  0x24,
  0x08,
  0x0f,
  0x05,
  0xc3,
]);

const RAW_SYSCALL = {
  parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
  result: "i64",
} as const;

let raw: Deno.UnsafeFnPointer<typeof RAW_SYSCALL> | undefined;

/** The stub, in a page of its own made executable once per process (through libc's syscall). */
function rawSyscall(): Deno.UnsafeFnPointer<typeof RAW_SYSCALL> {
  if (raw) return raw;
  const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;
  const c = libc();
  const page = c.syscall(
    9n,
    0n,
    4096n,
    BigInt(PROT_READ | PROT_WRITE),
    BigInt(MAP_PRIVATE | MAP_ANONYMOUS),
    -1n,
    0n,
  );
  if (page < 0n) throw new SyscallError("mmap", libcErrno(), "the raw syscall page");
  const pointer = Deno.UnsafePointer.create(page)!;
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, 4096)).set(RAW_SYSCALL_CODE);
  if (c.syscall(10n, page, 4096n, BigInt(PROT_READ | PROT_EXEC), 0n, 0n, 0n) !== 0n) {
    throw new SyscallError("mprotect", libcErrno(), "the raw syscall page");
  }
  raw = new Deno.UnsafeFnPointer(pointer as Deno.PointerObject<typeof RAW_SYSCALL>, RAW_SYSCALL);
  return raw;
}

/** A raw system call that blocks a worker thread instead of the event loop. */
async function sysAsync(nr: number, ...args: Arg[]): Promise<number> {
  const a = [...args.map(argValue), 0n, 0n, 0n, 0n, 0n, 0n];
  return Number(await libc().syscallAsync(BigInt(nr), a[0], a[1], a[2], a[3], a[4], a[5]));
}

/**
 * A raw system call by number for the other FFI modules (ffi/seccomp.ts), on the calling
 * thread: returns the result, or throws a SyscallError named `name`.
 */
export function syscallChecked(name: string, nr: number, ...args: Arg[]): number {
  return check(name, sys(nr, ...args));
}

/** The errno of the last failed sync system call (see `lastErrno`). */
export function errno(): number {
  return lastErrno;
}

/** libc's errno, for the few libc functions called directly: read it right after the call. */
export function libcErrno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s`, for a `char *` parameter. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Throws a SyscallError when a call returned -1. Returns the result otherwise. */
function check(name: string, result: number, target?: string): number {
  if (result === -1) throw new SyscallError(name, errno(), target);
  return result;
}

/**
 * A NULL-terminated `char *[]` built from strings. Keep the returned object alive while
 * the pointer array is in use: it owns the string buffers the array points into.
 */
export class CStringArray {
  readonly strings: Uint8Array<ArrayBuffer>[];
  readonly pointers: BigUint64Array<ArrayBuffer>;

  constructor(values: readonly string[]) {
    this.strings = values.map(cString);
    this.pointers = new BigUint64Array(values.length + 1);
    this.strings.forEach((s, i) => {
      this.pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)));
    });
  }
}

// ---------------------------------------------------------------------------------------
// Constants, with x86_64's values. The namespace and mount flags and the signal numbers are
// the same on every Linux architecture; the open(2) flags are not (aarch64 has O_DIRECTORY
// 0o40000 and its own O_NOFOLLOW, O_DIRECT and O_LARGEFILE), nor are the syscall numbers
// above or the stat layout below. Porting means revisiting all three; the check at the top
// of this module refuses to load anywhere else.

/** Namespace flags for unshare(2) and setns(2). */
export const CLONE = {
  FS: 0x00000200,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** Mount flags for mount(2). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

/** Mount attributes for mount_setattr(2) (`struct mount_attr`'s attr_set and attr_clr). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
} as const;

/** `*at` flags: do not follow a final symlink; apply to the whole subtree of mounts. */
export const AT = {
  SYMLINK_NOFOLLOW: 0x100,
  RECURSIVE: 0x8000,
} as const;

/** Flags for open(2). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** Signal numbers by name, for the signals a user can name on the command line. */
export const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const AT_FDCWD = -100;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
const PR_CAPBSET_DROP = 24;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = O.CLOEXEC;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const WNOHANG = 1;

// ---------------------------------------------------------------------------------------
// Namespaces and mounts.

/** unshare(2) on the calling thread. */
export function unshare(flags: number): void {
  check("unshare", sys(SYS.unshare, flags));
}

/** setns(2): join the namespace behind `fd` on the calling thread. */
export function setns(fd: number, nstype: number, what = "namespace"): void {
  check("setns", sys(SYS.setns, fd, nstype), what);
}

/** mount(2). `source`, `fstype` and `data` may be null, as in C. */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  const r = sys(
    SYS.mount,
    source === null ? null : cString(source),
    cString(target),
    fstype === null ? null : cString(fstype),
    flags,
    data === null ? null : cString(data),
  );
  check("mount", r, target);
}

/**
 * mount_setattr(2) (Linux 5.12): changes the attributes of the mount at `path`, and with
 * `AT.RECURSIVE` of every mount below it, which a remount cannot do (MS_REC is ignored there).
 */
export function mountSetattr(
  path: string,
  flags: number,
  attrSet: number,
  attrClr = 0,
  propagation = 0,
): void {
  // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }: 32 bytes.
  const attr = new BigUint64Array([BigInt(attrSet), BigInt(attrClr), BigInt(propagation), 0n]);
  check(
    "mount_setattr",
    sys(SYS.mount_setattr, AT_FDCWD, cString(path), flags, new Uint8Array(attr.buffer), 32),
    path,
  );
}

/**
 * A detached copy of the mount tree at `path` (open_tree(2) with OPEN_TREE_CLONE, Linux 5.2),
 * with every mount below it when `recursive`: a bind mount that is not attached anywhere yet,
 * for `moveMount` to place, even in another mount namespace.
 */
export function openTreeClone(path: string, recursive: boolean): number {
  const OPEN_TREE_CLONE = 1;
  const flags = OPEN_TREE_CLONE | O.CLOEXEC | (recursive ? AT.RECURSIVE : 0);
  return check("open_tree", sys(SYS.open_tree, AT_FDCWD, cString(path), flags), path);
}

/**
 * Makes the detached mount `fd` an idmapped mount (mount_setattr(2) MOUNT_ATTR_IDMAP, Linux
 * 5.12): its files' owners are seen through the id maps of the user namespace `usernsFd`.
 */
export function idmapMount(fd: number, usernsFd: number, what: string): void {
  const MOUNT_ATTR_IDMAP = 0x00100000, AT_EMPTY_PATH = 0x1000;
  const attr = new BigUint64Array([BigInt(MOUNT_ATTR_IDMAP), 0n, 0n, BigInt(usernsFd)]);
  check(
    "mount_setattr(MOUNT_ATTR_IDMAP)",
    sys(SYS.mount_setattr, fd, cString(""), AT_EMPTY_PATH, new Uint8Array(attr.buffer), 32),
    what,
  );
}

/**
 * A new, detached filesystem mount (fsopen, fsconfig, fsmount: Linux 5.2) of `fstype` with
 * string options; returns the mount's descriptor for `moveMount`.
 */
export function fsmountDetached(fstype: string, options: ReadonlyArray<[string, string]>): number {
  const FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6, FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1;
  const fs = check("fsopen", sys(SYS.fsopen, cString(fstype), FSOPEN_CLOEXEC), fstype);
  try {
    for (const [key, value] of options) {
      check(
        "fsconfig",
        sys(SYS.fsconfig, fs, FSCONFIG_SET_STRING, cString(key), cString(value), 0),
        `${fstype} ${key}=${value}`,
      );
    }
    check("fsconfig", sys(SYS.fsconfig, fs, FSCONFIG_CMD_CREATE, null, null, 0), fstype);
    return check("fsmount", sys(SYS.fsmount, fs, FSMOUNT_CLOEXEC, 0), fstype);
  } finally {
    sys(SYS.close, fs);
  }
}

/** move_mount(2) (Linux 5.2): attaches the detached mount `fd` at `target`. */
export function moveMount(fd: number, target: string): void {
  const MOVE_MOUNT_F_EMPTY_PATH = 4;
  check(
    "move_mount",
    sys(SYS.move_mount, fd, cString(""), AT_FDCWD, cString(target), MOVE_MOUNT_F_EMPTY_PATH),
    target,
  );
}

/** umount2(2); `detach` sets MNT_DETACH. */
export function umount(target: string, detach = false): void {
  check("umount", sys(SYS.umount2, cString(target), detach ? 2 : 0), target);
}

/** pivot_root(2); glibc has no wrapper, so this is the raw syscall. */
export function pivotRoot(newRoot: string, putOld: string): void {
  check("pivot_root", sys(SYS.pivot_root, cString(newRoot), cString(putOld)), newRoot);
}

/** sethostname(2). */
export function sethostname(name: string): void {
  const b = cString(name);
  check("sethostname", sys(SYS.sethostname, b, b.length - 1), name);
}

/** The resource numbers of setrlimit(2) on Linux, by the names `--ulimit` uses. */
export const RLIMIT: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

/** A soft and a hard resource limit; -1 is RLIM_INFINITY. */
export interface Rlimit {
  soft: number;
  hard: number;
}

/**
 * prlimit64(2) on process `pid` (0: the caller): sets `resource`'s soft and hard limits and
 * returns the ones it replaced. Limits are per process, and spawned or exec'd commands keep
 * them.
 */
export function setRlimit(resource: number, soft: number, hard: number, pid = 0): Rlimit {
  const INFINITY = 0xffffffffffffffffn;
  const v = (n: number) => n < 0 ? INFINITY : BigInt(n);
  const limits = new BigUint64Array([v(soft), v(hard)]);
  const old = new BigUint64Array(2);
  check("prlimit64", sys(SYS.prlimit64, pid, resource, limits, old), `resource ${resource}`);
  const n = (b: bigint) => b === INFINITY ? -1 : Number(b);
  return { soft: n(old[0]), hard: n(old[1]) };
}

/** chdir(2) on the calling thread's filesystem context (Deno.chdir may not be). */
export function chdir(path: string): void {
  check("chdir", sys(SYS.chdir, cString(path)), path);
}

/** chroot(2) on the calling thread's filesystem context. */
export function chroot(path: string): void {
  check("chroot", sys(SYS.chroot, cString(path)), path);
}

/** The calling thread's ID (gettid(2)); the main thread's is the process ID. */
export function gettid(): number {
  return sys(SYS.gettid);
}

/** fchdir(2): change directory to an open directory descriptor. */
export function fchdir(fd: number): void {
  check("fchdir", sys(SYS.fchdir, fd));
}

/** Makes a device node or fifo: mknod(path, type | mode, makedev(major, minor)). */
export function mknod(
  path: string,
  kind: "char" | "block" | "fifo",
  mode: number,
  major = 0,
  minor = 0,
): void {
  const type = { char: 0o020000, block: 0o060000, fifo: 0o010000 }[kind];
  const dev = (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) |
    (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n);
  check("mknod", sys(SYS.mknodat, AT_FDCWD, cString(path), type | mode, dev), path);
}

/** Makes a character device node. */
export function mknodChar(path: string, mode: number, major: number, minor: number): void {
  mknod(path, "char", mode, major, minor);
}

/** lchown(2): ownership of the path itself, never what a symlink points to. */
export function lchown(path: string, uid: number, gid: number): void {
  check("lchown", sys(SYS.lchown, cString(path), uid, gid), path);
}

/** lgetxattr(2): an extended attribute of the path itself, or null if it has none. */
export function lgetxattr(path: string, name: string): Uint8Array | null {
  const buf = new Uint8Array(4096);
  const n = sys(SYS.lgetxattr, cString(path), cString(name), buf, buf.length);
  if (n >= 0) return buf.slice(0, n);
  const e = errno();
  if (e === 61 /* ENODATA */ || e === 95 /* EOPNOTSUPP */) return null;
  throw new SyscallError("lgetxattr", e, path);
}

/** lsetxattr(2): an extended attribute on the path itself. */
export function lsetxattr(path: string, name: string, value: Uint8Array<ArrayBuffer>): void {
  check(
    "lsetxattr",
    sys(SYS.lsetxattr, cString(path), cString(name), value, value.length, 0),
    path,
  );
}

// ---------------------------------------------------------------------------------------
// Files and directories, as raw syscalls: sync, on the calling thread, with errno errors.

/** mkdir(2), relative to the working directory like every path here. */
export function mkdir(path: string, mode = 0o755): void {
  check("mkdir", sys(SYS.mkdirat, AT_FDCWD, cString(path), mode), path);
}

/** symlink(2): makes `path` a symbolic link whose text is `target`. */
export function symlink(target: string, path: string): void {
  check("symlink", sys(SYS.symlinkat, cString(target), AT_FDCWD, cString(path)), path);
}

/** readlink(2): the text of the symbolic link at `path`. */
export function readlink(path: string): string {
  const buf = new Uint8Array(4096);
  const n = check("readlink", sys(SYS.readlinkat, AT_FDCWD, cString(path), buf, buf.length), path);
  return new TextDecoder().decode(buf.subarray(0, n));
}

/** File type bits of st_mode. */
export const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;

/**
 * The st_mode of `path` (newfstatat(2)); of a final symlink itself unless `follow`. x86_64's
 * struct stat is 144 bytes with st_mode at offset 24.
 */
export function statMode(path: string, follow: boolean): number {
  const st = new Uint8Array(144);
  const flags = follow ? 0 : AT.SYMLINK_NOFOLLOW;
  check("stat", sys(SYS.newfstatat, AT_FDCWD, cString(path), st, flags), path);
  return new DataView(st.buffer).getUint32(24, true);
}

/** umask(2); returns the previous mask. */
export function umask(mask: number): number {
  return sys(SYS.umask, mask);
}

// ---------------------------------------------------------------------------------------
// File descriptors.

/** open(2); returns the new descriptor. */
export function open(path: string, flags: number, mode = 0o644): number {
  return check("open", sys(SYS.openat, AT_FDCWD, cString(path), flags, mode), path);
}

/** close(2); errors are ignored because there is nothing useful to do about them. */
export function close(fd: number): void {
  sys(SYS.close, fd);
}

/**
 * flock(2) without waiting: takes a shared or exclusive lock on `fd`'s open file; false
 * when another holds a conflicting one (EWOULDBLOCK).
 */
export function tryFlock(fd: number, exclusive: boolean): boolean {
  const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4;
  if (sys(SYS.flock, fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) === 0) return true;
  const e = errno();
  if (e === 11) return false;
  throw new SyscallError("flock", e);
}

/** dup(2).
export function dup(fd: number): number {
  return check("dup", sys(SYS.dup, fd));
}

/** A duplicate of `fd` that closes on exec (fcntl F_DUPFD_CLOEXEC), at 3 or above. */
export function dupCloexec(fd: number): number {
  return check("fcntl(F_DUPFD_CLOEXEC)", sys(SYS.fcntl, fd, 1030, 3));
}

/**
 * Sets or clears `fd`'s FD_CLOEXEC (fcntl F_SETFD): cleared, it survives an execve, for a
 * descriptor a process hands to the program it becomes.
 */
export function setCloexec(fd: number, on: boolean): void {
  const F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1;
  const flags = check("fcntl(F_GETFD)", sys(SYS.fcntl, fd, F_GETFD), String(fd));
  const want = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  check("fcntl(F_SETFD)", sys(SYS.fcntl, fd, F_SETFD, want), String(fd));
}

/** dup2(2). */
export function dup2(fd: number, target: number): void {
  check("dup2", fd === target ? fd : sys(SYS.dup3, fd, target, 0), String(target));
}

/**
 * Marks every descriptor from `first` up as close-on-exec (close_range(2)), so that the
 * descriptors Deno leaves open never reach the container's process.
 */
export function cloexecFrom(first: number): void {
  check("close_range", sys(SYS.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

/** read(2) into `buf`; returns the byte count, 0 at end of file. Retries on EINTR. */
export function read(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = sys(SYS.read, fd, buf, buf.length);
    if (n >= 0) return n;
    const e = errno();
    if (e !== 4) throw new SyscallError("read", e);
  }
}

/** Writes all of `data` to `fd`, looping over short writes. */
export function writeAll(fd: number, data: Uint8Array<ArrayBuffer>): void {
  let off = 0;
  while (off < data.length) {
    const chunk = off === 0 ? data : data.subarray(off);
    const n = sys(SYS.write, fd, chunk, chunk.length);
    if (n < 0) {
      const e = errno();
      if (e === 4 || e === 11) continue;
      throw new SyscallError("write", e);
    }
    off += n;
  }
}

/**
 * write(2) on a worker thread: the call starts at once, without waiting for the event loop,
 * and the promise gives the byte count or -1.
 */
export function writeAsync(fd: number, data: Uint8Array<ArrayBuffer>): Promise<number> {
  return sysAsync(SYS.write, fd, data, data.length);
}

/** pipe2(2) with O_CLOEXEC: returns [readEnd, writeEnd]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", sys(SYS.pipe2, fds, O.CLOEXEC));
  return [fds[0], fds[1]];
}

/** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): returns two connected ends. */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check("socketpair", sys(SYS.socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  return [fds[0], fds[1]];
}

/**
 * Waits, on a worker thread, until `fd` is readable or hung up, or `cancelFd` (a pipe's read
 * end) is. The read itself should then be done with the sync `read`, so that errno is
 * reliable.
 */
export async function waitReadable(fd: number, cancelFd?: number): Promise<void> {
  // struct pollfd { int fd; short events; short revents; }, one or two of them.
  const pfd = cancelFd === undefined
    ? new Int32Array([fd, POLLIN])
    : new Int32Array([fd, POLLIN, cancelFd, POLLIN]);
  while ((await sysAsync(SYS.poll, pfd, pfd.length / 2, -1)) <= 0) {
    // EINTR: wait again.
  }
}

/**
 * Blocks the calling thread until `fd` can be written (or is hung up): for a caller's
 * stdout that someone else made non-blocking, where a write says EAGAIN.
 */
export function waitWritableSync(fd: number): void {
  const pfd = new Int32Array([fd, POLLOUT]);
  while (sys(SYS.poll, pfd, 1, -1) <= 0) {
    // EINTR: wait again.
  }
}

/**
 * Sends one descriptor over a unix socket with SCM_RIGHTS (with one byte of payload,
 * because a message with no data is not delivered on a stream socket).
 */
export function sendFd(socket: number, fd: number): void {
  const payload = new Uint8Array([0x46]);
  const iov = new BigUint64Array([ptrValue(payload), 1n]);
  const control = new ArrayBuffer(24); // CMSG_SPACE(sizeof(int))
  const cv = new DataView(control);
  cv.setBigUint64(0, 20n, true); // CMSG_LEN(sizeof(int))
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  cv.setInt32(16, fd, true);
  const controlBytes = new Uint8Array(control);
  const msg = msghdr(iov, controlBytes);
  check("sendmsg", sys(SYS.sendmsg, socket, msg, 0));
}

/** Receives one descriptor sent with `sendFd`; returns -1 if the peer closed first. */
export function recvFd(socket: number): number {
  const payload = new Uint8Array(1);
  const iov = new BigUint64Array([ptrValue(payload), 1n]);
  const controlBytes = new Uint8Array(24);
  const msg = msghdr(iov, controlBytes);
  for (;;) {
    const n = sys(SYS.recvmsg, socket, msg, O.CLOEXEC /* MSG_CMSG_CLOEXEC */);
    if (n === 0) return -1;
    if (n < 0) {
      const e = errno();
      if (e === 4) continue;
      throw new SyscallError("recvmsg", e);
    }
    const cv = new DataView(controlBytes.buffer);
    if (cv.getInt32(8, true) !== SOL_SOCKET || cv.getInt32(12, true) !== SCM_RIGHTS) return -1;
    return cv.getInt32(16, true);
  }
}

/**
 * Sends `data` with descriptors attached (SCM_RIGHTS) to its first byte, in one sendmsg
 * (at most 253 descriptors, the kernel's limit), then any rest of `data`.
 */
export function sendWithFds(socket: number, data: Uint8Array<ArrayBuffer>, fds: readonly number[]) {
  if (fds.length === 0 || data.length === 0) return writeAll(socket, data);
  const iov = new BigUint64Array([ptrValue(data), BigInt(data.length)]);
  const len = 16 + 4 * fds.length;
  const control = new Uint8Array((len + 7) & ~7);
  const cv = new DataView(control.buffer);
  cv.setBigUint64(0, BigInt(len), true);
  cv.setInt32(8, SOL_SOCKET, true);
  cv.setInt32(12, SCM_RIGHTS, true);
  fds.forEach((fd, i) => cv.setInt32(16 + 4 * i, fd, true));
  const n = check("sendmsg", sys(SYS.sendmsg, socket, msghdr(iov, control), 0));
  if (n < data.length) writeAll(socket, data.subarray(n));
}

/**
 * read(2) that also takes the descriptors sent with the bytes (`sendWithFds`), close-on-exec,
 * appending them to `fds`. Returns the byte count, 0 at EOF.
 */
export function readWithFds(socket: number, buf: Uint8Array<ArrayBuffer>, fds: number[]): number {
  const iov = new BigUint64Array([ptrValue(buf), BigInt(buf.length)]);
  const control = new Uint8Array(16 + 4 * 253);
  const msg = msghdr(iov, control);
  for (;;) {
    const n = sys(SYS.recvmsg, socket, msg, O.CLOEXEC /* MSG_CMSG_CLOEXEC */);
    if (n < 0) {
      const e = errno();
      if (e === 4) continue;
      throw new SyscallError("recvmsg", e);
    }
    // msg_controllen, as the kernel left it: one SCM_RIGHTS message or nothing.
    const controlLen = Number(new BigUint64Array(msg.buffer)[5]);
    const cv = new DataView(control.buffer);
    if (
      controlLen >= 16 && cv.getInt32(8, true) === SOL_SOCKET &&
      cv.getInt32(12, true) === SCM_RIGHTS
    ) {
      const count = (Number(cv.getBigUint64(0, true)) - 16) / 4;
      for (let i = 0; i < count; i++) fds.push(cv.getInt32(16 + 4 * i, true));
    }
    return n;
  }
}

function ptrValue(buf: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

function msghdr(iov: BigUint64Array<ArrayBuffer>, control: Uint8Array<ArrayBuffer>) {
  const msg = new BigUint64Array(7);
  msg[2] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iov)));
  msg[3] = 1n;
  msg[4] = ptrValue(control);
  msg[5] = BigInt(control.length);
  return new Uint8Array(msg.buffer);
}

/** socket(2); `type` may include SOCK_CLOEXEC (O.CLOEXEC). Returns the descriptor. */
export function socket(domain: number, type: number, protocol: number): number {
  return check("socket", sys(SYS.socket, domain, type, protocol));
}

/** bind(2) to an address given as the raw bytes of its `struct sockaddr_*`. */
export function bind(fd: number, addr: Uint8Array<ArrayBuffer>): void {
  check("bind", sys(SYS.bind, fd, addr, addr.length));
}

/**
 * A stream socket connected to the Unix socket at `path` (close-on-exec): an OCI runtime's
 * `--console-socket`, which receives the terminal's master.
 */
export function connectUnix(path: string): number {
  const name = new TextEncoder().encode(path);
  if (name.length > 107) throw new SyscallError("connect", 36, path); // ENAMETOOLONG
  const addr = new Uint8Array(2 + 108);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  try {
    check("connect", sys(SYS.connect, fd, addr, 2 + name.length + 1), path);
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}

/** setsockopt(2) with an `int` value. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  check("setsockopt", sys(SYS.setsockopt, fd, level, name, new Int32Array([value]), 4));
}

/** setsockopt(2) with raw bytes, such as a `struct timeval`. */
export function setsockopt(
  fd: number,
  level: number,
  name: number,
  value: Uint8Array<ArrayBuffer>,
): void {
  check("setsockopt", sys(SYS.setsockopt, fd, level, name, value, value.length));
}

/** sendto(2) of one datagram to `addr` (raw `struct sockaddr_*` bytes); retries on EINTR. */
export function sendTo(
  fd: number,
  data: Uint8Array<ArrayBuffer>,
  addr: Uint8Array<ArrayBuffer>,
): number {
  for (;;) {
    const n = sys(SYS.sendto, fd, data, data.length, 0, addr, addr.length);
    if (n >= 0) return n;
    const e = errno();
    if (e !== 4) throw new SyscallError("sendto", e);
  }
}

/**
 * recvfrom(2) of one datagram into `buf`, the sender's address into `from` (raw bytes).
 * Retries on EINTR. Returns the byte count (with MSG_TRUNC in `flags`, the datagram's
 * real length, which may exceed `buf`), or `-errno` for any other failure, so that a
 * caller can word its own error (a timeout is `-EAGAIN`).
 */
export function recvFrom(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  flags: number,
  from: Uint8Array<ArrayBuffer>,
): number {
  const fromLen = new Uint32Array([from.length]);
  for (;;) {
    const n = sys(SYS.recvfrom, fd, buf, buf.length, flags, from, fromLen);
    if (n >= 0) return n;
    const e = errno();
    if (e !== 4) return -e;
  }
}

/** The bytes of a `struct sockaddr_in` for an IPv4 address and port. */
export function sockaddrIn(ip: string, port: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(16);
  b[0] = 2; // AF_INET, little-endian u16
  b[2] = port >> 8, b[3] = port & 0xff; // network byte order
  b.set(ip.split(".").map(Number), 4);
  return b;
}

/** The IPv4 address and port in a `struct sockaddr_in`. */
export function fromSockaddrIn(b: Uint8Array): { ip: string; port: number } {
  return { ip: [...b.subarray(4, 8)].join("."), port: (b[2] << 8) | b[3] };
}

/**
 * A non-blocking UDP socket bound to `ip:port`, created in the network namespace behind
 * `netnsFd` when one is given (the calling thread joins it for the socket() call and comes
 * straight back, all in sync calls; the socket stays in that namespace).
 */
export function udpSocket(ip: string, port: number, netnsFd?: number): number {
  const AF_INET = 2, SOCK_DGRAM = 2;
  const make = () => {
    const fd = check("socket", sys(SYS.socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | O.NONBLOCK, 0));
    try {
      bind(fd, sockaddrIn(ip, port));
    } catch (e) {
      close(fd);
      throw e;
    }
    return fd;
  };
  if (netnsFd === undefined) return make();
  const home = open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
  try {
    setns(netnsFd, CLONE.NEWNET, "container network namespace");
    let fd = -1, failure: unknown;
    try {
      fd = make();
    } catch (e) {
      failure = e;
    }
    setns(home, CLONE.NEWNET, "own network namespace");
    if (fd < 0) throw failure;
    return fd;
  } finally {
    close(home);
  }
}

/** Brings a network interface up (SIOCSIFFLAGS with IFF_UP), as `ip link set lo up`. */
export function interfaceUp(name: string): void {
  const SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914, IFF_UP = 0x1, AF_INET = 2, SOCK_DGRAM = 2;
  const sock = check("socket", sys(SYS.socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    const ifreq = new Uint8Array(40);
    ifreq.set(encoder.encode(name).subarray(0, 15));
    const view = new DataView(ifreq.buffer);
    check("ioctl(SIOCGIFFLAGS)", sys(SYS.ioctl, sock, SIOCGIFFLAGS, ifreq), name);
    view.setUint16(16, view.getUint16(16, true) | IFF_UP, true);
    check("ioctl(SIOCSIFFLAGS)", sys(SYS.ioctl, sock, SIOCSIFFLAGS, ifreq), name);
  } finally {
    close(sock);
  }
}

// ---------------------------------------------------------------------------------------
// Terminals.

/**
 * Opens a new pseudo-terminal from the devpts instance behind `ptmxPath`. Returns the
 * master descriptor and the slave's path inside that instance (`<pts dir>/<n>`).
 */
export function openPty(ptmxPath: string): { master: number; ptsNumber: number } {
  const master = open(ptmxPath, O.RDWR | O.NOCTTY | O.CLOEXEC);
  const arg = new Int32Array(1);
  check("ioctl(TIOCSPTLCK)", sys(SYS.ioctl, master, TIOCSPTLCK, arg));
  check("ioctl(TIOCGPTN)", sys(SYS.ioctl, master, TIOCGPTN, arg));
  return { master, ptsNumber: arg[0] };
}

/** Makes `fd` the controlling terminal of the calling session (TIOCSCTTY). */
export function setControllingTerminal(fd: number): void {
  check("ioctl(TIOCSCTTY)", sys(SYS.ioctl, fd, TIOCSCTTY, 0));
}

/** Sets a terminal's window size (TIOCSWINSZ). */
export function setWindowSize(fd: number, rows: number, columns: number): void {
  const ws = new Uint16Array([rows, columns, 0, 0]);
  check("ioctl(TIOCSWINSZ)", sys(SYS.ioctl, fd, TIOCSWINSZ, ws));
}

// ---------------------------------------------------------------------------------------
// Processes, signals, credentials.

/** execve(2). Returns only by throwing. */
export function execve(path: string, argv: readonly string[], env: readonly string[]): never {
  const a = new CStringArray(argv), e = new CStringArray(env);
  sys(SYS.execve, cString(path), a.pointers, e.pointers);
  throw new SyscallError("exec", errno(), path);
}

/** setsid(2). */
export function setsid(): void {
  check("setsid", sys(SYS.setsid));
}

/**
 * Sets the calling thread's user and group IDs and supplementary groups. `saved` keeps a
 * saved set-ID (root) so that the thread can switch back later.
 */
export function setCredentials(
  uid: number,
  gid: number,
  groups: readonly number[],
): void {
  // Raw syscalls change only the calling thread (glibc's wrappers would change them all).
  const g = new Uint32Array(groups);
  check("setgroups", sys(SYS.setgroups, groups.length, g.length ? new Uint8Array(g.buffer) : null));
  check("setresgid", sys(SYS.setresgid, gid, gid, gid));
  check("setresuid", sys(SYS.setresuid, uid, uid, uid));
}

/** kill(2). Returns false when the process does not exist (ESRCH). */
export function kill(pid: number, signal: number): boolean {
  if (sys(SYS.kill, pid, signal) === 0) return true;
  const e = errno();
  if (e === 3) return false;
  throw new SyscallError("kill", e, String(pid));
}

/** Decoded wait status: exit code, or 128 + signal as a shell reports it. */
export interface WaitResult {
  pid: number;
  exitCode: number;
  signal?: number;
}

function decodeStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, exitCode: (status >> 8) & 0xff };
  return { pid, exitCode: 128 + sig, signal: sig };
}

/** waitpid(2) that blocks a worker thread, leaving the event loop free. */
export async function waitAsync(pid: number): Promise<WaitResult> {
  const st = new Int32Array(1);
  for (;;) {
    const r = await sysAsync(SYS.wait4, pid, st, 0, null);
    if (r === pid) return decodeStatus(pid, st[0]);
    // EINTR is the only expected failure; ECHILD means someone else reaped it.
    if (r === -1 && !processExists(pid)) return { pid, exitCode: 255 };
  }
}

/** waitpid(2), blocking the main thread; `nohang` returns null when still running. */
export function waitSync(pid: number, nohang = false): WaitResult | null {
  const st = new Int32Array(1);
  for (;;) {
    const r = sys(SYS.wait4, pid, st, nohang ? WNOHANG : 0, null);
    if (r === pid) return decodeStatus(pid, st[0]);
    if (r === 0) return null;
    const e = errno();
    if (e !== 4) throw new SyscallError("waitpid", e, String(pid));
  }
}

/** True when a process with this pid exists (it may be a zombie). */
export function processExists(pid: number): boolean {
  return sys(SYS.kill, pid, 0) === 0 || errno() === 1;
}

/** Resets every signal to its default action and unblocks all of them, before exec. */
export function resetSignals(): void {
  // struct kernel_sigaction { handler = SIG_DFL, flags = 0, restorer = 0, mask = 0 }
  const action = new BigUint64Array(4);
  for (let sig = 1; sig < 65; sig++) {
    if (sig === 9 || sig === 19) continue;
    sys(SYS.rt_sigaction, sig, action, null, 8);
  }
  const empty = new BigUint64Array(1);
  sys(SYS.rt_sigprocmask, 2, /* SIG_SETMASK */ empty, null, 8);
}

/**
 * Sets `sig` to be ignored (SIG_IGN) for the whole process. Unlike a Deno listener this
 * survives an execve, so the program a process becomes ignores it from its first instruction.
 */
export function ignoreSignal(sig: number): void {
  // struct kernel_sigaction { handler = SIG_IGN (1), flags = 0, restorer = 0, mask = 0 }
  const action = new BigUint64Array([1n, 0n, 0n, 0n]);
  check("rt_sigaction", sys(SYS.rt_sigaction, sig, action, null, 8), String(sig));
}

/** Drops one capability from the bounding set (prctl PR_CAPBSET_DROP). */
export function dropBoundingCapability(cap: number): void {
  check("prctl(PR_CAPBSET_DROP)", sys(SYS.prctl, PR_CAPBSET_DROP, cap, 0, 0, 0));
}

/**
 * Empties the calling thread's inheritable set (and so its ambient set), keeping its
 * effective and permitted sets: what it execs as root then gets exactly its bounding set,
 * whatever the caller of m-docker left inheritable (capget/capset, version 3).
 */
export function clearInheritableCapabilities(): void {
  const header = new Uint32Array([0x20080522, 0]);
  // struct __user_cap_data_struct[2] { effective, permitted, inheritable }
  const data = new Uint32Array(6);
  check("capget", sys(SYS.capget, header, data));
  data[2] = data[5] = 0;
  check("capset", sys(SYS.capset, header, data));
}

/** Sets no_new_privs on the calling thread, for good (prctl PR_SET_NO_NEW_PRIVS). */
export function setNoNewPrivs(): void {
  check("prctl(PR_SET_NO_NEW_PRIVS)", sys(SYS.prctl, 38, 1, 0, 0, 0));
}

// ---------------------------------------------------------------------------------------
// posix_spawn: the only way to create processes with full control of fds and sessions.

/** What the spawned process's descriptor table should hold. */
export type FdAction =
  | { kind: "dup"; from: number; to: number }
  | { kind: "open"; fd: number; path: string; flags: number; mode?: number };

/** Options for `spawn`. */
export interface SpawnOptions {
  /** Full path of the program. */
  path: string;
  /** argv, including argv[0]. */
  args: readonly string[];
  /** The complete environment as `KEY=value` strings. */
  env: readonly string[];
  /** Descriptor set-up, applied in order in the child; every higher descriptor is closed. */
  fds?: readonly FdAction[];
  /** Start a new session (setsid), detaching from the controlling terminal. */
  newSession?: boolean;
}

/**
 * posix_spawn(3) with default signal dispositions and an empty signal mask, so that the
 * child does not inherit Deno's ignored SIGPIPE. Returns the child's pid.
 */
export function spawn(opts: SpawnOptions): number {
  const l = spawnLib ??= Deno.dlopen("libc.so.6", spawnSymbols).symbols;
  const actions = new Uint8Array(80);
  const attr = new Uint8Array(336);
  l.posix_spawn_file_actions_init(actions);
  l.posix_spawnattr_init(attr);
  const keep: Uint8Array[] = [];
  try {
    let highest = 2;
    for (const a of opts.fds ?? []) {
      if (a.kind === "dup") {
        l.posix_spawn_file_actions_adddup2(actions, a.from, a.to);
        highest = Math.max(highest, a.to);
      } else {
        const p = cString(a.path);
        keep.push(p);
        l.posix_spawn_file_actions_addopen(actions, a.fd, p, a.flags, a.mode ?? 0o644);
        highest = Math.max(highest, a.fd);
      }
    }
    // Deno leaves descriptors without close-on-exec: none of them may reach the child.
    l.posix_spawn_file_actions_addclosefrom_np(actions, highest + 1);
    // sigset_t is 128 bytes in glibc; the kernel reads the first 8. SIGKILL and SIGSTOP
    // cannot be reset; glibc skips them.
    const all = new Uint8Array(128).fill(0xff), none = new Uint8Array(128);
    l.posix_spawnattr_setsigdefault(attr, all);
    l.posix_spawnattr_setsigmask(attr, none);
    const POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (opts.newSession) flags |= POSIX_SPAWN_SETSID;
    l.posix_spawnattr_setflags(attr, flags);
    const argv = new CStringArray(opts.args), envp = new CStringArray(opts.env);
    const pid = new Int32Array(1);
    const r = l.posix_spawn(
      new Uint8Array(pid.buffer),
      cString(opts.path),
      actions,
      attr,
      new Uint8Array(argv.pointers.buffer),
      new Uint8Array(envp.pointers.buffer),
    );
    if (r !== 0) throw new SyscallError("posix_spawn", r, opts.path);
    return pid[0];
  } finally {
    l.posix_spawn_file_actions_destroy(actions);
    l.posix_spawnattr_destroy(attr);
  }
}
