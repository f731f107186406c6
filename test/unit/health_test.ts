/**
 * Healthcheck rules (moby daemon/health.go, daemon/commit.go, docker/cli opts.go) and Go's
 * durations, recorded as facts: Go's `time.ParseDuration` and `Duration.String` outputs,
 * Docker's defaults, messages and state transitions.
 */
import assert from "node:assert/strict";
import { formatGoDuration, parseGoDuration } from "../../src/util/duration.ts";
import {
  applyProbeResult,
  type HealthState,
  mergeHealthConfig,
  nextProbeDelay,
  probeCommand,
  type ProbeResult,
  probeTimings,
  startingHealth,
  validateHealthConfig,
} from "../../src/config/health.ts";
import { healthcheckFromFlags } from "../../src/cli/health_flags.ts";
import { statusText } from "../../src/util/humanize.ts";

Deno.test("parseGoDuration: Go's time.ParseDuration", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["100ms", 100e6],
    ["1m30s", 90e9],
    ["4.5s", 4.5e9],
    ["1h", 3600e9],
    ["1.5h", 5400e9],
    ["500us", 500e3],
    ["500\u00b5s", 500e3],
    ["1ns", 1],
    ["-1s", -1e9],
    ["+2s", 2e9],
    [".5s", 0.5e9],
    ["1.s", 1e9],
    ["0.1s", 100e6],
    ["1h2m3s4ms", 3723.004e9],
  ];
  for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, text);
  assert.throws(() => parseGoDuration("10"), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseGoDuration(""), { message: 'time: invalid duration ""' });
  assert.throws(() => parseGoDuration("."), { message: 'time: invalid duration "."' });
  assert.throws(() => parseGoDuration("1x"), {
    message: 'time: unknown unit "x" in duration "1x"',
  });
  assert.throws(() => parseGoDuration("s"), { message: 'time: invalid duration "s"' });
});

Deno.test("formatGoDuration: Go's Duration.String", () => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [1, "1ns"],
    [1500, "1.5\u00b5s"],
    [100e6, "100ms"],
    [1.5e9, "1.5s"],
    [30e9, "30s"],
    [90e9, "1m30s"],
    [3600e9, "1h0m0s"],
    [3723.5e9, "1h2m3.5s"],
    [-2e9, "-2s"],
  ];
  for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, String(ns));
});

Deno.test("healthcheckFromFlags: docker/cli's rules and messages", () => {
  assert.equal(healthcheckFromFlags({}), undefined);
  assert.deepEqual(healthcheckFromFlags({ noHealthcheck: true }), { Test: ["NONE"] });
  assert.deepEqual(healthcheckFromFlags({ healthCmd: "/check.sh -q" }), {
    Test: ["CMD-SHELL", "/check.sh -q"],
  });
  // Durations without a command: no test, so the image's is kept.
  assert.deepEqual(healthcheckFromFlags({ healthInterval: 1e9, healthRetries: 3 }), {
    Test: [],
    Interval: 1e9,
    Retries: 3,
  });
  assert.throws(
    () => healthcheckFromFlags({ noHealthcheck: true, healthCmd: "x" }),
    { message: "--no-healthcheck conflicts with --health-* options" },
  );
  assert.throws(
    () => healthcheckFromFlags({ noHealthcheck: true, healthTimeout: 60e9 }),
    { message: "--no-healthcheck conflicts with --health-* options" },
  );
  // --no-healthcheck=false with nothing else is no healthcheck config at all.
  assert.equal(healthcheckFromFlags({ noHealthcheck: false }), undefined);
  for (
    const [flag, key] of [
      ["--health-interval", "healthInterval"],
      ["--health-timeout", "healthTimeout"],
      ["--health-retries", "healthRetries"],
      ["--health-start-period", "healthStartPeriod"],
      ["--health-start-interval", "healthStartInterval"],
    ] as const
  ) {
    assert.throws(() => healthcheckFromFlags({ [key]: -1 }), {
      message: `${flag} cannot be negative`,
    });
  }
});

Deno.test("validateHealthConfig: the daemon's 1ms floor and retries", () => {
  validateHealthConfig({ Test: ["NONE"] });
  validateHealthConfig({ Test: [], Interval: 1e6, Timeout: 1e6, StartPeriod: 1e6 });
  const bad: Array<[Record<string, number>, string]> = [
    [{ Interval: 500e3 }, "Interval in Healthcheck cannot be less than 1ms"],
    [{ Interval: -10e6 }, "Interval in Healthcheck cannot be less than 1ms"],
    [{ Timeout: -100e6 }, "Timeout in Healthcheck cannot be less than 1ms"],
    [{ Retries: -1 }, "Retries in Healthcheck cannot be negative"],
    [{ StartPeriod: 1 }, "StartPeriod in Healthcheck cannot be less than 1ms"],
    [{ StartInterval: 1 }, "StartInterval in Healthcheck cannot be less than 1ms"],
  ];
  for (const [fields, message] of bad) {
    assert.throws(() => validateHealthConfig({ Test: [], ...fields }), { message });
  }
});

Deno.test("mergeHealthConfig: the daemon's merge with the image's", () => {
  const image = { Test: ["CMD", "check"], Interval: 5e9, Retries: 2 };
  assert.equal(mergeHealthConfig(undefined, undefined), undefined);
  assert.deepEqual(mergeHealthConfig(undefined, image), image);
  assert.deepEqual(mergeHealthConfig({ Test: [], Timeout: 1e9 }, image), {
    Test: ["CMD", "check"],
    Interval: 5e9,
    Timeout: 1e9,
    Retries: 2,
  });
  assert.deepEqual(mergeHealthConfig({ Test: ["CMD-SHELL", "x"], Interval: 1e9 }, image), {
    Test: ["CMD-SHELL", "x"],
    Interval: 1e9,
    Retries: 2,
  });
  assert.deepEqual(mergeHealthConfig({ Test: ["NONE"] }, image), {
    Test: ["NONE"],
    Interval: 5e9,
    Retries: 2,
  });
  assert.deepEqual(mergeHealthConfig({ Test: ["CMD", "a"] }, undefined), { Test: ["CMD", "a"] });
});

Deno.test("probeCommand: CMD, CMD-SHELL (under the image's SHELL), NONE", () => {
  assert.deepEqual(probeCommand({ Test: ["CMD", "curl", "-f", "x"] }), ["curl", "-f", "x"]);
  assert.deepEqual(probeCommand({ Test: ["CMD-SHELL", "curl -f x"] }), [
    "/bin/sh",
    "-c",
    "curl -f x",
  ]);
  assert.deepEqual(probeCommand({ Test: ["CMD-SHELL", "x"] }, ["/bin/bash", "-lc"]), [
    "/bin/bash",
    "-lc",
    "x",
  ]);
  assert.equal(probeCommand({ Test: ["NONE"] }), null);
  assert.equal(probeCommand({ Test: [] }), null);
  assert.equal(probeCommand({ Test: ["WHAT", "x"] }), null);
  assert.equal(probeCommand(undefined), null);
});

Deno.test("probeTimings: Docker's defaults", () => {
  assert.deepEqual(probeTimings({ Test: ["CMD", "x"] }), {
    intervalMs: 30_000,
    timeoutMs: 30_000,
    startPeriodMs: 0,
    startIntervalMs: 5_000,
    retries: 3,
  });
  assert.equal(probeTimings({ Test: [], Retries: 0 }).retries, 3);
  assert.equal(probeTimings({ Test: [], Interval: 100e6 }).intervalMs, 100);
});

Deno.test("nextProbeDelay: moby's getInterval", () => {
  const t = { ...probeTimings({ Test: [] }), intervalMs: 1000, startIntervalMs: 100 };
  // No start period: the interval.
  assert.equal(nextProbeDelay({ ...t, startPeriodMs: 0 }, 0, "starting"), 1000);
  // Within a long start period: the start interval while starting, else the interval.
  const long = { ...t, startPeriodMs: 10_000 };
  assert.equal(nextProbeDelay(long, 0, "starting"), 100);
  assert.equal(nextProbeDelay(long, 0, "healthy"), 1000);
  // Never past the start period's end.
  assert.equal(nextProbeDelay(long, 9_700, "starting"), 300);
  assert.equal(nextProbeDelay(long, 10_000, "starting"), 1000);
});

Deno.test("applyProbeResult: moby's handleProbeResult", () => {
  const startedAt = "2024-01-01T00:00:00.000Z";
  const at = (sec: number, exitCode: number): ProbeResult => ({
    start: new Date(Date.parse(startedAt) + sec * 1000).toISOString(),
    end: new Date(Date.parse(startedAt) + sec * 1000 + 10).toISOString(),
    exitCode,
    output: "",
  });
  const t = { ...probeTimings({ Test: [] }), retries: 2, startPeriodMs: 5000 };
  let h: HealthState = startingHealth();
  // Failures inside the start period, while starting, count for nothing.
  h = applyProbeResult(h, at(1, 1), t, startedAt);
  assert.deepEqual([h.status, h.failingStreak, h.log.length], ["starting", 0, 1]);
  // After it they do; the status stays until `retries` of them.
  h = applyProbeResult(h, at(6, 1), t, startedAt);
  assert.deepEqual([h.status, h.failingStreak], ["starting", 1]);
  h = applyProbeResult(h, at(7, 1), t, startedAt);
  assert.deepEqual([h.status, h.failingStreak], ["unhealthy", 2]);
  // One success: healthy, streak cleared.
  h = applyProbeResult(h, at(8, 0), t, startedAt);
  assert.deepEqual([h.status, h.failingStreak], ["healthy", 0]);
  // A failure inside the start period counts once it has been healthy (not "starting").
  const early = applyProbeResult(
    { status: "healthy", failingStreak: 0, log: [] },
    at(1, 1),
    t,
    startedAt,
  );
  assert.deepEqual([early.status, early.failingStreak], ["healthy", 1]);
  // -1 (a timeout) is a failure like any other non-zero code.
  h = applyProbeResult(h, at(9, -1), t, startedAt);
  assert.deepEqual([h.status, h.failingStreak], ["healthy", 1]);
  // The log keeps the last five, oldest first.
  for (let i = 10; i < 20; i++) h = applyProbeResult(h, at(i, 0), t, startedAt);
  assert.equal(h.log.length, 5);
  assert.equal(h.log[0].start, at(15, 0).start);
  // A restart: starting again, the streak cleared, the log kept.
  const again = startingHealth({ ...h, failingStreak: 3 });
  assert.deepEqual([again.status, again.failingStreak, again.log.length], ["starting", 0, 5]);
});

Deno.test("statusText: Docker's (healthy), (unhealthy), (health: starting)", () => {
  const up = { status: "running" as const, startedAt: 0 };
  assert.equal(statusText({ ...up, health: "healthy" }, 3000), "Up 3 seconds (healthy)");
  assert.equal(statusText({ ...up, health: "unhealthy" }, 3000), "Up 3 seconds (unhealthy)");
  assert.equal(
    statusText({ ...up, health: "health: starting" }, 3000),
    "Up 3 seconds (health: starting)",
  );
  assert.equal(statusText(up, 3000), "Up 3 seconds");
});
