/**
 * Removing what a container owns on the host: its cgroup, its overlay mount (if one is
 * left in this mount namespace), its directory (rw layer, /etc files, log), its attach
 * socket and its state. Used by every path that ends a container, including the shim's, so
 * it imports only what cleaning needs.
 *
 * @module
 */

import { umount } from "../../ffi/libc.ts";
import { openCgroupManager } from "../cgroups/manager.ts";
import { type DeadContainer, isDead, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { attachSocketPath } from "./attach_protocol.ts";
import { releaseContainer } from "./network_table.ts";
import { removeAnonymousVolumes } from "./volumes.ts";
import { recordContainerEvent } from "../state/events.ts";

/** What a container owns besides its state directory. */
interface Owned {
  id: string;
  containerDir?: string;
  mountPoint?: string;
  cgroup?: ContainerState["cgroup"];
}

/**
 * Removes a container's cgroup, directories and state: the last step of every removal.
 * Call holding the container's lock.
 */
export function removeContainerFiles(store: StateStore, state: ContainerState): void {
  releaseContainer(state);
  removeOwned(store, {
    id: state.id,
    containerDir: state.containerDir,
    mountPoint: state.rootfs.mountPoint,
    cgroup: state.cgroup,
  });
}

/**
 * Removes a dead container and what its resources record says it owned (a dead container
 * without a record was killed before it made anything but its state directory). Call
 * holding the container's lock.
 */
export function removeDeadContainerFiles(store: StateStore, dead: DeadContainer): void {
  const r = dead.resources;
  removeOwned(store, {
    id: dead.id,
    containerDir: r?.containerDir,
    mountPoint: r?.mountPoint,
    cgroup: r?.cgroup,
  });
}

/**
 * Removes a container and everything it owns, as it is now: its state is read under its
 * lock, so that what a concurrent command recorded (a cgroup made again by `start`, say)
 * goes too. A dead container goes the same way. False when it was already gone. Its
 * anonymous volumes go too with `anonymousVolumes` (`rm -v`) or when it was run with
 * `--rm`, as Docker's; named volumes never do.
 */
export function destroyContainer(
  store: StateStore,
  id: string,
  opts: { anonymousVolumes?: boolean; killedWith?: number } = {},
): boolean {
  let removed: ContainerState | null = null;
  const found = store.withLock(id, () => {
    const entry = store.readEntry(id, { locked: true });
    if (!entry) return false;
    // Killed by `rm -f` before its monitor could record the exit (it never will now: the
    // state is going): its death is said here, once, under the lock the monitor needs.
    if (opts.killedWith !== undefined && !isDead(entry) && entry.status === "running") {
      recordContainerEvent(store.dir, entry, "die", { exitCode: String(opts.killedWith) });
    }
    if (isDead(entry)) removeDeadContainerFiles(store, entry);
    else {
      removeContainerFiles(store, entry);
      removed = entry;
    }
    recordContainerEvent(store.dir, entry, "destroy");
    return true;
  }) ?? false;
  // After the container's lock is released: this takes the store's.
  const gone = removed as ContainerState | null;
  if (gone && (opts.anonymousVolumes || gone.spec.autoRemove)) removeAnonymousVolumes(store, gone);
  return found;
}

function removeOwned(store: StateStore, owned: Owned): void {
  const errors: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  if (owned.cgroup) attempt("cgroup", () => destroyCgroup(owned.cgroup!));
  if (owned.mountPoint) attempt("overlay mount", () => unmountIfMounted(owned.mountPoint!));
  if (owned.containerDir) {
    attempt("container directory", () => Deno.removeSync(owned.containerDir!, { recursive: true }));
  }
  // The shim removes its attach socket when it ends; after a kill -9 this is the place.
  attempt("attach socket", () => Deno.removeSync(attachSocketPath(store.dir, owned.id)));
  if (errors.length > 0) {
    throw new Error(`removing container ${owned.id}: ${errors.join("; ")}`);
  }
  store.remove(owned.id);
}

/** Kills whatever is left in a container's cgroup and removes it. */
export function destroyCgroup(cgroup: ContainerState["cgroup"]): void {
  if (Object.keys(cgroup.paths).length === 0) return;
  openCgroupManager(cgroup.layout, cgroup.paths).destroy();
}

/**
 * The overlay is mounted inside the container's own mount namespace and goes with it; one
 * visible here (a runtime that mounted it from outside, or a crash in between) is detached.
 */
function unmountIfMounted(mountPoint: string): void {
  const mounted = Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((line) =>
    line.split(" ")[4]?.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))) ===
      mountPoint
  );
  if (mounted) umount(mountPoint, true);
}
