/**
 * `attach`: connects the caller's terminal to a detached container through its shim (its
 * monitor once it runs). The
 * detach keys (ctrl-p ctrl-q by default) leave it running.
 *
 * @module
 */

import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import {
  attachSocketPath,
  DetachWatcher,
  encodeFrame,
  encodeResize,
  FRAME,
} from "./attach_protocol.ts";
import { hasMonitor, isRunning, reconcile } from "./reconcile.ts";
import { waitForExit } from "./signal.ts";

/** How an attach session ended. */
export type AttachOutcome = { detached: true } | { detached: false; exitCode: number };

/** How long a running monitor may take to listen: a shim becoming it (an execve) takes ~0.1 s. */
const MONITOR_LISTEN_TIMEOUT_MS = 5_000;

/**
 * Connects to the attach socket of `state`'s monitor. Right after `run -d` the shim may still
 * be turning into the monitor (src/roles/monitor.ts), which listens only once it has started:
 * while that process is alive, a missing socket is waited for, with a deadline.
 */
async function connectToMonitor(store: StateStore, state: ContainerState): Promise<Deno.UnixConn> {
  const path = attachSocketPath(store.dir, state.id);
  const deadline = Date.now() + MONITOR_LISTEN_TIMEOUT_MS;
  for (;;) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch {
      if (!hasMonitor(state) || Date.now() > deadline) {
        throw new ExitCodeError(
          `container ${state.id} cannot be attached to: its shim is gone`,
          125,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Attaches to `state`'s shim until the container exits or the user detaches. */
export async function attachToContainer(
  store: StateStore,
  state: ContainerState,
  opts: { detachKeys: Uint8Array; stdin: boolean },
): Promise<AttachOutcome> {
  const current = await reconcile(store, state);
  if (!current || !isRunning(current)) {
    throw new ExitCodeError("You cannot attach to a stopped container, start it first", 125);
  }
  const conn = await connectToMonitor(store, current);
  const raw = state.spec.tty && opts.stdin && Deno.stdin.isTerminal();
  if (raw) Deno.stdin.setRaw(true);
  const resize = () => {
    try {
      const { rows, columns } = Deno.consoleSize();
      conn.write(encodeResize(rows, columns)).catch(() => {});
    } catch {
      // Not a terminal.
    }
  };
  if (state.spec.tty) {
    resize();
    Deno.addSignalListener("SIGWINCH", resize);
  }
  let detached = false;
  const input = (async () => {
    if (!opts.stdin) return;
    const watcher = new DetachWatcher(opts.detachKeys);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return;
      const { pass, detach } = watcher.scan(buf.subarray(0, n));
      if (pass.length > 0) await conn.write(encodeFrame(FRAME.input, pass));
      if (detach) {
        detached = true;
        conn.close();
        return;
      }
    }
  })().catch(() => {});
  try {
    for await (const chunk of conn.readable) {
      for (let off = 0; off < chunk.length;) off += Deno.stdout.writeSync(chunk.subarray(off));
    }
  } catch {
    // Closed by detaching.
  } finally {
    if (raw) Deno.stdin.setRaw(false);
    if (state.spec.tty) Deno.removeSignalListener("SIGWINCH", resize);
  }
  if (detached) return { detached: true };
  void input;
  // The shim closed the session: the container exited; report its code once recorded.
  await waitForExit(store, state.id, 10_000);
  return { detached: false, exitCode: store.read(state.id)?.exitCode ?? 0 };
}
