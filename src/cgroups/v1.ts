/**
 * cgroup v1 (and the hybrid layout, whose cgroup2 half holds no controllers): one
 * directory per mounted hierarchy, limits in each controller's own files.
 *
 * @module
 */

import type { CgroupLayout, CgroupManager } from "./manager.ts";
import { gettid } from "../../ffi/libc.ts";
import type { CgroupFs } from "./fs.ts";
import type { ResourceLimits } from "./limits.ts";
import {
  killAllIn,
  mkdirLevels,
  parseProcCgroup,
  readProcs,
  removeQuietly,
  rmdirWithRetry,
  sleepSync,
} from "./common.ts";

/** A mounted v1 hierarchy: its directory name, mount point and mount options. */
export interface V1Hierarchy {
  name: string;
  mount: string;
  options: string[];
}

/** The v1 hierarchies mounted directly under `root`, from a /proc/self/mounts text. */
export function v1Hierarchies(root: string, mounts: string): V1Hierarchy[] {
  const out: V1Hierarchy[] = [];
  for (const line of mounts.split("\n")) {
    const [, target, type, opts] = line.split(" ");
    if (type !== "cgroup" || !target.startsWith(`${root}/`)) continue;
    const name = target.slice(root.length + 1);
    if (name.includes("/")) continue;
    out.push({ name, mount: target, options: opts.split(",") });
  }
  return out;
}

/** The devices a container may use, as runc's default allow list. */
const ALLOWED_DEVICES = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm", // null
  "c 1:5 rwm", // zero
  "c 1:7 rwm", // full
  "c 1:8 rwm", // random
  "c 1:9 rwm", // urandom
  "c 5:0 rwm", // tty
  "c 5:1 rwm", // console
  "c 5:2 rwm", // ptmx
  "c 136:* rwm", // pts
];

function parentOf(dir: string): string {
  return dir.slice(0, dir.lastIndexOf("/"));
}

/** Which hierarchy directory holds a controller's files, e.g. `cpu` in `cpu,cpuacct`. */
function dirFor(paths: Record<string, string>, controller: string): string | undefined {
  if (paths[controller]) return paths[controller];
  const key = Object.keys(paths).find((k) => k.split(",").includes(controller));
  return key ? paths[key] : undefined;
}

/** A container's cgroup on a v1 or hybrid host. */
export class CgroupV1Manager implements CgroupManager {
  constructor(
    readonly paths: Record<string, string>,
    private readonly fs: CgroupFs,
    readonly layout: CgroupLayout = "v1",
  ) {}

  create(limits: ResourceLimits): void {
    // A concurrent `destroy` may remove a shared parent between our mkdirs: try again.
    for (let attempt = 1;; attempt++) {
      try {
        return this.tryCreate(limits);
      } catch (e) {
        const parentsGone = Object.values(this.paths).some((d) => !this.fs.exists(parentOf(d)));
        if (attempt >= 3 || !parentsGone) throw e;
      }
    }
  }

  private tryCreate(limits: ResourceLimits): void {
    const created: string[] = [];
    try {
      for (const [name, dir] of Object.entries(this.paths)) {
        const mount = dir.slice(0, dir.indexOf(`/${name}/`) + name.length + 1);
        created.push(...mkdirLevels(this.fs, mount, dir, (d) => {
          if (name.split(",").includes("cpuset")) this.inheritCpuset(d);
        }));
      }
      this.restrictDevices();
      this.writeLimits(limits);
    } catch (e) {
      removeQuietly(this.fs, created);
      throw e;
    }
  }

  /** A new cpuset cgroup has no CPUs or memory nodes: copy the parent's, or nothing can join. */
  private inheritCpuset(dir: string): void {
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (this.fs.read(`${dir}/${file}`).trim() === "") {
        this.fs.write(`${dir}/${file}`, this.fs.read(`${parent}/${file}`).trim());
      }
    }
  }

  private restrictDevices(): void {
    const dir = dirFor(this.paths, "devices");
    if (!dir) return;
    this.fs.write(`${dir}/devices.deny`, "a");
    for (const rule of ALLOWED_DEVICES) this.fs.write(`${dir}/devices.allow`, rule);
  }

  private writeLimits(l: ResourceLimits): void {
    const memory = dirFor(this.paths, "memory");
    if (memory && l.memoryBytes !== undefined) {
      this.fs.write(`${memory}/memory.limit_in_bytes`, String(l.memoryBytes));
    }
    if (memory && l.memorySwapBytes !== undefined) {
      const file = `${memory}/memory.memsw.limit_in_bytes`;
      if (!this.fs.exists(file)) {
        throw new Error(
          "this kernel has no swap accounting (memory.memsw.*): --memory-swap cannot be applied",
        );
      }
      this.fs.write(file, String(l.memorySwapBytes));
    }
    const cpu = dirFor(this.paths, "cpu");
    if (cpu && l.cpuQuotaUs !== undefined) {
      this.fs.write(`${cpu}/cpu.cfs_period_us`, String(l.cpuPeriodUs ?? 100_000));
      this.fs.write(`${cpu}/cpu.cfs_quota_us`, String(l.cpuQuotaUs));
    }
    if (cpu && l.cpuShares !== undefined && l.cpuShares > 0) {
      this.fs.write(`${cpu}/cpu.shares`, String(l.cpuShares));
    }
    const cpuset = dirFor(this.paths, "cpuset");
    if (cpuset && l.cpusetCpus !== undefined) this.fs.write(`${cpuset}/cpuset.cpus`, l.cpusetCpus);
    const pids = dirFor(this.paths, "pids");
    if (pids && l.pidsLimit !== undefined) {
      this.fs.write(`${pids}/pids.max`, l.pidsLimit > 0 ? String(l.pidsLimit) : "max");
    }
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.paths)) this.fs.write(`${dir}/cgroup.procs`, String(pid));
  }

  enterCallingThread(): () => void {
    const tid = String(gettid());
    const own = parseProcCgroup(Deno.readTextFileSync("/proc/thread-self/cgroup"));
    const back: string[] = [];
    for (const [name, dir] of Object.entries(this.paths)) {
      const mount = dir.slice(0, dir.indexOf(`/${name}/`) + name.length + 1);
      const entry = [...own].find(([c]) => c !== "" && c.replace(/^name=/, "") === name);
      if (entry) back.push(`${mount}${entry[1] === "/" ? "" : entry[1]}/tasks`);
      this.fs.write(`${dir}/tasks`, tid);
    }
    return () => {
      for (const file of back) this.fs.write(file, tid);
    };
  }

  oomKilled(): boolean {
    const memory = dirFor(this.paths, "memory");
    if (!memory || !this.fs.exists(`${memory}/memory.oom_control`)) return false;
    const m = /^oom_kill (\d+)$/m.exec(this.fs.read(`${memory}/memory.oom_control`));
    return m !== null && Number(m[1]) > 0;
  }

  pids(): number[] {
    const dir = dirFor(this.paths, "pids") ?? Object.values(this.paths)[0];
    return dir ? readProcs(this.fs, dir) : [];
  }

  killAll(): void {
    const dir = dirFor(this.paths, "pids") ?? Object.values(this.paths)[0];
    if (!dir) return;
    const freezer = dirFor(this.paths, "freezer");
    const state = freezer ? `${freezer}/freezer.state` : undefined;
    const usable = state !== undefined && this.fs.exists(state);
    killAllIn(
      this.fs,
      dir,
      usable ? () => this.setFreezer(state!, "FROZEN") : undefined,
      usable ? () => this.setFreezer(state!, "THAWED") : undefined,
    );
  }

  private setFreezer(file: string, want: "FROZEN" | "THAWED"): void {
    try {
      this.fs.write(file, want);
      for (let i = 0; i < 200 && this.fs.read(file).trim() !== want; i++) sleepSync(1);
    } catch (e) {
      if (this.fs.exists(file)) throw e; // else removed meanwhile by a concurrent cleanup
    }
  }

  destroy(): void {
    this.killAll();
    for (const dir of Object.values(this.paths)) rmdirWithRetry(this.fs, dir);
    // The shared parent goes too once the last container has left it.
    removeQuietly(this.fs, Object.values(this.paths).map(parentOf));
  }
}
