/**
 * Capabilities: a container's processes keep their set (Docker's default unless
 * `--cap-add`, `--cap-drop` or `--privileged` changed it) and nothing more.
 *
 * @module
 */

import type { Syscalls } from "../../ffi/syscalls.ts";
import { capabilityNumbers } from "../config/capabilities.ts";

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

/** The numbers of a container's capabilities (its spec's names; the defaults when none). */
export function containerCapabilities(names: readonly string[] | undefined): Set<number> {
  return names ? new Set(capabilityNumbers(names)) : DEFAULT_CAPABILITIES;
}

/**
 * Drops every capability outside `keep` from the calling thread's bounding set, so that
 * whatever it execs holds at most `keep`: as root, exactly those (execve gives root the
 * bounding set); as another user, none effective or permitted (the change of identity
 * empties them, as Docker wants), the bounding set still `keep`; none inheritable or
 * ambient. Irreversible for the
 * thread. Reads the highest capability number from /proc, which must still be the host's
 * or the container's own procfs.
 */
export function dropCapabilities(
  sys: Syscalls,
  keep: ReadonlySet<number> = DEFAULT_CAPABILITIES,
  lastCap?: number,
): void {
  const last = lastCap ?? Number(sys.readTextFile("/proc/sys/kernel/cap_last_cap").trim());
  for (let cap = 0; cap <= last; cap++) {
    if (!keep.has(cap)) sys.dropBoundingCapability(cap);
  }
  // Docker gives no inheritable (nor ambient) capabilities; neither may the caller's leak in.
  sys.clearInheritableCapabilities();
}
