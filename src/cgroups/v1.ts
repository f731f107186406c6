/**
 * cgroup v1 (and the hybrid layout, whose cgroup2 half holds no controllers): the container
 * has one directory in every mounted hierarchy, name=systemd included, so that its cgroup
 * namespace looks the same in all of them; each limit goes to its controller's own files.
 *
 * @module
 */

import type { CgroupLayout, CgroupManager, ChildPlacement } from "./types.ts";
import type { ResourceLimits } from "../config/limits.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";
import { type LimitFile, limitFiles } from "./resources.ts";
import { CgroupUnsupportedError } from "./errors.ts";
import { childPlacementOf, enterCgroupForSpawning, v1MountOf } from "./join.ts";
import { DEFAULT_DEVICE_RULES, type DeviceRule, formatDeviceRule } from "../config/devices.ts";
import {
  changedLimitFiles,
  type Freezer,
  killUntilEmpty,
  mkdirLevels,
  parentDir,
  procsInTrees,
  readCounter,
  removeCgroupTree,
  removeIfEmpty,
  removeQuietly,
  retryIfParentsVanish,
  signalEach,
  sleepSync,
  waitSync,
  writeLimitFiles,
} from "./common.ts";

/** Which hierarchy's directory holds a controller's files: `cpu` may be in `cpu,cpuacct`. */
function dirFor(paths: Record<string, string>, controller: string): string | undefined {
  if (paths[controller]) return paths[controller];
  const key = Object.keys(paths).find((k) => k.split(",").includes(controller));
  return key ? paths[key] : undefined;
}

/** A container's cgroup on a v1 or hybrid host. */
export class CgroupV1Manager implements CgroupManager {
  /**
   * `paths` maps each hierarchy's mount directory name (`memory`, `cpu,cpuacct`, `systemd`)
   * to the container's directory in it. `mountPoints`, when known, bounds the mkdir -p; a
   * reopened manager derives it from the path.
   */
  constructor(
    readonly paths: Record<string, string>,
    private readonly fs: CgroupFs = realCgroupFs,
    readonly layout: CgroupLayout = "v1",
    private readonly mountPoints: Record<string, string> = {},
  ) {}

  private mountOf(name: string): string {
    return v1MountOf(this.paths, name, this.mountPoints);
  }

  create(limits: ResourceLimits, devices: readonly DeviceRule[] = DEFAULT_DEVICE_RULES): void {
    retryIfParentsVanish(
      this.fs,
      Object.values(this.paths),
      () => this.tryCreate(limits, devices),
    );
  }

  private tryCreate(limits: ResourceLimits, devices: readonly DeviceRule[]): void {
    const created: string[] = [];
    try {
      for (const [name, dir] of Object.entries(this.paths)) {
        const mount = this.mountOf(name);
        const isCpuset = name.split(",").includes("cpuset");
        created.push(...mkdirLevels(this.fs, mount, dir, (d) => {
          if (isCpuset) this.inheritCpuset(d, mount);
        }));
      }
      this.restrictDevices(devices);
      this.writeLimits(limits);
    } catch (e) {
      removeQuietly(this.fs, created);
      throw e;
    }
  }

  /**
   * A new cpuset cgroup starts with no CPUs and no memory nodes, and no process can join it
   * until it has some: copy the parent's, fixing an empty parent first (one left by a
   * create that died half-way), as runc does.
   */
  private inheritCpuset(dir: string, mount: string): void {
    const parent = parentDir(dir);
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (this.fs.read(`${dir}/${file}`).trim() !== "") continue;
      let value = this.fs.read(`${parent}/${file}`).trim();
      if (value === "" && parent.length > mount.length) {
        this.inheritCpuset(parent, mount);
        value = this.fs.read(`${parent}/${file}`).trim();
      }
      this.fs.write(`${dir}/${file}`, value);
    }
  }

  /** Denies every device, then allows the listed ones: the kernel checks opens and mknods. */
  private restrictDevices(devices: readonly DeviceRule[]): void {
    const dir = dirFor(this.paths, "devices");
    if (!dir) return;
    this.fs.write(`${dir}/devices.deny`, "a");
    for (const rule of devices) this.fs.write(`${dir}/devices.allow`, formatDeviceRule(rule));
  }

  private writeLimits(limits: ResourceLimits): void {
    this.writeFiles(limitFiles(limits, "v1"));
  }

  private writeFiles(files: LimitFile[]): void {
    writeLimitFiles(
      this.fs,
      files,
      (controller) => dirFor(this.paths, controller),
      (f, dir) =>
        dir === undefined
          ? `the ${f.controller} cgroup controller is not mounted: ${f.file} cannot be written`
          : `${dir}/${f.file} does not exist`,
    );
  }

  updateLimits(previous: ResourceLimits, next: ResourceLimits): void {
    const files = changedLimitFiles(previous, next, "v1");
    // The kernel keeps memory <= memory+swap at every write: a memory limit raised above the
    // memory+swap limit in force must follow the new memory+swap limit, not precede it.
    const memory = files.findIndex((f) => f.file === "memory.limit_in_bytes");
    const memsw = files.findIndex((f) => f.file === "memory.memsw.limit_in_bytes");
    const dir = dirFor(this.paths, "memory");
    if (memory >= 0 && memsw > memory && dir) {
      const current = `${dir}/memory.memsw.limit_in_bytes`;
      const inForce = this.fs.exists(current) ? Number(this.fs.read(current).trim()) : Infinity;
      if (Number(files[memory].value) > inForce) {
        files.splice(memory, 0, files.splice(memsw, 1)[0]);
      }
    }
    this.writeFiles(files);
  }

  setFrozen(frozen: boolean): void {
    const dir = dirFor(this.paths, "freezer");
    const file = dir && `${dir}/freezer.state`;
    if (!file || !this.fs.exists(file)) {
      throw new CgroupUnsupportedError(
        "freezer",
        "freezer.state",
        "the freezer cgroup controller is not mounted: containers cannot be paused",
      );
    }
    const want = frozen ? "FROZEN" : "THAWED";
    this.fs.write(file, want);
    // FREEZING lasts while a task is in an uninterruptible sleep; runc gives up too.
    if (!waitSync(() => this.fs.read(file).trim() === want, 5000)) {
      if (frozen) this.fs.write(file, "THAWED");
      throw new Error(`cgroup ${dir}: the freezer did not reach ${want}`);
    }
  }

  addProcess(pid: number): void {
    for (const dir of Object.values(this.paths)) this.fs.write(`${dir}/cgroup.procs`, String(pid));
  }

  enterForSpawning(): () => void {
    return enterCgroupForSpawning(this.layout, this.paths, this.fs, undefined, this.mountPoints);
  }

  childPlacement(): ChildPlacement {
    return childPlacementOf(this.layout, this.paths);
  }

  /**
   * `oom_kill` of memory.oom_control (kernel 4.13 and later). Older kernels lack it: then
   * memory.failcnt, which counts hits of the limit, is the best sign left (it also counts
   * hits that reclaim resolved, so there it may report an OOM that killed nothing).
   */
  oomKilled(): boolean {
    const memory = dirFor(this.paths, "memory");
    if (!memory || !this.fs.exists(`${memory}/memory.oom_control`)) return false;
    const kills = readCounter(this.fs.read(`${memory}/memory.oom_control`), "oom_kill");
    if (kills !== undefined) return kills > 0;
    const failcnt = `${memory}/memory.failcnt`;
    return this.fs.exists(failcnt) && Number(this.fs.read(failcnt).trim()) > 0;
  }

  pids(): number[] {
    // Every hierarchy: a process may sit in a nested cgroup in some of them only.
    return procsInTrees(this.fs, Object.values(this.paths));
  }

  killAll(signal: Deno.Signal = "SIGKILL"): void {
    if (signal !== "SIGKILL") return signalEach(this.pids(), signal);
    killUntilEmpty(this.fs, Object.values(this.paths), this.freezer());
  }

  /** The freezer, if mounted: it stops the processes so none can fork while being killed. */
  private freezer(): Freezer | undefined {
    const dir = dirFor(this.paths, "freezer");
    const file = dir && `${dir}/freezer.state`;
    if (!file || !this.fs.exists(file)) return undefined;
    return {
      freeze: () => this.setFreezer(file, "FROZEN"),
      thaw: () => this.setFreezer(file, "THAWED"),
    };
  }

  /** Writes a freezer state and waits (up to about 200 ms) until the kernel reaches it. */
  private setFreezer(file: string, want: "FROZEN" | "THAWED"): void {
    try {
      this.fs.write(file, want);
      // Still FREEZING after the wait (a task in uninterruptible sleep): kill anyway; the
      // kill lands when the thaw comes.
      for (let i = 0; i < 200 && this.fs.read(file).trim() !== want; i++) sleepSync(1);
    } catch (e) {
      if (this.fs.exists(file)) throw e; // else removed meanwhile by a concurrent cleanup
    }
  }

  destroy(): void {
    const errors: unknown[] = [];
    if (!removeIfEmpty(this.fs, Object.values(this.paths))) {
      this.killAll();
      // Every hierarchy is tried even if one fails, so that as little as possible is left.
      for (const dir of Object.values(this.paths)) {
        try {
          removeCgroupTree(this.fs, dir);
        } catch (e) {
          errors.push(e);
        }
      }
    }
    // The shared parent goes too once the last container has left it, so that nothing of
    // m-docker's stays on the host; a concurrent create beneath it retries (see create).
    removeQuietly(this.fs, Object.values(this.paths).map(parentDir));
    if (errors.length > 0) throw errors[0];
  }
}
