/**
 * `update`: new limits and restart policy for an existing container, with Docker's rules
 * (container/container_unix.go's `UpdateContainer`): only the values given change, the
 * result is checked as `run`'s limits are, then written to the live cgroup through the same
 * translation as at create (`limitFiles`), and kept in the spec, so that `inspect` shows
 * them and the next start applies them. A stopped container only has its spec changed.
 *
 * @module
 */

import { availableCpus } from "../cgroups/cpus.ts";
import { openCgroupManager } from "../cgroups/manager.ts";
import { discardUnsupportedLimits } from "../cgroups/support.ts";
import type { RestartPolicy } from "../config/container.ts";
import { type ResourceLimits, validateLimits } from "../config/limits.ts";
import { NoSuchContainerError, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { ExitCodeError } from "../util/errors.ts";
import { isRunning } from "./reconcile.ts";

/** What `update` was asked to change; absent and zero values change nothing, as Docker's. */
export interface ContainerUpdate {
  limits: ResourceLimits;
  restart?: RestartPolicy;
}

/** A refusal of the update as a whole (the CLI prints it and exits 1). */
export class UpdateConflictError extends ExitCodeError {
  override name = "UpdateConflictError";
  constructor(message: string) {
    super(message, 1);
  }
}

/** The memory+swap limit Docker records when only a memory limit was given: twice it. */
function swapInForce(l: ResourceLimits): number {
  return l.memorySwapBytes ?? ((l.memoryBytes ?? 0) > 0 ? 2 * l.memoryBytes! : 0);
}

/**
 * The limits after an update: each field given with a value other than 0 replaces the one
 * in force. Throws `UpdateConflictError` with Docker's message for a memory limit above
 * the memory+swap limit in force without a new one.
 *
 * @example
 * ```ts
 * mergeLimits({ memoryBytes: 64 << 20, pidsLimit: 10 }, { pidsLimit: 20 });
 * // { memoryBytes: 67108864, pidsLimit: 20 }
 * ```
 */
export function mergeLimits(current: ResourceLimits, change: ResourceLimits): ResourceLimits {
  const given = <K extends keyof ResourceLimits>(k: K) =>
    change[k] !== undefined && change[k] !== 0 && change[k] !== "" && change[k] !== false;
  // --cpus sets the CFS quota and period itself: it cannot be mixed with either, either way
  // round (Docker's checks, and its messages).
  const positive = (n: number | undefined) => (n ?? 0) > 0;
  const conflicts: Array<[boolean, string]> = [
    [
      positive(change.nanoCpus) && positive(current.cpuPeriodUs),
      "Nano CPUs cannot be updated as CPU Period has already been set",
    ],
    [
      positive(change.nanoCpus) && positive(current.cpuQuotaUs),
      "Nano CPUs cannot be updated as CPU Quota has already been set",
    ],
    [
      positive(change.cpuPeriodUs) && positive(current.nanoCpus),
      "CPU Period cannot be updated as NanoCPUs has already been set",
    ],
    [
      positive(change.cpuQuotaUs) && positive(current.nanoCpus),
      "CPU Quota cannot be updated as NanoCPUs has already been set",
    ],
  ];
  for (const [conflict, message] of conflicts) {
    if (conflict) throw new UpdateConflictError(`Conflicting options: ${message}`);
  }
  if (given("memoryBytes") && !given("memorySwapBytes")) {
    if (change.memoryBytes! > swapInForce(current)) {
      throw new UpdateConflictError(
        "Memory limit should be smaller than already set memoryswap limit, " +
          "update the memoryswap at the same time",
      );
    }
  }
  const next: ResourceLimits = { ...current };
  for (const k of Object.keys(change) as (keyof ResourceLimits)[]) {
    if (given(k)) (next as Record<string, unknown>)[k] = change[k];
  }
  return next;
}

/**
 * Updates the container `id`, under its lock: what the host cannot apply discarded with
 * Docker's warning (added to `warnings`), the merged limits checked with Docker's messages,
 * applied to its cgroup if it runs (paused too), then recorded. Nothing is recorded if any
 * of that fails.
 */
export function updateContainer(
  store: StateStore,
  id: string,
  change: ContainerUpdate,
  warnings: string[] = [],
): ContainerState {
  const supported = discardUnsupportedLimits(change.limits);
  change = { ...change, limits: supported.limits };
  const done = store.update(id, (s) => {
    if (change.restart && change.restart.name !== "no") {
      if (s.spec.autoRemove) {
        throw new UpdateConflictError(
          "Restart policy cannot be updated because AutoRemove is enabled for the container",
        );
      }
      if (!s.spec.detach) {
        throw new UpdateConflictError(
          "Restart policy cannot be updated: the container runs in the foreground, and " +
            "restarts are done by a detached container's shim",
        );
      }
    }
    const previous = s.spec.limits;
    const next = mergeLimits(previous, change.limits);
    validateLimits(next, {
      cpus: change.limits.cpusetCpus === undefined
        ? undefined
        : availableCpus({ parent: s.spec.cgroupParent }),
    });
    if (isRunning(s)) {
      openCgroupManager(s.cgroup.layout, s.cgroup.paths).updateLimits(previous, next);
    }
    s.spec.limits = next;
    if (change.restart) s.spec.restart = change.restart;
  });
  if (!done) throw new NoSuchContainerError(id);
  warnings.push(...supported.warnings);
  return done;
}
