/**
 * Installing a seccomp filter on the calling thread: seccomp(SECCOMP_SET_MODE_FILTER) with
 * a classic BPF program (src/seccomp/ compiles one), optionally after PR_SET_NO_NEW_PRIVS.
 *
 * Without no_new_privs the kernel wants CAP_SYS_ADMIN of the thread at load time; after the
 * load, every call the thread (and every process and thread it creates) makes goes through
 * the filter, for good. On init's start-up path: imports only libc.ts.
 *
 * @module
 */

import { syscallChecked } from "./libc.ts";

const SYS_seccomp = 317;
const SYS_prctl = 157;
const SECCOMP_SET_MODE_FILTER = 1;
const PR_SET_NO_NEW_PRIVS = 38;

/**
 * Loads `program` (struct sock_filter[] as bytes, 8 per instruction) as a seccomp filter of
 * the calling thread only (no TSYNC: init and exec each filter the one thread that execs or
 * spawns). `noNewPrivs` sets PR_SET_NO_NEW_PRIVS first, as `--security-opt
 * no-new-privileges` does; then no capability is needed.
 */
export function loadSeccompFilter(program: Uint8Array<ArrayBuffer>, noNewPrivs = false): void {
  if (program.length === 0 || program.length % 8 !== 0 || program.length / 8 > 0xffff) {
    throw new Error(`not a BPF program: ${program.length} bytes`);
  }
  if (noNewPrivs) {
    syscallChecked("prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  }
  // struct sock_fprog { unsigned short len; /* pad */ struct sock_filter *filter; }
  const fprog = new DataView(new ArrayBuffer(16));
  fprog.setUint16(0, program.length / 8, true);
  fprog.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(program))), true);
  syscallChecked(
    "seccomp(SECCOMP_SET_MODE_FILTER)",
    SYS_seccomp,
    SECCOMP_SET_MODE_FILTER,
    0,
    fprog,
  );
}
