/**
 * The mounts a remapped container's init cannot make itself, made by the parent (host root)
 * as detached mounts for init to attach in its own mount namespace: the overlay root over
 * idmapped image layers (so that the image's root-owned files are the container root's), and
 * bind mounts of the /etc files and the volumes (whose host paths the container's root may
 * not be able to look up). See DESIGN.md, "User namespaces".
 *
 * @module
 */

import { O } from "../../ffi/libc.ts";
import type { Syscalls } from "../../ffi/syscalls.ts";
import type { BindMount } from "../config/container.ts";
import type { EtcFiles, RootfsLayout, UsernsMounts } from "../config/init.ts";

/** The descriptors to send init, and the plan that names them by index. */
export interface DetachedMounts {
  fds: number[];
  plan: UsernsMounts;
}

/**
 * Opens every mount of a remapped container for the init whose user namespace is `usernsFd`.
 * On failure nothing stays open (detached mounts vanish with their last descriptor), and the
 * error says what the kernel refused.
 */
export function openDetachedMounts(
  sys: Syscalls,
  usernsFd: number,
  rootfs: RootfsLayout,
  etcFiles: EtcFiles,
  mounts: readonly BindMount[],
): DetachedMounts {
  const fds: number[] = [];
  const add = (fd: number) => fds.push(fd) - 1;
  const lowers: number[] = [];
  try {
    for (const dir of rootfs.lowerDirs) {
      const fd = sys.openTreeClone(dir, false);
      lowers.push(fd);
      try {
        sys.idmapMount(fd, usernsFd, dir);
      } catch (e) {
        throw new Error(
          `user namespace remapping needs idmapped mounts of the image's layers, which this ` +
            `kernel or the data root's filesystem refuses: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    const mountPoint = add(sys.open(rootfs.mountPoint, O.PATH | O.DIRECTORY | O.CLOEXEC));
    let overlay: number;
    try {
      overlay = sys.fsmountDetached("overlay", [
        ["lowerdir", lowers.map((fd) => `/proc/self/fd/${fd}`).join(":")],
        ["upperdir", rootfs.upperDir],
        ["workdir", rootfs.workDir],
      ]);
    } catch (e) {
      throw new Error(
        `cannot mount the container's overlay on idmapped image layers: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const root = add(overlay);
    const etc = {
      hostname: add(sys.openTreeClone(etcFiles.hostname, false)),
      hosts: add(sys.openTreeClone(etcFiles.hosts, false)),
      resolvConf: add(sys.openTreeClone(etcFiles.resolvConf, false)),
    };
    const binds = mounts.map((m) => ({
      directory: sys.fileKind(m.source, true) === "directory",
      fd: add(sys.openTreeClone(m.source, true)),
    }));
    return { fds, plan: { mountPoint, rootfs: root, etc, mounts: binds } };
  } catch (e) {
    for (const fd of fds) sys.close(fd);
    throw e;
  } finally {
    // The overlay holds its layers; their own descriptors are not needed any more.
    for (const fd of lowers) sys.close(fd);
  }
}
