/**
 * Capabilities: a container's processes keep Docker's default set and nothing more.
 *
 * @module
 */

import type { Syscalls } from "../../ffi/syscalls.ts";

/** Docker's default capability set; everything else leaves the bounding set. */
export const DEFAULT_CAPABILITIES = new Set([
  0, // CHOWN
  1, // DAC_OVERRIDE
  3, // FOWNER
  4, // FSETID
  5, // KILL
  6, // SETGID
  7, // SETUID
  8, // SETPCAP
  10, // NET_BIND_SERVICE
  13, // NET_RAW
  18, // SYS_CHROOT
  27, // MKNOD
  29, // AUDIT_WRITE
  31, // SETFCAP
]);

/**
 * Drops every capability outside the default set from the calling thread's bounding set,
 * so that whatever it execs, as root, holds at most the default set. Irreversible for the
 * thread. Reads the highest capability number from /proc, which must still be the host's
 * or the container's own procfs.
 */
export function dropCapabilities(sys: Syscalls, lastCap?: number): void {
  const last = lastCap ?? Number(sys.readTextFile("/proc/sys/kernel/cap_last_cap").trim());
  for (let cap = 0; cap <= last; cap++) {
    if (!DEFAULT_CAPABILITIES.has(cap)) sys.dropBoundingCapability(cap);
  }
}
