/**
 * The errors of the cgroup layer, as crun's: each names the file and carries errno, so that
 * a caller can tell causes apart by value (`EBUSY`, `EINVAL`) rather than by message text,
 * and each front end can say which of its options a failed limit came from.
 *
 * @module
 */

import { errnoMessage, errnoName } from "../../ffi/errors.ts";

/** errno values by symbolic name, for errors that carry only the name (Deno's `code`). */
const ERRNO_BY_NAME = new Map<string, number>();
for (let n = 1; n < 134; n++) ERRNO_BY_NAME.set(errnoName(n), n);

/**
 * The errno value of a symbolic name such as `EBUSY`, if known.
 *
 * @example
 * ```ts
 * errnoOf("EBUSY"); // 16
 * ```
 */
export function errnoOf(code: string | undefined): number | undefined {
  return code === undefined ? undefined : ERRNO_BY_NAME.get(code);
}

/**
 * A failed operation on a cgroup file or directory: `rmdir /sys/fs/cgroup/x: Device or
 * resource busy`. `errno` is the kernel's, when known.
 *
 * @example
 * ```ts
 * throw new CgroupFsError("rmdir", "/sys/fs/cgroup/pids/x", 16);
 * ```
 */
export class CgroupFsError extends Error {
  override name = "CgroupFsError";
  /**
   * `detail` stands in for the errno's description when errno is unknown, and `hint` is
   * appended in parentheses: what the failure usually means.
   */
  constructor(
    readonly op: string,
    readonly path: string,
    readonly errno: number | undefined,
    options: { detail?: string; hint?: string; cause?: unknown } = {},
  ) {
    const why = errno !== undefined ? errnoMessage(errno) : options.detail ?? "failed";
    super(`${op} ${path}: ${why}${options.hint ? ` (${options.hint})` : ""}`, {
      cause: options.cause,
    });
  }

  /** The errno's symbolic name, e.g. `EBUSY`; undefined when errno is unknown. */
  get code(): string | undefined {
    return this.errno === undefined ? undefined : errnoName(this.errno);
  }

  /** The name of the file or directory, without its directory: `cpuset.cpus`. */
  get file(): string {
    return this.path.slice(this.path.lastIndexOf("/") + 1);
  }
}

/**
 * A write to a cgroup file that the kernel refused: `write .../cpuset.cpus: Invalid
 * argument`, with the value that was written and whether it was a limit's.
 *
 * @example
 * ```ts
 * throw new CgroupWriteError("/sys/fs/cgroup/cpuset/x/cpuset.cpus", "99", 22);
 * ```
 */
export class CgroupWriteError extends CgroupFsError {
  override name = "CgroupWriteError";
  /** Whether the write applied one of the container's limits (not the layer's own files). */
  readonly appliesLimit: boolean;
  constructor(
    path: string,
    readonly value: string,
    errno: number | undefined,
    options: { detail?: string; hint?: string; cause?: unknown; appliesLimit?: boolean } = {},
  ) {
    super("write", path, errno, options);
    this.appliesLimit = options.appliesLimit ?? false;
  }
}

/**
 * A limit that this host's cgroups cannot apply: its controller is not mounted or not
 * available to the cgroup, or its file is missing (swap accounting off).
 *
 * @example
 * ```ts
 * throw new CgroupUnsupportedError("pids", "pids.max", "the pids cgroup controller is not mounted");
 * ```
 */
export class CgroupUnsupportedError extends Error {
  override name = "CgroupUnsupportedError";
  constructor(readonly controller: string, readonly file: string, message: string) {
    super(message);
  }
}

/**
 * The device allow-list could not be put on a cgroup v2 directory (its BPF program was
 * refused, or this kernel has no BPF cgroup device support): `cannot restrict device
 * access: bpf(BPF_PROG_ATTACH) /sys/fs/cgroup/x: Invalid argument (...)`. `errno`
 * is the failed call's, when there was one.
 *
 * @example
 * ```ts
 * throw new CgroupDeviceFilterError("/sys/fs/cgroup/x", new Error("no bpf"));
 * ```
 */
export class CgroupDeviceFilterError extends Error {
  override name = "CgroupDeviceFilterError";
  readonly errno: number | undefined;
  constructor(readonly dir: string, cause: unknown) {
    const errno = (cause as { errno?: unknown })?.errno;
    const n = typeof errno === "number" ? errno : undefined;
    // The errnos that mean "this kernel or this process cannot", rather than a bad program.
    const hint = n === 38 || (n === 22 && !/PROG_LOAD/.test(String(cause)))
      ? " (the kernel lacks BPF cgroup device programs: CONFIG_CGROUP_BPF)"
      : n === 1
      ? " (loading BPF programs needs CAP_SYS_ADMIN or CAP_BPF)"
      : "";
    super(
      `cannot restrict device access: ${(cause as Error)?.message ?? cause}${hint}`,
      { cause },
    );
    this.errno = n;
  }
}
