/**
 * `--restart`: the decision the shim makes when the container exits, and its back-off.
 * Pure functions, unit-tested.
 *
 * @module
 */

import type { RestartPolicy } from "../config/container.ts";

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
