/**
 * The OCI runtime's state directory (`--root`, /run/m-docker-runc by default): one
 * directory per container holding `state.json` (what `create` decided: bundle, pid, cgroup)
 * and, until `start`, the `exec.fifo` its init waits on. Every runtime command is a new
 * process, so everything a later one needs is here; a per-container lock file serialises
 * commands on one container, and writes are atomic (a crash leaves the old state or the new).
 *
 * @module
 */

import { writeFileAtomic } from "../util/atomic_file.ts";
import { isProcessAlive, processStartTime } from "../state/proc.ts";
import type { CgroupLayout } from "../cgroups/types.ts";
import type { ResourceLimits } from "../config/limits.ts";

/** runc's default state root is /run/runc; ours sits beside it. */
export const DEFAULT_RUNTIME_ROOT = "/run/m-docker-runc";

/** What `create` records for a container. */
export interface RuntimeRecord {
  id: string;
  /** The bundle directory, absolute. */
  bundle: string;
  /** The container's root filesystem, absolute. */
  rootfs: string;
  /** Init's pid (the container's PID 1 once started) and its start time, against reuse. */
  pid: number;
  pidStartTime?: number;
  /** When `create` finished, RFC 3339. */
  created: string;
  annotations: Record<string, string>;
  cgroup: { layout: CgroupLayout; paths: Record<string, string> };
  /** The limits in force in the cgroup: `create`'s, then each `update`'s (its `previous`). */
  limits?: ResourceLimits;
  /** config.json's poststop hooks, run by `delete`. */
  poststop?: RuntimeHook[];
  /** config.json's poststart hooks, run by `start` once the command runs. */
  poststart?: RuntimeHook[];
  /** config.json's ociVersion. */
  ociVersion: string;
  /** Frozen by `pause` (until `resume`). */
  paused?: boolean;
}

/** One hook of config.json. */
export interface RuntimeHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** The status the OCI runtime spec defines, as `state` prints it. */
export type RuntimeStatus = "creating" | "created" | "running" | "stopped" | "paused";

/** An unknown container ID. */
export class NoSuchRuntimeContainerError extends Error {
  override name = "NoSuchRuntimeContainerError";
  constructor(readonly id: string) {
    super(`container does not exist: ${id}`);
  }
}

/** IDs runc accepts: letters, digits and `_+-.`, not `.` or `..`. */
export function validateContainerId(id: string): void {
  if (!/^[\w+.-]+$/.test(id) || id === "." || id === "..") {
    throw new Error(`invalid container id format: ${JSON.stringify(id)}`);
  }
}

/** The runtime's state root. */
export class RuntimeStore {
  constructor(readonly root: string = DEFAULT_RUNTIME_ROOT) {}

  dir(id: string): string {
    return `${this.root}/${id}`;
  }

  fifoPath(id: string): string {
    return `${this.dir(id)}/exec.fifo`;
  }

  /**
   * Makes the container's directory; throws if it exists (runc: "container with id exists").
   * The directory is 0711 like runc's: the FIFO inside must be reachable by the container's user.
   */
  claim(id: string): void {
    validateContainerId(id);
    Deno.mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      Deno.mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new Error(`container with id exists: ${id}`);
      }
      throw e;
    }
  }

  /** Runs `fn` holding the container's lock (flock on `<dir>/lock`). */
  withLock<T>(id: string, fn: () => T): T {
    validateContainerId(id);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(`${this.dir(id)}/lock`, { read: true, write: true, create: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new NoSuchRuntimeContainerError(id);
      throw e;
    }
    try {
      file.lockSync(true);
      return fn();
    } finally {
      file.close();
    }
  }

  write(record: RuntimeRecord): void {
    writeFileAtomic(
      `${this.dir(record.id)}/state.json`,
      new TextEncoder().encode(JSON.stringify(record)),
    );
  }

  /** The record, or NoSuchRuntimeContainerError; a torn or foreign file says so in one line. */
  read(id: string): RuntimeRecord {
    validateContainerId(id);
    let text: string;
    try {
      text = Deno.readTextFileSync(`${this.dir(id)}/state.json`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new NoSuchRuntimeContainerError(id);
      throw e;
    }
    try {
      return JSON.parse(text) as RuntimeRecord;
    } catch {
      throw new Error(`container ${id}: its state file ${this.dir(id)}/state.json is damaged`);
    }
  }

  /** IDs of every container with a state file. */
  ids(): string[] {
    const out: string[] = [];
    try {
      for (const e of Deno.readDirSync(this.root)) if (e.isDirectory) out.push(e.name);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort();
  }

  /** Removes the container's directory (its lock file with it). */
  remove(id: string): void {
    Deno.removeSync(this.dir(id), { recursive: true });
  }

  /** The status from the host's facts: init alive (a zombie is dead), the FIFO, `pause`. */
  status(record: RuntimeRecord): RuntimeStatus {
    if (!isProcessAlive(record.pid, record.pidStartTime) || isZombie(record.pid)) {
      return "stopped";
    }
    try {
      Deno.statSync(this.fifoPath(record.id));
      return "created";
    } catch {
      return record.paused ? "paused" : "running";
    }
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return true;
  }
}

export { processStartTime };
