/**
 * The `init` role: the process that becomes the container. Its parent spawned it as PID 1 of
 * a new PID namespace with the init socket at fd 3 and has already placed it in the
 * container's cgroup. Init reads its config, creates the remaining namespaces, builds the
 * root filesystem, and execs the user's command. Errors go back as one JSON line; success
 * is EOF, when exec closes the socket (the libcontainer handshake, seed 004).
 *
 * Only sync calls and FFI from here on: the new namespaces belong to the main thread.
 * Keep the imports small; they are loaded on every container start.
 *
 * @module
 */

import {
  cloexecFrom,
  CLONE,
  close as closeFd,
  dup2,
  execve,
  interfaceUp,
  O,
  read,
  readWithFds,
  resetSignals,
  sendFd,
  setControllingTerminal,
  setsid,
  writeAll,
} from "../../ffi/libc.ts";
import { ERRNO, errorReason, SyscallError } from "../../ffi/errors.ts";
import { INIT_STDERR_ENV } from "../config/init.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import type { InitConfig, InitFailure } from "../config/init.ts";
import { type OciInitConfig, PRESERVED_FDS_BASE } from "../config/oci_init.ts";
import { prepareBundleRootfs } from "../rootfs/oci_rootfs.ts";
import { runContainerHooks } from "../rootfs/container_hooks.ts";
import { envList } from "../config/env.ts";
import { prepareRootfs } from "../rootfs/setup.ts";
import { resolveCommand } from "../rootfs/command.ts";
import { dropCapabilities } from "../rootfs/capabilities.ts";
import { applyProcessLimits } from "../rootfs/process_limits.ts";
import { writeSysctls } from "../rootfs/sysctls.ts";
import { programFromBase64 } from "../seccomp/bpf.ts";
import { ExitCodeError } from "../util/errors.ts";

/** The descriptor the parent puts the init socket on. */
export const INIT_SOCKET_FD = 3;

/**
 * Reads the config: one JSON line, with the descriptors of a remapped container's mounts
 * attached (their indices in `config.userns` become the descriptors). EOF before it means
 * the parent gave up.
 */
function readConfig(fd: number): InitConfig | OciInitConfig {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  const fds: number[] = [];
  for (;;) {
    const n = readWithFds(fd, buf, fds);
    if (n === 0) throw new ExitCodeError("init: the parent closed the init socket", 125);
    chunks.push(buf.slice(0, n));
    if (buf[n - 1] === 0x0a) break;
  }
  const text = new TextDecoder().decode(
    chunks.length === 1 ? chunks[0] : new Uint8Array(chunks.flatMap((c) => [...c])),
  );
  const config = JSON.parse(text) as InitConfig | OciInitConfig;
  if ("kind" in config) return config;
  const u = config.userns;
  if (u) {
    const fdAt = (i: number) => {
      if (fds[i] === undefined) {
        throw new ExitCodeError("init: a mount's descriptor is missing", 125);
      }
      return fds[i];
    };
    u.mountPoint = fdAt(u.mountPoint);
    u.rootfs = fdAt(u.rootfs);
    u.etc = {
      hostname: fdAt(u.etc.hostname),
      hosts: fdAt(u.etc.hosts),
      resolvConf: fdAt(u.etc.resolvConf),
    };
    u.mounts = u.mounts.map((m) => ({ fd: fdAt(m.fd), directory: m.directory }));
  }
  return config;
}

/** Makes the terminal slave the process's stdio and controlling terminal. */
function attachTerminal(sys: Syscalls, slavePath: string): void {
  setsid();
  const slave = sys.open(slavePath, O.RDWR);
  setControllingTerminal(slave);
  for (const fd of [0, 1, 2]) dup2(slave, fd);
  if (slave > 2) sys.close(slave);
}

function workingDirectory(sys: Syscalls, cwd: string): void {
  try {
    sys.mkdirAll(cwd);
  } catch {
    // chdir below reports the real problem.
  }
  try {
    sys.chdir(cwd);
  } catch (e) {
    // runc's wording, with the errno as Go prints it.
    throw new ExitCodeError(
      `chdir to cwd ("${cwd}") set in config.json failed: ${errorReason(e)}`,
      125,
    );
  }
}

function becomeContainer(sys: Syscalls, config: InitConfig): never {
  // The new mount namespace keeps the working directory: the mount point, for a remapped
  // container, which init could not look up from there by its host path.
  if (config.userns) sys.fchdir(config.userns.mountPoint);
  // The network namespace was chosen at spawn (a new one, the host's, another container's).
  sys.unshare(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP);
  if (config.loopbackUp) interfaceUp("lo");
  if (config.sysctls) writeSysctls(config.sysctls, config.loopbackUp);
  const prepared = prepareRootfs(sys, config);
  sys.sethostname(config.hostname);
  if (prepared.ttyMaster !== undefined) {
    sendFd(INIT_SOCKET_FD, prepared.ttyMaster);
    sys.close(prepared.ttyMaster);
    attachTerminal(sys, prepared.ttySlavePath!);
  }
  workingDirectory(sys, config.cwd);
  const path = resolveCommand(config.args[0], config.env);
  applyProcessLimits(sys, config.ulimits, config.oomScoreAdj, 125);
  dropCapabilities(sys, config.capabilities && new Set(config.capabilities));
  // The filter goes on last but for what the profile must allow anyway (setresuid, close_range,
  // rt_sigaction, execve), and before the user's identity: loading it needs CAP_SYS_ADMIN.
  if (config.seccomp) sys.loadSeccompFilter(programFromBase64(config.seccomp));
  sys.setCredentials(config.uid, config.gid, config.groups ?? [config.gid]);
  if (config.noNewPrivileges) sys.setNoNewPrivs();
  cloexecFrom(INIT_SOCKET_FD);
  resetSignals();
  try {
    return execve(path, config.args, config.env);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === ERRNO.ENOENT) {
      throw new ExitCodeError(`exec: "${config.args[0]}": no such file or directory`, 127);
    }
    throw new ExitCodeError(`exec: "${config.args[0]}": ${(e as Error).message}`, 126);
  }
}

/**
 * Becomes an OCI bundle's container (`m-docker runtime create`): joins and unshares the
 * namespaces config.json names, builds the bundle's filesystem, sets hostname, terminal,
 * working directory and limits, finds the command, and says so to the runtime, which then
 * returns. Init waits on the exec FIFO until `start` writes to it, then takes the
 * capabilities, seccomp filter and identity, and execs (runc's order around its exec FIFO).
 */
function becomeOciContainer(sys: Syscalls, config: OciInitConfig): never {
  for (const [flag, path] of config.join) {
    const fd = sys.open(path, O.RDONLY | O.CLOEXEC);
    try {
      sys.setns(fd, flag, path);
    } finally {
      sys.close(fd);
    }
  }
  if (config.unshare) sys.unshare(config.unshare);
  if (config.sysctl) writeSysctls(config.sysctl, true);
  // Before the root is built: the host's /proc serves this UTS namespace's file too, and the
  // container's /proc/sys is read-only once readonlyPaths are applied.
  if (config.domainname !== undefined) {
    sys.writeTextFile("/proc/sys/kernel/domainname", config.domainname);
  }
  const p = config.process;
  const prepared = prepareBundleRootfs(sys, config);
  if (config.hostname !== undefined) sys.sethostname(config.hostname);
  if (prepared.ttyMaster !== undefined) {
    sendFd(INIT_SOCKET_FD, prepared.ttyMaster);
    sys.close(prepared.ttyMaster);
    const copies = stdioCopies();
    attachTerminal(sys, prepared.ttySlavePath!);
    // The runtime's stdio is not the container's now: no copy may keep the caller's pipes
    // open while the container waits for `start` (containerd's shim waits for their EOF).
    for (const fd of copies) closeFd(fd);
  } else {
    // A session of its own, as runc's init always has: a container whose PID 1 leads no
    // session inherits one from outside its PID namespace, which CRIU refuses to dump.
    setsid();
  }
  const hooks = config.containerHooks;
  const runtimeEnv = envList(Deno.env.toObject());
  if (hooks) {
    const created = JSON.stringify(hooks.state);
    runContainerHooks("createContainer", hooks.createContainer, created, runtimeEnv);
  }
  workingDirectory(sys, p.cwd);
  const path = resolveCommand(p.args[0], p.env);
  applyProcessLimits(sys, p.rlimits, p.oomScoreAdj, 125);
  // Built: the runtime records the container as created and returns. Nothing more is said
  // on the socket (its other end goes with the runtime): later failures go to stderr.
  writeAll(INIT_SOCKET_FD, new Uint8Array([0x43]));
  closeFd(INIT_SOCKET_FD);
  socketClosed = true;
  const go = new Uint8Array(1);
  if (read(config.execFifoFd, go) !== 1) throw new ExitCodeError("init: exec FIFO closed", 125);
  closeFd(config.execFifoFd);
  if (hooks) {
    const running = JSON.stringify({ ...hooks.state, status: "running" });
    runContainerHooks("startContainer", hooks.startContainer, running, runtimeEnv);
  }
  dropCapabilities(sys, new Set(p.bounding));
  if (config.seccomp) sys.loadSeccompFilter(programFromBase64(config.seccomp));
  sys.setCredentials(p.uid, p.gid, p.groups);
  if (p.umask !== undefined) sys.umask(p.umask);
  if (p.noNewPrivileges) sys.setNoNewPrivs();
  const preserved = config.preserveFds ?? 0;
  for (let i = 0; i < preserved; i++) dup2(PRESERVED_FDS_BASE + i, 3 + i);
  cloexecFrom(3 + preserved);
  resetSignals();
  try {
    return execve(path, p.args, p.env);
  } catch (e) {
    throw new ExitCodeError(`exec: "${p.args[0]}": ${(e as Error).message}`, 126);
  }
}

/**
 * Descriptors above init's own (the socket, the exec FIFO) that are copies of its stdio:
 * Deno keeps one of each standard stream it was started with.
 */
function stdioCopies(): number[] {
  const link = (fd: number | string) => {
    try {
      return Deno.readLinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return undefined;
    }
  };
  const stdio = new Set([0, 1, 2].map(link).filter((l) => l !== undefined));
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    const target = link(fd);
    if (fd > 4 && target !== undefined && stdio.has(target)) out.push(fd);
  }
  return out;
}

/** Set once an OCI container's init has said it is built and closed the socket. */
let socketClosed = false;

/** Entry point of the init role. Never returns. */
export function runInit(): never {
  // A remapped init booted with stderr on /dev/null (see spawnInit): the real one back.
  const stderr = Deno.env.get(INIT_STDERR_ENV);
  if (stderr) {
    dup2(Number(stderr), 2);
    closeFd(Number(stderr));
  }
  let failure: InitFailure;
  try {
    // Tell the parent we have booted: it moves us into the container's cgroup now.
    writeAll(INIT_SOCKET_FD, new Uint8Array([0x52]));
    const config = readConfig(INIT_SOCKET_FD);
    if ("kind" in config) becomeOciContainer(realSyscalls, config);
    else becomeContainer(realSyscalls, config);
  } catch (e) {
    failure = {
      error: (e as Error).message,
      exitCode: e instanceof ExitCodeError ? e.exitCode : 125,
    };
  }
  try {
    if (socketClosed) throw new Error("no socket");
    writeAll(INIT_SOCKET_FD, new TextEncoder().encode(JSON.stringify(failure!) + "\n"));
  } catch {
    // The parent is gone (an OCI container past its creation): stderr is all there is.
    try {
      writeAll(2, new TextEncoder().encode(`m-docker init: ${failure!.error}\n`));
    } catch { /* no stderr either */ }
  }
  Deno.exit(failure!.exitCode);
}
