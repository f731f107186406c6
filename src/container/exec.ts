/**
 * `exec`: a new process in a running container. The calling thread enters the container
 * (its cgroup, then its IPC, UTS, network, cgroup and mount namespaces and its root, then
 * its PID namespace for the one spawn), spawns the command, and comes back. No second
 * Deno process is started; all of it is sync FFI on the main thread (DESIGN.md).
 *
 * Dropping capabilities from the bounding set cannot be undone, so the calling thread
 * keeps the container's reduced set afterwards: the CLI process spawns nothing else. The
 * same holds for the container's seccomp filter, which the thread installs just before the
 * spawn (the command inherits it) and keeps: what the thread does afterwards (setresuid,
 * setns back through the descriptors it holds, fchdir, close, the relay of the command's
 * I/O) must pass it, so the filter lets exactly those setns calls through as well.
 *
 * @module
 */

import { CLONE, type FdAction, O } from "../../ffi/libc.ts";
import { errorReason } from "../../ffi/errors.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import {
  childPlacementOf,
  enterCgroupForSpawning,
  warmUpCgroupMigration,
} from "../cgroups/join.ts";
import { realCgroupFs } from "../cgroups/fs.ts";
import { resolveCommand } from "../rootfs/command.ts";
import { containerCapabilities, dropCapabilities } from "../rootfs/capabilities.ts";
import { applyProcessLimits, type RestoreLimits } from "../rootfs/process_limits.ts";
import { containerFilter } from "./seccomp_filter.ts";
import type { FlatRule } from "../seccomp/profile.ts";
import type { CgroupLayout } from "../cgroups/types.ts";
import type { Ulimit } from "../config/container.ts";
import { resolveUser } from "../rootfs/user.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { mergeEnv } from "../config/env.ts";
import { isRunning } from "./reconcile.ts";
import { callerConsoleSize } from "./terminal.ts";
import { ChildCgroup } from "./child_cgroup.ts";

/** What to run, as the user asked. */
export interface ExecRequest {
  args: string[];
  /** `-e` entries, added to the container's environment. */
  env: string[];
  cwd?: string;
  /** `-u USER[:GROUP]`. */
  user?: string;
  /** Numeric ids, as an OCI process.json gives them (instead of `user`). */
  ids?: { uid: number; gid: number; groups: readonly number[] };
  tty: boolean;
  /** The terminal's size; absent: the caller's own terminal's, if it has one. */
  consoleSize?: { rows: number; columns: number };
  interactive: boolean;
  detach: boolean;
}

/**
 * The running container an exec enters and what its processes get unless the request says
 * otherwise: a Docker-style container's (`execTargetOf`) or an OCI bundle's (src/runtime).
 */
export interface ExecTarget {
  id: string;
  /** The container's PID 1, alive. */
  pid: number;
  cgroup: { layout: CgroupLayout; paths: Record<string, string> };
  env: readonly string[];
  cwd: string;
  uid: number;
  gid: number;
  capabilities: ReadonlySet<number>;
  noNewPrivileges: boolean;
  ulimits?: readonly Ulimit[];
  oomScoreAdj?: number;
  /** The container has a user namespace of its own (`--userns=remap`), which the exec joins. */
  remapped: boolean;
  /**
   * The seccomp filter the command gets; for a remapped container the thread loads it
   * itself and `extra` lists the setns calls it must still be allowed afterwards.
   */
  filter(extra: readonly FlatRule[]): Promise<Uint8Array<ArrayBuffer> | undefined>;
}

/** What an exec into a Docker-style container gets from the container's spec. */
export function execTargetOf(state: ContainerState): ExecTarget {
  const spec = state.spec;
  const capabilities = containerCapabilities(spec.capabilities);
  return {
    id: state.id,
    pid: state.pid!,
    cgroup: state.cgroup,
    env: spec.env,
    cwd: spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
    capabilities,
    noNewPrivileges: spec.noNewPrivileges ?? false,
    ulimits: spec.ulimits,
    oomScoreAdj: spec.oomScoreAdj,
    remapped: spec.userns !== undefined,
    async filter(extra) {
      if (spec.privileged) return undefined;
      if (!extra.length) return await containerFilter(state);
      const { containerSeccompFilter } = await import("../seccomp/container.ts");
      return containerSeccompFilter(spec.seccomp, capabilities, extra);
    },
  };
}

/** A process started by `exec`. */
export interface ExecProcess {
  pid: number;
  ttyMaster?: number;
}

/** The namespaces entered, in an order that works: mount last but PID, which is per spawn. */
const NAMESPACES: Array<[name: string, flag: number]> = [
  ["ipc", CLONE.NEWIPC],
  ["uts", CLONE.NEWUTS],
  ["net", CLONE.NEWNET],
  ["cgroup", CLONE.NEWCGROUP],
  ["mnt", CLONE.NEWNS],
];

function openNs(sys: Syscalls, pid: number | "thread-self", name: string): number {
  const base = pid === "thread-self" ? "/proc/thread-self" : `/proc/${pid}`;
  return sys.open(`${base}/ns/${name}`, O.RDONLY | O.CLOEXEC);
}

function stdioFor(req: ExecRequest, slave?: string): FdAction[] {
  if (slave) {
    return [
      // Not the opener's controlling terminal (a health probe's role may have none): the child's.
      { kind: "open", fd: 0, path: slave, flags: O.RDWR | O.NOCTTY },
      { kind: "dup", from: 0, to: 1 },
      { kind: "dup", from: 0, to: 2 },
    ];
  }
  const nul = (fd: number): FdAction => ({
    kind: "open",
    fd,
    path: "/dev/null",
    flags: fd ? O.WRONLY : O.RDONLY,
  });
  if (req.detach) return [nul(0), nul(1), nul(2)];
  return req.interactive ? [] : [nul(0)];
}

/**
 * The command of an `exec` into a remapped container: a child cloned by this thread (so in
 * the container's PID namespace and the others this thread has joined) that joins the
 * container's user namespace itself, drops `drop` from its bounding set and takes the
 * user's ids there, then execs (ffi/nsclone.ts). The ids are the container's own.
 */
function spawnRemapped(
  sys: Syscalls,
  req: ExecRequest,
  c: {
    path: string;
    env: string[];
    user: { uid: number; gid: number; groups: readonly number[] };
    usernsFd: number;
    tty?: { master: number; slave: string };
    drop: number[];
  },
): ExecProcess {
  try {
    const pid = sys.spawnInNamespaces({
      path: c.path,
      args: req.args,
      env: c.env,
      fds: stdioFor(req, c.tty?.slave),
      namespaces: 0,
      joinUserns: c.usernsFd,
      dropCapabilities: c.drop,
      ids: c.user,
      newSession: req.tty || req.detach,
      controllingTerminal: c.tty ? 0 : undefined,
    });
    return { pid, ttyMaster: c.tty?.master };
  } catch (e) {
    if (c.tty) sys.close(c.tty.master);
    throw new ExitCodeError(`exec: "${req.args[0]}": ${(e as Error).message}`, 126);
  }
}

/**
 * Starts `req` in the running container `state`. Throws an `ExitCodeError`: 125 when the
 * container is not running, 126/127 when the command cannot be run. `sys` is the kernel
 * unless a test passes a fake.
 */
export async function execInContainer(
  state: ContainerState,
  req: ExecRequest,
  sys: Syscalls = realSyscalls,
): Promise<ExecProcess> {
  if (!isRunning(state)) {
    throw new ExitCodeError(`container ${state.id} is not running`, 125);
  }
  if (state.paused) {
    // Docker's conflict (exit 1). Not from pause.ts, which would load the cgroup managers
    // that exec does without.
    throw new ExitCodeError(
      `Container ${state.id} is paused, unpause the container before exec`,
      1,
    );
  }
  return await execInTarget(execTargetOf(state), req, sys);
}

/**
 * Starts `req` in the running container `t` (the caller checked it runs): the steps of
 * `execInContainer`, for any container this engine knows how to enter.
 */
export async function execInTarget(
  t: ExecTarget,
  req: ExecRequest,
  sys: Syscalls = realSyscalls,
): Promise<ExecProcess> {
  const target = t.pid;
  const own = new Map<string, number>();
  const theirs = new Map<string, number>();
  let rootFd = -1, cwdFd = -1, leaveCgroup: (() => void) | undefined;
  let restoreLimits: RestoreLimits | undefined;
  let unshared = false;
  // Remapped: the command must join the container's user namespace too, which only a
  // process without threads can (see spawnRemapped).
  const remapped = t.remapped;
  // The child gets into the cgroup, and its cgroup namespace, by itself (childPlacement;
  // clone3 into a cgroup, like any move, needs the mover in a cgroup namespace that sees
  // its own cgroup, which nsdelegate enforces). A remapped exec's child is cloned another
  // way: this thread (v2: this process) moves in and back, and the first move waits a grace
  // period, paid here in the background meanwhile.
  const warmUp = remapped ? warmUpCgroupMigration() : undefined;
  let childCgroup: ChildCgroup | undefined;
  let usernsFd = -1;
  try {
    for (const [name] of [...NAMESPACES, ["pid", 0] as [string, number]]) {
      own.set(name, openNs(sys, "thread-self", name));
      theirs.set(name, openNs(sys, target, name));
    }
    if (remapped) usernsFd = openNs(sys, target, "user");
    const capabilities = t.capabilities;
    // A remapped exec loads the filter on this thread, which must then still setns back to
    // its own namespaces (and the child into the user namespace): those calls, on those
    // descriptors only, stay allowed. Otherwise the child loads the container's own filter
    // just before its exec. (Awaited here, before this thread enters any namespace.)
    let extra: FlatRule[] = [];
    if (remapped) {
      const { allowSetns } = await import("../seccomp/container.ts");
      extra = [
        ...[...NAMESPACES, ["pid", CLONE.NEWPID] as const].map(([name, flag]) =>
          allowSetns(own.get(name)!, flag)
        ),
        allowSetns(usernsFd, CLONE.NEWUSER),
      ];
    }
    const filter = await t.filter(extra);
    rootFd = sys.open(`/proc/${target}/root`, O.PATH | O.DIRECTORY | O.CLOEXEC);
    cwdFd = sys.open(".", O.PATH | O.DIRECTORY | O.CLOEXEC);
    await warmUp;
    // Into the cgroup first: what this thread spawns is born there. From the paths alone,
    // as the managers do it (src/cgroups/join.ts), without loading either manager.
    const { layout, paths } = t.cgroup;
    if (remapped) leaveCgroup = enterCgroupForSpawning(layout, paths, realCgroupFs);
    else childCgroup = ChildCgroup.open(sys, childPlacementOf(layout, paths));
    // While our own /proc is still the one mounted (the container's does not show us) and
    // before the capabilities go: a hard limit above ours needs CAP_SYS_RESOURCE.
    restoreLimits = applyProcessLimits(sys, t.ulimits, t.oomScoreAdj, 126);
    // setns into a mount namespace needs a filesystem context of this thread's own.
    sys.unshare(CLONE.FS);
    unshared = true;
    for (const [name, flag] of NAMESPACES) {
      if (name === "cgroup" && childCgroup) continue; // the child joins it (joinCgroupns)
      sys.setns(theirs.get(name)!, flag, `${name} namespace of ${target}`);
    }
    sys.fchdir(rootFd);
    sys.chroot(".");
    const env = mergeEnv([...t.env], req.tty ? ["TERM=xterm"] : [], req.env);
    const cwd = req.cwd ?? t.cwd;
    try {
      sys.chdir(cwd);
    } catch (e) {
      // The errno as Go (and so Docker) prints it: "no such file or directory", "not a
      // directory", "permission denied".
      throw new ExitCodeError(`chdir to cwd ("${cwd}") failed: ${errorReason(e)}`, 126);
    }
    const user = req.ids ??
      (req.user === undefined
        ? { uid: t.uid, gid: t.gid, groups: [t.gid] }
        : resolveUser(req.user, (p) => sys.readTextFile(p)));
    const path = resolveCommand(req.args[0], env);
    let tty: { master: number; slave: string } | undefined;
    if (req.tty) {
      const { master, ptsNumber } = sys.openPty("/dev/ptmx");
      const size = req.consoleSize ?? callerConsoleSize();
      if (size) sys.setWindowSize(master, size.rows, size.columns);
      tty = { master, slave: `/dev/pts/${ptsNumber}` };
    }
    const lastCap = Number(sys.readTextFile("/proc/sys/kernel/cap_last_cap").trim());
    const drop = [...Array(lastCap + 1).keys()].filter((c) => !capabilities.has(c));
    sys.setns(theirs.get("pid")!, CLONE.NEWPID, `pid namespace of ${target}`);
    if (remapped) {
      dropCapabilities(sys, capabilities, lastCap);
      try {
        if (filter) sys.loadSeccompFilter(filter);
        if (t.noNewPrivileges) sys.setNoNewPrivs();
        return spawnRemapped(sys, req, {
          path,
          env,
          user,
          usernsFd,
          tty,
          // Joining a user namespace gives a full bounding set again: the child drops it.
          drop,
        });
      } finally {
        sys.setns(own.get("pid")!, CLONE.NEWPID, "own pid namespace");
      }
    }
    try {
      // What a runtime in C does between fork and exec, done by the child (ffi/nsclone.s), so
      // that this thread keeps its capabilities, identity and no filter.
      const pid = sys.spawnInNamespaces({
        path,
        args: req.args,
        env,
        fds: stdioFor(req, tty?.slave),
        namespaces: 0, // this thread's: the container's, the PID one for its children
        dropCapabilities: drop,
        clearInheritable: true,
        newSession: req.tty || req.detach,
        controllingTerminal: tty ? 0 : undefined,
        seccomp: filter,
        ids: user,
        noNewPrivs: t.noNewPrivileges,
        ...childCgroup!.options,
        joinCgroupns: theirs.get("cgroup"),
      });
      return { pid, ttyMaster: tty?.master };
    } catch (e) {
      if (tty) sys.close(tty.master);
      throw new ExitCodeError(`exec: "${req.args[0]}": ${(e as Error).message}`, 126);
    } finally {
      sys.setns(own.get("pid")!, CLONE.NEWPID, "own pid namespace");
    }
  } finally {
    if (unshared) {
      // Back to our own namespaces; the mount namespace resets root and cwd, so restore cwd.
      for (const [name, flag] of [...NAMESPACES].reverse()) {
        if (name === "cgroup" && childCgroup) continue; // never left
        sys.setns(own.get(name)!, flag, `own ${name} namespace`);
      }
      sys.fchdir(cwdFd);
    }
    restoreLimits?.();
    leaveCgroup?.();
    for (
      const fd of [
        ...own.values(),
        ...theirs.values(),
        rootFd,
        cwdFd,
        usernsFd,
      ]
    ) {
      if (fd >= 0) sys.close(fd);
    }
    childCgroup?.[Symbol.dispose]();
  }
}
