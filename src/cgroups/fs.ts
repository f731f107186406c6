/**
 * The file operations the cgroup managers need, behind an interface so that their logic
 * can be tested against an in-memory fake. The real one uses sync calls only: managers run
 * in processes that may have switched namespaces on the main thread, where async calls
 * would run on worker threads still in the old ones.
 *
 * @module
 */

import { close, O, open, writeAll } from "../../ffi/libc.ts";
import { SyscallError } from "../../ffi/errors.ts";
import { CgroupFsError, CgroupWriteError, errnoOf } from "./errors.ts";

/**
 * File access for cgroup managers. Failures throw `CgroupFsError` (`CgroupWriteError` for
 * writes), which names the path and carries errno.
 */
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
 * Runs `fn`, turning Deno's error into a `CgroupFsError` for `op` on `path`. Deno puts the
 * errno's name in `code` for most errnos (not all: ERANGE has none); when it is missing,
 * Deno's own message stands in for the description.
 */
function withPath<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const errno = errnoOf(typeof code === "string" ? code : undefined);
    throw new CgroupFsError(op, path, errno, { detail: (e as Error).message, cause: e });
  }
}

const encoder = new TextEncoder();

/**
 * Writes a cgroup file through libc rather than Deno: the kernel's answer to a limit is
 * its errno (EINVAL, ERANGE, EBUSY), and Deno's errors do not carry every errno.
 */
function writeCgroupFile(path: string, data: string): void {
  const failed = (e: unknown) =>
    new CgroupWriteError(path, data, e instanceof SyscallError ? e.errno : undefined, {
      detail: (e as Error).message,
      cause: e,
    });
  let fd: number;
  try {
    fd = open(path, O.WRONLY | O.CLOEXEC);
  } catch (e) {
    throw failed(e);
  }
  try {
    // cgroupfs takes a control file's value in one write(2), or refuses it whole.
    writeAll(fd, encoder.encode(data));
  } catch (e) {
    throw failed(e);
  } finally {
    close(fd);
  }
}

/**
 * The host's cgroup filesystem, through sync calls.
 *
 * @example
 * ```ts
 * realCgroupFs.read("/sys/fs/cgroup/cgroup.controllers");
 * ```
 */
export const realCgroupFs: CgroupFs = {
  read: (path) => withPath("read", path, () => Deno.readTextFileSync(path)),
  write: writeCgroupFile,
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
