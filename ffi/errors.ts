/**
 * Errors raised by libc calls. Every error names the syscall and, where there is one, the
 * object it acted on, as crun does: `mount /x/merged: No such file or directory`.
 *
 * @module
 */

/** Names for the errno values a container runtime meets in practice. */
const ERRNO_NAMES: Record<number, [string, string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  9: ["EBADF", "Bad file descriptor"],
  10: ["ECHILD", "No child processes"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  18: ["EXDEV", "Invalid cross-device link"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  24: ["EMFILE", "Too many open files"],
  25: ["ENOTTY", "Inappropriate ioctl for device"],
  26: ["ETXTBSY", "Text file busy"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  32: ["EPIPE", "Broken pipe"],
  34: ["ERANGE", "Numerical result out of range"],
  36: ["ENAMETOOLONG", "File name too long"],
  38: ["ENOSYS", "Function not implemented"],
  39: ["ENOTEMPTY", "Directory not empty"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  95: ["EOPNOTSUPP", "Operation not supported"],
};

/** The symbolic name of an errno value, such as `ENOENT`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno]?.[0] ?? `errno ${errno}`;
}

/** The human description of an errno value, as strerror(3) gives it. */
export function errnoMessage(errno: number): string {
  return ERRNO_NAMES[errno]?.[1] ?? `Unknown error ${errno}`;
}

/**
 * A failed libc call.
 *
 * @example
 * ```ts
 * throw new SyscallError("mount", 2, "/var/lib/m-docker/x/merged");
 * // message: "mount /var/lib/m-docker/x/merged: No such file or directory"
 * ```
 */
export class SyscallError extends Error {
  override name = "SyscallError";
  /** The errno value the call left. */
  readonly errno: number;
  /** The syscall or libc function that failed. */
  readonly syscall: string;
  /** The path or object the call acted on, if any. */
  readonly target?: string;

  constructor(syscall: string, errno: number, target?: string) {
    super(`${syscall}${target ? ` ${target}` : ""}: ${errnoMessage(errno)}`);
    this.errno = errno;
    this.syscall = syscall;
    this.target = target;
  }

  /** The errno's symbolic name, e.g. `EBUSY`. */
  get code(): string {
    return errnoName(this.errno);
  }
}
