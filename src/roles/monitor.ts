/**
 * The `monitor` role: what a detached container's shim (src/roles/shim.ts) becomes once the
 * container runs. The shim execve()s itself into it, so it is the same process (the same pid
 * and start time, the container's parent) but holds none of the start code the shim loaded:
 * it writes the container's output to its log and to attached clients, waits for the exit,
 * records it (removing the container with `--rm`) and applies the restart policy, whose start
 * code it imports only when a restart happens.
 *
 * What it watches comes by argv (monitorArgs) and by the descriptors the shim leaves open
 * across the execve: the output pipes or the terminal's master, and the embedded DNS socket.
 *
 * @module
 */

import {
  close,
  execve,
  ignoreSignal,
  setCloexec,
  setWindowSize,
  SIGNALS,
  waitAsync,
  writeAll,
} from "../../ffi/libc.ts";
import { envList } from "../config/env.ts";
import { attachSocketPath } from "../container/attach_protocol.ts";
import { AttachServer } from "../container/attach_server.ts";
import { recordExit } from "../container/exit.ts";
import { pump } from "../container/io.ts";
import { type LogWriter, openContainerLog } from "../container/log_writer.ts";
import { serveDnsIfAny, startHealthIfAny } from "../container/monitors.ts";
import { ROLE, selfCommand } from "../container/reexec.ts";
import { restartDelayMs, shouldRestart } from "../container/restart_policy.ts";
import { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import type { StartedContainer } from "../container/start.ts";
import type { OutputPipes } from "./launch.ts";

/** A running container as its watcher sees it, and what a restart needs. */
export interface Watched {
  stateDir: string;
  id: string;
  tty: boolean;
  /** The container's PID 1, a child of this process. */
  pid: number;
  /** The read ends of its output pipes (no tty). */
  out?: number;
  err?: number;
  /** The terminal's master side (a tty). */
  ttyMaster?: number;
  /** The embedded DNS server's socket (a user network). */
  dnsSocket?: number;
  /** How many times the restart policy has restarted it. */
  restarts: number;
  /** The userns-remapped root's cache directory, for a restart's init ("" if none). */
  cacheDir: string;
}

const fdWord = (fd: number | undefined) => fd === undefined ? "-" : String(fd);
const wordFd = (w: string) => w === "-" ? undefined : Number(w);

/**
 * The monitor role's arguments for `w`:
 * `STATE_DIR ID tty|notty PID OUT ERR TTY_MASTER DNS RESTARTS CACHE_DIR`, "-" for no descriptor.
 */
export function monitorArgs(w: Watched): string[] {
  return [
    w.stateDir,
    w.id,
    w.tty ? "tty" : "notty",
    String(w.pid),
    fdWord(w.out),
    fdWord(w.err),
    fdWord(w.ttyMaster),
    fdWord(w.dnsSocket),
    String(w.restarts),
    w.cacheDir,
  ];
}

/** The inverse of monitorArgs; throws on arguments it did not make. */
export function parseMonitorArgs(args: readonly string[]): Watched {
  const [stateDir, id, tty, pid, out, err, ttyMaster, dns, restarts, cacheDir] = args;
  const w: Watched = {
    stateDir,
    id,
    tty: tty === "tty",
    pid: Number(pid),
    out: wordFd(out),
    err: wordFd(err),
    ttyMaster: wordFd(ttyMaster),
    dnsSocket: wordFd(dns),
    restarts: Number(restarts),
    cacheDir: cacheDir ?? "",
  };
  const fds = [w.out, w.err, w.ttyMaster, w.dnsSocket].filter((fd) => fd !== undefined);
  if (
    args.length !== 10 || !stateDir || !id || !(tty === "tty" || tty === "notty") ||
    !(w.pid > 0) || !(w.restarts >= 0) || fds.some((fd) => !Number.isInteger(fd) || fd < 0) ||
    (w.tty ? w.ttyMaster === undefined : w.out === undefined || w.err === undefined)
  ) {
    throw new Error(`monitor: bad arguments: ${args.join(" ")}`);
  }
  return w;
}

/** The descriptors a Watched names, which must survive the execve. */
function handedFds(w: Watched): number[] {
  return [w.out, w.err, w.ttyMaster, w.dnsSocket].filter((fd) => fd !== undefined);
}

/**
 * Replaces this process (a shim whose container runs) with the monitor role, same pid. Returns
 * only if the execve failed, with everything as it was but SIGHUP ignored: the caller then
 * watches the container itself.
 */
export function becomeMonitor(w: Watched): Error {
  const fds = handedFds(w);
  // Ignored, not handled: an ignored signal stays ignored across execve, so a hang-up in the
  // exec gap cannot kill the container's watcher.
  ignoreSignal(SIGNALS.SIGHUP);
  try {
    for (const fd of fds) setCloexec(fd, false);
    const self = selfCommand(ROLE.monitor, monitorArgs(w));
    // The same environment: DENO_V8_FLAGS must match the one Deno's code cache was made with.
    execve(self.path, self.args, envList(Deno.env.toObject()));
  } catch (e) {
    for (const fd of fds) {
      try {
        setCloexec(fd, true);
      } catch { /* best effort: the descriptor is ours either way */ }
    }
    return e as Error;
  }
}

/**
 * Watches a started container until it is not to run any more: pumps its output into its
 * log and to attached clients, records each exit, restarts it as its policy says (importing
 * the start code then), and exits this process.
 */
export async function watchContainer(
  w: Watched,
  store: StateStore,
  state: ContainerState,
  log: LogWriter | null,
): Promise<never> {
  let started: StartedContainer = { pid: w.pid, ttyMaster: w.ttyMaster, dnsSocket: w.dnsSocket };
  let io: OutputPipes = { out: w.out, err: w.err };
  const attach = new AttachServer(attachSocketPath(w.stateDir, w.id), {
    input: (bytes) => {
      if (started.ttyMaster !== undefined) writeAll(started.ttyMaster, bytes.slice());
    },
    resize: (rows, columns) => {
      if (started.ttyMaster !== undefined) setWindowSize(started.ttyMaster, rows, columns);
    },
  });
  let restarts = w.restarts;
  for (;;) {
    const pumps = pumpOutput(log, attach, started.ttyMaster, io);
    const current = store.read(w.id) ?? state;
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
    const recorded = recordExit(store, w.id, result);
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
    const { restartContainer } = await import("./launch.ts");
    const again = await restartContainer(store, w.id, restarts, w.tty, w.cacheDir);
    if (!again) break;
    started = again.started;
    io = again.io;
  }
  await log?.close(); // what non-blocking mode holds, and a compression under way
  await attach.close();
  Deno.exit(0);
}

/**
 * Pumps the container's output into its log, and to attached clients, until the
 * container's side closes.
 */
function pumpOutput(
  log: LogWriter | null,
  attach: AttachServer,
  ttyMaster: number | undefined,
  io: OutputPipes,
): Promise<void[]> {
  const to = (stream: "stdout" | "stderr") => (c: Uint8Array) => {
    log?.write(stream, c);
    attach.broadcast(c);
  };
  if (ttyMaster !== undefined) return Promise.all([pump(ttyMaster, to("stdout"))]);
  return Promise.all([
    pump(io.out!, to("stdout")).finally(() => close(io.out!)),
    pump(io.err!, to("stderr")).finally(() => close(io.err!)),
  ]);
}

/** Entry point of the monitor role (arguments: monitorArgs). */
export async function runMonitor(args: string[]): Promise<never> {
  const w = parseMonitorArgs(args);
  // Inherited ignored from the shim; a listener keeps it so and lets children have the default.
  Deno.addSignalListener("SIGHUP", () => {});
  Deno.chdir("/"); // never keep the caller's working directory busy
  const store = new StateStore(w.stateDir);
  const state = store.read(w.id);
  // Removed in the exec gap (`rm -f` kills it): nothing is left to record.
  if (!state) Deno.exit(0);
  // The shim opened (made) it before `run -d` returned; appending again continues the same log.
  // Gone means `rm -f` removed the container in the exec gap: then it is not made again, and
  // the watch only sees the exit (which finds nothing to record).
  let log: LogWriter | null = null;
  try {
    log = openContainerLog(state, { existing: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return await watchContainer(w, store, state, log);
}
