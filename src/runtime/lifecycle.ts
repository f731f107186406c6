/**
 * The OCI runtime's operations (runtime.md "Operations"), each run by a process of its own
 * as containerd's shim, conmon and buildah call runc: `create` spawns the container's init
 * in its namespaces and cgroup, where it builds the bundle's filesystem and then waits on
 * the exec FIFO; `start` writes the FIFO and init execs the command; `state`, `kill`,
 * `delete`, `pause` and `resume` act on what `create` recorded in the state root. No
 * m-docker process stays behind: after `create` the container's only parent is the caller
 * (a subreaper such as containerd-shim), exactly as with runc.
 *
 * @module
 */

import {
  CLONE,
  close,
  connectUnix,
  type FdAction,
  kill,
  mknod,
  O,
  open,
  read,
  recvFd,
  sendFd,
  sendWithFds,
  socketPair,
  waitAsync,
  waitSync,
  writeAll,
} from "../../ffi/libc.ts";
import { ERRNO, SyscallError } from "../../ffi/errors.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import { parseOciSpec } from "../config/oci_spec.ts";
import type { OciInitConfig } from "../config/oci_init.ts";
import type { InitFailure } from "../config/init.ts";
import { envList } from "../config/env.ts";
import { newCgroupManager, openCgroupManager } from "../cgroups/manager.ts";
import type { CgroupManager } from "../cgroups/types.ts";
import { programToBase64 } from "../seccomp/bpf.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { ROLE, selfCommand } from "../container/reexec.ts";
import { cgroupFsPlan } from "../container/start.ts";
import { readToEnd } from "../container/io.ts";
import { type BundlePlan, planBundle, type SpawnNamespace } from "./convert.ts";
import { runHooks } from "./hooks.ts";
import {
  processStartTime,
  type RuntimeRecord,
  type RuntimeStatus,
  type RuntimeStore,
} from "./store.ts";

/** The runtime spec version this runtime writes in `state`. */
export const OCI_VERSION = "1.1.0";

/** A runtime operation refused for the container's state (`start` of a running one, ...). */
export class RuntimeStateError extends Error {
  override name = "RuntimeStateError";
}

/** What `create` is given besides the ID. */
export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** `--no-pivot`: accepted; pivot_root is always used (runc needs it only on ramfs roots). */
  noPivot?: boolean;
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

/** Creates a container from a bundle: on return it is `created`, its init waiting for `start`. */
export async function createContainer(
  store: RuntimeStore,
  id: string,
  opts: CreateOptions,
  sys: Syscalls = realSyscalls,
): Promise<void> {
  const { bundle, spec, plan, mountinfo } = readBundle(opts.bundle, id);
  let seccomp: string | undefined;
  if (plan.seccompProfile) {
    // Loaded only for a bundle that asks for a filter.
    const { containerSeccompFilter } = await import("../seccomp/container.ts");
    const program = containerSeccompFilter(
      { profileJson: plan.seccompProfile },
      plan.init.process.bounding,
    );
    seccomp = program && programToBase64(program);
  }
  store.claim(id);
  let cgroup: CgroupManager | undefined;
  let pid = 0;
  const fds: number[] = [];
  try {
    cgroup = newCgroupManager({ id: cgroupName(id), path: plan.cgroupsPath, mountinfo });
    cgroup.create(plan.limits, plan.deviceRules);
    mknod(store.fifoPath(id), "fifo", 0o622);
    // Read-write: init's read then blocks until `start` writes, and never sees EOF meanwhile.
    const fifo = open(store.fifoPath(id), O.RDWR | O.CLOEXEC);
    fds.push(fifo);
    const [socket, childSocket] = socketPair();
    fds.push(socket, childSocket);
    pid = spawnOciInit(sys, childSocket, fifo, plan.pid, plan.net);
    close(childSocket);
    fds.splice(fds.indexOf(childSocket), 1);
    const ready = new Uint8Array(1);
    if (read(socket, ready) !== 1) throw initFailure(pid, readToEnd(socket));
    // Moved before it reads its config: its own start-up was not the container's to pay.
    cgroup.addProcess(pid);
    const config: OciInitConfig = { ...plan.init, seccomp, execFifoFd: INIT_FIFO_FD };
    sendWithFds(socket, new TextEncoder().encode(JSON.stringify(config) + "\n"), []);
    if (config.process.terminal) {
      const master = recvFd(socket);
      if (master < 0) throw initFailure(pid, readToEnd(socket));
      try {
        sendConsole(opts.consoleSocket, master);
      } finally {
        close(master);
      }
    }
    const built = new Uint8Array(1);
    if (read(socket, built) !== 1 || built[0] !== 0x43) {
      throw initFailure(pid, String.fromCharCode(built[0] ?? 0x20) + readToEnd(socket));
    }
    const record: RuntimeRecord = {
      id,
      bundle,
      rootfs: plan.init.root,
      pid,
      pidStartTime: processStartTime(pid) ?? undefined,
      created: new Date().toISOString(),
      annotations: spec.annotations ?? {},
      cgroup: { layout: cgroup.layout, paths: cgroup.paths },
      poststart: plan.hooks.poststart,
      poststop: plan.hooks.poststop,
      ociVersion: spec.ociVersion,
    };
    store.write(record);
    const state = stateDocument(record, "created");
    await runHooks("prestart", plan.hooks.prestart, state);
    await runHooks("createRuntime", plan.hooks.createRuntime, state);
    if (opts.pidFile) writeFileAtomic(opts.pidFile, new TextEncoder().encode(String(pid)));
  } catch (e) {
    // Each step on its own: the first error is the one to report.
    if (pid > 0) {
      kill(pid, 9);
      try {
        waitSync(pid);
      } catch { /* reaped already (initFailure) */ }
    }
    try {
      cgroup?.destroy();
    } catch { /* reported by the first error */ }
    try {
      store.remove(id);
    } catch { /* likewise */ }
    throw e;
  } finally {
    for (const fd of fds) close(fd);
  }
}

/** A bundle read and planned: what `create` and `restore` both start from. */
export interface ReadBundle {
  /** The bundle directory, absolute. */
  bundle: string;
  spec: ReturnType<typeof parseOciSpec>;
  plan: BundlePlan;
  /** /proc/self/mountinfo as it was read for the plan. */
  mountinfo: string;
}

/** Reads `<bundle>/config.json` and plans the container from it and the host's facts. */
export function readBundle(path: string, id: string): ReadBundle {
  const bundle = Deno.realPathSync(path);
  let text: string;
  try {
    text = Deno.readTextFileSync(`${bundle}/config.json`);
  } catch (e) {
    throw new Error(`cannot read ${bundle}/config.json: ${(e as Error).message}`);
  }
  const spec = parseOciSpec(text, `${bundle}/config.json`);
  const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
  const lastCap = Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  const plan = planBundle(spec, bundle, id, { cgroupFs: cgroupFsPlan(mountinfo), lastCap });
  return { bundle, spec, plan, mountinfo };
}

/** The descriptor init finds the exec FIFO on (the init socket is 3). */
const INIT_FIFO_FD = 4;

/** cgroup manager IDs are names; a runtime ID may hold `+`, which they do not. */
export function cgroupName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/**
 * Spawns init, our child, into the PID and network namespaces the bundle asks for (new,
 * joined by path, or ours). Sync calls only until this thread is back in its own.
 */
function spawnOciInit(
  sys: Syscalls,
  socket: number,
  fifo: number,
  pidNs: SpawnNamespace,
  netNs: SpawnNamespace,
): number {
  const self = selfCommand(ROLE.init);
  const env = envList(Deno.env.toObject());
  const fds: FdAction[] = [
    { kind: "dup", from: socket, to: 3 },
    { kind: "dup", from: fifo, to: INIT_FIFO_FD },
  ];
  const ownPid = sys.open("/proc/thread-self/ns/pid", O.RDONLY | O.CLOEXEC);
  const ownNet = sys.open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
  try {
    try {
      enter(sys, pidNs, CLONE.NEWPID);
      enter(sys, netNs, CLONE.NEWNET);
      return sys.spawn({ path: self.path, args: self.args, env, fds });
    } finally {
      sys.setns(ownPid, CLONE.NEWPID, "own pid namespace");
      sys.setns(ownNet, CLONE.NEWNET, "own network namespace");
    }
  } finally {
    sys.close(ownPid);
    sys.close(ownNet);
  }
}

function enter(sys: Syscalls, ns: SpawnNamespace, flag: number): void {
  if (ns.kind === "new") sys.unshare(flag);
  else if (ns.kind === "join") {
    const fd = sys.open(ns.path, O.RDONLY | O.CLOEXEC);
    try {
      sys.setns(fd, flag, ns.path);
    } finally {
      sys.close(fd);
    }
  }
}

/** The terminal's master to `--console-socket` (SCM_RIGHTS), as runc sends it. */
function sendConsole(path: string | undefined, master: number): void {
  if (!path) throw new Error("process.terminal is set: --console-socket is required");
  const fd = connectUnix(path);
  try {
    sendFd(fd, master);
  } finally {
    close(fd);
  }
}

/** Reaps a failed init and turns its one-line report into an error. */
function initFailure(pid: number, report: string): Error {
  const result = waitSync(pid);
  try {
    const f = JSON.parse(report.slice(report.indexOf("{"))) as InitFailure;
    return new Error(f.error);
  } catch {
    return new Error(`container init exited (${result?.exitCode}) before it could report`);
  }
}

/** The container's status now. */
export function statusOf(store: RuntimeStore, record: RuntimeRecord): RuntimeStatus {
  return store.status(record);
}

/** The OCI state document of a record in `status`. */
export function stateDocument(record: RuntimeRecord, status: RuntimeStatus): OciStateDocument {
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
export function killContainer(
  store: RuntimeStore,
  id: string,
  signal: number,
  all = false,
): void {
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status === "stopped" && !all) throw new RuntimeStateError("container not running");
  if (all) {
    const cgroup = openCgroupManager(record.cgroup.layout, record.cgroup.paths);
    for (const pid of cgroup.pids()) kill(pid, signal);
    return;
  }
  if (!kill(record.pid, signal)) throw new RuntimeStateError("container not running");
}

/** `run` in the foreground: waits for init, our child, and returns its exit code. */
export async function waitForExit(store: RuntimeStore, id: string): Promise<number> {
  const record = store.read(id);
  return (await waitAsync(record.pid)).exitCode;
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
  const cgroup = openCgroupManager(record.cgroup.layout, record.cgroup.paths);
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
export function setPaused(store: RuntimeStore, id: string, paused: boolean): void {
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
export function containerPids(store: RuntimeStore, id: string): number[] {
  const record = store.read(id);
  return openCgroupManager(record.cgroup.layout, record.cgroup.paths).pids().sort((a, b) => a - b);
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
