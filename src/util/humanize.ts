/**
 * Times and sizes as Docker prints them (go-units' HumanDuration and HumanSize).
 *
 * @module
 */

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE;

/**
 * A duration in words, with go-units' thresholds.
 *
 * @example
 * ```ts
 * humanDuration(3000); // "3 seconds"
 * ```
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / SECOND);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/**
 * "3 minutes ago".
 *
 * @example
 * ```ts
 * createdAgo(120_000); // "2 minutes ago"
 * ```
 */
export function createdAgo(ms: number): string {
  return `${humanDuration(ms)} ago`;
}

/** What `statusText` needs to know of a container. */
export interface StatusInput {
  status: "created" | "running" | "exited";
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
}

/**
 * The STATUS column of `ps`: "Created", "Up 3 seconds", "Exited (137) 2 minutes ago".
 *
 * @example
 * ```ts
 * statusText({ status: "running", startedAt: 0 }, 3000); // "Up 3 seconds"
 * ```
 */
export function statusText(s: StatusInput, now: number): string {
  if (s.status === "running") return `Up ${humanDuration(now - (s.startedAt ?? now))}`;
  if (s.status === "exited") {
    return `Exited (${s.exitCode ?? 0}) ${humanDuration(now - (s.finishedAt ?? now))} ago`;
  }
  return "Created";
}

/**
 * A size with decimal units and three significant digits, as `docker images` shows it.
 *
 * @example
 * ```ts
 * humanSize(4_261_000); // "4.26MB"
 * ```
 */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let size = bytes, i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(3))}${units[i]}`;
}
