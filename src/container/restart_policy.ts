/**
 * `--restart`: parsing Docker's policy strings, and the decision the shim makes when the
 * container exits. Pure functions, unit-tested.
 *
 * @module
 */

import type { RestartPolicy } from "../state/types.ts";
import { UsageError } from "../util/errors.ts";

/**
 * Parses `no`, `always`, `on-failure` or `on-failure:N`.
 *
 * @example
 * ```ts
 * parseRestartPolicy("on-failure:3"); // { name: "on-failure", maxRetries: 3 }
 * ```
 */
export function parseRestartPolicy(s: string): RestartPolicy {
  if (s === "no") return { name: "no" };
  if (s === "always") return { name: "always" };
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m) {
    return m[1] === undefined
      ? { name: "on-failure" }
      : { name: "on-failure", maxRetries: Number(m[1]) };
  }
  if (s === "unless-stopped") {
    throw new UsageError("restart policy unless-stopped is not supported yet: use always");
  }
  throw new UsageError(
    `invalid restart policy "${s}": use no, always, or on-failure[:max-retries]`,
  );
}

/**
 * Whether to start the container again after it exited with `exitCode`, having been
 * restarted `restarts` times already. An explicit stop always wins.
 */
export function shouldRestart(
  policy: RestartPolicy | undefined,
  exitCode: number,
  restarts: number,
  stopRequested: boolean,
): boolean {
  if (!policy || stopRequested) return false;
  switch (policy.name) {
    case "no":
      return false;
    case "always":
      return true;
    case "on-failure":
      return exitCode !== 0 && (policy.maxRetries === undefined || restarts < policy.maxRetries);
  }
}

/** Seconds to wait before the n-th restart: Docker's back-off, doubling from 100 ms, capped. */
export function restartDelayMs(restarts: number): number {
  return Math.min(100 * 2 ** restarts, 10_000);
}
