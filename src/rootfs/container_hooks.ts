/**
 * The OCI hooks that run in the container's namespaces (config.md "createContainer" and
 * "startContainer"): run by init itself, once the root is built (createContainer) and once
 * `start` has let it go on, just before the user's process (startContainer). Each gets the
 * container's state document on stdin, its own args and env (the runtime's when it names
 * none, as runc's), and is killed at its timeout. Sync calls only: init's namespaces are
 * its main thread's.
 *
 * @module
 */

import { close, kill, pipe, spawn, waitSync, writeAll } from "../../ffi/libc.ts";
import { ExitCodeError } from "../util/errors.ts";

/** One hook as init runs it. */
export interface ContainerHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** Runs `hooks` in order; the first that fails (or times out) stops the container. */
export function runContainerHooks(
  name: string,
  hooks: readonly ContainerHook[],
  state: string,
  env: readonly string[],
): void {
  for (const [i, hook] of hooks.entries()) {
    const [read, write] = pipe();
    let pid: number;
    try {
      pid = spawn({
        path: hook.path,
        args: hook.args?.length ? hook.args : [hook.path],
        env: hook.env ?? env,
        fds: [{ kind: "dup", from: read, to: 0 }],
      });
    } catch (e) {
      close(read);
      close(write);
      throw new ExitCodeError(`${name} hook #${i} (${hook.path}): ${(e as Error).message}`, 125);
    }
    close(read);
    try {
      writeAll(write, new TextEncoder().encode(state));
    } catch { /* a hook that does not read its stdin */ }
    close(write);
    const deadline = hook.timeout ? Date.now() + hook.timeout * 1000 : Infinity;
    let result = waitSync(pid, true);
    while (result === null) {
      if (Date.now() > deadline) {
        kill(pid, 9);
        waitSync(pid);
        throw new ExitCodeError(
          `${name} hook #${i} (${hook.path}): timed out after ${hook.timeout} s`,
          125,
        );
      }
      const until = Date.now() + 5;
      while (Date.now() < until) { /* a short spin: init has nothing else to do */ }
      result = waitSync(pid, true);
    }
    if (result.exitCode !== 0) {
      throw new ExitCodeError(
        `${name} hook #${i} (${hook.path}): exit status ${result.exitCode}`,
        125,
      );
    }
  }
}
