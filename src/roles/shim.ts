/**
 * The `shim` role: one detached process per `-d` container (seeds 000 and 003). It runs in
 * its own session with no terminal and ignores SIGHUP. It spawns init at once, so that
 * both boot while the CLI creates the container, then receives the container's ID over
 * fd 3, starts it, and reports back. Afterwards it writes the container's output to its
 * log, waits for it to exit, records the exit code, and removes it if it has `--rm`.
 *
 * @module
 */

import { close, pipe, read, waitAsync, writeAll } from "../../ffi/libc.ts";
import { removeContainerFiles } from "../container/create.ts";
import { recordExit } from "../container/exit.ts";
import { pump } from "../container/io.ts";
import { JsonLogWriter } from "../container/logs.ts";
import {
  abandonInit,
  ContainerStartError,
  spawnInit,
  startContainer,
  type StartedContainer,
  type StdioPlan,
} from "../container/start.ts";
import { StateStore } from "../state/store.ts";

/** The descriptor of the shim's socket to the CLI. */
export const SHIM_SOCKET_FD = 3;

/** What the shim tells the CLI: `{ok: true}` or the start error. */
export type ShimReport = { ok: true } | { ok: false; error: string; exitCode: number };

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

/** Entry point of the shim role: `shim STATE_DIR tty|notty`. */
export async function runShim(args: string[]): Promise<never> {
  const [stateDir, ttyArg] = args;
  Deno.addSignalListener("SIGHUP", () => {});
  Deno.chdir("/"); // never keep the caller's working directory busy
  const tty = ttyArg === "tty";
  const out = tty ? undefined : pipe();
  const err = tty ? undefined : pipe();
  const plan: StdioPlan = out && err
    ? { stdin: "null", stdout: out[1], stderr: err[1] }
    : { stdin: "null", stdout: "null", stderr: "null" };
  const init = spawnInit(plan);
  // Only the container may hold the write ends, so that its exit is our end of file.
  if (out && err) {
    close(out[1]);
    close(err[1]);
  }
  const id = receiveId();
  const store = new StateStore(stateDir);
  const state = id ? store.read(id) : null;
  if (!id || !state) {
    abandonInit(init);
    Deno.exit(0);
  }
  let started: StartedContainer;
  try {
    started = await startContainer(store, state, init);
  } catch (e) {
    const exitCode = e instanceof ContainerStartError ? e.exitCode : 125;
    try {
      store.withLock(id, () => removeContainerFiles(store, store.read(id) ?? state));
    } catch {
      // rm -f can still clean up; the error below is what the user needs.
    }
    report({ ok: false, error: (e as Error).message, exitCode });
    Deno.exit(exitCode);
  }
  report({ ok: true });
  const log = new JsonLogWriter(state.logPath);
  const pumps = started.ttyMaster !== undefined
    ? [pump(started.ttyMaster, (c) => log.write("stdout", c))]
    : [pump(out![0], (c) => log.write("stdout", c)), pump(err![0], (c) => log.write("stderr", c))];
  const result = await waitAsync(started.pid);
  await Promise.all(pumps);
  log.close();
  recordExit(store, id, result);
  Deno.exit(0);
}
