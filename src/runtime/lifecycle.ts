/**
 * The OCI runtime's operations on a container that exists (runtime.md "Operations"), each
 * run by a process of its own as containerd's shim, conmon and buildah call runc: `start`
 * writes the exec FIFO and init execs the command; `state`, `kill`, `delete`, `pause` and
 * `resume` act on what `create` (src/runtime/create.ts) recorded in the state root. These are
 * the calls made most: they load the cgroup code only when they need it.
 *
 * @module
 */

import { close, kill, O, open, SIGNALS, waitAsync, writeAll } from "../../ffi/libc.ts";
import { ERRNO, SyscallError } from "../../ffi/errors.ts";
import { runHooks } from "./hooks.ts";
import {
  processStartTime,
  type RuntimeRecord,
  type RuntimeStatus,
  type RuntimeStore,
} from "./store.ts";

/** The container's cgroup, its manager loaded on first use. */
async function cgroupOf(record: RuntimeRecord) {
  const { openCgroupManager } = await import("../cgroups/manager.ts");
  return openCgroupManager(record.cgroup.layout, record.cgroup.paths);
}

/** The runtime spec version this runtime writes in `state`. */
export const OCI_VERSION = "1.1.0";

/** A runtime operation refused for the container's state (`start` of a running one, ...). */
export class RuntimeStateError extends Error {
  override name = "RuntimeStateError";
}

/** The state document `state` prints (runtime.md "State"). */
export interface OciStateDocument {
  ociVersion: string;
  id: string;
  status: RuntimeStatus;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** The container's status now. */
export function statusOf(store: RuntimeStore, record: RuntimeRecord): RuntimeStatus {
  return store.status(record);
}

/** The OCI state document of a record in `status`. */
export function stateDocument(
  record: Pick<RuntimeRecord, "id" | "pid" | "bundle" | "rootfs" | "created" | "annotations">,
  status: RuntimeStatus,
): OciStateDocument {
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    pid: status === "stopped" ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: "",
    annotations: record.annotations,
  };
}

/** `state ID`. */
export function containerState(store: RuntimeStore, id: string): OciStateDocument {
  const record = store.read(id);
  return stateDocument(record, statusOf(store, record));
}

/** `start ID`: lets a created container's init exec the command. */
export async function startContainer(store: RuntimeStore, id: string): Promise<void> {
  const record = store.withLock(id, () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if (status === "stopped") {
      throw new RuntimeStateError("cannot start a container that has stopped");
    }
    if (status !== "created") {
      throw new RuntimeStateError(`cannot start an already running container`);
    }
    let fd: number;
    try {
      fd = open(store.fifoPath(id), O.WRONLY | O.NONBLOCK | O.CLOEXEC);
    } catch (e) {
      // No reader: init is gone.
      if (e instanceof SyscallError && e.errno === ERRNO.ENXIO) {
        throw new RuntimeStateError("cannot start a container that has stopped");
      }
      throw e;
    }
    try {
      writeAll(fd, new Uint8Array([0x30]));
    } finally {
      close(fd);
    }
    Deno.removeSync(store.fifoPath(id));
    return record;
  });
  await runHooks("poststart", record.poststart ?? [], stateDocument(record, "running"));
}

/**
 * `kill ID SIGNAL` (a number), to init or, with `all`, to every process in the container's
 * cgroup. A created container can be killed: its init dies before it ever execs.
 */
export async function killContainer(
  store: RuntimeStore,
  id: string,
  signal: number,
  all = false,
): Promise<void> {
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status === "stopped" && !all) throw new RuntimeStateError("container not running");
  if (all) {
    for (const pid of (await cgroupOf(record)).pids()) kill(pid, signal);
    return;
  }
  if (!kill(record.pid, signal)) throw new RuntimeStateError("container not running");
}

/** The signals a foreground `run` passes on to the container, as runc's does. */
const FORWARDED: Deno.Signal[] = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGTERM",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

/**
 * `run` in the foreground: waits for init, our child, passing on the signals this process
 * gets, and returns its exit code.
 */
export async function waitForExit(store: RuntimeStore, id: string): Promise<number> {
  const record = store.read(id);
  const forward = FORWARDED.map((signal) => {
    const handler = () => void kill(record.pid, SIGNALS[signal]);
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  try {
    return (await waitAsync(record.pid)).exitCode;
  } finally {
    for (const stop of forward) stop();
  }
}

/**
 * `delete ID`: a stopped (or still created) container's cgroup and state go, after its
 * poststop hooks. A running or paused one is refused unless `force`, which kills it first.
 */
export async function deleteContainer(
  store: RuntimeStore,
  id: string,
  force = false,
): Promise<void> {
  let record: RuntimeRecord;
  try {
    record = store.read(id);
  } catch (e) {
    // A create that died before it wrote the record leaves only its directory.
    if (e instanceof Error && e.message.includes("damaged") || isMissingState(store, id)) {
      store.remove(id);
      return;
    }
    throw e;
  }
  const status = statusOf(store, record);
  if ((status === "running" || status === "paused") && !force) {
    throw new RuntimeStateError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  const cgroup = await cgroupOf(record);
  if (status !== "stopped") {
    if (status === "paused") cgroup.setFrozen(false);
    try {
      Deno.kill(record.pid, "SIGKILL");
    } catch { /* gone */ }
    cgroup.killAll("SIGKILL");
    waitGone(record.pid, record.pidStartTime);
  }
  cgroup.destroy();
  await runHooks("poststop", record.poststop ?? [], stateDocument(record, "stopped"));
  store.remove(id);
}

function isMissingState(store: RuntimeStore, id: string): boolean {
  try {
    Deno.statSync(`${store.dir(id)}/state.json`);
    return false;
  } catch {
    try {
      Deno.statSync(store.dir(id));
      return true;
    } catch {
      return false;
    }
  }
}

/** Waits (5 s at most) for a process that is not our child to be gone or a zombie. */
function waitGone(pid: number, startTime: number | undefined): void {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const st = processStartTime(pid);
    if (st === null || (startTime !== undefined && st !== startTime)) return;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      if (stat[stat.lastIndexOf(")") + 2] === "Z") return;
    } catch {
      return;
    }
    const t = Date.now() + 10;
    while (Date.now() < t) { /* a short spin: no sleep in sync code */ }
  }
}

/** `pause ID` / `resume ID`: the cgroup freezer. */
export async function setPaused(store: RuntimeStore, id: string, paused: boolean): Promise<void> {
  const { openCgroupManager } = await import("../cgroups/manager.ts");
  store.withLock(id, () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if (paused && status !== "running") {
      throw new RuntimeStateError(`container not running`);
    }
    if (!paused && status !== "paused") throw new RuntimeStateError(`container not paused`);
    openCgroupManager(record.cgroup.layout, record.cgroup.paths).setFrozen(paused);
    record.paused = paused;
    store.write(record);
  });
}

/** `ps ID`: the pids in the container's cgroup. */
export async function containerPids(store: RuntimeStore, id: string): Promise<number[]> {
  return (await cgroupOf(store.read(id))).pids().sort((a, b) => a - b);
}

/** `list`: every container's state. */
export function listContainers(store: RuntimeStore): OciStateDocument[] {
  const out: OciStateDocument[] = [];
  for (const id of store.ids()) {
    try {
      out.push(containerState(store, id));
    } catch { /* half-created: `delete` removes it */ }
  }
  return out;
}
