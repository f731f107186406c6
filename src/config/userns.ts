/**
 * User-namespace remapping (Docker's daemon setting `userns-remap`, here `--userns=remap` or
 * `M_DOCKER_USERNS_REMAP=default`): the container's root is an unprivileged range of host
 * ids, the `dockremap` entries of /etc/subuid and /etc/subgid. Plain data and parsing only;
 * reading the files is src/container/userns.ts's.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/** The user whose subordinate ids Docker's `userns-remap: default` uses. */
export const REMAP_USER = "dockremap";

/** How many ids a remapped container gets, from the start of the first entry (Docker: 65536). */
export const REMAP_SIZE = 65536;

/** A range of host ids that ids 0.. of the container map onto. */
export interface IdRange {
  /** The host id that the container's id 0 is. */
  hostStart: number;
  size: number;
}

/** A remapped container's ids: its uids and gids, each a range of the host's. */
export interface UsernsRemap {
  uid: IdRange;
  gid: IdRange;
}

/** `--userns` as given: `host`, `remap`, or nothing (then the environment's default). */
export type UsernsMode = "host" | "remap";

/**
 * The mode a container runs in: `--userns` if given, else remap when `envDefault`
 * (`M_DOCKER_USERNS_REMAP`) is `default`, else host. Any other value of either is refused.
 */
export function parseUsernsMode(
  flag: string | undefined,
  envDefault: string | undefined,
): { mode: UsernsMode; explicit: boolean } {
  if (flag !== undefined) {
    if (flag === "host" || flag === "remap") return { mode: flag, explicit: true };
    throw new InvalidConfigError(
      "userns",
      `invalid --userns ${JSON.stringify(flag)}: it must be "host" or "remap" (m-docker's own ` +
        "value: container root becomes the dockremap range of /etc/subuid and /etc/subgid)",
    );
  }
  if (envDefault === undefined || envDefault === "") return { mode: "host", explicit: false };
  if (envDefault === "default") return { mode: "remap", explicit: false };
  throw new InvalidConfigError(
    "userns",
    `invalid M_DOCKER_USERNS_REMAP ${JSON.stringify(envDefault)}: the only value is "default"`,
  );
}

/**
 * The first range of `user` in a subuid or subgid file (`name:start:count` lines, `#`
 * comments), as shadow-utils writes them; a line naming the user by number does not count
 * (Docker looks the name up). Undefined when the user has none; throws for a malformed line
 * of that user.
 */
export function parseSubIdFile(text: string, user = REMAP_USER): IdRange | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [name, start, count, ...rest] = line.split(":");
    if (name !== user) continue;
    if (
      rest.length > 0 || !/^\d+$/.test(start ?? "") || !/^\d+$/.test(count ?? "") ||
      Number(start) > 0xfffffffe || Number(count) === 0
    ) {
      throw new Error(`malformed entry for ${user}: ${JSON.stringify(line)}`);
    }
    return { hostStart: Number(start), size: Number(count) };
  }
  return undefined;
}

/** The line written to /proc/PID/uid_map or gid_map for a range. */
export function idMapLine(range: IdRange): string {
  return `0 ${range.hostStart} ${range.size}\n`;
}

/** The host id that a container id stands for in `range` (ids outside it are unmapped). */
export function hostId(range: IdRange, id: number): number {
  return range.hostStart + id;
}

/** The overflow id: what an id outside the range shows as inside the container. */
export const OVERFLOW_ID = 65534;

/** The container's id for a host id (what a remapped container's process sees). */
export function containerId(range: IdRange, host: number): number {
  const id = host - range.hostStart;
  return id >= 0 && id < range.size ? id : OVERFLOW_ID;
}

/**
 * Owners of a remapped container's own files (its upper layer, stored as host ids) as the
 * container sees them, for `commit` and `export`; undefined when not remapped.
 */
export function containerOwners(
  remap: UsernsRemap | undefined,
): ((uid: number, gid: number) => { uid: number; gid: number }) | undefined {
  return remap &&
    ((uid, gid) => ({ uid: containerId(remap.uid, uid), gid: containerId(remap.gid, gid) }));
}

/** `UsernsRemap` as one command-line word, for the shim's argv; `parseUsernsWord` reads it. */
export function formatUsernsWord(remap: UsernsRemap | undefined): string {
  return remap
    ? `remap:${remap.uid.hostStart}:${remap.uid.size}:${remap.gid.hostStart}:${remap.gid.size}`
    : "host";
}

/** Reads `formatUsernsWord`'s word. */
export function parseUsernsWord(word: string | undefined): UsernsRemap | undefined {
  const m = /^remap:(\d+):(\d+):(\d+):(\d+)$/.exec(word ?? "");
  if (!m) return undefined;
  return {
    uid: { hostStart: Number(m[1]), size: Number(m[2]) },
    gid: { hostStart: Number(m[3]), size: Number(m[4]) },
  };
}
