/**
 * `--ulimit`s and `--oom-score-adj`: properties of a process that its children inherit,
 * so both the container's init (before it execs the command) and `exec` (before it spawns
 * one) set them on themselves. Docker's exec'd processes get the container's as well: its
 * daemon builds an exec's process from the container's own spec.
 *
 * @module
 */

import { RLIMIT } from "../../ffi/libc.ts";
import { errorReason } from "../../ffi/errors.ts";
import type { Syscalls } from "../../ffi/syscalls.ts";
import type { Ulimit } from "../config/container.ts";
import { ExitCodeError } from "../util/errors.ts";

/** What `applyProcessLimits` replaced, to put back once the spawn is done. */
export type RestoreLimits = () => void;

/**
 * Sets the limits on the calling process and returns how to put back the old ones, as far
 * as the caller still may: a hard limit it lowered, or an oom_score_adj it raised, can only
 * be undone with CAP_SYS_RESOURCE, which `exec` has given up by then, and the kernel keeps
 * the new value; the CLI process that keeps it spawns nothing else. Throws ExitCodeError
 * (`code`) naming the limit the kernel refused. `pid` sets them on another process instead:
 * a remapped init, whose own capabilities count only in its user namespace, gets them from
 * its parent, which may raise a hard limit or lower the OOM score.
 */
export function applyProcessLimits(
  sys: Syscalls,
  ulimits: readonly Ulimit[] | undefined,
  oomScoreAdj: number | undefined,
  code: number,
  pid = 0,
): RestoreLimits {
  const undo: Array<() => void> = [];
  const restore = () => {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch { /* not allowed any more: see above */ }
    }
  };
  try {
    for (const u of ulimits ?? []) {
      try {
        const old = sys.setRlimit(RLIMIT[u.name], u.soft, u.hard, pid);
        undo.push(() => sys.setRlimit(RLIMIT[u.name], old.soft, old.hard, pid));
      } catch (e) {
        throw new ExitCodeError(
          `cannot set ulimit ${u.name}=${u.soft}:${u.hard}: ${errorReason(e)}`,
          code,
        );
      }
    }
    if (oomScoreAdj !== undefined) {
      const path = `/proc/${pid || "self"}/oom_score_adj`;
      try {
        const old = sys.readTextFile(path).trim();
        sys.writeTextFile(path, String(oomScoreAdj));
        undo.push(() => sys.writeTextFile(path, old));
      } catch (e) {
        throw new ExitCodeError(
          `cannot set oom_score_adj to ${oomScoreAdj}: ${errorReason(e)}`,
          code,
        );
      }
    }
    return restore;
  } catch (e) {
    restore();
    throw e;
  }
}
