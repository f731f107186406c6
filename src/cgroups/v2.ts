/**
 * cgroup v2: one unified hierarchy. Controllers must be enabled in the
 * `cgroup.subtree_control` of every ancestor, from the root down, before a child can use
 * them.
 *
 * @module
 */

import type { CgroupManager } from "./manager.ts";
import type { CgroupFs } from "./fs.ts";
import type { ResourceLimits } from "./limits.ts";
import { killAllIn, mkdirLevels, readProcs, removeQuietly, rmdirWithRetry } from "./common.ts";
import { sharesToWeight } from "../util/units.ts";

const WANTED_CONTROLLERS = ["cpu", "cpuset", "memory", "pids"];

/** A container's cgroup on a pure cgroup v2 host. */
export class CgroupV2Manager implements CgroupManager {
  readonly layout = "v2" as const;
  private readonly dir: string;

  constructor(
    readonly paths: Record<string, string>,
    private readonly fs: CgroupFs,
    private readonly root = "/sys/fs/cgroup",
  ) {
    this.dir = paths.unified;
  }

  create(limits: ResourceLimits): void {
    const parent = this.dir.slice(0, this.dir.lastIndexOf("/"));
    const created = mkdirLevels(this.fs, this.root, parent);
    try {
      this.enableControllers(parent);
      this.fs.mkdir(this.dir);
      created.push(this.dir);
      this.writeLimits(limits);
    } catch (e) {
      removeQuietly(this.fs, created);
      throw e;
    }
  }

  /** Enables the controllers we use in every ancestor of the container, top down. */
  private enableControllers(parent: string): void {
    const available = this.fs.read(`${this.root}/cgroup.controllers`).trim().split(/\s+/);
    const wanted = WANTED_CONTROLLERS.filter((c) => available.includes(c));
    const levels = [this.root];
    for (const part of parent.slice(this.root.length).split("/").filter((p) => p)) {
      levels.push(`${levels[levels.length - 1]}/${part}`);
    }
    for (const dir of levels) {
      const enabled = this.fs.read(`${dir}/cgroup.subtree_control`).trim().split(/\s+/);
      const missing = wanted.filter((c) => !enabled.includes(c));
      if (missing.length === 0) continue;
      try {
        this.fs.write(`${dir}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(" "));
      } catch (e) {
        throw new Error(
          `${(e as Error).message} (cgroup v2 cannot enable controllers in a cgroup that holds ` +
            "processes: use an absolute --cgroup-parent outside the caller's own cgroup)",
        );
      }
    }
  }

  private writeLimits(l: ResourceLimits): void {
    const w = (file: string, value: string) => this.fs.write(`${this.dir}/${file}`, value);
    if (l.memoryBytes !== undefined) w("memory.max", String(l.memoryBytes));
    if (l.memorySwapBytes !== undefined) {
      const swap = l.memorySwapBytes === -1
        ? "max"
        : String(l.memorySwapBytes - (l.memoryBytes ?? 0));
      w("memory.swap.max", swap);
    }
    if (l.cpuQuotaUs !== undefined) w("cpu.max", `${l.cpuQuotaUs} ${l.cpuPeriodUs ?? 100_000}`);
    if (l.cpuShares !== undefined && l.cpuShares > 0) {
      w("cpu.weight", String(sharesToWeight(l.cpuShares)));
    }
    if (l.cpusetCpus !== undefined) w("cpuset.cpus", l.cpusetCpus);
    if (l.pidsLimit !== undefined) w("pids.max", l.pidsLimit > 0 ? String(l.pidsLimit) : "max");
  }

  addProcess(pid: number): void {
    this.fs.write(`${this.dir}/cgroup.procs`, String(pid));
  }

  enterCallingThread(): () => void {
    const own = Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)?.[1] ?? "/";
    const back = `${this.root}${own === "/" ? "" : own}/cgroup.procs`;
    this.fs.write(`${this.dir}/cgroup.procs`, String(Deno.pid));
    return () => this.fs.write(back, String(Deno.pid));
  }

  oomKilled(): boolean {
    const file = `${this.dir}/memory.events`;
    if (!this.fs.exists(file)) return false;
    const m = /^oom_kill (\d+)$/m.exec(this.fs.read(file));
    return m !== null && Number(m[1]) > 0;
  }

  pids(): number[] {
    return readProcs(this.fs, this.dir);
  }

  killAll(): void {
    if (this.fs.exists(`${this.dir}/cgroup.kill`)) this.fs.write(`${this.dir}/cgroup.kill`, "1");
    killAllIn(this.fs, this.dir);
  }

  destroy(): void {
    if (!this.fs.exists(this.dir)) return;
    this.killAll();
    rmdirWithRetry(this.fs, this.dir);
    // The shared parent goes too once the last container has left it.
    removeQuietly(this.fs, [this.dir.slice(0, this.dir.lastIndexOf("/"))]);
  }
}
