/**
 * `run` without `-d`: the CLI itself is the container's monitor. It relays the container's
 * output to its own stdout and stderr and to the container's log (as Docker keeps a log of
 * every container), or relays a terminal, forwards signals, waits, and records the exit.
 *
 * @module
 */

import { close, pipe, waitWritableSync } from "../../ffi/libc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { recordExit, recordFailedStart } from "./exit.ts";
import type { SignalProxy } from "./signal_proxy.ts";
import { pump, PumpCancel } from "./io.ts";
import { attach } from "./terminal.ts";
import { serveDnsIfAny, startHealthIfAny } from "./monitors.ts";
import { type LogWriter, openContainerLog } from "./log_writer.ts";
import {
  abandonInit,
  ContainerStartError,
  type InitProcess,
  startContainer,
  type StdioPlan,
} from "./start.ts";

/**
 * Where a foreground container's stdio comes from and goes to: stdin is the caller's own
 * when `-i` is given; stdout and stderr are pipes that `runForeground` relays to the
 * caller's and writes to the log, or, with `--log-driver none`, the caller's own. With a tty
 * init replaces them with the terminal (its stderr is kept for init's own errors).
 */
export class ForegroundStdio {
  /** What init is spawned with. */
  readonly plan: StdioPlan;
  #out?: [number, number];
  #err?: [number, number];

  constructor(opts: { tty: boolean; interactive: boolean; logged: boolean }) {
    if (opts.tty) {
      this.plan = { stdin: "null", stdout: "null", stderr: "inherit" };
      return;
    }
    const stdin = opts.interactive ? "inherit" : "null";
    if (!opts.logged) {
      this.plan = { stdin, stdout: "inherit", stderr: "inherit" };
      return;
    }
    this.#out = pipe();
    this.#err = pipe();
    this.plan = { stdin, stdout: this.#out[1], stderr: this.#err[1] };
  }

  /** After init is spawned: only the container may hold the write ends (its exit is EOF). */
  spawned(): void {
    for (const p of [this.#out, this.#err]) {
      if (p && p[1] >= 0) {
        close(p[1]);
        p[1] = -1;
      }
    }
  }

  /** Closes what is left, when the container will not run (create failed). */
  close(): void {
    this.spawned();
    for (const p of [this.#out, this.#err]) if (p && p[0] >= 0) close(p[0]);
    this.#out = this.#err = undefined;
  }

  /**
   * Relays the container's output to the caller's stdout and stderr and to `log`, until the
   * container's side closes. If the caller's side is closed (`run ... | head -1`), the pipe
   * is closed too, so that the container sees it closed, as it did writing there itself.
   */
  relay(log: LogWriter | null): Promise<void> {
    const pipes = [
      [this.#out, Deno.stdout, "stdout", 1],
      [this.#err, Deno.stderr, "stderr", 2],
    ] as const;
    const done = pipes.map(([p, to, stream, toFd]) => {
      if (!p) return Promise.resolve();
      const fd = p[0];
      p[0] = -1;
      const cancel = new PumpCancel();
      let callerGone = false;
      return pump(fd, (chunk) => {
        log?.write(stream, chunk);
        if (callerGone) return;
        for (let off = 0; off < chunk.length;) {
          try {
            off += to.writeSync(chunk.subarray(off));
          } catch (e) {
            if (e instanceof Deno.errors.WouldBlock) {
              waitWritableSync(toFd);
              continue;
            }
            callerGone = true; // EPIPE, EIO: the caller's side is gone
            cancel.cancel();
            return;
          }
        }
      }, cancel).finally(() => {
        close(fd);
        cancel.close();
      });
    });
    this.#out = this.#err = undefined;
    return Promise.all(done).then(() => {});
  }
}

/**
 * Starts a created container attached to the caller (with an init spawned with `stdio`'s
 * plan) and waits for it, writing its log. Returns the exit code the CLI should exit with.
 */
export async function runForeground(
  store: StateStore,
  state: ContainerState,
  init: InitProcess,
  signals: SignalProxy,
  stdio: ForegroundStdio,
): Promise<number> {
  // Opened and relayed before the start, so that init's own complaints reach the caller.
  let log: LogWriter | null;
  try {
    log = openContainerLog(state);
  } catch (e) {
    stdio.close();
    abandonInit(init);
    throw new Error(`failed to initialize logging driver: ${(e as Error).message}`);
  }
  const relayed = stdio.relay(log);
  let started;
  try {
    started = await startContainer(store, state, init);
  } catch (e) {
    // Kept as exited with the error (`start -a`); `run` removes it, as it never ran.
    await relayed; // init is gone: its pipes are at their end
    await log?.close();
    const code = e instanceof ContainerStartError ? e.exitCode : 125;
    recordFailedStart(store, state.id, (e as Error).message, code);
    throw e;
  }
  const dns = await serveDnsIfAny(started, state);
  // Docker's daemon checks foreground containers too; here their monitor is this CLI.
  const health = await startHealthIfAny(store, state);
  const result = await attach(started, state.spec.interactive, signals, log);
  await health?.stop();
  await relayed;
  await log?.close();
  if (log?.failure) {
    console.error(`m-docker: the container's log is incomplete: ${log.failure.message}`);
  }
  await dns?.stop();
  const recorded = recordExit(store, state.id, result);
  return recorded?.exitCode ?? result.exitCode;
}
