/**
 * bpf(2), as far as cgroup v2's device controller needs it: load a
 * BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to a cgroup directory, and replace the one
 * attached there before (a restarted container's `create` runs again on its existing
 * cgroup). The program itself is built by src/cgroups/device_filter.ts.
 *
 * Every call is synchronous, on the calling thread, and reads errno right after the call.
 *
 * @module
 */

import { close, cString, O, open, RLIMIT, syscallChecked } from "./libc.ts";
import { ERRNO, SyscallError } from "./errors.ts";

const SYS_bpf = 321;
const SYS_prlimit64 = 302;

/** The bpf(2) commands used here (enum bpf_cmd). */
const CMD = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_GET_FD_BY_ID: 13,
  PROG_QUERY: 16,
} as const;

/** enum bpf_attach_type: BPF_CGROUP_DEVICE. */
export const BPF_CGROUP_DEVICE = 6;
/** enum bpf_prog_type: BPF_PROG_TYPE_CGROUP_DEVICE. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
/** BPF_F_ALLOW_MULTI: several programs on one cgroup, all of which must allow. */
export const BPF_F_ALLOW_MULTI = 2;

/** How much verifier log to ask for when a load is refused: plenty for a small program. */
const LOG_SIZE = 64 * 1024;

/** The address of a buffer, for a pointer field of union bpf_attr. */
const addr = (b: BufferSource): bigint =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** bpf(cmd, attr, sizeof attr); returns the result, or throws a SyscallError named `name`. */
function bpf(name: string, cmd: number, attr: Uint8Array<ArrayBuffer>, target?: string): number {
  try {
    return syscallChecked(name, SYS_bpf, cmd, attr, attr.length);
  } catch (e) {
    if (e instanceof SyscallError && target) throw new SyscallError(name, e.errno, target);
    throw e;
  }
}

/**
 * A program the kernel refused to load. `log` is the verifier's whole log; the message
 * carries its last lines, which say why.
 */
export class BpfLoadError extends SyscallError {
  override name = "BpfLoadError";
  constructor(errno: number, readonly log: string, target?: string) {
    super("bpf(BPF_PROG_LOAD)", errno, target);
    // The last lines say why; the statistics line the verifier ends with does not.
    const tail = log.split("\n").filter((l) => l.trim() !== "" && !/^processed \d+ insns/.test(l))
      .slice(-2);
    if (tail.length > 0) this.message += `: verifier: ${tail.join(" | ")}`;
  }
}

/** What `bpfProgLoad` loads. */
export interface BpfProgram {
  /** enum bpf_prog_type, e.g. 15 for BPF_PROG_TYPE_CGROUP_DEVICE. */
  type: number;
  /** struct bpf_insn[] as bytes, 8 per instruction. */
  insns: Uint8Array<ArrayBuffer>;
  /** The license string the kernel checks GPL-only helpers against. */
  license: string;
  /** Shown by `bpftool prog`: up to 15 of [A-Za-z0-9_.]. */
  name?: string;
  /**
   * Bytes of verifier log to collect on the first try. Without it, a refused load is tried
   * once more with a log so that the error can say why (logging slows every load down).
   */
  logSize?: number;
}

/** One BPF_PROG_LOAD; returns the fd, or throws (BpfLoadError with the log, if asked). */
function loadOnce(p: BpfProgram, logSize: number): number {
  // union bpf_attr, the BPF_PROG_LOAD part: prog_type, insn_cnt, insns, license,
  // log_level, log_size, log_buf, kern_version, prog_flags, prog_name[16].
  const attr = new Uint8Array(64);
  const view = new DataView(attr.buffer);
  const license = cString(p.license);
  const log = new Uint8Array(logSize);
  view.setUint32(0, p.type, true);
  view.setUint32(4, p.insns.length / 8, true);
  view.setBigUint64(8, addr(p.insns), true);
  view.setBigUint64(16, addr(license), true);
  if (logSize > 0) {
    view.setUint32(24, 1, true); // log_level 1: the verifier's reasoning
    view.setUint32(28, logSize, true);
    view.setBigUint64(32, addr(log), true);
  }
  if (p.name) attr.set(new TextEncoder().encode(p.name.slice(0, 15)), 48);
  try {
    return bpf("bpf(BPF_PROG_LOAD)", CMD.PROG_LOAD, attr);
  } catch (e) {
    if (!(e instanceof SyscallError) || logSize === 0) throw e;
    const end = log.indexOf(0);
    throw new BpfLoadError(
      e.errno,
      new TextDecoder().decode(log.subarray(0, end < 0 ? undefined : end)),
    );
  }
}

/**
 * Runs `fn` with RLIMIT_MEMLOCK raised to infinity and puts the old limit back: kernels
 * before 5.11 charge BPF programs to it (later ones to the memory cgroup), and a small
 * limit makes BPF_PROG_LOAD fail with EPERM. Restored so that nothing spawned later, a
 * container's init included, inherits the raised limit.
 */
function withUnlimitedMemlock<T>(fn: () => T): T {
  const old = new BigUint64Array(2);
  const inf = new BigUint64Array([0xffffffffffffffffn, 0xffffffffffffffffn]);
  syscallChecked("prlimit64(RLIMIT_MEMLOCK)", SYS_prlimit64, 0, RLIMIT.memlock, inf, old);
  try {
    return fn();
  } finally {
    syscallChecked("prlimit64(RLIMIT_MEMLOCK)", SYS_prlimit64, 0, RLIMIT.memlock, old, null);
  }
}

/**
 * Loads an eBPF program; returns its fd (the caller closes it). A refusal throws a
 * BpfLoadError carrying the verifier's log; EPERM is retried once with RLIMIT_MEMLOCK
 * lifted, for kernels that still charge it.
 */
export function bpfProgLoad(p: BpfProgram): number {
  if (p.insns.length === 0 || p.insns.length % 8 !== 0) {
    throw new Error(`not an eBPF program: ${p.insns.length} bytes`);
  }
  const logSize = p.logSize ?? 0;
  try {
    return loadOnce(p, logSize);
  } catch (e) {
    if (!(e instanceof SyscallError) || e instanceof BpfLoadError) throw e;
    if (e.errno === ERRNO.EPERM) {
      return withUnlimitedMemlock(() => loadOnce(p, logSize || LOG_SIZE));
    }
    if (e.errno === ERRNO.EINVAL || e.errno === ERRNO.EACCES) {
      return loadOnce(p, LOG_SIZE); // refused by the verifier: again, to learn why
    }
    throw e;
  }
}

/** The BPF_PROG_ATTACH/DETACH part of union bpf_attr. */
function attachAttr(targetFd: number, progFd: number, type: number, flags: number) {
  const attr = new Uint8Array(16);
  const view = new DataView(attr.buffer);
  view.setUint32(0, targetFd, true); // target_fd
  view.setUint32(4, progFd, true); // attach_bpf_fd
  view.setUint32(8, type, true); // attach_type
  view.setUint32(12, flags, true); // attach_flags
  return attr;
}

/** BPF_PROG_ATTACH of `progFd` to the cgroup open at `cgroupFd`; `what` names it in errors. */
export function bpfProgAttach(
  cgroupFd: number,
  progFd: number,
  type: number,
  flags: number,
  what?: string,
): void {
  bpf("bpf(BPF_PROG_ATTACH)", CMD.PROG_ATTACH, attachAttr(cgroupFd, progFd, type, flags), what);
}

/** BPF_PROG_DETACH of the program `progFd` from the cgroup open at `cgroupFd`. */
export function bpfProgDetach(cgroupFd: number, progFd: number, type: number, what?: string): void {
  bpf("bpf(BPF_PROG_DETACH)", CMD.PROG_DETACH, attachAttr(cgroupFd, progFd, type, 0), what);
}

/** BPF_PROG_QUERY: the IDs of the programs of `type` attached to the cgroup itself. */
export function bpfProgQuery(cgroupFd: number, type: number, what?: string): number[] {
  let room = 8;
  for (let tries = 0; tries < 10; tries++) {
    const ids = new Uint32Array(room);
    // target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt.
    const attr = new Uint8Array(32);
    const view = new DataView(attr.buffer);
    view.setUint32(0, cgroupFd, true);
    view.setUint32(4, type, true);
    view.setBigUint64(16, addr(ids), true);
    view.setUint32(24, room, true);
    try {
      bpf("bpf(BPF_PROG_QUERY)", CMD.PROG_QUERY, attr, what);
    } catch (e) {
      // ENOSPC: more programs than room; prog_cnt now says how many.
      if (!(e instanceof SyscallError) || e.errno !== ERRNO.ENOSPC) throw e;
      room = Math.max(view.getUint32(24, true), room * 2);
      continue;
    }
    return [...ids.subarray(0, view.getUint32(24, true))];
  }
  throw new Error(`bpf(BPF_PROG_QUERY) ${what ?? ""}: the list of programs kept growing`);
}

/** BPF_PROG_GET_FD_BY_ID: an fd for a loaded program (the caller closes it). */
export function bpfProgGetFdById(id: number): number {
  const attr = new Uint8Array(12);
  new DataView(attr.buffer).setUint32(0, id, true); // prog_id
  return bpf("bpf(BPF_PROG_GET_FD_BY_ID)", CMD.PROG_GET_FD_BY_ID, attr, `program ${id}`);
}

/**
 * Loads `insns` as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup
 * directory `dir` (BPF_F_ALLOW_MULTI), then detaches the device programs that were attached
 * there before, as runc does: the new one is in force before the old ones go, so the cgroup
 * is never without a filter. The program fd is closed after attaching (the attachment holds
 * the program; rmdir of the cgroup frees it). Throws a SyscallError (BpfLoadError for a
 * refused program) naming `dir`.
 */
export function attachCgroupDeviceProgram(
  dir: string,
  insns: Uint8Array<ArrayBuffer>,
  license: string,
): void {
  const dirFd = open(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  try {
    const old = bpfProgQuery(dirFd, BPF_CGROUP_DEVICE, dir);
    const prog = bpfProgLoad({
      type: BPF_PROG_TYPE_CGROUP_DEVICE,
      insns,
      license,
      name: "m_docker_dev",
    });
    try {
      bpfProgAttach(dirFd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, dir);
    } finally {
      close(prog);
    }
    for (const id of old) {
      let fd: number;
      try {
        fd = bpfProgGetFdById(id);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) continue; // freed meanwhile
        throw e;
      }
      try {
        bpfProgDetach(dirFd, fd, BPF_CGROUP_DEVICE, dir);
      } catch (e) {
        if (!(e instanceof SyscallError) || e.errno !== ERRNO.ENOENT) throw e; // detached meanwhile
      } finally {
        close(fd);
      }
    }
  } finally {
    close(dirFd);
  }
}

/** The IDs of the device programs attached to the cgroup directory `dir` (for tests). */
export function cgroupDeviceProgramIds(dir: string): number[] {
  const dirFd = open(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  try {
    return bpfProgQuery(dirFd, BPF_CGROUP_DEVICE, dir);
  } finally {
    close(dirFd);
  }
}
