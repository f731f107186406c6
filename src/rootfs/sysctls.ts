/**
 * `--sysctl`s, written by the thread that builds the container while the host's /proc is
 * still in view: /proc/sys/net, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* show
 * the writer's own network and IPC namespaces, which are the container's by then
 * (validated at create: only namespaced keys, net.* only with a network namespace of the
 * container's own).
 *
 * @module
 */

import { ExitCodeError } from "../util/errors.ts";

/** Writes each sysctl; `ownNetns`: the container has a network namespace of its own. */
export function writeSysctls(sysctls: Record<string, string>, ownNetns: boolean): void {
  for (const [key, value] of Object.entries(sysctls)) {
    if (key.startsWith("net.") && !ownNetns) {
      throw new ExitCodeError(`sysctl "${key}" not allowed in a shared network namespace`, 125);
    }
    try {
      Deno.writeTextFileSync(`/proc/sys/${key.replaceAll(".", "/")}`, value);
    } catch (e) {
      throw new ExitCodeError(`cannot set sysctl ${key}=${value}: ${(e as Error).message}`, 125);
    }
  }
}
