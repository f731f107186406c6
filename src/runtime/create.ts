/**
 * `create`: builds a bundle's container (runtime.md "Create"). It spawns the container's init
 * in its namespaces and cgroup, where init builds the bundle's filesystem and then waits on the
 * exec FIFO; on return the container is `created`, its state recorded for the other commands,
 * and no m-docker process but that init is left: after `create` exits init's parent is the
 * caller (a subreaper such as containerd's shim), exactly as with runc.
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
  waitSync,
} from "../../ffi/libc.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import { type OciSpec, parseOciSpec } from "../config/oci_spec.ts";
import { type OciInitConfig, PRESERVED_FDS_BASE } from "../config/oci_init.ts";
import { INIT_STDERR_ENV, type InitFailure } from "../config/init.ts";
import { envList } from "../config/env.ts";
import { newCgroupManager } from "../cgroups/manager.ts";
import { cgroupFsPlan } from "../cgroups/detect.ts";
import type { CgroupManager } from "../cgroups/types.ts";
import { programToBase64 } from "../seccomp/bpf.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { ROLE, selfCommand } from "../container/reexec.ts";
import { readToEnd } from "../container/io.ts";
import { applyProcessLimits } from "../rootfs/process_limits.ts";
import { type BundlePlan, type IdMapping, planBundle, type SpawnNamespace } from "./convert.ts";
import { runHooks } from "./hooks.ts";
import { stateDocument } from "./lifecycle.ts";
import { processStartTime, type RuntimeRecord, type RuntimeStore } from "./store.ts";

/** What `create` is given besides the ID. */
export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** `--no-pivot`: accepted; pivot_root is always used (runc needs it only on ramfs roots). */
  noPivot?: boolean;
  /** `--preserve-fds N`: our descriptors 3..3+N-1 become the container process's. */
  preserveFds?: number;
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
    let userns: OciUserns | undefined;
    if (plan.userns) {
      const cacheDir = `${store.dir(id)}/deno-cache`;
      Deno.mkdirSync(cacheDir, { mode: 0o700 });
      const root = hostRoot(plan.userns);
      Deno.chownSync(cacheDir, root.uid, root.gid);
      userns = { ...plan.userns, cacheDir };
    }
    const preserve = opts.preserveFds ?? 0;
    pid = spawnOciInit(sys, childSocket, fifo, plan.pid, plan.net, userns, preserve);
    close(childSocket);
    fds.splice(fds.indexOf(childSocket), 1);
    const ready = new Uint8Array(1);
    if (read(socket, ready) !== 1) throw initFailure(pid, readToEnd(socket));
    // Moved before it reads its config: its own start-up was not the container's to pay.
    cgroup.addProcess(pid);
    if (userns) {
      // Its capabilities count in its user namespace only: raising a hard limit or lowering
      // the OOM score needs ours (init sets the same values again, which it may).
      const p = plan.init.process;
      applyProcessLimits(sys, p.rlimits, p.oomScoreAdj, 125, pid);
    }
    const config: OciInitConfig = {
      ...plan.init,
      seccomp,
      execFifoFd: INIT_FIFO_FD,
      preserveFds: preserve || undefined,
    };
    const { createContainer: inCreate, startContainer: inStart } = plan.hooks;
    if (inCreate.length || inStart.length) {
      // What the hooks read on stdin: the state as it will be once create returns.
      const state = stateDocument({
        id,
        bundle,
        rootfs: plan.init.root,
        pid,
        created: new Date().toISOString(),
        annotations: spec.annotations ?? {},
      }, "created");
      config.containerHooks = { createContainer: inCreate, startContainer: inStart, state };
    }
    if (!(config.unshare & CLONE.NEWCGROUP)) {
      // No cgroup namespace: a cgroup mount binds the container's own directories.
      const paths = cgroup.paths;
      config.mounts = config.mounts.map((m) => m.cgroup ? { ...m, cgroupBind: paths } : m);
    }
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
    const record = newRecord(id, { bundle, spec, plan }, cgroup, pid);
    store.write(record);
    const state = stateDocument(record, "created");
    try {
      await runHooks("prestart", plan.hooks.prestart, state);
      await runHooks("createRuntime", plan.hooks.createRuntime, state);
    } catch (e) {
      // runtime.md: a failed prestart or createRuntime hook stops the container, and the
      // lifecycle goes on with its deletion, poststop hooks included.
      await runHooks("poststop", plan.hooks.poststop, stateDocument(record, "stopped"));
      throw e;
    }
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

/** The descriptor init finds the exec FIFO on (the init socket is 3). */
const INIT_FIFO_FD = 4;

/** A bundle read and planned: what `create` and `restore` both start from. */
/**
 * The record of a container whose init (`pid`) is in `cgroup`, made from its bundle: by
 * `create`, and by `restore` for the restored process.
 */
export function newRecord(
  id: string,
  { bundle, spec, plan }: Pick<ReadBundle, "bundle" | "spec" | "plan">,
  cgroup: CgroupManager,
  pid: number,
): RuntimeRecord {
  return {
    id,
    bundle,
    rootfs: plan.init.root,
    pid,
    pidStartTime: processStartTime(pid) ?? undefined,
    created: new Date().toISOString(),
    annotations: spec.annotations ?? {},
    cgroup: { layout: cgroup.layout, paths: cgroup.paths },
    limits: plan.limits,
    poststart: plan.hooks.poststart,
    poststop: plan.hooks.poststop,
    ociVersion: spec.ociVersion,
  };
}

export interface ReadBundle {
  /** The bundle directory, absolute. */
  bundle: string;
  spec: OciSpec;
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

/** cgroup manager IDs are names; a runtime ID may hold `+`, which they do not. */
export function cgroupName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** What init needs to be cloned into a user namespace of its own. */
interface OciUserns {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** A directory the container's root owns, for Deno's caches (ours are out of its reach). */
  cacheDir: string;
}

/**
 * Spawns init, our child, into the PID and network namespaces the bundle asks for (new,
 * joined by path, or ours), and with `userns` into a new user namespace that owns the new
 * ones (a clone, as only a process without threads may enter one; ffi/nsclone.ts), its maps
 * written while it waits. Sync calls only until this thread is back in its own.
 */
function spawnOciInit(
  sys: Syscalls,
  socket: number,
  fifo: number,
  pidNs: SpawnNamespace,
  netNs: SpawnNamespace,
  userns?: OciUserns,
  preserveFds = 0,
): number {
  const self = selfCommand(ROLE.init);
  const env = envList(Deno.env.toObject());
  const fds: FdAction[] = [
    // First, out of the way of init's own descriptors (init puts them back before its exec).
    ...[...Array(preserveFds).keys()].map((i): FdAction => ({
      kind: "dup",
      from: 3 + i,
      to: PRESERVED_FDS_BASE + i,
    })),
    { kind: "dup", from: socket, to: 3 },
    { kind: "dup", from: fifo, to: INIT_FIFO_FD },
  ];
  if (userns) {
    // What Deno says as it boots without its caches would land on the container's stderr:
    // init boots with stderr on /dev/null and takes the real one back (INIT_STDERR_ENV).
    env.push(`DENO_DIR=${userns.cacheDir}`, `${INIT_STDERR_ENV}=${USERNS_STDERR_FD}`);
    fds.unshift({ kind: "dup", from: 2, to: USERNS_STDERR_FD });
    fds.push({ kind: "open", fd: 2, path: "/dev/null", flags: O.WRONLY });
  }
  const ownPid = sys.open("/proc/thread-self/ns/pid", O.RDONLY | O.CLOEXEC);
  const ownNet = sys.open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
  try {
    try {
      if (!userns) {
        enter(sys, pidNs, CLONE.NEWPID);
        enter(sys, netNs, CLONE.NEWNET);
        return sys.spawn({ path: self.path, args: self.args, env, fds });
      }
      // New ones are made by the clone itself, so that the user namespace owns them.
      if (pidNs.kind === "join") enter(sys, pidNs, CLONE.NEWPID);
      if (netNs.kind === "join") enter(sys, netNs, CLONE.NEWNET);
      const namespaces = CLONE.NEWUSER | (pidNs.kind === "new" ? CLONE.NEWPID : 0) |
        (netNs.kind === "new" ? CLONE.NEWNET : 0);
      return sys.spawnInNamespaces({
        path: self.path,
        args: self.args,
        env,
        fds,
        namespaces,
        ids: { uid: 0, gid: 0, groups: [] },
      }, (child) => {
        const lines = (maps: IdMapping[]) =>
          maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
        sys.writeTextFile(`/proc/${child}/uid_map`, lines(userns.uidMappings));
        sys.writeTextFile(`/proc/${child}/gid_map`, lines(userns.gidMappings));
      });
    } finally {
      sys.setns(ownPid, CLONE.NEWPID, "own pid namespace");
      sys.setns(ownNet, CLONE.NEWNET, "own network namespace");
    }
  } finally {
    sys.close(ownPid);
    sys.close(ownNet);
  }
}

/** Where a user-namespaced init finds its real stderr while it boots. */
const USERNS_STDERR_FD = 5;

/** The host ids of the container's root (its uid and gid 0), for what it must own. */
function hostRoot(userns: { uidMappings: IdMapping[]; gidMappings: IdMapping[] }) {
  const host = (maps: IdMapping[]) =>
    maps.find((m) => m.containerID === 0)?.hostID ?? maps[0].hostID;
  return { uid: host(userns.uidMappings), gid: host(userns.gidMappings) };
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
