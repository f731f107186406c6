/**
 * `top`: the processes in a container's cgroup, with their PIDs on the host and inside the
 * container's PID namespace.
 *
 * @module
 */

import { openCgroupManager } from "../cgroups/manager.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { isRunning } from "./reconcile.ts";

/** One process of a container. */
export interface ContainerProcess {
  uid: number;
  hostPid: number;
  hostPpid: number;
  containerPid: number;
  command: string;
}

function describe(pid: number): ContainerProcess | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "";
    const nspids = field("NSpid").split(/\s+/).map(Number);
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((a) => a);
    return {
      uid: Number(field("Uid").split(/\s+/)[0]),
      hostPid: pid,
      hostPpid: Number(field("PPid")),
      containerPid: nspids[nspids.length - 1],
      command: cmdline.length > 0 ? cmdline.join(" ") : `[${field("Name")}]`,
    };
  } catch {
    return null; // exited meanwhile
  }
}

/** The processes of a running container, by container PID. */
export function containerProcesses(state: ContainerState): ContainerProcess[] {
  if (!isRunning(state)) throw new ExitCodeError(`container ${state.id} is not running`, 125);
  const pids = openCgroupManager(state.cgroup.layout, state.cgroup.paths).pids();
  return pids.map(describe).filter((p): p is ContainerProcess => p !== null)
    .sort((a, b) => a.containerPid - b.containerPid);
}
