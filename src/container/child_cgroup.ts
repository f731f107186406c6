/**
 * The descriptors through which a child that ffi/nsclone.ts spawns starts in a container's
 * cgroup with no one migrating it (`childPlacementOf` in src/cgroups/join.ts): v1's `tasks` files,
 * which the child writes "0" to, or v2's directory, which clone3 is given. Opened in the
 * host's mount namespace, before the spawning thread enters the container's. Shared by the
 * direct start and `exec`.
 *
 * @module
 */

import { O } from "../../ffi/libc.ts";
import type { NamespacedSpawnOptions } from "../../ffi/nsclone.ts";
import type { Syscalls } from "../../ffi/syscalls.ts";
import type { ChildPlacement } from "../cgroups/types.ts";

/** Open descriptors of a child's way into its cgroup, as spawnInNamespaces options. */
export class ChildCgroup implements Disposable {
  private constructor(
    private readonly sys: Syscalls,
    /** What to pass to the spawn. */
    readonly options: Pick<NamespacedSpawnOptions, "joinCgroupFiles" | "cgroupDir">,
    private readonly fds: number[],
  ) {}

  /** Opens what `placement` names; closes what it opened if one fails. */
  static open(sys: Syscalls, placement: ChildPlacement): ChildCgroup {
    const fds: number[] = [];
    try {
      if ("bornIn" in placement) {
        fds.push(sys.open(placement.bornIn, O.PATH | O.DIRECTORY | O.CLOEXEC));
        return new ChildCgroup(sys, { cgroupDir: fds[0] }, fds);
      }
      for (const file of placement.tasksFiles) fds.push(sys.open(file, O.WRONLY | O.CLOEXEC));
      return new ChildCgroup(sys, { joinCgroupFiles: fds }, fds);
    } catch (e) {
      for (const fd of fds) sys.close(fd);
      throw e;
    }
  }

  [Symbol.dispose](): void {
    for (const fd of this.fds.splice(0)) this.sys.close(fd);
  }
}
