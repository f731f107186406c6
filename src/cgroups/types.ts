/**
 * What the rest of m-docker sees of cgroups: the host's layout and one container's cgroup
 * behind one interface, whichever version implements it. Types only, so that the managers
 * and their factory import this downward and never each other.
 *
 * @module
 */

import type { ResourceLimits } from "../config/limits.ts";
import type { DeviceRule } from "../config/devices.ts";

/** How the host's cgroups are mounted. */
export type CgroupLayout = "v1" | "v2" | "hybrid";

/**
 * How a spawned child gets into the cgroup (see `CgroupManager.childPlacement`): on v1 it
 * writes "0" to each hierarchy's `tasks` itself (a thread that moves itself, alone, skips the
 * lock); on v2, where a domain cgroup takes whole processes only, it is born in the cgroup's
 * directory (clone3 with CLONE_INTO_CGROUP).
 */
export type ChildPlacement = { tasksFiles: string[] } | { bornIn: string };

/** One container's cgroup, in every hierarchy it spans. */
export interface CgroupManager {
  /** The host's cgroup layout this manager was made for. */
  readonly layout: CgroupLayout;
  /**
   * Absolute directories of this container's cgroup, keyed by hierarchy (v1: the mount's
   * directory name such as `memory` or `cpu,cpuacct`; v2: `unified`). Persisted by the
   * caller so that any later process can reopen it with `openCgroupManager`.
   */
  readonly paths: Record<string, string>;
  /**
   * Creates the cgroup (and missing parents) and writes the limits. On failure removes
   * what it made and throws a `CgroupWriteError` naming the file, the value and errno, or a
   * `CgroupUnsupportedError` for a limit this host cannot apply. `devices` is the whole
   * allow-list (everything else is denied); it defaults to Docker's standard nodes.
   */
  create(limits: ResourceLimits, devices?: readonly DeviceRule[]): void;
  /** Moves a process (all its threads) into the cgroup, in every hierarchy. */
  addProcess(pid: number): void;
  /** True when the kernel's OOM killer killed a process in this cgroup. */
  oomKilled(): boolean;
  /** The processes in the cgroup and in cgroups nested in it. */
  pids(): number[];
  /**
   * Sends `signal` to every process in the cgroup. With SIGKILL (the default) it also
   * keeps killing, bounded, until the cgroup is empty, so that nothing forked meanwhile
   * survives.
   */
  killAll(signal?: Deno.Signal): void;
  /**
   * Freezes (`true`) or thaws (`false`) every process in the cgroup and in those nested in
   * it, and waits until the kernel says it is done: v1's freezer.state, v2's cgroup.freeze
   * (`pause`/`unpause`). Throws `CgroupUnsupportedError` where the host has no freezer.
   */
  setFrozen(frozen: boolean): void;
  /**
   * Applies changed limits to the live cgroup (`update`): the files of `next` whose value
   * differs from those of `previous`, in an order the kernel accepts from the values in
   * force. Throws as `create` does, naming the file.
   */
  updateLimits(previous: ResourceLimits, next: ResourceLimits): void;
  /**
   * Kills what is left and removes the container's directories (and cgroups nested in
   * them). Missing directories are fine; shared parents are left in place.
   */
  destroy(): void;
  /**
   * Moves the caller into the cgroup so that what it spawns next starts there: on v1 the
   * calling thread only, on v2 the whole process (v2 places processes, not threads, in
   * domain cgroups). Returns how to go back.
   */
  enterForSpawning(): () => void;
  /**
   * How a new process starts in this cgroup with no one migrating it. Why: writing another
   * process's pid to `cgroup.procs` (`addProcess`, `enterForSpawning`) takes the kernel's
   * global threadgroup lock, whose first taking after a quiet spell waits an RCU grace period
   * (10-30 ms measured here, on every `run` and `exec`).
   */
  childPlacement(): ChildPlacement;
}
