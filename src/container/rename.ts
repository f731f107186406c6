/**
 * `rename`: a new name for a container, with Docker's rules and messages, claimed under the
 * store lock as `create` claims one. A running container keeps its hostname and /etc/hosts,
 * as Docker's does; on user networks the members resolve it by its new name from then on.
 *
 * @module
 */

import { recordContainerEvent } from "../state/events.ts";
import { NetworkStore } from "../network/store.ts";
import type { StateStore } from "../state/store.ts";
import { NoSuchContainerError } from "../state/store.ts";
import { isValidContainerName } from "../util/names.ts";
import { ExitCodeError } from "../util/errors.ts";
import { NameConflictError } from "./create.ts";

/** What a rename did: the container and its names before and after. */
export interface Renamed {
  id: string;
  oldName: string;
  newName: string;
}

/** Docker's refusals of a rename: the CLI exits 1. */
function invalid(message: string): ExitCodeError {
  return new ExitCodeError(message, 1);
}

/**
 * Renames the container `ref` to `newName` (a leading `/` allowed, as Docker's). Throws
 * Docker's errors for an empty or invalid name, the same name, or a name in use.
 */
export function renameContainer(store: StateStore, ref: string, newName: string): Renamed {
  const wanted = newName.trim().replace(/^\//, "");
  if (ref.trim().replace(/^\//, "") === "" || wanted === "") {
    throw invalid("Neither old nor new names may be empty");
  }
  return store.withLock(null, () => {
    const found = store.resolve(ref.trim());
    if (found.name === wanted) {
      throw invalid("Renaming a container with the same name as its current name");
    }
    if (!isValidContainerName(wanted)) {
      throw invalid(
        `Error when allocating new name: Invalid container name (/${wanted}), ` +
          "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
      );
    }
    const holder = store.entries().find((c) => c.name === wanted);
    if (holder) {
      throw invalid(
        `Error when allocating new name: ${new NameConflictError(wanted, holder.id).message}`,
      );
    }
    let oldName = found.name;
    const renamed = store.update(found.id, (s) => {
      oldName = s.name;
      s.name = wanted;
    });
    if (!renamed) throw new NoSuchContainerError(ref);
    renameEndpoints(renamed.networkDir, renamed.id, wanted);
    // Docker's: `container rename ID (image=..., name=new, oldName=/old)`.
    recordContainerEvent(store.dir, renamed, "rename", { oldName: `/${oldName}` });
    return { id: renamed.id, oldName, newName: wanted };
  });
}

/** The name other members of its networks resolve it by, where it holds addresses now. */
function renameEndpoints(networkDir: string | undefined, id: string, name: string): void {
  if (!networkDir) return;
  try {
    Deno.statSync(`${networkDir}/networks.json`);
  } catch {
    return; // no network table yet: nothing to rename
  }
  new NetworkStore(networkDir).update((db) => {
    for (const e of db.endpoints) if (e.containerId === id) e.name = name;
  });
}
