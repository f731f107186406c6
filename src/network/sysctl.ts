/**
 * The kernel settings container networking needs, written under /proc/sys. They apply to the
 * network namespace of the calling thread (the kernel resolves /proc/sys/net by the opener's
 * namespace), so a test that runs this under `ip netns exec` changes only its own namespace.
 *
 * @module
 */

/** Where /proc/sys is; unit tests pass a directory of their own. */
export interface SysctlOptions {
  procSys?: string;
}

/** Writes `value` to `/proc/sys/<key path>` unless it already reads so; true when it wrote. */
export function writeSysctl(path: string, value: string, opts: SysctlOptions = {}): boolean {
  const file = `${opts.procSys ?? "/proc/sys"}/${path}`;
  // skip the write when nothing changes: writing ip_forward resets every interface's
  // forwarding setting, and an unneeded write needs a writable /proc/sys
  if (Deno.readTextFileSync(file).trim() === value) return false;
  Deno.writeTextFileSync(file, `${value}\n`);
  return true;
}

/**
 * Sets `net.ipv4.ip_forward=1` (containers' traffic is routed through the host) and, for each
 * bridge, `net.ipv4.conf.<bridge>.route_localnet=1`: a published port's DNAT on the `output`
 * hook sends 127.0.0.1-sourced packets into the bridge, which the kernel drops as martians
 * without it. (m-docker's `guard` chain keeps containers from using it to reach 127.0.0.1.)
 */
export function enableContainerRouting(bridges: string[], opts: SysctlOptions = {}): void {
  writeSysctl("net/ipv4/ip_forward", "1", opts);
  for (const b of bridges) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(b)) {
      throw new RangeError(`invalid bridge name: ${JSON.stringify(b)}`);
    }
    writeSysctl(`net/ipv4/conf/${b}/route_localnet`, "1", opts);
  }
}
