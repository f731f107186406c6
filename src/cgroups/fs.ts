/**
 * The file operations the cgroup managers need, behind an interface so that their logic
 * can be tested against an in-memory fake. The real one uses sync calls only: managers run
 * in processes that may have switched namespaces on the main thread.
 *
 * @module
 */

/** File access for cgroup managers. Errors carry the path they concern. */
export interface CgroupFs {
  read(path: string): string;
  write(path: string, data: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  exists(path: string): boolean;
}

function withPath<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // Deno says "Device or resource busy (os error 16): write '/path'": keep the cause.
    const cause = (e as Error).message.split(": ")[0].replace(/ \(os error \d+\)$/, "");
    throw Object.assign(new Error(`${op} ${path}: ${cause}`), { cause: e });
  }
}

/** The host's cgroup filesystem. */
export const realCgroupFs: CgroupFs = {
  read: (path) => withPath("read", path, () => Deno.readTextFileSync(path)),
  write: (path, data) => withPath("write", path, () => Deno.writeTextFileSync(path, data)),
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
};
