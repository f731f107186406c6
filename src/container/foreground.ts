/**
 * `run` without `-d`: the CLI itself is the container's monitor. It passes its own stdio
 * to the container (or relays a terminal), forwards signals, waits, and records the exit.
 *
 * @module
 */

import { close, setWindowSize, waitAsync, type WaitResult, writeAll } from "../../ffi/libc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { recordExit, recordFailedStart } from "./exit.ts";
import { serveEmbeddedDns } from "./dns_server.ts";
import type { SignalProxy } from "./signal_proxy.ts";
import { pump, PumpCancel } from "./io.ts";
import { HealthMonitor } from "./health.ts";
import { ContainerStartError, type InitProcess, startContainer, type StdioPlan } from "./start.ts";

/**
 * Relays the caller's terminal to the container's, raw, until the container's side closes.
 * Owns `master` from here on: it is closed when the relay ends.
 *
 * The caller's terminal may go away first (a closed window, a dropped ssh session: the
 * CLI gets SIGHUP and then EIO on every read and write). The relay then stops using it.
 * With `-i` the container's terminal is hung up in turn (its master closed), as Docker
 * closes an attached container's stdin, so an interactive shell ends; without `-i` the
 * relay keeps draining the container's output until it exits, so that it never blocks on
 * a full terminal. Either way the CLI goes on supervising the container.
 */
function relayTerminal(
  master: number,
  interactive: boolean,
): { done: Promise<void>; restore: () => void } {
  const isTerminal = Deno.stdin.isTerminal();
  let callerGone = false;
  const cancel = new PumpCancel();
  if (isTerminal && interactive) Deno.stdin.setRaw(true);
  const resize = () => {
    try {
      const { rows, columns } = Deno.consoleSize();
      setWindowSize(master, rows, columns);
    } catch {
      // Not a terminal: the container keeps the default size.
    }
  };
  resize();
  Deno.addSignalListener("SIGWINCH", resize);
  if (interactive) {
    (async () => {
      const buf = new Uint8Array(4096);
      for (;;) {
        let n: number | null;
        try {
          n = await Deno.stdin.read(buf);
        } catch {
          n = null; // EIO: the terminal hung up
        }
        if (n === null) {
          callerGone = true;
          cancel.cancel();
          return;
        }
        try {
          writeAll(master, buf.slice(0, n));
        } catch {
          return;
        }
      }
    })();
  }
  const done = pump(master, (chunk) => {
    if (callerGone) return;
    try {
      for (let off = 0; off < chunk.length;) off += Deno.stdout.writeSync(chunk.subarray(off));
    } catch {
      callerGone = true;
    }
  }, cancel).finally(() => {
    close(master);
    cancel.close();
  });
  return {
    done,
    restore: () => {
      Deno.removeSignalListener("SIGWINCH", resize);
      if (isTerminal && interactive && !callerGone) {
        try {
          Deno.stdin.setRaw(false);
        } catch {
          // The terminal went away meanwhile: there is nothing left to restore.
        }
      }
    },
  };
}

/**
 * Where a foreground container's stdio comes from: the caller's own, with stdin only when
 * `-i` is given. With a tty, init replaces them with the terminal.
 */
export function foregroundStdio(opts: { tty: boolean; interactive: boolean }): StdioPlan {
  return opts.tty
    ? { stdin: "null", stdout: "null", stderr: "inherit" }
    : { stdin: opts.interactive ? "inherit" : "null", stdout: "inherit", stderr: "inherit" };
}

/**
 * Attaches the caller to a running process: its terminal relayed (when it has one), the
 * caller's signals forwarded by `signals` (installed before the process was started), until
 * it exits. Used by `run` and `exec`.
 */
export async function attach(
  proc: { pid: number; ttyMaster?: number },
  interactive: boolean,
  signals: SignalProxy,
): Promise<WaitResult> {
  signals.forwardTo(proc.pid);
  const terminal = proc.ttyMaster !== undefined
    ? relayTerminal(proc.ttyMaster, interactive)
    : undefined;
  try {
    const result = await waitAsync(proc.pid);
    if (terminal) await terminal.done;
    return result;
  } finally {
    terminal?.restore();
  }
}

/**
 * Starts a created container attached to the caller (with an init spawned with
 * `foregroundStdio`) and waits for it. Returns the exit code the CLI should exit with.
 */
export async function runForeground(
  store: StateStore,
  state: ContainerState,
  init: InitProcess,
  signals: SignalProxy,
): Promise<number> {
  let started;
  try {
    started = await startContainer(store, state, init);
  } catch (e) {
    // Kept as exited with the error (`start -a`); `run` removes it, as it never ran.
    const code = e instanceof ContainerStartError ? e.exitCode : 125;
    recordFailedStart(store, state.id, (e as Error).message, code);
    throw e;
  }
  const dns = serveEmbeddedDns(started, state);
  // Docker's daemon checks foreground containers too; here their monitor is this CLI.
  const health = HealthMonitor.start(store, state);
  const result = await attach(started, state.spec.interactive, signals);
  await health?.stop();
  await dns?.stop();
  const recorded = recordExit(store, state.id, result);
  return recorded?.exitCode ?? result.exitCode;
}
