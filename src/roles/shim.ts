/**
 * The `shim` role: one detached process per `-d` container (seeds 000 and 003). It runs in
 * its own session with no terminal and ignores SIGHUP. It is spawned early, so that it boots
 * while the CLI creates the container; over fd 3 it receives how to launch (and spawns init,
 * if the container needs one), then the container's ID, starts it, opens its log and reports back. Then it has no more use for the start
 * code it holds (rootfs, namespaces, cgroups, seccomp: megabytes of a process that lives as
 * long as the container), so it execve()s itself into the monitor role (src/roles/monitor.ts),
 * keeping its pid (the container stays its child; `monitorPid` and `monitorStartTime` stay
 * true) and handing over the output pipes or terminal and the DNS socket. The monitor writes
 * the container's output to its log, waits for it to exit, records the exit code, removes
 * it if it has `--rm`, and restarts it as its policy says. Output written in the exec gap
 * waits in the pipe. Should the execve fail, the shim watches the container itself, the same
 * way (watchContainer).
 *
 * @module
 */

import { close, read, writeAll } from "../../ffi/libc.ts";
import { recordFailedStart } from "../container/exit.ts";
import { parseNetnsPlan } from "../config/init.ts";
import { parseUsernsWord } from "../config/userns.ts";
import type { ShimLaunch, ShimReport } from "../container/detach.ts";
import { openContainerLog } from "../container/log_writer.ts";
import {
  abandonInit,
  ContainerStartError,
  startContainer,
  type StartedContainer,
} from "../container/start.ts";
import { StateStore } from "../state/store.ts";
import { launchInit, remappedInit } from "./launch.ts";
import { becomeMonitor, watchContainer, type Watched } from "./monitor.ts";

/** The descriptor of the shim's socket to the CLI. */
export const SHIM_SOCKET_FD = 3;

function report(r: ShimReport): void {
  try {
    writeAll(SHIM_SOCKET_FD, new TextEncoder().encode(JSON.stringify(r) + "\n"));
  } catch {
    // The CLI is gone; the container's state tells the story.
  }
  close(SHIM_SOCKET_FD);
}

/**
 * The CLI's next message on the socket, one JSON line, or null if it closed it (a prespawned
 * shim not taken, a failed create). `pending` keeps what a read brought beyond the line.
 */
function receiveLine<T>(pending: { text: string }): T | null {
  const buf = new Uint8Array(512);
  while (!pending.text.includes("\n")) {
    const n = read(SHIM_SOCKET_FD, buf);
    if (n === 0) return null;
    pending.text += new TextDecoder().decode(buf.subarray(0, n));
  }
  const end = pending.text.indexOf("\n");
  const line = pending.text.slice(0, end);
  pending.text = pending.text.slice(end + 1);
  return JSON.parse(line) as T;
}

/**
 * Entry point of the shim role: `shim STATE_DIR`. On fd 3 the CLI sends how to launch (a
 * `ShimLaunch` line; a `run -d` shim is spawned before its flags are even parsed), then the
 * container's ID (`{"id": ...}`).
 */
export async function runShim(args: string[]): Promise<never> {
  const [stateDir] = args;
  Deno.addSignalListener("SIGHUP", () => {});
  Deno.chdir("/"); // never keep the caller's working directory busy
  const pending = { text: "" };
  const launch = receiveLine<ShimLaunch>(pending);
  if (!launch) Deno.exit(0); // spawned ahead for a `run -d` that did not come
  const { tty, cacheDir } = launch;
  const io = launchInit(
    tty,
    parseNetnsPlan(launch.netns),
    remappedInit(parseUsernsWord(launch.userns), cacheDir),
  );
  const id = receiveLine<{ id: string }>(pending)?.id ?? null;
  const store = new StateStore(stateDir);
  const state = id ? store.read(id) : null;
  if (!id || !state) {
    abandonInit(io.init);
    Deno.exit(0);
  }
  let started: StartedContainer;
  try {
    started = await startContainer(store, state, io.init);
  } catch (e) {
    const exitCode = e instanceof ContainerStartError ? e.exitCode : 125;
    // The container stays, exited with the error: `run -d` removes a container whose first
    // start failed; `start` keeps the user's container (its rw layer, its log).
    try {
      recordFailedStart(store, id, (e as Error).message, exitCode);
    } catch {
      // Its state is unusable: `ps -a` shows it dead and `rm -f` removes it.
    }
    report({ ok: false, error: (e as Error).message, exitCode });
    Deno.exit(exitCode);
  }
  // Opened before `run -d` returns, so that `logs` right after it finds the file (none with
  // `--log-driver none`).
  const log = openContainerLog(state);
  report({ ok: true });
  const watched: Watched = {
    stateDir,
    id,
    tty,
    pid: started.pid,
    out: io.out,
    err: io.err,
    ttyMaster: started.ttyMaster,
    dnsSocket: started.dnsSocket,
    restarts: state.restartCount ?? 0,
    cacheDir: cacheDir ?? "",
  };
  // Returns only if the execve failed: then this process goes on as the monitor would.
  becomeMonitor(watched);
  return await watchContainer(watched, store, state, log);
}
