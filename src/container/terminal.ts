/**
 * The caller's terminal and a process it is attached to: the relay of a container's
 * terminal, the signal forwarding and wait that `run` and `exec` share, and the caller's
 * window size. A module of its own so that `exec` loads none of the start-up or log code.
 *
 * @module
 */

import { close, setWindowSize, waitAsync, type WaitResult, writeAll } from "../../ffi/libc.ts";
import type { SignalProxy } from "./signal_proxy.ts";
import { pump, PumpCancel } from "./io.ts";
import type { LogWriter } from "./log_writer.ts";

/** The size of the caller's terminal, if it has one (a shim has none). */
export function callerConsoleSize(): { rows: number; columns: number } | undefined {
  try {
    const { rows, columns } = Deno.consoleSize();
    return rows > 0 && columns > 0 ? { rows, columns } : undefined;
  } catch {
    return undefined;
  }
}

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
  log?: LogWriter | null,
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
    log?.write("stdout", chunk); // a terminal's output is all stdout, as in Docker's log
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
 * Attaches the caller to a running process: its terminal relayed (when it has one), the
 * caller's signals forwarded by `signals` (installed before the process was started), until
 * it exits. Used by `run` and `exec`.
 */
export async function attach(
  proc: { pid: number; ttyMaster?: number },
  interactive: boolean,
  signals: SignalProxy,
  log?: LogWriter | null,
): Promise<WaitResult> {
  signals.forwardTo(proc.pid);
  const terminal = proc.ttyMaster !== undefined
    ? relayTerminal(proc.ttyMaster, interactive, log)
    : undefined;
  try {
    const result = await waitAsync(proc.pid);
    if (terminal) await terminal.done;
    return result;
  } finally {
    terminal?.restore();
  }
}
