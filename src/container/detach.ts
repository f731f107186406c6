/**
 * `run -d`: hand a container to a shim and return once it runs. The shim is a new session
 * with stdio on /dev/null, so it outlives the CLI and any terminal (seed 003).
 *
 * The shim is spawned before the container is created (for `run -d` even before `run`'s own
 * module loads: prespawnShim), so that its boot overlaps with the CLI's work. On its socket it
 * reads how to launch (a line), then the container's ID (another), and answers with a report.
 *
 * @module
 */

import { close, O, socketPair, spawn, waitSync, writeAll } from "../../ffi/libc.ts";
import { envList } from "../config/env.ts";
import { formatNetnsPlan, type NetnsPlan } from "../config/init.ts";
import { formatUsernsWord } from "../config/userns.ts";
import type { RemappedInit } from "./start.ts";
import { ROLE, selfCommand } from "./reexec.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { recordFailedStart } from "./exit.ts";
import { readToEnd } from "./io.ts";
import { debug } from "../util/debug.ts";
import { ContainerStartError } from "./start.ts";

/** What the shim tells the CLI over its socket: `{ok: true}` or the start error. */
export type ShimReport = { ok: true } | { ok: false; error: string; exitCode: number };

/** A shim waiting for its container's ID on `socket`. */
export interface ShimProcess {
  pid: number;
  socket: number;
}

/** A shim spawned ahead of its command (see `prespawnShim`), for this state directory. */
let prespawned: (ShimProcess & { stateDir: string }) | undefined;

/**
 * Spawns a shim now, before `run -d`'s own module and the container exist, so that its boot
 * (a Deno start and its module load, about 30 ms, the longest part of `run -d`) overlaps with
 * this process's: `spawnShim` takes it. One that is never taken (a guess wrong, a bad flag)
 * is killed by `dropPrespawnedShim` as the command ends, or sees EOF and exits if we die.
 */
export function prespawnShim(stateDir: string): void {
  if (prespawned) return;
  try {
    prespawned = { ...spawnBareShim(stateDir), stateDir };
  } catch {
    // Only a head start, on a guess: a `run -d` spawns its shim then and reports the error.
  }
}

/**
 * Kills and reaps a prespawned shim that no `spawnShim` took (the command failed, or the
 * guess was wrong), so that nothing of it outlives this command. It has done nothing yet:
 * it waits for its first message.
 */
export function dropPrespawnedShim(): void {
  if (!prespawned) return;
  const { pid, socket } = prespawned;
  prespawned = undefined;
  close(socket);
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone already */ }
  waitSync(pid);
  debug("run", `shim ${pid}, spawned ahead, was not taken: killed and reaped`);
}

/** Spawns a shim (or takes the prespawned one) for a container about to be created. */
export function spawnShim(
  store: StateStore,
  tty: boolean,
  netns: NetnsPlan,
  userns?: RemappedInit,
): ShimProcess {
  let shim: ShimProcess;
  if (prespawned && prespawned.stateDir === store.dir) {
    shim = { pid: prespawned.pid, socket: prespawned.socket };
    prespawned = undefined;
  } else shim = spawnBareShim(store.dir);
  // How to launch: the first line on its socket (the container's ID comes later).
  const launch: ShimLaunch = {
    tty,
    netns: formatNetnsPlan(netns),
    userns: formatUsernsWord(userns?.remap),
    cacheDir: userns?.cacheDir ?? "",
  };
  try {
    writeAll(shim.socket, new TextEncoder().encode(JSON.stringify(launch) + "\n"));
  } catch (e) {
    abandonShim(shim);
    throw e;
  }
  return shim;
}

/** The shim's first message: how to launch the container's process. */
export interface ShimLaunch {
  tty: boolean;
  /** formatNetnsPlan's word. */
  netns: string;
  /** formatUsernsWord's word. */
  userns: string;
  /** The remapped layers' cache directory ("" without remapping). */
  cacheDir: string;
}

function spawnBareShim(stateDir: string): ShimProcess {
  const [socket, shimEnd] = socketPair();
  try {
    const self = selfCommand(ROLE.shim, [stateDir]);
    const pid = spawn({
      path: self.path,
      args: self.args,
      env: envList(Deno.env.toObject()),
      newSession: true,
      fds: [
        { kind: "open", fd: 0, path: "/dev/null", flags: O.RDONLY },
        { kind: "open", fd: 1, path: "/dev/null", flags: O.WRONLY },
        { kind: "open", fd: 2, path: "/dev/null", flags: O.WRONLY },
        { kind: "dup", from: shimEnd, to: 3 },
      ],
    });
    return { pid, socket };
  } catch (e) {
    close(socket);
    throw e;
  } finally {
    close(shimEnd);
  }
}

/** Tells a shim there will be no container: it sees EOF and exits. */
export function abandonShim(shim: ShimProcess): void {
  close(shim.socket);
  // The shim is our child until it exits; reap it so no zombie is left.
  waitSync(shim.pid);
}

/**
 * Gives the created container to the shim and waits for its report (blocking: the shim
 * answers within its start-up). Returns once the container runs; throws the start error
 * otherwise, with the container recorded as exited with that error (`run -d` then removes
 * it; `start` keeps it, as Docker does).
 */
export function handOverToShim(store: StateStore, state: ContainerState, shim: ShimProcess): void {
  let text: string;
  try {
    writeAll(shim.socket, new TextEncoder().encode(JSON.stringify({ id: state.id }) + "\n"));
    text = readToEnd(shim.socket);
  } finally {
    close(shim.socket);
  }
  let report: ShimReport;
  try {
    report = JSON.parse(text);
  } catch {
    // The shim died before it could report. Record that; whoever asked decides what stays.
    const message = "the container's shim exited before the container started";
    recordFailedStart(store, state.id, message, 125);
    throw new ContainerStartError(message, 125);
  }
  if (!report.ok) throw new ContainerStartError(report.error, report.exitCode);
}
