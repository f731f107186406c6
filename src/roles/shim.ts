/**
 * The `shim` role: one detached process per `-d` container (seeds 000 and 003). It runs in
 * its own session with no terminal, ignores SIGHUP, starts the container, tells the CLI
 * over fd 3 whether that worked, then writes the container's output to its log, waits for
 * it to exit, records the exit code, and removes it if it was started with `--rm`.
 *
 * @module
 */

import { close, pipe, waitAsync, writeAll } from "../../ffi/libc.ts";
import { removeContainerFiles } from "../container/create.ts";
import { recordExit } from "../container/exit.ts";
import { pump } from "../container/io.ts";
import { JsonLogWriter } from "../container/logs.ts";
import { ContainerStartError, startContainer, type StdioPlan } from "../container/start.ts";
import { StateStore } from "../state/store.ts";

/** The descriptor on which the shim reports the start to the CLI. */
export const SHIM_REPORT_FD = 3;

/** What the shim tells the CLI: `{ok: true}` or the start error. */
export type ShimReport = { ok: true } | { ok: false; error: string; exitCode: number };

function report(r: ShimReport): void {
  try {
    writeAll(SHIM_REPORT_FD, new TextEncoder().encode(JSON.stringify(r) + "\n"));
  } catch {
    // The CLI is gone; the container's state tells the story.
  }
  close(SHIM_REPORT_FD);
}

/** Entry point of the shim role: `shim STATE_DIR CONTAINER_ID`. */
export async function runShim(args: string[]): Promise<never> {
  const [stateDir, id] = args;
  Deno.addSignalListener("SIGHUP", () => {});
  Deno.chdir("/"); // never keep the caller's working directory busy
  const store = new StateStore(stateDir);
  const state = store.read(id);
  if (!state) {
    report({ ok: false, error: `No such container: ${id}`, exitCode: 125 });
    Deno.exit(125);
  }
  const tty = state.spec.tty;
  const out = tty ? undefined : pipe();
  const err = tty ? undefined : pipe();
  const plan: StdioPlan = out && err
    ? { stdin: "null", stdout: out[1], stderr: err[1] }
    : { stdin: "null", stdout: "null", stderr: "null" };
  let started;
  try {
    started = startContainer(store, state, plan);
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
  if (out && err) {
    close(out[1]);
    close(err[1]);
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
