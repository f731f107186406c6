/**
 * Running a container's healthcheck, as Docker's daemon does (moby daemon/health.go), from
 * the process that monitors the container: the shim of a detached container, or the CLI of
 * a foreground one (Docker's daemon checks both kinds).
 *
 * Each probe is an `exec` into the container, but not from this process: `exec` leaves the
 * calling thread with the container's bounding set and seccomp filter for good (see
 * exec.ts), and a monitor must keep working as itself. So each probe is a short-lived
 * re-exec of m-docker in the `health` role (src/roles/health.ts), which execs the check,
 * tells us its pid on a report pipe once it runs, and its exit code when it ends. The
 * check's stdout and stderr come here on one pipe, kept up to 4096 bytes as Docker keeps
 * them. The timeout runs from the moment the check runs (Docker's, too, leaves out the time
 * the exec takes to start); when it expires this process kills the check itself.
 *
 * @module
 */

import { recordContainerEvent } from "../state/events.ts";
import { close, kill, O, pipe, spawn, waitAsync } from "../../ffi/libc.ts";
import { envList } from "../config/env.ts";
import {
  applyProbeResult,
  type HealthStatus,
  MAX_PROBE_OUTPUT,
  nextProbeDelay,
  probeCommand,
  type ProbeResult,
  type ProbeTimings,
  probeTimings,
} from "../config/health.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { formatGoDuration } from "../util/duration.ts";
import { debug } from "../util/debug.ts";
import { pump, PumpCancel } from "./io.ts";
import { ROLE, selfCommand } from "./reexec.ts";

/** What the health role reports, one JSON line each: the check's pid, then its end. */
export type ProbeReport = { pid: number } | { exitCode: number } | { error: string };

/** The descriptor the health role writes its reports to. */
export const PROBE_REPORT_FD = 3;

/** How long the role may take to start the check (Docker's limit on starting an exec). */
const EXEC_START_TIMEOUT_MS = 30_000;

/**
 * Where the `health_status` event of issue 11's events journal is recorded: called once per
 * change of a running container's health, with the new status. Docker's event is the
 * container's `health_status: healthy` (or `unhealthy`, `starting`).
 */
export function recordHealthStatusEvent(
  store: StateStore,
  state: ContainerState,
  status: HealthStatus,
): void {
  // Docker's action names the new status: `container health_status: healthy ID (...)`.
  recordContainerEvent(store.dir, state, `health_status: ${status}`);
}

/** Output kept up to `MAX_PROBE_OUTPUT` bytes, with "..." when more was discarded. */
class LimitedBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #truncated = false;

  write(chunk: Uint8Array): void {
    const keep = Math.min(MAX_PROBE_OUTPUT - this.#size, chunk.length);
    if (keep > 0) {
      this.#chunks.push(chunk.subarray(0, keep));
      this.#size += keep;
    }
    if (keep < chunk.length) this.#truncated = true;
  }

  toString(): string {
    const all = new Uint8Array(this.#size);
    let off = 0;
    for (const c of this.#chunks) {
      all.set(c, off);
      off += c.length;
    }
    // Invalid UTF-8 becomes U+FFFD, as Go's JSON encoder writes it.
    return new TextDecoder().decode(all) + (this.#truncated ? "..." : "");
  }
}

/** A promise with its resolver, and whether it has been settled. */
function signal<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Runs one probe of `argv` in the running container `state`, recorded in `stateDir`, and
 * returns its result. Never throws: what goes wrong is a result with exit code -1, as
 * Docker's.
 */
export async function runProbe(
  stateDir: string,
  state: ContainerState,
  argv: string[],
  timeoutMs: number,
): Promise<ProbeResult> {
  const start = new Date().toISOString();
  const done = (exitCode: number, output: string): ProbeResult => ({
    start,
    end: new Date().toISOString(),
    exitCode,
    output,
  });
  let out: [number, number] | undefined, rep: [number, number] | undefined;
  let pid: number;
  try {
    out = pipe();
    rep = pipe();
    const self = selfCommand(ROLE.health, [stateDir, state.id, JSON.stringify(argv)]);
    pid = spawn({
      path: self.path,
      args: self.args,
      env: envList(Deno.env.toObject()),
      // Its own session: a terminal's ^C to a foreground `run` is not the probe's.
      newSession: true,
      fds: [
        { kind: "open", fd: 0, path: "/dev/null", flags: O.RDONLY },
        { kind: "dup", from: out[1], to: 1 },
        { kind: "dup", from: out[1], to: 2 },
        { kind: "dup", from: rep[1], to: PROBE_REPORT_FD },
      ],
    });
  } catch (e) {
    for (const fd of [...out ?? [], ...rep ?? []]) close(fd);
    return done(-1, (e as Error).message);
  }
  // Only the role (and the check) may hold the write ends: their exit is our end of file.
  close(out[1]);
  close(rep[1]);

  const output = new LimitedBuffer();
  const cancelOutput = new PumpCancel();
  const outputDone = pump(out[0], (c) => output.write(c), cancelOutput);
  let report = "";
  let checkPid: number | undefined;
  let ended: ProbeReport | undefined;
  const started = signal<void>();
  const finished = signal<void>();
  const reportsDone = pump(rep[0], (c) => {
    report += new TextDecoder().decode(c);
    for (let nl = report.indexOf("\n"); nl >= 0; nl = report.indexOf("\n")) {
      const line = report.slice(0, nl);
      report = report.slice(nl + 1);
      try {
        const r = JSON.parse(line) as ProbeReport;
        if ("pid" in r) {
          checkPid = r.pid;
          started.resolve();
        } else {
          ended = r;
          started.resolve();
          finished.resolve();
        }
      } catch { /* not a report */ }
    }
  }).then(() => {
    started.resolve();
    finished.resolve();
  });
  const roleExited = waitAsync(pid);

  let timedOut = false, startTimedOut = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const expire = (ms: number) =>
    new Promise<"timeout">((r) => timers.push(setTimeout(r, ms, "timeout")));
  try {
    if (await Promise.race([started.promise, expire(EXEC_START_TIMEOUT_MS)]) === "timeout") {
      startTimedOut = true;
      kill(pid, 9);
    } else if (
      await Promise.race([
        Promise.all([finished.promise, outputDone]),
        expire(timeoutMs),
      ]) === "timeout"
    ) {
      timedOut = true;
      // Docker kills the exec'd process; what it started, the container keeps, as there.
      if (checkPid !== undefined && ended === undefined) kill(checkPid, 9);
    }
    await roleExited;
    await reportsDone;
    // The check is gone; a process it left behind may still hold the output open.
    cancelOutput.cancel();
    await outputDone;
  } finally {
    for (const t of timers) clearTimeout(t);
    cancelOutput.close();
    close(out[0]);
    close(rep[0]);
  }
  const text = output.toString();
  if (startTimedOut) return done(-1, `timed out starting health check for container ${state.id}`);
  if (timedOut) {
    const limit = formatGoDuration(timeoutMs * 1e6);
    return done(
      -1,
      text === ""
        ? `Health check exceeded timeout (${limit})`
        : `Health check exceeded timeout (${limit}): ${text}`,
    );
  }
  if (ended && "exitCode" in ended) return done(ended.exitCode, text);
  if (ended && "error" in ended) return done(-1, ended.error);
  return done(-1, `the health check of container ${state.id} exited before it reported`);
}

/**
 * The healthcheck of one run of a container: probes at Docker's intervals from its start,
 * each result written into its state (`State.Health`) while that run lasts. `stop` when
 * the container exits.
 */
export class HealthMonitor {
  readonly #store: StateStore;
  readonly #state: ContainerState;
  readonly #argv: string[];
  readonly #timings: ProbeTimings;
  #status: HealthStatus = "starting";
  #stopped = false;
  #wake?: () => void;
  #loop?: Promise<void>;

  private constructor(store: StateStore, state: ContainerState, argv: string[]) {
    this.#store = store;
    this.#state = state;
    this.#argv = argv;
    this.#timings = probeTimings(state.spec.healthcheck!);
  }

  /**
   * Starts monitoring `state`, a container that has just started (its state records the
   * start), or returns null when it has no healthcheck.
   */
  static start(store: StateStore, state: ContainerState): HealthMonitor | null {
    const argv = probeCommand(state.spec.healthcheck, state.spec.shell);
    if (!argv || !state.startedAt) return null;
    const m = new HealthMonitor(store, state, argv);
    m.#loop = m.#run();
    return m;
  }

  /** Stops probing; waits for a probe under way (the container's exit ends it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  /** Waits `ms`, or less if stopped; true if stopped. */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#stopped), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  async #run(): Promise<void> {
    const startedMs = Date.parse(this.#state.startedAt!);
    while (!this.#stopped) {
      const delay = nextProbeDelay(this.#timings, Date.now() - startedMs, this.#status);
      if (await this.#sleep(delay)) return;
      // Docker pauses the checks of a paused container: a probe would only time out.
      if (this.#isPaused()) continue;
      const result = await runProbe(
        this.#store.dir,
        this.#state,
        this.#argv,
        this.#timings.timeoutMs,
      );
      // Stopped meanwhile: the container is exiting, and its last result is not news.
      if (this.#stopped) return;
      this.#record(result);
    }
  }

  #isPaused(): boolean {
    try {
      const s = this.#store.read(this.#state.id);
      return s?.paused === true;
    } catch {
      return false;
    }
  }

  /** Writes the result into the state, if the container still runs this same start. */
  #record(result: ProbeResult): void {
    const startedAt = this.#state.startedAt!;
    let before: HealthStatus | undefined, after: HealthStatus | undefined;
    let recorded: ContainerState | null = null;
    try {
      recorded = this.#store.update(this.#state.id, (s) => {
        if (s.status !== "running" || s.startedAt !== startedAt || !s.health) return false;
        before = s.health.status;
        s.health = applyProbeResult(s.health, result, this.#timings, startedAt);
        after = s.health.status;
      });
    } catch (e) {
      debug("health", () => `${this.#state.id}: recording a probe failed: ${e}`);
      return;
    }
    if (after === undefined) return;
    this.#status = after;
    debug("health", () => `${this.#state.id}: probe exited ${result.exitCode}: ${after}`);
    if (recorded && before !== after) recordHealthStatusEvent(this.#store, recorded, after);
  }
}
