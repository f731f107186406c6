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
  close,
  dropBoundingCapability,
  dup2,
  execve,
  interfaceUp,
  O,
  open,
  read,
  resetSignals,
  sendFd,
  setControllingTerminal,
  setCredentials,
  sethostname,
  setsid,
  unshare,
  writeAll,
} from "../../ffi/libc.ts";
import { SyscallError } from "../../ffi/errors.ts";
import type { InitConfig, InitFailure } from "../container/init_config.ts";
import { prepareRootfs } from "../rootfs/setup.ts";

/** The descriptor the parent puts the init socket on. */
export const INIT_SOCKET_FD = 3;

/** Docker's default capability set; everything else leaves the bounding set. */
const DEFAULT_CAPABILITIES = new Set([
  0, // CHOWN
  1, // DAC_OVERRIDE
  3, // FOWNER
  4, // FSETID
  5, // KILL
  6, // SETGID
  7, // SETUID
  8, // SETPCAP
  10, // NET_BIND_SERVICE
  13, // NET_RAW
  18, // SYS_CHROOT
  27, // MKNOD
  29, // AUDIT_WRITE
  31, // SETFCAP
]);

/** An error with the exit code Docker would give for it. */
class InitError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** Reads the config: one JSON line. EOF before it means the parent gave up. */
function readConfig(fd: number): InitConfig {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = read(fd, buf);
    if (n === 0) throw new InitError("init: the parent closed the init socket", 125);
    chunks.push(buf.slice(0, n));
    if (buf[n - 1] === 0x0a) break;
  }
  const text = new TextDecoder().decode(
    chunks.length === 1 ? chunks[0] : new Uint8Array(chunks.flatMap((c) => [...c])),
  );
  return JSON.parse(text) as InitConfig;
}

function dropCapabilities(): void {
  const last = Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  for (let cap = 0; cap <= last; cap++) {
    if (!DEFAULT_CAPABILITIES.has(cap)) dropBoundingCapability(cap);
  }
}

function envValue(env: string[], key: string): string | undefined {
  const entry = env.findLast((e) => e.startsWith(`${key}=`));
  return entry?.slice(key.length + 1);
}

/** Finds the program to exec as Docker does, with 127 for "not found", 126 otherwise. */
function resolveCommand(name: string, env: string[]): string {
  const candidates = name.includes("/")
    ? [name]
    : (envValue(env, "PATH") ?? "").split(":").filter((d) => d).map((d) => `${d}/${name}`);
  for (const path of candidates) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      continue;
    }
    if (info.isDirectory) {
      if (name.includes("/")) throw new InitError(`exec: "${name}": is a directory`, 126);
      continue;
    }
    if (((info.mode ?? 0) & 0o111) === 0) {
      if (name.includes("/")) throw new InitError(`exec: "${name}": permission denied`, 126);
      continue;
    }
    return path;
  }
  if (name.includes("/")) {
    throw new InitError(`exec: "${name}": stat ${name}: no such file or directory`, 127);
  }
  throw new InitError(`exec: "${name}": executable file not found in $PATH`, 127);
}

/** Makes the terminal slave the process's stdio and controlling terminal. */
function attachTerminal(slavePath: string): void {
  setsid();
  const slave = open(slavePath, O.RDWR);
  setControllingTerminal(slave);
  for (const fd of [0, 1, 2]) dup2(slave, fd);
  if (slave > 2) close(slave);
}

function workingDirectory(cwd: string): void {
  try {
    Deno.mkdirSync(cwd, { recursive: true });
  } catch {
    // chdir below reports the real problem.
  }
  try {
    Deno.chdir(cwd);
  } catch (e) {
    throw new InitError(`chdir to cwd ("${cwd}") set in config.json failed: ${e}`, 125);
  }
}

function becomeContainer(config: InitConfig): never {
  unshare(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWCGROUP);
  interfaceUp("lo");
  const prepared = prepareRootfs(config);
  sethostname(config.hostname);
  if (prepared.ttyMaster !== undefined) {
    sendFd(INIT_SOCKET_FD, prepared.ttyMaster);
    close(prepared.ttyMaster);
    attachTerminal(prepared.ttySlavePath!);
  }
  workingDirectory(config.cwd);
  const path = resolveCommand(config.args[0], config.env);
  dropCapabilities();
  setCredentials(config.uid, config.gid, [config.gid]);
  cloexecFrom(INIT_SOCKET_FD);
  resetSignals();
  try {
    return execve(path, config.args, config.env);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === 2) {
      throw new InitError(`exec: "${config.args[0]}": no such file or directory`, 127);
    }
    throw new InitError(`exec: "${config.args[0]}": ${(e as Error).message}`, 126);
  }
}

/** Entry point of the init role. Never returns. */
export function runInit(): never {
  let failure: InitFailure;
  try {
    // Tell the parent we have booted: it moves us into the container's cgroup now.
    writeAll(INIT_SOCKET_FD, new Uint8Array([0x52]));
    becomeContainer(readConfig(INIT_SOCKET_FD));
  } catch (e) {
    failure = {
      error: (e as Error).message,
      exitCode: e instanceof InitError ? e.exitCode : 125,
    };
  }
  try {
    writeAll(INIT_SOCKET_FD, new TextEncoder().encode(JSON.stringify(failure!) + "\n"));
  } catch {
    // The parent is gone; the exit code is all that is left.
  }
  Deno.exit(failure!.exitCode);
}
