import assert from "node:assert/strict";
import {
  createdAgo,
  formatG,
  humanDuration,
  humanSize,
  statusText,
} from "../../src/util/humanize.ts";

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;

// Expected values checked against go-units' HumanDuration run with Go.
Deno.test("humanDuration: seconds are truncated", () => {
  assert.equal(humanDuration(-5 * S), "Less than a second");
  assert.equal(humanDuration(Number.NaN), "Less than a second");
  assert.equal(humanDuration(0), "Less than a second");
  assert.equal(humanDuration(999), "Less than a second");
  assert.equal(humanDuration(1 * S), "1 second");
  assert.equal(humanDuration(2 * S - 1), "1 second");
  assert.equal(humanDuration(2 * S), "2 seconds");
  assert.equal(humanDuration(3 * S), "3 seconds");
  assert.equal(humanDuration(60 * S - 1), "59 seconds");
});

Deno.test("humanDuration: minutes are truncated", () => {
  assert.equal(humanDuration(60 * S), "About a minute");
  assert.equal(humanDuration(2 * M - 1), "About a minute");
  assert.equal(humanDuration(2 * M), "2 minutes");
  assert.equal(humanDuration(35 * M + 40 * S), "35 minutes");
  assert.equal(humanDuration(60 * M - 1), "59 minutes");
});

Deno.test("humanDuration: hours are rounded to the nearest", () => {
  assert.equal(humanDuration(1 * H), "About an hour");
  assert.equal(humanDuration(1.5 * H - 1), "About an hour");
  assert.equal(humanDuration(1.5 * H), "2 hours");
  assert.equal(humanDuration(3 * H), "3 hours");
  assert.equal(humanDuration(3 * H + 31 * M), "4 hours");
  assert.equal(humanDuration(24 * H), "24 hours");
  assert.equal(humanDuration(47.5 * H - 1), "47 hours");
});

Deno.test("humanDuration: days from 48 hours, weeks from 2 weeks", () => {
  assert.equal(humanDuration(47.5 * H), "2 days");
  assert.equal(humanDuration(7 * D), "7 days");
  assert.equal(humanDuration(13 * D + 23.5 * H - 1), "13 days");
  assert.equal(humanDuration(13 * D + 23.5 * H), "2 weeks");
  assert.equal(humanDuration(3 * 7 * D), "3 weeks");
  assert.equal(humanDuration(30 * D), "4 weeks");
  assert.equal(humanDuration(59 * D + 23.5 * H - 1), "8 weeks");
});

Deno.test("humanDuration: months of 30 days from 60 days, years of 365 days from 730", () => {
  assert.equal(humanDuration(59 * D + 23.5 * H), "2 months");
  assert.equal(humanDuration(4 * 30 * D), "4 months");
  assert.equal(humanDuration(24 * 30 * D), "24 months");
  assert.equal(humanDuration(730 * D - 0.5 * H - 1), "24 months");
  // Docker's quirk: the threshold uses rounded hours but the count truncated ones.
  assert.equal(humanDuration(730 * D - 0.5 * H), "1 years");
  assert.equal(humanDuration(730 * D - 1), "1 years");
  assert.equal(humanDuration(730 * D), "2 years");
  assert.equal(humanDuration(3 * 365 * D - 0.5 * H), "2 years");
  assert.equal(humanDuration(3 * 365 * D), "3 years");
  assert.equal(humanDuration(100 * 365 * D), "100 years");
});

Deno.test("createdAgo appends ago", () => {
  assert.equal(createdAgo(2 * M), "2 minutes ago");
  assert.equal(createdAgo(0), "Less than a second ago");
});

Deno.test("statusText: running containers are Up since their start", () => {
  const now = 1_700_000_000_000;
  assert.equal(statusText({ status: "running", startedAt: now - 3 * S }, now), "Up 3 seconds");
  assert.equal(statusText({ status: "running", startedAt: now - 2 * H }, now), "Up 2 hours");
  assert.equal(statusText({ status: "running" }, now), "Up Less than a second");
  // A clock that went backwards reads as just started.
  assert.equal(statusText({ status: "running", startedAt: now + M }, now), "Up Less than a second");
});

Deno.test("statusText: exited containers show their code and when they finished", () => {
  const now = 1_700_000_000_000;
  const ran = { status: "exited", startedAt: now - H } as const;
  assert.equal(
    statusText({ ...ran, finishedAt: now - 2 * M, exitCode: 137 }, now),
    "Exited (137) 2 minutes ago",
  );
  assert.equal(
    statusText({ ...ran, finishedAt: now, exitCode: 0 }, now),
    "Exited (0) Less than a second ago",
  );
  assert.equal(statusText({ ...ran, finishedAt: now - 3 * D }, now), "Exited (0) 3 days ago");
  // The finish time is what counts, even with no start time recorded.
  assert.equal(
    statusText({ status: "exited", finishedAt: now - 5 * S, exitCode: 255 }, now),
    "Exited (255) 5 seconds ago",
  );
  // Started but no finish time: Docker prints nothing.
  assert.equal(statusText({ ...ran, exitCode: 1 }, now), "");
});

Deno.test("statusText: never-started containers are Created", () => {
  const now = 1_700_000_000_000;
  assert.equal(statusText({ status: "created" }, now), "Created");
  assert.equal(statusText({ status: "created", exitCode: 0, finishedAt: now }, now), "Created");
  // A failed start leaves an exit code but neither time: Docker says Created.
  assert.equal(statusText({ status: "exited", exitCode: 128 }, now), "Created");
});

Deno.test("statusText defaults now to the clock", () => {
  assert.equal(statusText({ status: "running", startedAt: Date.now() - 10 * M }), "Up 10 minutes");
});

// Expected values checked against go-units' HumanSizeWithPrecision(size, 3) run with Go.
Deno.test("humanSize: decimal units, three significant digits", () => {
  const cases: [number, string][] = [
    [0, "0B"],
    [1, "1B"],
    [999, "999B"],
    [1000, "1kB"],
    [1024, "1.02kB"],
    [4261, "4.26kB"],
    [1_234_567, "1.23MB"],
    [5_500_000_000, "5.5GB"],
    [12_345_678_901_234_567, "12.3PB"],
    [1e28, "1e+04YB"], // no unit past YB
    [1e30, "1e+06YB"],
  ];
  for (const [bytes, text] of cases) assert.equal(humanSize(bytes), text, String(bytes));
});

Deno.test("humanSize: Go's rounding, half to even on the exact binary value", () => {
  assert.equal(humanSize(1125), "1.12kB"); // 1.125 is exact: to even
  assert.equal(humanSize(1375), "1.38kB");
  assert.equal(humanSize(1625), "1.62kB");
  assert.equal(humanSize(1135), "1.14kB"); // 1.135 is a hair above
  assert.equal(humanSize(4265), "4.26kB"); // 4.265 is a hair below
});

Deno.test("humanSize: Go's %g switches to exponent form at 1000 of a unit", () => {
  assert.equal(humanSize(999_499), "999kB");
  assert.equal(humanSize(999_500), "1e+03kB");
  assert.equal(humanSize(999_999), "1e+03kB");
  assert.equal(humanSize(999_999_999), "1e+03MB");
});

Deno.test("humanSize: fractions, negatives and non-numbers as Go prints them", () => {
  assert.equal(humanSize(0.5), "0.5B");
  assert.equal(humanSize(0.0001234), "0.000123B");
  assert.equal(humanSize(-5000), "-5e+03B");
  assert.equal(humanSize(Number.NaN), "NaNB");
  assert.equal(humanSize(Number.POSITIVE_INFINITY), "InfYB");
  assert.equal(humanSize(Number.NEGATIVE_INFINITY), "-InfB");
});

// Expected values from Go's fmt.Sprintf("%.*g", precision, x).
Deno.test("formatG matches Go's %g", () => {
  const cases: [number, number, string][] = [
    [0, 3, "0"],
    [-0, 3, "-0"],
    [2.5, 3, "2.5"],
    [2.5, 1, "2"],
    [100, 3, "100"],
    [100, 1, "1e+02"],
    [120, 3, "120"],
    [12, 1, "1e+01"],
    [99.95, 3, "100"],
    [9.995, 3, "9.99"],
    [123456, 3, "1.23e+05"],
    [123456, 6, "123456"],
    [0.1, 3, "0.1"],
    [0.0001234, 3, "0.000123"],
    [0.00001234, 3, "1.23e-05"],
    [0.000099995, 3, "0.0001"],
    [1e21, 3, "1e+21"],
    [1e100, 3, "1e+100"],
    [5e-324, 3, "4.94e-324"],
    [5e-324, 6, "4.94066e-324"],
    [-1234.5, 4, "-1234"],
    [7, 0, "7"], // precision 0 is taken as 1
  ];
  for (const [x, precision, text] of cases) {
    assert.equal(formatG(x, precision), text, `%.${precision}g of ${x}`);
  }
});
