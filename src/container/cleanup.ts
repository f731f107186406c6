/**
 * Removing what a container owns on the host: its cgroup, its directory (rw layer, /etc
 * files, log), its attach socket and its state. Used by every path that ends a container,
 * including the shim's, so it imports only what cleaning needs.
 *
 * @module
 */

import { openCgroupManager } from "../cgroups/manager.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { attachSocketPath } from "./attach_protocol.ts";

/** Removes a container's cgroup, directories and state: the last step of every removal. */
export function removeContainerFiles(store: StateStore, state: ContainerState): void {
  const errors: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  attempt("cgroup", () => destroyCgroup(state));
  attempt("container directory", () => Deno.removeSync(state.containerDir, { recursive: true }));
  // The shim removes its attach socket when it ends; after a kill -9 this is the place.
  attempt("attach socket", () => Deno.removeSync(attachSocketPath(store.dir, state.id)));
  if (errors.length > 0) {
    throw new Error(`removing container ${state.id}: ${errors.join("; ")}`);
  }
  store.remove(state.id);
}

/** Kills whatever is left in a container's cgroup and removes it. */
export function destroyCgroup(state: ContainerState): void {
  if (Object.keys(state.cgroup.paths).length === 0) return;
  openCgroupManager(state.cgroup.layout, state.cgroup.paths).destroy();
}
