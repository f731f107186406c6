/**
 * The healthcheck flags of `run` (and `create`): Docker's `--health-*` and
 * `--no-healthcheck`, with Go durations and docker/cli's checks and messages.
 *
 * @module
 */

import type { HealthConfig } from "../config/health.ts";
import { parseGoDuration } from "../util/duration.ts";
import { UsageError } from "../util/errors.ts";
import { parseInteger } from "./params.ts";

/** The healthcheck flags as parsed (durations in nanoseconds). */
export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: number;
  healthTimeout?: number;
  healthStartPeriod?: number;
  healthStartInterval?: number;
  healthRetries?: number;
  noHealthcheck?: boolean;
}

const duration = { kind: "parsed", parse: parseGoDuration, optional: true } as const;

/** The flags, Docker's briefs (docker/cli opts.go). */
export const healthFlags = {
  healthCmd: {
    kind: "parsed",
    parse: String,
    optional: true,
    brief: "Command to run to check health",
  },
  healthInterval: { ...duration, brief: "Time between running the check (ms|s|m|h) (default 0s)" },
  healthTimeout: {
    ...duration,
    brief: "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
  },
  healthStartPeriod: {
    ...duration,
    brief:
      "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)",
  },
  healthStartInterval: {
    ...duration,
    brief: "Time between running the check during the start period (ms|s|m|h) (default 0s)",
  },
  healthRetries: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Consecutive failures needed to report unhealthy",
  },
  noHealthcheck: {
    kind: "boolean",
    optional: true,
    brief: "Disable any container-specified HEALTHCHECK",
  },
} as const;

/**
 * The request's healthcheck from the flags, as docker/cli builds it: none when no flag is
 * given (the image's applies), `["NONE"]` for `--no-healthcheck`, otherwise `CMD-SHELL` with
 * `--health-cmd` (or no test: the image's) and the durations given. Throws `UsageError`
 * with docker/cli's messages.
 */
export function healthcheckFromFlags(f: HealthFlags): HealthConfig | undefined {
  const have = (f.healthCmd ?? "") !== "" || !!f.healthInterval || !!f.healthTimeout ||
    !!f.healthStartPeriod || !!f.healthRetries || !!f.healthStartInterval;
  if (f.noHealthcheck) {
    if (have) throw new UsageError("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!have) return undefined;
  const checks: Array<[number | undefined, string]> = [
    [f.healthInterval, "--health-interval"],
    [f.healthTimeout, "--health-timeout"],
    [f.healthRetries, "--health-retries"],
    [f.healthStartPeriod, "--health-start-period"],
    [f.healthStartInterval, "--health-start-interval"],
  ];
  for (const [v, name] of checks) {
    if ((v ?? 0) < 0) throw new UsageError(`${name} cannot be negative`);
  }
  const h: HealthConfig = { Test: f.healthCmd ? ["CMD-SHELL", f.healthCmd] : [] };
  if (f.healthInterval) h.Interval = f.healthInterval;
  if (f.healthTimeout) h.Timeout = f.healthTimeout;
  if (f.healthStartPeriod) h.StartPeriod = f.healthStartPeriod;
  if (f.healthStartInterval) h.StartInterval = f.healthStartInterval;
  if (f.healthRetries) h.Retries = f.healthRetries;
  return h;
}
