/**
 * The `health` role: one healthcheck probe, started by a container's monitor (its shim, or
 * the CLI of a foreground `run`) for each check (src/container/health.ts). It execs the
 * check into the container, as `exec` does, with the container's user, working directory
 * and environment, stdin on /dev/null and its stdout and stderr on the role's own (the
 * monitor's output pipe). On fd 3 it reports the check's pid once it runs, then its exit
 * code, or why it could not run, one JSON line each. A separate process because `exec`
 * leaves the calling thread confined as the container is, for good.
 *
 * @module
 */

import { close, waitAsync, writeAll } from "../../ffi/libc.ts";
import { execInContainer } from "../container/exec.ts";
import { PROBE_REPORT_FD, type ProbeReport } from "../container/health.ts";
import { StateStore } from "../state/store.ts";

function say(r: ProbeReport): void {
  try {
    writeAll(PROBE_REPORT_FD, new TextEncoder().encode(JSON.stringify(r) + "\n"));
  } catch {
    // The monitor is gone; nobody is waiting for the result.
  }
}

/** Entry point of the health role: `health STATE_DIR ID ARGV_JSON`. */
export async function runHealthProbe(args: string[]): Promise<never> {
  const [stateDir, id, argvJson] = args;
  Deno.chdir("/"); // never keep the monitor's working directory busy
  let pid: number;
  try {
    const state = new StateStore(stateDir).read(id);
    if (!state) throw new Error(`No such container: ${id}`);
    pid = (await execInContainer(state, {
      args: JSON.parse(argvJson) as string[],
      env: [],
      tty: false,
      interactive: false,
      detach: false,
    })).pid;
  } catch (e) {
    say({ error: (e as Error).message });
    Deno.exit(0);
  }
  say({ pid });
  const { exitCode } = await waitAsync(pid);
  say({ exitCode });
  close(PROBE_REPORT_FD);
  Deno.exit(0);
}
