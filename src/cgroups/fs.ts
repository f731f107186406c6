/**
 * The file operations the cgroup managers need, behind an interface so that their logic
 * can be tested against an in-memory fake. The real one uses sync calls only: managers run
 * in processes that may have switched namespaces on the main thread, where async calls
 * would run on worker threads still in the old ones.
 *
 * @module
 */

/** File access for cgroup managers. Errors name the operation and the path they concern. */
export interface CgroupFs {
  /** Reads a whole control file. */
  read(path: string): string;
  /** Writes a control file in one write(2), without creating it (cgroupfs files exist or not). */
  write(path: string, data: string): void;
  /** Creates one directory (its parent must exist). */
  mkdir(path: string): void;
  /** Removes one empty directory (a cgroup with no processes and no children). */
  rmdir(path: string): void;
  /** Whether a file or directory exists. */
  exists(path: string): boolean;
  /** The names of a directory's subdirectories: in cgroupfs, its child cgroups. */
  readdir(path: string): string[];
}

/**
 * Runs `fn`, turning Deno's error into one that says what failed where, as
 * `write /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Device or resource busy`.
 */
function withPath<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // Deno says "Device or resource busy (os error 16): writefile '/path'": keep the cause.
    const cause = (e as Error).message.split(": ")[0].replace(/ \(os error \d+\)$/, "");
    throw Object.assign(new Error(`${op} ${path}: ${cause}`), { cause: e });
  }
}

/**
 * The host's cgroup filesystem, through Deno's sync APIs.
 *
 * @example
 * ```ts
 * realCgroupFs.read("/sys/fs/cgroup/cgroup.controllers");
 * ```
 */
export const realCgroupFs: CgroupFs = {
  read: (path) => withPath("read", path, () => Deno.readTextFileSync(path)),
  write: (path, data) =>
    withPath("write", path, () => Deno.writeTextFileSync(path, data, { create: false })),
  mkdir: (path) => withPath("mkdir", path, () => Deno.mkdirSync(path)),
  rmdir: (path) => withPath("rmdir", path, () => Deno.removeSync(path)),
  exists: (path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  readdir: (path) =>
    withPath(
      "readdir",
      path,
      () => [...Deno.readDirSync(path)].filter((e) => e.isDirectory).map((e) => e.name),
    ),
};
