/**
 * cgroup v2: one unified hierarchy. A controller's files appear in a cgroup only when the
 * controller is enabled in the `cgroup.subtree_control` of every ancestor, from the root
 * down, so `create` does that before it makes the container's directory.
 *
 * @module
 */

import type { CgroupManager, ChildPlacement } from "./types.ts";
import type { ResourceLimits } from "../config/limits.ts";
import { DEFAULT_DEVICE_RULES, type DeviceRule } from "../config/devices.ts";
import { attachCgroupDeviceProgram } from "../../ffi/bpf.ts";
import { type CgroupFs, realCgroupFs } from "./fs.ts";
import { CgroupDeviceFilterError, CgroupUnsupportedError, CgroupWriteError } from "./errors.ts";
import { compileDeviceFilter, DEVICE_FILTER_LICENSE } from "./device_filter.ts";
import { childPlacementOf, enterCgroupForSpawning } from "./join.ts";
import { type LimitFile, limitFiles } from "./resources.ts";
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

/** The controllers a container's limits and accounting use, when the kernel has them. */
export const V2_CONTROLLERS: readonly string[] = ["cpu", "cpuset", "memory", "pids"];

/**
 * How a v2 manager puts its device program on a cgroup: bpf(2) for real, a recorder in
 * unit tests (which must never call bpf()).
 */
export interface DeviceFilterLoader {
  /**
   * Attaches `program` (a BPF_PROG_TYPE_CGROUP_DEVICE program, see device_filter.ts) to
   * the cgroup directory `dir`, replacing the device program attached there before.
   */
  attach(dir: string, program: Uint8Array<ArrayBuffer>): void;
}

/** The kernel's: bpf(BPF_PROG_LOAD), then BPF_PROG_ATTACH, then the old ones detached. */
export const bpfDeviceFilterLoader: DeviceFilterLoader = {
  attach: (dir, program) => attachCgroupDeviceProgram(dir, program, DEVICE_FILTER_LICENSE),
};

/** What a manager over any other CgroupFs gets by default: a clear failure, never bpf(). */
const noDeviceFilterLoader: DeviceFilterLoader = {
  attach: () => {
    throw new Error("no device filter loader was given for this cgroup filesystem");
  },
};

/**
 * `io` is enabled only for a container with a block I/O weight (Docker's --blkio-weight):
 * the other containers do not pay for the controller.
 */
const ioWanted = (l: ResourceLimits): string[] => (l.blkioWeight ?? 0) > 0 ? ["io"] : [];

const words = (s: string) => s.trim().split(/\s+/).filter((w) => w !== "");

/** A container's cgroup on a pure cgroup v2 host. */
export class CgroupV2Manager implements CgroupManager {
  readonly layout = "v2" as const;
  private readonly dir: string;

  private readonly devices: DeviceFilterLoader;

  /**
   * `paths.unified` is the container's directory; `root` the cgroup2 mount point.
   * `devices` attaches the device program; it defaults to bpf(2) with the real cgroupfs
   * and to a loader that refuses with any other, so that a fake filesystem never reaches
   * the kernel.
   */
  constructor(
    readonly paths: Record<string, string>,
    private readonly fs: CgroupFs = realCgroupFs,
    private readonly root = "/sys/fs/cgroup",
    devices?: DeviceFilterLoader,
  ) {
    this.dir = paths.unified;
    this.devices = devices ?? (fs === realCgroupFs ? bpfDeviceFilterLoader : noDeviceFilterLoader);
  }

  create(limits: ResourceLimits, devices: readonly DeviceRule[] = DEFAULT_DEVICE_RULES): void {
    // Compiled first: a malformed rule fails before anything exists.
    const program = compileDeviceFilter(devices);
    retryIfParentsVanish(this.fs, [this.dir], () => this.tryCreate(limits, program));
  }

  private tryCreate(limits: ResourceLimits, program: Uint8Array<ArrayBuffer>): void {
    const parent = parentDir(this.dir);
    const created = mkdirLevels(this.fs, this.root, parent);
    try {
      this.enableControllers(parent, ioWanted(limits));
      if (!this.fs.exists(this.dir)) {
        this.fs.mkdir(this.dir);
        created.push(this.dir);
      }
      // Before the limits and before any process joins: nothing in the cgroup ever runs
      // without the allow-list. On an existing cgroup (restart) it replaces the old one.
      try {
        this.devices.attach(this.dir, program);
      } catch (e) {
        throw new CgroupDeviceFilterError(this.dir, e);
      }
      this.writeLimits(limits);
    } catch (e) {
      removeQuietly(this.fs, created);
      throw e;
    }
  }

  /**
   * Enables our controllers in every level from the root down to the container's parent.
   * Each level can only pass on what it has itself (its cgroup.controllers), so a
   * controller missing higher up is skipped, and a limit that needs it fails later with
   * a message naming the controller.
   */
  private enableControllers(parent: string, extra: readonly string[] = []): void {
    const wanted = [...V2_CONTROLLERS, ...extra];
    const levels = [this.root];
    for (const part of parent.slice(this.root.length).split("/").filter((p) => p)) {
      levels.push(`${levels[levels.length - 1]}/${part}`);
    }
    for (const dir of levels) {
      const available = words(this.fs.read(`${dir}/cgroup.controllers`));
      const enabled = words(this.fs.read(`${dir}/cgroup.subtree_control`));
      const missing = wanted.filter((c) => available.includes(c) && !enabled.includes(c));
      if (missing.length === 0) continue;
      try {
        this.fs.write(`${dir}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(" "));
      } catch (e) {
        // The "no internal processes" rule: a cgroup holding processes cannot pass
        // controllers down, which is the case of a relative parent under a busy cgroup.
        if (!(e instanceof CgroupWriteError) || e.code !== "EBUSY") throw e;
        throw new CgroupWriteError(e.path, e.value, e.errno, {
          hint: "cgroup v2 cannot enable controllers in a cgroup that holds processes: " +
            "use an absolute cgroup parent, outside the caller's own cgroup",
          cause: e,
        });
      }
    }
  }

  private writeLimits(limits: ResourceLimits): void {
    this.writeFiles(limitFiles(limits, "v2"));
  }

  private writeFiles(files: LimitFile[]): void {
    writeLimitFiles(
      this.fs,
      files,
      () => this.dir,
      (f) =>
        `${this.dir}/${f.file} does not exist: the ${f.controller} controller is not ` +
        `available to this cgroup (not in ${parentDir(this.dir)}/cgroup.controllers)`,
    );
  }

  updateLimits(previous: ResourceLimits, next: ResourceLimits): void {
    // A weight given only now needs io passed down to the container's cgroup first.
    const io = ioWanted(next);
    if (io.length > 0 && ioWanted(previous).length === 0) {
      this.enableControllers(parentDir(this.dir), io);
    }
    // v2's memory.max and memory.swap.max are independent: any order is accepted.
    this.writeFiles(changedLimitFiles(previous, next, "v2"));
  }

  setFrozen(frozen: boolean): void {
    const file = `${this.dir}/cgroup.freeze`;
    if (!this.fs.exists(file)) {
      throw new CgroupUnsupportedError(
        "freezer",
        "cgroup.freeze",
        `${file} does not exist: the cgroup v2 freezer needs Linux 5.2 or later`,
      );
    }
    const want = frozen ? 1 : 0;
    this.fs.write(file, String(want));
    const events = `${this.dir}/cgroup.events`;
    if (!waitSync(() => readCounter(this.fs.read(events), "frozen") === want, 5000)) {
      if (frozen) this.fs.write(file, "0");
      throw new Error(`cgroup ${this.dir}: the freezer did not reach frozen ${want}`);
    }
  }

  addProcess(pid: number): void {
    this.fs.write(`${this.dir}/cgroup.procs`, String(pid));
  }

  enterForSpawning(): () => void {
    return enterCgroupForSpawning("v2", this.paths, this.fs, this.root);
  }

  childPlacement(): ChildPlacement {
    return childPlacementOf("v2", this.paths);
  }

  /** `oom_kill` of memory.events, which also counts kills in nested cgroups. */
  oomKilled(): boolean {
    const file = `${this.dir}/memory.events`;
    if (!this.fs.exists(file)) return false;
    return (readCounter(this.fs.read(file), "oom_kill") ?? 0) > 0;
  }

  pids(): number[] {
    return procsInTrees(this.fs, [this.dir]);
  }

  killAll(signal: Deno.Signal = "SIGKILL"): void {
    if (signal !== "SIGKILL") return signalEach(this.pids(), signal);
    // cgroup.kill (Linux 5.14) kills the whole subtree at once, forks in flight included.
    const kill = `${this.dir}/cgroup.kill`;
    if (this.fs.exists(kill)) {
      try {
        this.fs.write(kill, "1");
      } catch (e) {
        if (this.fs.exists(this.dir)) throw e; // else removed meanwhile: nothing to kill
      }
    }
    // Then (or on older kernels, instead) kill what is left, one by one, until it is empty.
    killUntilEmpty(this.fs, [this.dir], this.freezer());
  }

  /** cgroup.freeze (Linux 5.2), for kernels without cgroup.kill. */
  private freezer(): Freezer | undefined {
    const file = `${this.dir}/cgroup.freeze`;
    if (this.fs.exists(`${this.dir}/cgroup.kill`) || !this.fs.exists(file)) return undefined;
    const set = (value: "0" | "1") => {
      try {
        this.fs.write(file, value);
        const events = `${this.dir}/cgroup.events`;
        for (let i = 0; i < 200; i++) {
          if (String(readCounter(this.fs.read(events), "frozen")) === value) break;
          sleepSync(1);
        }
      } catch (e) {
        if (this.fs.exists(this.dir)) throw e;
      }
    };
    return { freeze: () => set("1"), thaw: () => set("0") };
  }

  destroy(): void {
    if (removeIfEmpty(this.fs, [this.dir])) {
      removeQuietly(this.fs, [parentDir(this.dir)]);
      return;
    }
    this.killAll();
    removeCgroupTree(this.fs, this.dir);
    // The shared parent goes too once the last container has left it; a concurrent create
    // beneath it retries (see create).
    removeQuietly(this.fs, [parentDir(this.dir)]);
  }
}
