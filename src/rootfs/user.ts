/**
 * `-u USER[:GROUP]`: names are looked up in the container's own /etc/passwd and
 * /etc/group, as Docker does; numbers are taken as they are.
 *
 * @module
 */

import { ExitCodeError } from "../util/errors.ts";

/** A resolved identity. */
export interface User {
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: number[];
  home?: string;
}

function readOrEmpty(read: (path: string) => string, path: string): string[][] {
  try {
    return read(path).split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
  } catch {
    return [];
  }
}

/**
 * Resolves `--group-add` entries (group names in the container's /etc/group, or numbers)
 * to group IDs, as Docker does; an unknown name is an error.
 *
 * @example
 * ```ts
 * resolveGroups(["audio", "1234"], (p) => Deno.readTextFileSync(p)); // [29, 1234]
 * ```
 */
export function resolveGroups(names: string[], read: (path: string) => string): number[] {
  const groupFile = readOrEmpty(read, "/etc/group");
  return names.map((n) => {
    if (/^\d+$/.test(n)) return Number(n);
    const g = groupFile.find((l) => l[0] === n);
    if (!g) {
      throw new ExitCodeError(`Unable to find group ${n}: no matching entries in group file`, 125);
    }
    return Number(g[2]);
  });
}

/**
 * Resolves `spec` against the passwd and group files that `read` returns (paths inside the
 * container). Unknown names are an error; unknown numbers are fine.
 *
 * @example
 * ```ts
 * resolveUser("nobody", (p) => Deno.readTextFileSync(p)); // { uid: 65534, gid: 65534, ... }
 * ```
 */
export function resolveUser(spec: string, read: (path: string) => string): User {
  const [userPart, groupPart] = spec.split(":", 2);
  const passwd = readOrEmpty(read, "/etc/passwd");
  const groupFile = readOrEmpty(read, "/etc/group");
  const entry = /^\d+$/.test(userPart)
    ? passwd.find((p) => p[2] === userPart)
    : passwd.find((p) => p[0] === userPart);
  if (!entry && !/^\d+$/.test(userPart)) {
    throw new ExitCodeError(
      `unable to find user ${userPart}: no matching entries in passwd file`,
      126,
    );
  }
  const uid = Number(entry?.[2] ?? userPart);
  let gid = Number(entry?.[3] ?? 0);
  if (groupPart !== undefined) {
    const g = /^\d+$/.test(groupPart) ? [, , groupPart] : groupFile.find((l) => l[0] === groupPart);
    if (!g) {
      throw new ExitCodeError(
        `unable to find group ${groupPart}: no matching entries in group file`,
        126,
      );
    }
    gid = Number(g[2]);
  }
  const name = entry?.[0];
  const groups = name
    ? groupFile.filter((g) => (g[3] ?? "").split(",").includes(name)).map((g) => Number(g[2]))
    : [];
  return { uid, gid, groups: [...new Set([gid, ...groups])], home: entry?.[5] };
}
