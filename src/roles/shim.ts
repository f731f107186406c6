/**
 * The `shim` role: one detached process per `-d` container (seeds 000 and 003). It runs in
 * its own session with no terminal and ignores SIGHUP. It spawns init at once, so that
 * both boot while the CLI creates the container, then receives the container's ID over
 * fd 3, starts it, and reports back. Afterwards it writes the container's output to its
 * log, waits for it to exit, records the exit code, and removes it if it has `--rm`.
 *
 * @module
 */

import { close, pipe, read, setWindowSize, waitAsync, writeAll } from "../../ffi/libc.ts";
import { attachSocketPath } from "../container/attach_protocol.ts";
import { AttachServer } from "../container/attach_server.ts";
import { recordExit, recordFailedStart } from "../container/exit.ts";
import { netnsPlanFor } from "../container/network_spec.ts";
import { type NetnsPlan, parseNetnsPlan } from "../config/init.ts";
import { parseUsernsWord, type UsernsRemap } from "../config/userns.ts";
import { pump } from "../container/io.ts";
import type { ShimReport } from "../container/detach.ts";
import { type LogWriter, openContainerLog } from "../container/log_writer.ts";
import {
  abandonInit,
  ContainerStartError,
  type RemappedInit,
  spawnInit,
  startContainer,
  type StartedContainer,
  type StdioPlan,
} from "../container/start.ts";
import { StateStore } from "../state/store.ts";
import { restartDelayMs, shouldRestart } from "../container/restart_policy.ts";
import { prepareStart } from "../container/restart.ts";
import { serveDnsIfAny, startHealthIfAny } from "../container/monitors.ts";

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

/** The container ID the CLI sends, or null if it closed the socket (create failed). */
function receiveId(): string | null {
  let text = "";
  const buf = new Uint8Array(512);
  while (!text.includes("\n")) {
    const n = read(SHIM_SOCKET_FD, buf);
    if (n === 0) return null;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return (JSON.parse(text) as { id: string }).id;
}

/** Spawns init with the container's output going to pipes this shim reads (or a tty). */
function launchInit(tty: boolean, netns: NetnsPlan, userns: RemappedInit | undefined) {
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

/**
 * Pumps the container's output into its log, and to attached clients, until the
 * container's side closes.
 */
function pumpOutput(
  log: LogWriter | null,
  attach: AttachServer,
  started: StartedContainer,
  io: { out?: number; err?: number },
): Promise<void[]> {
  const to = (stream: "stdout" | "stderr") => (c: Uint8Array) => {
    log?.write(stream, c);
    attach.broadcast(c);
  };
  if (started.ttyMaster !== undefined) return Promise.all([pump(started.ttyMaster, to("stdout"))]);
  return Promise.all([
    pump(io.out!, to("stdout")).finally(() => close(io.out!)),
    pump(io.err!, to("stderr")).finally(() => close(io.err!)),
  ]);
}

/** Entry point of the shim role: `shim STATE_DIR tty|notty NETNS USERNS CACHE_DIR`. */
export async function runShim(args: string[]): Promise<never> {
  const [stateDir, ttyArg, netnsArg, usernsArg, cacheDir] = args;
  const remapped = (r: UsernsRemap | undefined) => r && { remap: r, cacheDir };
  Deno.addSignalListener("SIGHUP", () => {});
  Deno.chdir("/"); // never keep the caller's working directory busy
  const tty = ttyArg === "tty";
  let io = launchInit(tty, parseNetnsPlan(netnsArg), remapped(parseUsernsWord(usernsArg)));
  const id = receiveId();
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
  const attach = new AttachServer(attachSocketPath(stateDir, id), {
    input: (bytes) => {
      if (started.ttyMaster !== undefined) writeAll(started.ttyMaster, bytes.slice());
    },
    resize: (rows, columns) => {
      if (started.ttyMaster !== undefined) setWindowSize(started.ttyMaster, rows, columns);
    },
  });
  let restarts = state.restartCount ?? 0;
  for (;;) {
    const pumps = pumpOutput(log, attach, started, io);
    const current = store.read(id) ?? state;
    const dns = await serveDnsIfAny(started, current);
    const health = await startHealthIfAny(store, current);
    const result = await waitAsync(started.pid);
    await health?.stop();
    await dns?.stop();
    await pumps;
    // Before the exit is recorded, so that `logs` after `wait` has all of it.
    await log?.flush();
    await attach.disconnectAll();
    if (started.ttyMaster !== undefined) close(started.ttyMaster);
    const recorded = recordExit(store, id, result);
    if (
      !recorded ||
      !shouldRestart(
        recorded.spec.restart,
        result.exitCode,
        restarts,
        recorded.stopRequested ?? false,
      )
    ) break;
    await new Promise((r) => setTimeout(r, restartDelayMs(restarts)));
    restarts++;
    const again = prepareStart(store, id, Deno.pid, { restartCount: restarts, byPolicy: true });
    if (!again) break;
    // A container: network may have a new PID 1 to join by now.
    let netns: NetnsPlan;
    try {
      netns = netnsPlanFor(store, again.spec);
    } catch (e) {
      recordFailedStart(store, id, (e as Error).message, 125);
      break;
    }
    io = launchInit(tty, netns, remapped(again.spec.userns));
    try {
      started = await startContainer(store, again, io.init);
    } catch (e) {
      const exitCode = e instanceof ContainerStartError ? e.exitCode : 128;
      try {
        recordFailedStart(store, id, (e as Error).message, exitCode);
      } catch {
        // Its state is unusable: `ps -a` shows it dead and `rm -f` removes it.
      }
      break;
    }
  }
  await log?.close(); // what non-blocking mode holds, and a compression under way
  await attach.close();
  Deno.exit(0);
}
