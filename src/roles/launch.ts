/**
 * Starting a detached container's process: what the shim does once, and what the monitor
 * (src/roles/monitor.ts) does again when a restart policy says so. It holds the start code
 * (rootfs, namespaces, cgroups, seccomp), so the monitor imports it only for a restart.
 *
 * @module
 */

import { close, pipe } from "../../ffi/libc.ts";
import type { NetnsPlan } from "../config/init.ts";
import type { UsernsRemap } from "../config/userns.ts";
import { recordFailedStart } from "../container/exit.ts";
import { netnsPlanFor } from "../container/network_spec.ts";
import { prepareStart } from "../container/restart.ts";
import {
  ContainerStartError,
  type InitProcess,
  type RemappedInit,
  spawnInit,
  startContainer,
  type StartedContainer,
  type StdioPlan,
} from "../container/start.ts";
import type { StateStore } from "../state/store.ts";

/** The read ends of a container's output pipes (none with a tty: its master is the output). */
export interface OutputPipes {
  out?: number;
  err?: number;
}

/** An init waiting for its config, and the pipes its container will write to. */
export interface LaunchedInit extends OutputPipes {
  init: InitProcess;
}

/** Spawns init with the container's output going to pipes the caller reads (or a tty). */
export function launchInit(
  tty: boolean,
  netns: NetnsPlan,
  userns: RemappedInit | undefined,
): LaunchedInit {
  const out = tty ? undefined : pipe();
  const err = tty ? undefined : pipe();
  const plan: StdioPlan = out && err
    ? { stdin: "null", stdout: out[1], stderr: err[1] }
    : { stdin: "null", stdout: "null", stderr: "null" };
  const init = spawnInit(plan, netns, undefined, userns);
  // Only the container may hold the write ends, so that its exit is our end of file.
  if (out && err) {
    close(out[1]);
    close(err[1]);
  }
  return { init, out: out?.[0], err: err?.[0] };
}

/** The userns remapping of an init, with the cache of remapped layers (a shim argument). */
export function remappedInit(r: UsernsRemap | undefined, cacheDir: string) {
  return r && { remap: r, cacheDir };
}

/**
 * Starts container `id` again for its restart policy, as its `restarts`th restart. Returns
 * the started container and its output pipes, or null when it is not to run (removed,
 * claimed by another start, or its start failed, which is then recorded).
 */
export async function restartContainer(
  store: StateStore,
  id: string,
  restarts: number,
  tty: boolean,
  cacheDir: string,
): Promise<{ started: StartedContainer; io: OutputPipes } | null> {
  const again = await prepareStart(store, id, Deno.pid, { restartCount: restarts, byPolicy: true });
  if (!again) return null;
  // A container: network may have a new PID 1 to join by now.
  let netns: NetnsPlan;
  try {
    netns = netnsPlanFor(store, again.spec);
  } catch (e) {
    recordFailedStart(store, id, (e as Error).message, 125);
    return null;
  }
  const io = launchInit(tty, netns, remappedInit(again.spec.userns, cacheDir));
  try {
    const started = await startContainer(store, again, io.init);
    return { started, io: { out: io.out, err: io.err } };
  } catch (e) {
    const exitCode = e instanceof ContainerStartError ? e.exitCode : 128;
    try {
      recordFailedStart(store, id, (e as Error).message, exitCode);
    } catch {
      // Its state is unusable: `ps -a` shows it dead and `rm -f` removes it.
    }
    return null;
  }
}
