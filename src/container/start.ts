/**
 * Starting a created container (seed 001's `Start`): spawn init as PID 1 of a new PID
 * namespace, put it in the container's cgroup, send it its config over the init socket,
 * and wait for the EOF that says it has exec'd the user's command.
 *
 * @module
 */

import { applyProcessLimits } from "../rootfs/process_limits.ts";
import { hostDevices } from "./devices.ts";
import {
  CLONE,
  close,
  dupCloexec,
  type FdAction,
  interfaceUp,
  O,
  read,
  recvFd,
  sendWithFds,
  socketPair,
  waitSync,
} from "../../ffi/libc.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import { ERRNO, errorReason, SyscallError } from "../../ffi/errors.ts";
import { childMounts, enterPreparedRoot, prepareRootfsForChild } from "../rootfs/setup.ts";
import { resolveCommand } from "../rootfs/command.ts";
import { writeSysctls } from "../rootfs/sysctls.ts";
import { openCgroupManager, warmUpCgroupMigration } from "../cgroups/manager.ts";
import { envList } from "../config/env.ts";
import { networkSpecOf, wiresNetwork } from "./network_spec.ts";
import { releaseContainer } from "./network_table.ts";
import { readToEnd } from "./io.ts";
import { ROLE, selfCommand } from "./reexec.ts";
import { processStartTime } from "../state/proc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { ensureDataRoot, etcFiles } from "../state/roots.ts";
import {
  INIT_STDERR_ENV,
  type InitConfig,
  type InitFailure,
  type NetnsPlan,
  type UsernsMounts,
} from "../config/init.ts";
import { idMapLine, type UsernsRemap } from "../config/userns.ts";
import { openDetachedMounts } from "../rootfs/detached.ts";
import { cgroupFsPlan } from "../cgroups/detect.ts";
import { debug } from "../util/debug.ts";
import { containerCapabilities } from "../rootfs/capabilities.ts";
import { containerFilter } from "./seccomp_filter.ts";
import { programToBase64 } from "../seccomp/bpf.ts";
import { ExitCodeError } from "../util/errors.ts";
import { probeCommand, startingHealth } from "../config/health.ts";
import { recordContainerEvent } from "../state/events.ts";
import { callerConsoleSize } from "./terminal.ts";
import { ChildCgroup } from "./child_cgroup.ts";

/** Where the container's stdio comes from: the caller's own fds, /dev/null, or an fd. */
export type StdioSource = "inherit" | "null" | number;

/** The container's standard streams. With a tty, init replaces them with the terminal. */
export interface StdioPlan {
  stdin: StdioSource;
  stdout: StdioSource;
  stderr: StdioSource;
}

/** The user's command could not be started; carries Docker's exit code (125, 126, 127). */
export class ContainerStartError extends ExitCodeError {
  override name = "ContainerStartError";
}

/** A container whose command is running. */
export interface StartedContainer {
  pid: number;
  /** The terminal's master side, when the container has a tty. */
  ttyMaster?: number;
  /** The embedded DNS server's socket (a user network), for the monitor to serve. */
  dnsSocket?: number;
}

function stdioActions(plan: StdioPlan): FdAction[] {
  const actions: FdAction[] = [];
  const entries: Array<[number, StdioSource]> = [[0, plan.stdin], [1, plan.stdout], [
    2,
    plan.stderr,
  ]];
  for (const [fd, source] of entries) {
    if (source === "null") {
      actions.push({ kind: "open", fd, path: "/dev/null", flags: fd === 0 ? O.RDONLY : O.WRONLY });
    } else if (typeof source === "number") {
      actions.push({ kind: "dup", from: source, to: fd });
    }
  }
  return actions;
}

/** An init process that has been spawned and waits for its config on `socket`. */
export interface InitProcess {
  pid: number;
  socket: number;
  /** The container's new network namespace (plan `new`), open, until the start is done. */
  netns?: number;
  /** The background cgroup-migration warm-up (see `warmUpCgroupMigration`), if one runs. */
  warmUp?: Promise<void>;
  /** Remapped: init is root of a user namespace of its own, with these host ids. */
  userns?: UsernsRemap;
  /**
   * A direct start (see `startDirectly`): no init process was spawned (`pid` is 0); the
   * container's first process is cloned by this thread when the container starts.
   */
  direct?: DirectStart;
}

/** What a direct start keeps from `spawnInit` until the container starts. */
interface DirectStart {
  /** The stdio plan, its descriptors our own copies (the caller closes its). */
  plan: StdioPlan;
  /** Another container's network namespace, open (`container:` mode). */
  joinNetns?: number;
}

/**
 * Whether containers start directly, without an init process: every container but a
 * remapped one (whose first process must be cloned into a user namespace, which needs init's
 * handshake; see docs/user-namespaces.md). M_DOCKER_INIT_PROCESS=1 keeps the init process
 * for every container, to compare the two.
 */
function startsDirectly(userns: RemappedInit | undefined): boolean {
  return userns === undefined && Deno.env.get("M_DOCKER_INIT_PROCESS") !== "1";
}

/** Our own copy of a stdio plan's descriptors, close-on-exec. */
function ownPlan(plan: StdioPlan): StdioPlan {
  const own = (s: StdioSource): StdioSource => typeof s === "number" ? dupCloexec(s) : s;
  return { stdin: own(plan.stdin), stdout: own(plan.stdout), stderr: own(plan.stderr) };
}

function closePlan(plan: StdioPlan): void {
  for (const s of [plan.stdin, plan.stdout, plan.stderr]) if (typeof s === "number") close(s);
}

/**
 * Spawns init at PID 1 of a new PID namespace, before the container exists: init's boot
 * (a Deno start, ~15 ms) then overlaps with creating the container. Until it is sent a
 * config it does nothing, and it exits when the socket closes.
 *
 * The namespace switch is per thread and lasts only for the spawn: no await may happen in
 * between (DESIGN.md). `sys` is the kernel unless a test passes a fake.
 *
 * With `userns` (remapped), init is cloned into a new user namespace with its PID (and
 * network) namespace, so that the user namespace owns them and init, root there, can mount
 * /proc and /sys; the parent maps the ids before init execs (see ffi/nsclone.ts).
 */
export function spawnInit(
  plan: StdioPlan,
  netns: NetnsPlan = { kind: "new" },
  sys: Syscalls = realSyscalls,
  userns?: RemappedInit,
): InitProcess {
  // A direct start needs no warm-up on v1 (its child joins the cgroup itself): startDirectly
  // decides once it knows the layout.
  if (startsDirectly(userns)) return deferDirectStart(plan, netns, sys);
  // Pays the kernel's cgroup-migration grace period in the background, while init boots.
  const warmUp = warmUpCgroupMigration();
  const [parentSocket, childSocket] = socketPair();
  try {
    const self = selfCommand(ROLE.init);
    const env = envList(Deno.env.toObject());
    const fds: FdAction[] = [...stdioActions(plan), { kind: "dup", from: childSocket, to: 3 }];
    if (userns) {
      // Deno's caches (the V8 code cache halves init's boot) are in the caller's home, which
      // the remapped root cannot read: it has a directory of its own. Where even that is out
      // of its reach, Deno says so on stderr as it boots, which would be the container's:
      // init boots with stderr on /dev/null and takes the real one back from fd 4.
      env.push(`DENO_DIR=${userns.cacheDir}`);
      if (plan.stderr !== "null") {
        const stderr = plan.stderr === "inherit" ? 2 : plan.stderr;
        fds.unshift({ kind: "dup", from: stderr, to: INIT_STDERR_FD });
        fds.push({ kind: "open", fd: 2, path: "/dev/null", flags: O.WRONLY });
        env.push(`${INIT_STDERR_ENV}=${INIT_STDERR_FD}`);
      }
    }
    const ownPidNs = sys.open("/proc/thread-self/ns/pid", O.RDONLY | O.CLOEXEC);
    const ownNetNs = netns.kind === "host"
      ? -1
      : sys.open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
    try {
      let pid: number;
      try {
        if (netns.kind === "join") {
          const target = sys.open(netns.path, O.RDONLY | O.CLOEXEC);
          try {
            sys.setns(target, CLONE.NEWNET, netns.path);
          } finally {
            sys.close(target);
          }
        }
        const newNet = netns.kind === "new" ? CLONE.NEWNET : 0;
        if (userns) {
          pid = sys.spawnInNamespaces({
            path: self.path,
            args: self.args,
            env,
            fds,
            namespaces: CLONE.NEWUSER | CLONE.NEWPID | newNet,
            ids: { uid: 0, gid: 0, groups: [] },
          }, (child) => {
            Deno.writeTextFileSync(`/proc/${child}/uid_map`, idMapLine(userns.remap.uid));
            Deno.writeTextFileSync(`/proc/${child}/gid_map`, idMapLine(userns.remap.gid));
          });
        } else {
          sys.unshare(CLONE.NEWPID | newNet);
          pid = sys.spawn({ path: self.path, args: self.args, env, fds });
        }
      } finally {
        sys.setns(ownPidNs, CLONE.NEWPID, "own pid namespace");
        if (ownNetNs >= 0) sys.setns(ownNetNs, CLONE.NEWNET, "own network namespace");
      }
      // The new namespace, held open so the parent can wire it while init boots.
      const netnsFd = netns.kind === "new"
        ? sys.open(`/proc/${pid}/ns/net`, O.RDONLY | O.CLOEXEC)
        : undefined;
      return { pid, socket: parentSocket, warmUp, netns: netnsFd, userns: userns?.remap };
    } finally {
      sys.close(ownPidNs);
      if (ownNetNs >= 0) sys.close(ownNetNs);
    }
  } catch (e) {
    close(parentSocket);
    throw e;
  } finally {
    close(childSocket);
  }
}

/**
 * The start-up half of a direct start: only the network namespace is made now (a new one),
 * so that the container's network can be wired while it is created.
 */
function deferDirectStart(
  plan: StdioPlan,
  netns: NetnsPlan,
  sys: Syscalls,
): InitProcess {
  let netnsFd: number | undefined;
  let joinNetns: number | undefined;
  if (netns.kind === "new") {
    const own = sys.open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
    try {
      sys.unshare(CLONE.NEWNET);
      try {
        netnsFd = sys.open("/proc/thread-self/ns/net", O.RDONLY | O.CLOEXEC);
      } finally {
        sys.setns(own, CLONE.NEWNET, "own network namespace");
      }
    } finally {
      sys.close(own);
    }
  } else if (netns.kind === "join") {
    joinNetns = sys.open(netns.path, O.RDONLY | O.CLOEXEC);
  }
  return { pid: 0, socket: -1, netns: netnsFd, direct: { plan: ownPlan(plan), joinNetns } };
}

/** Where a remapped init finds its real stderr while it boots (see `spawnInit`). */
const INIT_STDERR_FD = 4;

/** What `spawnInit` needs for a remapped container. */
export interface RemappedInit {
  remap: UsernsRemap;
  /** A directory the remapped root owns, for Deno's caches. */
  cacheDir: string;
}

/**
 * A remapped init's spawn plan: the ranges, and `DATA_ROOT/UID.GID` (Docker's name for a
 * remapped root's directory), owned by the remapped root, 0700, for Deno's caches. As
 * Docker does, the data root's group becomes the remapped root's (the mode stays 0710), so
 * that it can reach that directory; where the data root's own parents are not searchable
 * (a private temporary root), Deno falls back to caches in memory, only slower.
 */
export function remappedInit(
  dataRoot: string,
  remap: UsernsRemap | undefined,
): RemappedInit | undefined {
  if (!remap) return undefined;
  const uid = remap.uid.hostStart, gid = remap.gid.hostStart;
  const cacheDir = `${dataRoot}/${uid}.${gid}`;
  ensureDataRoot(dataRoot); // first: 0710, and refused if others can write it
  try {
    Deno.mkdirSync(cacheDir, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  Deno.chownSync(cacheDir, uid, gid);
  Deno.chownSync(dataRoot, null, gid);
  return { remap, cacheDir };
}

/** Ends an init that will not be used: it sees EOF and exits; reap it. */
export function abandonInit(init: InitProcess): void {
  if (init.direct) {
    closeDirect(init);
    return;
  }
  close(init.socket);
  if (init.netns !== undefined) close(init.netns);
  try {
    Deno.kill(init.pid, "SIGKILL");
  } catch { /* already gone */ }
  waitSync(init.pid);
}

function closeDirect(init: InitProcess): void {
  closePlan(init.direct!.plan);
  if (init.direct!.joinNetns !== undefined) close(init.direct!.joinNetns);
  if (init.netns !== undefined) close(init.netns);
}

function initConfig(
  state: ContainerState,
  init: InitProcess,
  seccomp: string | undefined,
  userns?: UsernsMounts,
): InitConfig {
  const s = state.spec;
  return {
    rootfs: state.rootfs,
    etcFiles: etcFiles(state.containerDir),
    mounts: s.mounts,
    hostname: s.hostname,
    args: s.args,
    env: s.env,
    cwd: s.cwd,
    uid: s.uid,
    gid: s.gid,
    groups: s.groups,
    tty: s.tty,
    consoleSize: s.tty ? callerConsoleSize() : undefined,
    loopbackUp: init.netns !== undefined,
    seccomp,
    capabilities: [...containerCapabilities(s.capabilities)],
    privileged: s.privileged,
    noNewPrivileges: s.noNewPrivileges,
    cgroupFs: cgroupFsPlan(Deno.readTextFileSync("/proc/self/mountinfo")),
    readonlyRootfs: s.readonlyRootfs,
    tmpfs: s.tmpfs,
    shmSizeBytes: s.shmSizeBytes,
    // A remapped init has them from its parent already (see startContainer).
    ulimits: userns ? undefined : s.ulimits,
    oomScoreAdj: userns ? undefined : s.oomScoreAdj,
    sysctls: s.sysctls,
    devices: s.privileged ? [...hostDevices(), ...(s.devices ?? [])] : s.devices,
    userns,
  };
}

/** A remapped container's mounts, made for init (see src/rootfs/detached.ts). */
function detachedMountsFor(state: ContainerState, pid: number) {
  const usernsFd = realSyscalls.open(`/proc/${pid}/ns/user`, O.RDONLY | O.CLOEXEC);
  try {
    return openDetachedMounts(
      realSyscalls,
      usernsFd,
      state.rootfs,
      etcFiles(state.containerDir),
      state.spec.mounts,
    );
  } finally {
    close(usernsFd);
  }
}

/**
 * Starts a created container with a spawned `init` and records it as running, with the
 * calling process as its monitor. On failure init is reaped and the error thrown (a
 * `ContainerStartError` with Docker's exit code when init reported it); the caller
 * removes the container.
 */
export async function startContainer(
  store: StateStore,
  state: ContainerState,
  init: InitProcess,
): Promise<StartedContainer> {
  if (init.direct) return await startDirectly(store, state, init);
  const { pid, socket } = init;
  let dns: number | undefined;
  try {
    // Init keeps its process (and start time) when it execs the command: record it now,
    // so a container whose CLI dies mid-start can still be recognised.
    record(store, state, {
      pid,
      pidStartTime: processStartTime(pid) ?? undefined,
      monitorPid: Deno.pid,
      monitorStartTime: processStartTime(Deno.pid) ?? undefined,
    });
    const seccomp = await containerFilter(state).then((p) => p && programToBase64(p));
    // Wired while init boots: its address, veth, route and published ports.
    dns = await wireNetwork(store, state, init);
    const cgroup = openCgroupManager(state.cgroup.layout, state.cgroup.paths);
    // Init says it has booted before it joins the cgroup, so that the runtime's own start-up
    // memory is not charged to the container's limit.
    const ready = new Uint8Array(1);
    if (read(socket, ready) !== 1) throw failure(pid, readToEnd(socket));
    await init.warmUp;
    cgroup.addProcess(pid);
    if (init.userns) {
      // Init's capabilities count only in its user namespace: its parent raises what it may not.
      applyProcessLimits(realSyscalls, state.spec.ulimits, state.spec.oomScoreAdj, 125, pid);
    }
    const detached = init.userns ? detachedMountsFor(state, pid) : undefined;
    try {
      const config = initConfig(state, init, seccomp, detached?.plan);
      sendWithFds(
        socket,
        new TextEncoder().encode(JSON.stringify(config) + "\n"),
        detached?.fds ?? [],
      );
    } finally {
      // Init holds its own copies now (or will never need them).
      for (const fd of detached?.fds ?? []) close(fd);
    }
    let ttyMaster: number | undefined;
    if (state.spec.tty) {
      const fd = recvFd(socket);
      if (fd < 0) throw failure(pid, readToEnd(socket));
      ttyMaster = fd;
    }
    const rest = readToEnd(socket);
    if (rest !== "") {
      if (ttyMaster !== undefined) close(ttyMaster);
      throw failure(pid, rest);
    }
    record(store, state, {
      status: "running",
      pidStartTime: processStartTime(pid) ?? undefined,
      startedAt: new Date().toISOString(),
      // Docker's: "starting" from each start, the streak cleared, the log kept.
      ...(probeCommand(state.spec.healthcheck) ? { health: startingHealth(state.health) } : {}),
    });
    debug("start", () => `${state.id}: init ${pid} exec'd ${JSON.stringify(state.spec.args)}`);
    recordContainerEvent(store.dir, state, "start");
    return { pid, ttyMaster, dnsSocket: dns };
  } catch (e) {
    if (!(e instanceof ContainerStartError)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
      waitSync(pid);
    }
    releaseContainer(state);
    if (dns !== undefined) close(dns);
    throw e;
  } finally {
    close(socket);
    if (init.netns !== undefined) close(init.netns);
  }
}

/**
 * Connects a container with a network namespace of its own to its networks (address, veth,
 * route, published ports) and records it; returns the embedded DNS server's socket, if any.
 */
async function wireNetwork(
  store: StateStore,
  state: ContainerState,
  init: InitProcess,
): Promise<number | undefined> {
  if (init.netns === undefined || !wiresNetwork(networkSpecOf(state.spec))) return undefined;
  // Loaded only for a network to wire: `--network none` needs no netlink or firewall code.
  const { connectContainer } = await import("./network.ts");
  const connected = await connectContainer(store, state, init.netns);
  if (!connected) return undefined;
  const { dnsSocket, ...networking } = connected;
  try {
    record(store, state, { networking });
  } catch (e) {
    if (dnsSocket !== undefined) close(dnsSocket);
    throw e;
  }
  return dnsSocket;
}

/**
 * Records what starting decided, and only that, on the state as it is now (a concurrent
 * `stop`'s stopRequested stays), and in the caller's copy. A container removed meanwhile
 * (`rm -f`) fails the start.
 */
function record(store: StateStore, state: ContainerState, fields: Partial<ContainerState>) {
  Object.assign(state, fields);
  // What a start records (its processes, that it runs, its addresses) a power loss ends:
  // a crash may find the state before it, whole (see Durability), as after any reboot.
  if (!store.update(state.id, (s) => void Object.assign(s, fields), "whole")) {
    throw new Error(`container ${state.id} was removed while it was starting`);
  }
}

/** Reaps a failed init and turns its report into a ContainerStartError. */
function failure(pid: number, report: string): ContainerStartError {
  const result = waitSync(pid);
  try {
    const f = JSON.parse(report.slice(report.indexOf("{"))) as InitFailure;
    return new ContainerStartError(f.error, f.exitCode);
  } catch {
    return new ContainerStartError(
      `container init exited (${result?.exitCode}) before it could report`,
      125,
    );
  }
}

/**
 * Starts a container with no init process: this thread (the CLI's or the shim's) enters new
 * mount, UTS and IPC namespaces (and the container's network namespace), builds the
 * container's filesystem there with the same code init uses, and clones the container's
 * first process as PID 1 of a new PID namespace (ffi/nsclone.ts). While that child waits,
 * it is in the cgroup (it joins by itself on v1 and is born there on v2: childPlacement),
 * it is given its limits, and the thread pivots into the root (the child, in the same mount
 * namespace, moves with it) and finds the command there. Then the child, alone in its namespaces, unshares its cgroup namespace, mounts /proc, the
 * masks over it and the cgroup hierarchies, and does what a runtime in C does between fork
 * and exec: bounding set, capabilities, terminal, working directory, seccomp, ids,
 * no_new_privs, exec. This thread then returns to its own namespaces. One Deno start fewer
 * than with init, and nothing here may await (the namespaces are this thread's).
 */
async function startDirectly(
  store: StateStore,
  state: ContainerState,
  init: InitProcess,
  sys: Syscalls = realSyscalls,
): Promise<StartedContainer> {
  const direct = init.direct!;
  let dns: number | undefined;
  let pid = 0;
  let ttyMaster: number | undefined;
  let childCgroup: ChildCgroup | undefined;
  try {
    const cgroup = openCgroupManager(state.cgroup.layout, state.cgroup.paths);
    record(store, state, {
      monitorPid: Deno.pid,
      monitorStartTime: processStartTime(Deno.pid) ?? undefined,
    });
    const seccomp = await containerFilter(state);
    dns = await wireNetwork(store, state, init);
    const config = initConfig(state, init, undefined);
    const capabilities = new Set(config.capabilities);
    const lastCap = Number(sys.readTextFile("/proc/sys/kernel/cap_last_cap").trim());
    // No one migrates the child (see childPlacement), so no warm-up is needed.
    childCgroup = ChildCgroup.open(sys, cgroup.childPlacement());
    const childCgroupOptions = childCgroup.options;
    // From here to the end of the spawn: sync calls only, on this thread.
    const started = inContainerNamespaces(sys, init, direct, () => {
      if (config.loopbackUp) interfaceUp("lo");
      if (config.sysctls) writeSysctls(config.sysctls, config.loopbackUp);
      const { prepared, root } = prepareRootfsForChild(sys, config);
      ttyMaster = prepared.ttyMaster;
      const mounts = childMounts(sys, config);
      sys.sethostname(config.hostname);
      // Not our controlling terminal (a shim, a session leader, has none): the child's.
      const slave = prepared.ttySlavePath === undefined
        ? undefined
        : sys.open(`${root}${prepared.ttySlavePath}`, O.RDWR | O.NOCTTY | O.CLOEXEC);
      try {
        const fds: FdAction[] = slave === undefined
          ? stdioActions(direct.plan)
          : [0, 1, 2].map((to) => ({ kind: "dup" as const, from: slave, to }));
        return sys.spawnInNamespaces({
          path: config.args[0],
          args: config.args,
          env: config.env,
          fds,
          namespaces: 0, // the PID namespace is this thread's pid_for_children
          unshareAfterWait: CLONE.NEWCGROUP,
          mounts,
          dropCapabilities: [...Array(lastCap + 1).keys()].filter((c) => !capabilities.has(c)),
          clearInheritable: true,
          newSession: slave !== undefined,
          controllingTerminal: slave === undefined ? undefined : 0,
          cwd: config.cwd,
          seccomp,
          ids: { uid: config.uid, gid: config.gid, groups: config.groups ?? [config.gid] },
          noNewPrivs: config.noNewPrivileges,
          parentDeathSignal: state.spec.parentDeathSignal,
          ...childCgroupOptions,
        }, (child) => {
          // Still the host's /proc and cgroup tree: this thread has not pivoted yet.
          applyProcessLimits(sys, config.ulimits, config.oomScoreAdj, 125, child);
          enterPreparedRoot(sys, config, root);
          try {
            sys.mkdirAll(config.cwd); // Docker makes a missing working directory
          } catch {
            // The child's chdir reports the real problem.
          }
          return { path: resolveCommand(config.args[0], config.env) };
        });
      } finally {
        if (slave !== undefined) sys.close(slave);
      }
    }, (e) => directStartError(e, config));
    pid = started;
    record(store, state, {
      status: "running",
      pid,
      pidStartTime: processStartTime(pid) ?? undefined,
      startedAt: new Date().toISOString(),
      ...(probeCommand(state.spec.healthcheck) ? { health: startingHealth(state.health) } : {}),
    });
    debug("start", () => `${state.id}: ${pid} exec'd ${JSON.stringify(state.spec.args)} directly`);
    recordContainerEvent(store.dir, state, "start");
    return { pid, ttyMaster, dnsSocket: dns };
  } catch (e) {
    // Spawned but not recorded (removed meanwhile, say): it must not run on, unwatched. A
    // failed spawn has reaped its child already.
    if (pid > 0) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
      waitSync(pid);
    }
    if (ttyMaster !== undefined) close(ttyMaster);
    releaseContainer(state);
    if (dns !== undefined) close(dns);
    throw e;
  } finally {
    childCgroup?.[Symbol.dispose]();
    closeDirect(init);
  }
}

/**
 * Runs `work` with this thread in the container's new mount, UTS, IPC and PID (for its
 * children) namespaces and its network namespace, and always comes back: to our own
 * namespaces, and to our working directory (entering a mount namespace resets it).
 */
function inContainerNamespaces<T>(
  sys: Syscalls,
  init: InitProcess,
  direct: DirectStart,
  work: () => T,
  mapError: (e: unknown) => unknown,
): T {
  const names: Array<[string, number]> = [
    ["mnt", CLONE.NEWNS],
    ["uts", CLONE.NEWUTS],
    ["ipc", CLONE.NEWIPC],
    ["net", CLONE.NEWNET],
    ["pid", CLONE.NEWPID],
  ];
  const own = new Map<number, number>();
  const cwd = sys.open(".", O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    for (const [name, flag] of names) {
      own.set(flag, sys.open(`/proc/thread-self/ns/${name}`, O.RDONLY | O.CLOEXEC));
    }
    try {
      const netns = init.netns ?? direct.joinNetns;
      if (netns !== undefined) sys.setns(netns, CLONE.NEWNET, "the container's network namespace");
      sys.unshare(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID);
      return work();
    } catch (e) {
      throw mapError(e);
    } finally {
      for (const [name, flag] of names) sys.setns(own.get(flag)!, flag, `own ${name} namespace`);
      sys.fchdir(cwd);
    }
  } finally {
    for (const fd of own.values()) sys.close(fd);
    sys.close(cwd);
  }
}

/**
 * What init would have reported for a failure while the container was being built or its
 * process started: a ContainerStartError with Docker's exit code (125, or 126/127 for a
 * command that cannot be run), the same words.
 */
function directStartError(e: unknown, config: InitConfig): ContainerStartError {
  if (e instanceof ContainerStartError) return e;
  if (e instanceof ExitCodeError) return new ContainerStartError(e.message, e.exitCode);
  if (!(e instanceof SyscallError)) return new ContainerStartError((e as Error).message, 125);
  if (e.syscall === "chdir") {
    return new ContainerStartError(
      `chdir to cwd ("${config.cwd}") set in config.json failed: ${errorReason(e)}`,
      125,
    );
  }
  if (e.syscall === "execve") {
    if (e.errno === ERRNO.ENOENT) {
      return new ContainerStartError(`exec: "${config.args[0]}": no such file or directory`, 127);
    }
    return new ContainerStartError(`exec: "${config.args[0]}": ${errorReason(e)}`, 126);
  }
  return new ContainerStartError(e.message, 125);
}
