/**
 * Starting a program in new namespaces, a new user namespace among them, from a
 * multithreaded process. unshare(CLONE_NEWUSER) and setns into a user namespace refuse a
 * caller with threads (EINVAL), and Deno always has threads; clone(2) with CLONE_NEWUSER does
 * not. So this is what posix_spawn does inside (clone with CLONE_VM, a child on a stack of
 * its own that only makes system calls, then execve), with the namespace flags added and one
 * pause in the child: it waits on a pipe until the parent has written its uid_map and
 * gid_map, then takes uid and gid 0 of the new namespace (so that the program it execs keeps
 * its capabilities there), sets up its descriptors and execs. runc's nsexec plays the part
 * in C.
 *
 * The child's code is x86-64 machine code (ffi/nsclone.s, assembled; test/unit/nsclone_test.ts
 * checks the bytes against the source when `as` is installed), called through a function
 * pointer with a table of plain numbers. It touches no libc and no memory but that table and
 * its own stack, so sharing the address space of a running Deno is safe; every signal is
 * blocked from before the clone until it has reset every handler.
 *
 * @module
 */

import { ERRNO, SyscallError } from "./errors.ts";
import { cString, CStringArray, type FdAction, O, open, syscallChecked } from "./libc.ts";

/** ffi/nsclone.s, assembled (`as nsclone.s && objcopy -O binary -j .text`). */
export const NSCLONE_CODE_HEX =
  "5341544889fbb80e000000bf02000000488d7358488d536041ba080000000f05488bbb280100004885ff740eb8b30100" +
  "00be580000000f05eb16b838000000488b3b488b730831d24531d24531c00f054885c074224989c4b80e000000bf0200" +
  "0000488d736031d241ba080000000f054c89e0415c5bc341bc01000000b80d0000004489e7488d737031d241ba080000" +
  "000f0541ffc44183fc4175e148837b10007c2fb803000000488bbbd00000000f0541bc0100000031c0488b7b10488d73" +
  "50ba010000000f054883f8010f85a20300004531ed4c8bb3180100004c3bab1001000074344d89ec49c1e4084983cc12" +
  "b801000000498b3e488db320010000ba010000000f054883f8010f854903000049ffc54983c608ebc34883bb30010000" +
  "007c2241bc13000000b834010000488bbb30010000be000000020f054885c00f85140300004883bbd800000000741d41" +
  "bc0c000000b810010000488bbbd80000000f054885c00f85ed0200004531ed4c8bb3080100004c3bab0001000074374d" +
  "89ec49c1e4084983cc11b8a5000000498b3e498b7608498b56104d8b56184d8b46200f054885c00f85ac02000049ffc5" +
  "4983c628ebc04883bb90000000007c2241bc08000000b834010000488bbb90000000be000000100f054885c00f857702" +
  "000041bc0900000031c9488b8398000000480fa3c8731ab89d000000bf180000004889ce510f05594885c00f85480200" +
  "00ffc183f94075d24883bbe000000000742141bc0d000000b87e000000488bbbe0000000488d77080f054885c00f8516" +
  "0200004883bbc000000000741641bc0a000000b8700000000f054885c00f88f601000031c9483b4b3074504989cc49c1" +
  "e4044901dcb821000000498bbc2440010000498bb42448010000510f05594885c0781db848000000498bbc2448010000" +
  "be0200000031d2510f055948ffc1ebb541bc05000000e99e0100004883bbc8000000007c2441bc0b000000b810000000" +
  "488bbbc8000000be0e54000031d20f054885c00f85700100004883bbf800000000741d41bc10000000b850000000488b" +
  "bbf80000000f054885c00f85490100004883bbe800000000742441bc0e000000b83d010000bf0100000031f6488b93e8" +
  "0000000f054885c00f851b01000048837b4000746a41bc02000000b874000000488bbbb0000000488bb3b80000000f05" +
  "4885c00f85f000000041bc03000000b877000000488bbba80000004889fe4889fa0f054885c00f85cd00000041bc0400" +
  "0000b875000000488bbba00000004889fe4889fa0f054885c00f85aa0000004883bbf000000000742441bc0f000000b8" +
  "9d000000bf26000000be0100000031d24531d24531c00f054885c0757c4883bb3801000000742641bc14000000b89d00" +
  "0000bf01000000488bb33801000031d24531d24531c00f054885c0754c41bc06000000b8b4010000488b7b38beffffff" +
  "ffba040000000f05b80e000000bf02000000488d736831d241ba080000000f0541bc07000000b83b000000488b7b1848" +
  "8b7320488b53280f0548f7d849c1e4204c09e048894348b83c000000bf7f0000000f05f431c0ebe1";

const SYS = {
  read: 0,
  close: 3,
  mmap: 9,
  mprotect: 10,
  munmap: 11,
  fcntl: 72,
  wait4: 61,
  capget: 125,
  openat: 257,
};
const E2BIG = 7;
const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
const MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_STACK = 0x20000;
const F_DUPFD_CLOEXEC = 1030;
const SIGCHLD = 17;
const CLONE_VM = 0x100;
const CLONE_INTO_CGROUP = 0x200000000n;
/** sizeof(struct clone_args) with its last field, cgroup (Linux 5.7). */
const CLONE_ARGS_SIZE = 88;
const STACK_SIZE = 64 * 1024;

/** The table's layout, in 8-byte slots (the comment at the top of ffi/nsclone.s). */
const T = {
  flags: 0,
  stack: 1,
  syncFd: 2,
  path: 3,
  argv: 4,
  envp: 5,
  dupCount: 6,
  cloexecFrom: 7,
  setIds: 8,
  error: 9,
  allSignals: 11,
  userns: 18,
  dropCaps: 19,
  uid: 20,
  gid: 21,
  groupCount: 22,
  groups: 23,
  newSession: 24,
  controllingTty: 25,
  syncWriteFd: 26,
  unshareAfterWait: 27,
  capset: 28,
  seccomp: 29,
  noNewPrivs: 30,
  cwd: 31,
  mountCount: 32,
  mounts: 33,
  cgroupFileCount: 34,
  cgroupFiles: 35,
  cgroupJoinText: 36,
  cloneArgs: 37,
  joinCgroupns: 38,
  parentDeathSignal: 39,
  dups: 40,
} as const;

/** What failed in the child, by the step number the machine code leaves in the error slot. */
const STEPS: Record<number, string> = {
  1: "wait for the id maps",
  2: "setgroups",
  3: "setresgid",
  4: "setresuid",
  5: "dup2",
  6: "close_range",
  7: "execve",
  8: "setns (user namespace)",
  9: "prctl(PR_CAPBSET_DROP)",
  10: "setsid",
  11: "ioctl(TIOCSCTTY)",
  12: "unshare",
  13: "capset",
  14: "seccomp(SECCOMP_SET_MODE_FILTER)",
  15: "prctl(PR_SET_NO_NEW_PRIVS)",
  16: "chdir",
  17: "mount",
  18: "cgroup join (write to tasks)",
  19: "setns (cgroup namespace)",
  20: "prctl(PR_SET_PDEATHSIG)",
};

const ENTRY = { parameters: ["buffer"], result: "i64" } as const;
let code: Deno.UnsafeFnPointer<typeof ENTRY> | undefined;

function sysPtr(n: number | bigint): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(n));
}

/** The machine code, in a page of its own made executable once per process. */
function entry(): Deno.UnsafeFnPointer<typeof ENTRY> {
  if (code) return code;
  const bytes = new Uint8Array(NSCLONE_CODE_HEX.match(/../g)!.map((h) => parseInt(h, 16)));
  const page = syscallChecked(
    "mmap",
    SYS.mmap,
    0,
    4096,
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS,
    -1,
    0,
  );
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(sysPtr(page)!, 4096)).set(bytes);
  syscallChecked("mprotect", SYS.mprotect, page, 4096, PROT_READ | PROT_EXEC);
  code = new Deno.UnsafeFnPointer(sysPtr(page) as Deno.PointerObject<typeof ENTRY>, ENTRY);
  return code;
}

/** Options for `spawnInNamespaces`. */
export interface NamespacedSpawnOptions {
  /** Full path of the program. */
  path: string;
  /** argv, including argv[0]. */
  args: readonly string[];
  /** The complete environment as `KEY=value` strings. */
  env: readonly string[];
  /** Descriptor set-up, applied in order in the child; every higher descriptor closes on exec. */
  fds?: readonly FdAction[];
  /** CLONE_NEW* flags for the clone (0: the caller's namespaces, as posix_spawn). */
  namespaces: number;
  /** A user namespace (an open /proc/PID/ns/user) the child joins first (it has no threads). */
  joinUserns?: number;
  /** Capabilities the child drops from its bounding set after joining (numbers below 64). */
  dropCapabilities?: readonly number[];
  /** The child's uid, gid and groups (in its user namespace), taken before the exec. */
  ids?: { uid: number; gid: number; groups: readonly number[] };
  /** Start a new session (setsid). */
  newSession?: boolean;
  /** Make this (target) descriptor, a terminal, the controlling one, after the dups. */
  controllingTerminal?: number;
  /** CLONE_NEW* flags the child unshares after the go-ahead (CLONE_NEWCGROUP, once moved). */
  unshareAfterWait?: number;
  /** Clear the inheritable (and so the ambient) capabilities, keeping the others. */
  clearInheritable?: boolean;
  /** A seccomp filter (struct sock_filter[] as bytes) loaded just before the ids change. */
  seccomp?: Uint8Array<ArrayBuffer>;
  /** Set no_new_privs after the ids. */
  noNewPrivs?: boolean;
  /** The child's working directory, changed to after the dups. */
  cwd?: string;
  /** Mounts the child makes after the unshare, in order (paths as the child sees them). */
  mounts?: readonly ChildMount[];
  /**
   * Open cgroup v1 `tasks` files the child writes "0" to after the go-ahead, before its
   * unshare: it joins the cgroup itself. Moving itself, a process of one thread, skips the
   * kernel's global threadgroup lock that writing another process's pid takes (and whose
   * first taking waits an RCU grace period: 10-30 ms measured here).
   */
  joinCgroupFiles?: readonly number[];
  /**
   * An open cgroup v2 directory (O_PATH is enough) the child is born in: clone3(2) with
   * CLONE_INTO_CGROUP, so nothing migrates it, and no one takes the kernel's global
   * threadgroup lock that writing a pid to `cgroup.procs` takes (its first taking after a
   * quiet spell waits an RCU grace period: 10-30 ms). Where clone3 is refused as such
   * (ENOSYS: kernels before 5.3, and seccomp profiles such as Docker's, so m-docker inside a
   * Docker container; E2BIG: 5.3 to 5.6, which lack the cgroup field) the child is cloned
   * as without it and moved here, through the directory's `cgroup.procs`, before it runs on:
   * either way it is in the cgroup before it goes past its wait.
   */
  cgroupDir?: number;
  /**
   * A signal the child gets when the thread that cloned it ends (PR_SET_PDEATHSIG), set
   * after its ids change (which clears it) and kept across its exec: a build's RUN step dies
   * with a build that is killed, instead of running on unwatched.
   */
  parentDeathSignal?: number;
  /**
   * A cgroup namespace (an open /proc/PID/ns/cgroup) the child joins after the go-ahead.
   * Why not the caller's thread, as for the other namespaces: where cgroup2 is mounted with
   * nsdelegate (systemd), a move, clone3's into `cgroupDir` too, needs the mover to see its
   * own cgroup from its cgroup namespace, and from a container's it does not (ENOENT).
   */
  joinCgroupns?: number;
}

/** One mount(2) call for the child. */
export interface ChildMount {
  source: string | null;
  target: string;
  fstype: string | null;
  flags: number;
  data?: string;
}

/** What `prepare` may still decide while the child waits (it shares our memory). */
export interface LateSpawnChoices {
  /** The program, when it can only be found now (in a root the parent has just entered). */
  path?: string;
}

/**
 * Clones a child with `opts.namespaces` and CLONE_VM, calls `prepare(pid)` while it waits
 * (to write its id maps: only a process outside a new user namespace can map host ids), then
 * lets it join `joinUserns`, drop capabilities, take its ids and exec. Returns once it has
 * exec'd, with its pid; throws if the clone, `prepare` or a step in the child failed (the
 * child is then reaped).
 */
export function spawnInNamespaces(
  opts: NamespacedSpawnOptions,
  prepare?: (pid: number) => LateSpawnChoices | void,
): number {
  const keep: unknown[] = [];
  const opened: number[] = [];
  const dups: Array<[number, number]> = [];
  let [syncRead, syncWrite] = prepare ? pipe() : [-1, -1];
  const [execRead, execWriteLow] = pipe();
  // Above every descriptor the child is given, so that no dup2 can close it before the exec.
  const execWrite = syscallChecked("fcntl", SYS.fcntl, execWriteLow, F_DUPFD_CLOEXEC, 64);
  syscallChecked("close", SYS.close, execWriteLow);
  let stack = 0;
  let pid = 0;
  let execWriteOpen = true;
  try {
    let highest = 2;
    for (const a of opts.fds ?? []) {
      if (a.kind === "dup") {
        dups.push([a.from, a.to]);
        highest = Math.max(highest, a.to);
      } else {
        // Opened here, where the path means the same; the child only dups it.
        const fd = open(a.path, a.flags | O.CLOEXEC, a.mode ?? 0o644);
        opened.push(fd);
        dups.push([fd, a.fd]);
        highest = Math.max(highest, a.fd);
      }
    }
    stack = syscallChecked(
      "mmap",
      SYS.mmap,
      0,
      STACK_SIZE,
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
      -1,
      0,
    );
    const path = cString(opts.path);
    const argv = new CStringArray(opts.args), envp = new CStringArray(opts.env);
    const groups = new Uint32Array(opts.ids?.groups ?? []);
    const cwd = opts.cwd === undefined ? undefined : cString(opts.cwd);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    const fprog = opts.seccomp && new BigUint64Array(2);
    // __user_cap_header_struct (v3) then two __user_cap_data_struct: ours, less inheritable.
    const caps = opts.clearInheritable ? new Uint32Array(8) : undefined;
    if (caps) {
      caps.set([0x20080522, 0]);
      syscallChecked("capget", SYS.capget, caps.subarray(0, 2), caps.subarray(2));
      caps[4] = caps[7] = 0;
    }
    keep.push(path, argv, envp, groups, cwd, fprog, caps, opts.seccomp);
    const addr = (b: BufferSource) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
    const table = new BigUint64Array(T.dups + 2 * dups.length);
    table[T.flags] = BigInt(opts.namespaces | CLONE_VM | SIGCHLD);
    table[T.stack] = BigInt(stack + STACK_SIZE);
    table[T.syncFd] = BigInt.asUintN(64, BigInt(syncRead));
    table[T.syncWriteFd] = BigInt.asUintN(64, BigInt(syncWrite));
    table[T.path] = addr(path);
    table[T.argv] = addr(argv.pointers);
    table[T.envp] = addr(envp.pointers);
    table[T.dupCount] = BigInt(dups.length);
    table[T.cloexecFrom] = BigInt(highest + 1);
    table[T.allSignals] = ~0n;
    table[T.userns] = BigInt.asUintN(64, BigInt(opts.joinUserns ?? -1));
    table[T.joinCgroupns] = BigInt.asUintN(64, BigInt(opts.joinCgroupns ?? -1));
    table[T.parentDeathSignal] = BigInt(opts.parentDeathSignal ?? 0);
    for (const cap of opts.dropCapabilities ?? []) table[T.dropCaps] |= 1n << BigInt(cap);
    if (opts.ids) {
      table[T.setIds] = 1n;
      table[T.uid] = BigInt(opts.ids.uid);
      table[T.gid] = BigInt(opts.ids.gid);
      table[T.groupCount] = BigInt(groups.length);
      table[T.groups] = groups.length ? addr(groups) : 0n;
    }
    table[T.newSession] = opts.newSession ? 1n : 0n;
    table[T.controllingTty] = BigInt.asUintN(64, BigInt(opts.controllingTerminal ?? -1));
    table[T.unshareAfterWait] = BigInt(opts.unshareAfterWait ?? 0);
    if (caps) table[T.capset] = addr(caps);
    if (fprog && opts.seccomp) {
      if (
        opts.seccomp.length === 0 || opts.seccomp.length % 8 || opts.seccomp.length > 8 * 0xffff
      ) {
        throw new Error(`not a BPF program: ${opts.seccomp.length} bytes`);
      }
      fprog[0] = BigInt(opts.seccomp.length / 8);
      fprog[1] = addr(opts.seccomp);
      table[T.seccomp] = addr(fprog);
    }
    table[T.noNewPrivs] = opts.noNewPrivs ? 1n : 0n;
    if (cwd) table[T.cwd] = addr(cwd);
    const mounts = opts.mounts ?? [];
    if (mounts.length) {
      const cstr = (v: string | null | undefined) => {
        if (v === null || v === undefined) return 0n;
        const c = cString(v);
        keep.push(c);
        return addr(c);
      };
      const list = new BigUint64Array(5 * mounts.length);
      mounts.forEach((m, i) => {
        list.set(
          [cstr(m.source), cstr(m.target), cstr(m.fstype), BigInt(m.flags), cstr(m.data)],
          5 * i,
        );
      });
      keep.push(list);
      table[T.mountCount] = BigInt(mounts.length);
      table[T.mounts] = addr(list);
    }
    const joins = opts.joinCgroupFiles ?? [];
    if (joins.length) {
      const list = new BigUint64Array(joins.map((fd) => BigInt(fd)));
      keep.push(list);
      table[T.cgroupFileCount] = BigInt(joins.length);
      table[T.cgroupFiles] = addr(list);
    }
    table[T.cgroupJoinText] = 0x30n; // "0": the writer itself
    if (opts.cgroupDir !== undefined) {
      // struct clone_args: flags (less the exit signal), pidfd, child_tid, parent_tid,
      // exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup. The kernel starts
      // the child at stack + stack_size: the top clone is given.
      const args = new BigUint64Array(CLONE_ARGS_SIZE / 8);
      args[0] = (table[T.flags] & ~0xffn) | CLONE_INTO_CGROUP;
      args[4] = BigInt(SIGCHLD);
      args[5] = BigInt(stack);
      args[6] = BigInt(STACK_SIZE);
      args[10] = BigInt(opts.cgroupDir);
      keep.push(args);
      table[T.cloneArgs] = addr(args);
    }
    dups.forEach(([from, to], i) => {
      table[T.dups + 2 * i] = BigInt(from);
      table[T.dups + 2 * i + 1] = BigInt(to);
    });
    let r = Number(entry().call(new Uint8Array(table.buffer)));
    // clone3 refused as such (see cgroupDir): the plain clone, with a wait if there was
    // none, so that the child is moved before it goes on. (Retried here rather than in the
    // machine code: a failed clone3 leaves nothing behind, and the move is easier here.)
    const moveChild = table[T.cloneArgs] !== 0n && (r === -ERRNO.ENOSYS || r === -E2BIG);
    if (moveChild) {
      table[T.cloneArgs] = 0n;
      if (syncRead < 0) {
        [syncRead, syncWrite] = pipe();
        table[T.syncFd] = BigInt(syncRead);
        table[T.syncWriteFd] = BigInt(syncWrite);
      }
      r = Number(entry().call(new Uint8Array(table.buffer)));
    }
    if (r < 0) throw new SyscallError(table[T.cloneArgs] ? "clone3" : "clone", -r, opts.path);
    pid = r;
    syscallChecked("close", SYS.close, execWrite);
    execWriteOpen = false;
    let prepared = false;
    try {
      if (moveChild) moveIntoCgroup(opts.cgroupDir!, pid);
      const late = prepare?.(pid);
      if (late?.path !== undefined) {
        // The child reads its table only after the go-ahead: it shares this memory.
        const latePath = cString(late.path);
        keep.push(latePath);
        table[T.path] = addr(latePath);
      }
      prepared = true;
    } finally {
      // The go-ahead byte, or, when prepare failed, EOF: the child then exits.
      if (syncWrite >= 0) {
        if (prepared) syscallChecked("write", 1, syncWrite, new Uint8Array([1]), 1);
        syscallChecked("close", SYS.close, syncWrite);
        syncWrite = -1;
      }
      // EOF on the exec pipe: the child has exec'd (close-on-exec) or exited; until then it
      // runs on our stack and reads our table.
      waitForEof(execRead);
    }
    const error = table[T.error];
    if (error !== 0n) {
      const step = Number(error >> 32n), errno = Number(error & 0xffffffffn);
      const mount = (step & 0xff) === 17 ? opts.mounts?.[step >> 8] : undefined;
      throw new SyscallError(
        STEPS[step & 0xff] ?? `child step ${step}`,
        errno || ERRNO.EPIPE,
        mount ? mount.target : step === 16 ? opts.cwd : opts.path,
      );
    }
    return pid;
  } catch (e) {
    if (pid > 0) reap(pid);
    throw e;
  } finally {
    if (execWriteOpen) syscallChecked("close", SYS.close, execWrite);
    if (syncWrite >= 0) syscallChecked("close", SYS.close, syncWrite);
    for (const fd of [syncRead, execRead, ...opened]) {
      if (fd >= 0) syscallChecked("close", SYS.close, fd);
    }
    if (stack) syscallChecked("munmap", SYS.munmap, stack, STACK_SIZE);
    keep.length = 0;
  }
}

/** Writes `pid` to `cgroup.procs` in the open cgroup directory `dir`. */
function moveIntoCgroup(dir: number, pid: number): void {
  const name = cString("cgroup.procs");
  const fd = syscallChecked("open cgroup.procs", SYS.openat, dir, name, O.WRONLY | O.CLOEXEC);
  try {
    const text = new TextEncoder().encode(String(pid));
    syscallChecked("write cgroup.procs", 1, fd, text, text.length);
  } finally {
    syscallChecked("close", SYS.close, fd);
  }
}

function waitForEof(fd: number): void {
  const b = new Uint8Array(8);
  for (;;) {
    try {
      if (syscallChecked("read", SYS.read, fd, b, 8) === 0) return;
    } catch (e) {
      if (!(e instanceof SyscallError && e.errno === ERRNO.EINTR)) throw e;
    }
  }
}

function pipe(): [number, number] {
  const fds = new Int32Array(2);
  syscallChecked("pipe2", 293, fds, O.CLOEXEC);
  return [fds[0], fds[1]];
}

function reap(pid: number): void {
  try {
    syscallChecked("kill", 62, pid, 9);
  } catch { /* gone */ }
  const status = new Int32Array(1);
  try {
    syscallChecked("wait4", SYS.wait4, pid, status, 0, 0);
  } catch { /* reaped elsewhere */ }
}
