/**
 * Where a remapped container's host ids come from: the `dockremap` entries of /etc/subuid and
 * /etc/subgid (or the files `M_DOCKER_SUBUID_FILE` and `M_DOCKER_SUBGID_FILE` name), 65536
 * ids from the start of the first entry, as Docker's `userns-remap: default`.
 *
 * @module
 */

import {
  type IdRange,
  parseSubIdFile,
  REMAP_SIZE,
  REMAP_USER,
  type UsernsRemap,
} from "../config/userns.ts";
import { InvalidConfigError } from "../config/errors.ts";

/** The subordinate-id files, with their overrides from the environment. */
export function subIdFiles(env: Record<string, string | undefined>): { uid: string; gid: string } {
  return {
    uid: env.M_DOCKER_SUBUID_FILE || "/etc/subuid",
    gid: env.M_DOCKER_SUBGID_FILE || "/etc/subgid",
  };
}

function rangeFrom(path: string, kind: "uid" | "gid"): IdRange {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new InvalidConfigError("userns", `cannot read ${path}: ${(e as Error).message}`);
    }
  }
  let range: IdRange | undefined;
  try {
    range = parseSubIdFile(text);
  } catch (e) {
    throw new InvalidConfigError("userns", `${path}: ${(e as Error).message}`);
  }
  if (!range) {
    throw new InvalidConfigError(
      "userns",
      `user namespace remapping needs a ${REMAP_USER} range in ${path}: add a line such as ` +
        `"${REMAP_USER}:100000:${REMAP_SIZE}" (sub${kind} ids for container root and its users)`,
    );
  }
  if (range.size < REMAP_SIZE) {
    throw new InvalidConfigError(
      "userns",
      `the ${REMAP_USER} range in ${path} has ${range.size} ids; remapping needs ${REMAP_SIZE}`,
    );
  }
  return { hostStart: range.hostStart, size: REMAP_SIZE };
}

/** The remapped container's ranges; throws one clear `InvalidConfigError` when there is none. */
export function remapRanges(env: Record<string, string | undefined>): UsernsRemap {
  const files = subIdFiles(env);
  return { uid: rangeFrom(files.uid, "uid"), gid: rangeFrom(files.gid, "gid") };
}
