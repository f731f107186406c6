/**
 * An in-memory cgroup filesystem for unit tests: directories, files with contents, a log
 * of writes, and injectable failures.
 */
import type { CgroupFs } from "../../src/cgroups/fs.ts";

export class FakeCgroupFs implements CgroupFs {
  dirs = new Set<string>();
  files = new Map<string, string>();
  writes: Array<[string, string]> = [];
  failWrite?: (path: string, data: string) => boolean;
  /** Files the kernel creates in every new cgroup directory, with their initial content. */
  template: Record<string, string> = {};

  constructor(dirs: string[] = [], files: Record<string, string> = {}) {
    for (const d of dirs) this.dirs.add(d);
    for (const [k, v] of Object.entries(files)) this.files.set(k, v);
  }

  read(path: string): string {
    const v = this.files.get(path);
    if (v === undefined) throw new Error(`read ${path}: No such file or directory`);
    return v;
  }

  write(path: string, data: string): void {
    if (!this.dirs.has(path.slice(0, path.lastIndexOf("/")))) {
      throw new Error(`write ${path}: No such file or directory`);
    }
    if (this.failWrite?.(path, data)) throw new Error(`write ${path}: Device or resource busy`);
    this.writes.push([path, data]);
    if (path.endsWith("/cgroup.procs")) return; // the kernel moves it; reading lists members
    this.files.set(path, data);
  }

  mkdir(path: string): void {
    if (this.dirs.has(path)) throw new Error(`mkdir ${path}: File exists`);
    if (!this.dirs.has(path.slice(0, path.lastIndexOf("/")))) {
      throw new Error(`mkdir ${path}: No such file or directory`);
    }
    this.dirs.add(path);
    for (const [name, content] of Object.entries(this.template)) {
      this.files.set(`${path}/${name}`, content);
    }
  }

  rmdir(path: string): void {
    if (!this.dirs.has(path)) throw new Error(`rmdir ${path}: No such file or directory`);
    if ([...this.dirs].some((d) => d.startsWith(`${path}/`))) {
      throw new Error(`rmdir ${path}: Device or resource busy`);
    }
    this.dirs.delete(path);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${path}/`)) this.files.delete(f);
  }

  exists(path: string): boolean {
    return this.dirs.has(path) || this.files.has(path);
  }
}
