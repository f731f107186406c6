/**
 * Healthchecks as Docker's: the configuration (Docker's `Config.Healthcheck`, from the image
 * or `--health-*`), the health a container's state records (`State.Health`), and the pure
 * rules that move one to the next after each probe (moby's daemon/health.go): the defaults,
 * the start period, the failing streak, the last five results.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/**
 * Docker's `HealthConfig`: durations in nanoseconds, 0 or absent meaning the default.
 * `Test` is `[]` (inherit the image's), `["NONE"]`, `["CMD", argv...]` or
 * `["CMD-SHELL", command]`.
 */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** Docker's defaults (moby daemon/health.go), in nanoseconds. */
export const HEALTH_DEFAULTS = {
  interval: 30e9,
  timeout: 30e9,
  startPeriod: 0,
  startInterval: 5e9,
  retries: 3,
} as const;

/** Docker's `containertypes.MinimumDuration`: 1ms. */
export const MINIMUM_HEALTH_DURATION_NS = 1e6;

/** The longest probe output kept, in bytes; longer output is cut and ends in "...". */
export const MAX_PROBE_OUTPUT = 4096;

/** How many probe results `State.Health.Log` keeps. */
export const MAX_HEALTH_LOG = 5;

/** `starting` until the first success (or the streak), then `healthy` or `unhealthy`. */
export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** One probe's result, as Docker's `HealthcheckResult` (times as ISO strings). */
export interface ProbeResult {
  start: string;
  end: string;
  /** 0 healthy; anything else a failure; -1 when the probe could not run or timed out. */
  exitCode: number;
  output: string;
}

/** A container's health while it runs (`State.Health` in inspect). */
export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** The last results, oldest first. */
  log: ProbeResult[];
}

/**
 * The daemon's checks of a healthcheck config (moby's `validateHealthCheck`), with its
 * messages. Throws `InvalidConfigError`.
 */
export function validateHealthConfig(h: HealthConfig): void {
  const min = "1ms";
  for (const [key, name] of [["Interval", "Interval"], ["Timeout", "Timeout"]] as const) {
    const v = h[key] ?? 0;
    if (v !== 0 && v < MINIMUM_HEALTH_DURATION_NS) {
      throw new InvalidConfigError(
        `healthcheck.${key}`,
        `${name} in Healthcheck cannot be less than ${min}`,
      );
    }
  }
  if ((h.Retries ?? 0) < 0) {
    throw new InvalidConfigError(
      "healthcheck.Retries",
      "Retries in Healthcheck cannot be negative",
    );
  }
  for (const key of ["StartPeriod", "StartInterval"] as const) {
    const v = h[key] ?? 0;
    if (v !== 0 && v < MINIMUM_HEALTH_DURATION_NS) {
      throw new InvalidConfigError(
        `healthcheck.${key}`,
        `${key} in Healthcheck cannot be less than ${min}`,
      );
    }
  }
}

/**
 * The container's healthcheck from the request's and the image's, as Docker's daemon merges
 * them: no request config takes the image's whole; a request config without a test, or
 * with zero durations, takes those from the image.
 */
export function mergeHealthConfig(
  user: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (!user) return image ? { ...image, Test: [...(image.Test ?? [])] } : undefined;
  if (!image) return user;
  const pick = (k: "Interval" | "Timeout" | "StartPeriod" | "StartInterval" | "Retries") =>
    user[k] || image[k];
  return compact({
    Test: user.Test.length > 0 ? user.Test : [...(image.Test ?? [])],
    Interval: pick("Interval"),
    Timeout: pick("Timeout"),
    StartPeriod: pick("StartPeriod"),
    StartInterval: pick("StartInterval"),
    Retries: pick("Retries"),
  });
}

/** The config without its zero fields, as Docker's JSON omits them. */
export function compact(h: HealthConfig): HealthConfig {
  const out: HealthConfig = { Test: h.Test };
  for (const k of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"] as const) {
    if (h[k]) out[k] = h[k];
  }
  return out;
}

/**
 * The command a probe runs, or null when there is no check (no test, `NONE`, or a kind
 * Docker does not know). `CMD-SHELL` runs under `shell` (the image's SHELL, else
 * `/bin/sh -c`).
 */
export function probeCommand(
  h: HealthConfig | undefined,
  shell: readonly string[] = ["/bin/sh", "-c"],
): string[] | null {
  if (!h || h.Test.length === 0) return null;
  const [kind, ...rest] = h.Test;
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest.length > 0) return [...shell, ...rest];
  return null;
}

/** The timings a monitor uses, defaults filled in, in milliseconds. */
export interface ProbeTimings {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** `h`'s timings with Docker's defaults for what is zero or absent. */
export function probeTimings(h: HealthConfig): ProbeTimings {
  const ms = (v: number | undefined, d: number) => (v || d) / 1e6;
  return {
    intervalMs: ms(h.Interval, HEALTH_DEFAULTS.interval),
    timeoutMs: ms(h.Timeout, HEALTH_DEFAULTS.timeout),
    startPeriodMs: ms(h.StartPeriod, HEALTH_DEFAULTS.startPeriod),
    startIntervalMs: ms(h.StartInterval, HEALTH_DEFAULTS.startInterval),
    retries: h.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries,
  };
}

/**
 * How long to wait before the next probe, `elapsedMs` after the container started (moby's
 * `getInterval`): the interval; but within the start period, the start interval while the
 * container is still starting, and never past the start period's end.
 */
export function nextProbeDelay(t: ProbeTimings, elapsedMs: number, status: HealthStatus): number {
  if (elapsedMs >= t.startPeriodMs) return t.intervalMs;
  const remaining = t.startPeriodMs - elapsedMs;
  if (remaining < t.intervalMs) return remaining;
  return status === "starting" ? t.startIntervalMs : t.intervalMs;
}

/** The health a container starts (and restarts) with: starting, its old log kept. */
export function startingHealth(previous?: HealthState): HealthState {
  return { status: "starting", failingStreak: 0, log: previous?.log ?? [] };
}

/**
 * The health after one probe (moby's `handleProbeResult`): the result joins the log (the
 * last five kept); success makes it healthy and clears the streak; a failure adds to the
 * streak, except while starting within the start period, and `retries` failures in a row
 * make it unhealthy. `startedAt` is when the container started.
 */
export function applyProbeResult(
  h: HealthState,
  result: ProbeResult,
  t: ProbeTimings,
  startedAt: string,
): HealthState {
  const log = [...h.log, result].slice(-MAX_HEALTH_LOG);
  if (result.exitCode === 0) return { status: "healthy", failingStreak: 0, log };
  const sinceStart = Date.parse(result.start) - Date.parse(startedAt);
  if (h.status === "starting" && sinceStart < t.startPeriodMs) {
    return { ...h, log };
  }
  const failingStreak = h.failingStreak + 1;
  return {
    status: failingStreak >= t.retries ? "unhealthy" : h.status,
    failingStreak,
    log,
  };
}

/** The text `ps` adds to "Up ...": "healthy", "unhealthy", "health: starting". */
export function healthLabel(status: HealthStatus): string {
  return status === "starting" ? "health: starting" : status;
}
