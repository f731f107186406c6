/**
 * An in-memory cgroup filesystem for unit tests: directories, files with contents, a log
 * of writes, and injectable failures. In v2 mode it also acts as the kernel does with
 * controllers: a child's cgroup.controllers is its parent's cgroup.subtree_control, a
 * controller's files appear in a new cgroup only if the parent enables it, and
 * `+ctl` tokens are applied rather than stored. It fails as the real one does, with
 * `CgroupFsError`s (`CgroupWriteError` for writes) that carry errno.
 */
import type { CgroupFs } from "../../src/cgroups/fs.ts";
import type { DeviceFilterLoader } from "../../src/cgroups/v2.ts";
import { CgroupFsError, CgroupWriteError } from "../../src/cgroups/errors.ts";
import { SyscallError } from "../../ffi/errors.ts";

const ENOENT = 2, EEXIST = 17, EBUSY = 16;

/** The files each v2 controller adds to a cgroup, with their initial content. */
const V2_FILES: Record<string, Record<string, string>> = {
  cpu: { "cpu.max": "max 100000\n", "cpu.weight": "100\n" },
  cpuset: { "cpuset.cpus": "\n", "cpuset.mems": "\n" },
  memory: {
    "memory.max": "max\n",
    "memory.swap.max": "max\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
  },
  pids: { "pids.max": "max\n" },
  // With iocost (no BFQ): io.weight only.
  io: { "io.weight": "default 100\n" },
};

const parentOf = (p: string) => p.slice(0, p.lastIndexOf("/"));

/** A fake cgroupfs; see the module comment. */
export class FakeCgroupFs implements CgroupFs {
  dirs = new Set<string>();
  files = new Map<string, string>();
  writes: Array<[string, string]> = [];
  /** Makes a write fail with EBUSY when it returns true. */
  failWrite?: (path: string, data: string) => boolean;
  /** Files the kernel creates in every new cgroup directory, with their initial content. */
  template: Record<string, string> = {};
  /** v1: files each hierarchy (by mount point) creates in a new cgroup, beside `template`. */
  v1Templates: Record<string, Record<string, string>> = {};
  /** The cgroup2 mount point when emulating v2's controller rules. */
  v2Root?: string;
  /** Controller files that a v2 kernel without that feature lacks (e.g. memory.swap.max). */
  v2Missing = new Set<string>();

  constructor(dirs: string[] = [], files: Record<string, string> = {}) {
    for (const d of dirs) this.dirs.add(d);
    for (const [k, v] of Object.entries(files)) this.files.set(k, v);
  }

  read(path: string): string {
    // As the kernel: what a v2 cgroup may enable is what its parent enables now.
    if (this.v2Root !== undefined && path.endsWith("/cgroup.controllers")) {
      const dir = parentOf(path);
      if (dir !== this.v2Root && this.dirs.has(dir)) {
        return this.read(`${parentOf(dir)}/cgroup.subtree_control`);
      }
    }
    const v = this.files.get(path);
    if (v === undefined) throw new CgroupFsError("read", path, ENOENT);
    return v;
  }

  write(path: string, data: string): void {
    if (!this.files.has(path) && !path.endsWith("/cgroup.procs") && !path.endsWith("/tasks")) {
      throw new CgroupWriteError(path, data, ENOENT);
    }
    if (!this.dirs.has(parentOf(path))) throw new CgroupWriteError(path, data, ENOENT);
    if (this.failWrite?.(path, data)) throw new CgroupWriteError(path, data, EBUSY);
    this.writes.push([path, data]);
    // The kernel moves the process; tests set cgroup.procs themselves when they need members.
    if (path.endsWith("/cgroup.procs") || path.endsWith("/tasks")) return;
    if (this.v2Root !== undefined && path.endsWith("/cgroup.subtree_control")) {
      return this.applySubtreeControl(path, data);
    }
    this.files.set(path, data);
  }

  private applySubtreeControl(path: string, data: string): void {
    const dir = parentOf(path);
    const available = this.read(`${dir}/cgroup.controllers`).trim().split(/\s+/);
    const enabled = new Set(this.read(path).trim().split(/\s+/).filter((w) => w));
    for (const token of data.trim().split(/\s+/)) {
      const name = token.slice(1);
      if (!available.includes(name)) throw new CgroupWriteError(path, data, ENOENT);
      if (token[0] === "+") enabled.add(name);
      else enabled.delete(name);
    }
    this.files.set(path, [...enabled].join(" ") + "\n");
    // The children gain the files of the controllers now passed down to them.
    for (const child of this.readdir(dir)) this.addControllerFiles(`${dir}/${child}`, enabled);
  }

  private addControllerFiles(dir: string, controllers: Iterable<string>): void {
    for (const c of controllers) {
      for (const [name, content] of Object.entries(V2_FILES[c] ?? {})) {
        const file = `${dir}/${name}`;
        if (!this.v2Missing.has(name) && !this.files.has(file)) this.files.set(file, content);
      }
    }
  }

  mkdir(path: string): void {
    if (this.dirs.has(path)) throw new CgroupFsError("mkdir", path, EEXIST);
    if (!this.dirs.has(parentOf(path))) throw new CgroupFsError("mkdir", path, ENOENT);
    this.dirs.add(path);
    const mount = Object.keys(this.v1Templates).find((m) => path.startsWith(`${m}/`));
    const files = { ...this.template, ...(mount ? this.v1Templates[mount] : {}) };
    for (const [name, content] of Object.entries(files)) this.files.set(`${path}/${name}`, content);
    if (this.v2Root !== undefined) {
      const passed = this.read(`${parentOf(path)}/cgroup.subtree_control`);
      this.files.set(`${path}/cgroup.controllers`, passed);
      this.files.set(`${path}/cgroup.subtree_control`, "\n");
      this.files.set(`${path}/cgroup.procs`, "");
      this.addControllerFiles(path, passed.trim().split(/\s+/).filter((w) => w));
    }
  }

  rmdir(path: string): void {
    if (!this.dirs.has(path)) throw new CgroupFsError("rmdir", path, ENOENT);
    if ([...this.dirs].some((d) => d.startsWith(`${path}/`))) {
      throw new CgroupFsError("rmdir", path, EBUSY);
    }
    if ((this.files.get(`${path}/cgroup.procs`) ?? "").trim() !== "") {
      throw new CgroupFsError("rmdir", path, EBUSY);
    }
    this.dirs.delete(path);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${path}/`)) this.files.delete(f);
  }

  exists(path: string): boolean {
    return this.dirs.has(path) || this.files.has(path);
  }

  readdir(path: string): string[] {
    if (!this.dirs.has(path)) throw new CgroupFsError("readdir", path, ENOENT);
    return [...this.dirs].filter((d) => parentOf(d) === path).map((d) => d.slice(path.length + 1));
  }

  /** The directories whose path contains `text`. */
  dirsMatching(text: string): string[] {
    return [...this.dirs].filter((d) => d.includes(text));
  }
}

/** One program a FakeDeviceFilterLoader attached. */
export interface AttachedProgram {
  dir: string;
  program: Uint8Array;
  /** How many writes the fake cgroupfs had seen when it was attached. */
  writesBefore: number;
}

/**
 * Stands in for bpf(2) in v2 managers: records each program with the cgroup it went on,
 * keeps one program per cgroup as the real loader does (a new one replaces the old), drops
 * it when the directory goes, and fails on demand with the kernel's errno.
 */
export class FakeDeviceFilterLoader implements DeviceFilterLoader {
  attached: AttachedProgram[] = [];
  /** Makes the next attaches fail with this errno (as BPF_PROG_ATTACH would). */
  failWith?: number;

  constructor(private readonly fs: FakeCgroupFs) {}

  attach(dir: string, program: Uint8Array<ArrayBuffer>): void {
    if (!this.fs.dirs.has(dir)) throw new SyscallError("open", ENOENT, dir);
    if (this.failWith !== undefined) {
      throw new SyscallError("bpf(BPF_PROG_ATTACH)", this.failWith, dir);
    }
    this.attached.push({ dir, program, writesBefore: this.fs.writes.length });
  }

  /** The program in force on `dir`: the last one attached while the directory exists. */
  current(dir: string): Uint8Array | undefined {
    if (!this.fs.dirs.has(dir)) return undefined;
    return this.attached.findLast((a) => a.dir === dir)?.program;
  }
}
