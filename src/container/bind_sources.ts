/**
 * The host side of bind mounts, prepared before init mounts them. Kept apart from
 * create.ts because the shim's restart path needs it and nothing else of creating.
 *
 * @module
 */

import { type BindMount, INIT_PATH } from "../config/container.ts";

/**
 * Creates the host directories of bind mounts that do not exist, as Docker does for `-v`
 * both when a container is created and each time it starts. `--init`'s binary is not a
 * user's directory: if it went missing, init reports the mount failing instead.
 */
export function createMissingBindSources(mounts: readonly BindMount[]): void {
  for (const m of mounts) {
    // A volume's directory is the volume store's to make, with its metadata.
    // A layer view's source is made in the container's mount namespace, not here.
    if (m.destination === INIT_PATH || m.volume || m.layers) continue;
    try {
      Deno.statSync(m.source);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      Deno.mkdirSync(m.source, { recursive: true });
    }
  }
}
