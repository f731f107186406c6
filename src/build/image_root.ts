/**
 * An image's files as one directory, for `COPY --from`: its layers mounted read-only as an
 * overlay in a mount namespace of this thread's own, which it leaves as soon as `fn`
 * returns. The mount is then gone with the namespace, whatever happens (a crash leaves no
 * mount behind); `fn` must use sync calls only (DESIGN.md: namespaces are per thread).
 *
 * @module
 */

import { CLONE, MS, O } from "../../ffi/libc.ts";
import { realSyscalls, type Syscalls } from "../../ffi/syscalls.ts";
import { type ImageRecord, type ImageStore, makeBuildScratch } from "../image/store.ts";
import { mountOverlay } from "../rootfs/setup.ts";

/** Runs `fn(root)` with `image`'s root filesystem at `root`. */
export function withImageRoot<T>(
  images: ImageStore,
  image: ImageRecord,
  fn: (root: string) => T,
  sys: Syscalls = realSyscalls,
): T {
  const point = makeBuildScratch(images.dir, "root");
  const ownNs = sys.open("/proc/thread-self/ns/mnt", O.RDONLY | O.CLOEXEC);
  const cwd = sys.open(".", O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    sys.unshare(CLONE.NEWNS);
    try {
      sys.mount(null, "/", null, MS.REC | MS.PRIVATE);
      const lowers = image.layers.map((l) => images.ensureLayerLink(l)).reverse();
      if (lowers.length === 0) return fn(point); // scratch: nothing
      if (lowers.length === 1) sys.mount(lowers[0], point, null, MS.BIND | MS.RDONLY);
      else mountOverlay(sys, { lowerDirs: lowers, upperDir: "", workDir: "", mountPoint: point });
      return fn(point);
    } finally {
      sys.setns(ownNs, CLONE.NEWNS, "own mount namespace");
      sys.fchdir(cwd);
    }
  } finally {
    sys.close(ownNs);
    sys.close(cwd);
    Deno.removeSync(point);
  }
}
