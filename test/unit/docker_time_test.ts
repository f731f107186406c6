import assert from "node:assert/strict";
import {
  formatNanoFixed,
  nowNanos,
  parseDockerTime,
  parseGoDuration,
  parseLogTime,
} from "../../src/util/docker_time.ts";

const S = 1_000_000_000n;

Deno.test("parseGoDuration reads Go's durations and refuses what Go refuses", () => {
  assert.equal(parseGoDuration("10m"), 600e9);
  assert.equal(parseGoDuration("1h30m"), 5400e9);
  assert.equal(parseGoDuration("1.5h"), 5400e9);
  assert.equal(parseGoDuration("300ms"), 300e6);
  assert.equal(parseGoDuration("-2s"), -2e9);
  assert.equal(parseGoDuration("2µs"), 2e3);
  assert.equal(parseGoDuration("0"), 0);
  for (const bad of ["", "10", "1d", "m", ".h", "1h 2m", "2024-01-01"]) {
    assert.equal(parseGoDuration(bad), null, bad);
  }
});

Deno.test("parseDockerTime: a duration counts back from now, to the second (GetTimestamp)", () => {
  const now = new Date("2024-05-06T07:08:09.750Z");
  assert.equal(parseDockerTime("10m", now), BigInt(Date.UTC(2024, 4, 6, 6, 58, 9) / 1000) * S);
  assert.equal(parseDockerTime("1h30m", now), BigInt(Date.UTC(2024, 4, 6, 5, 38, 9) / 1000) * S);
});

Deno.test("parseDockerTime: RFC 3339 with a zone, and every shortened form Docker takes", () => {
  const now = new Date();
  const utc = (...a: [number, number, number, number?, number?, number?]) =>
    BigInt(Date.UTC(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0)) * 1_000_000n;
  assert.equal(parseDockerTime("2024-01-02T03:04:05Z", now), utc(2024, 1, 2, 3, 4, 5));
  assert.equal(
    parseDockerTime("2024-01-02T03:04:05.123456789Z", now),
    utc(2024, 1, 2, 3, 4, 5) + 123456789n,
  );
  assert.equal(parseDockerTime("2024-01-02T03:04:05+01:00", now), utc(2024, 1, 2, 2, 4, 5));
  assert.equal(parseDockerTime("2024-01-02T03:04:05-01:30", now), utc(2024, 1, 2, 4, 34, 5));
  assert.equal(parseDockerTime("2024-01-02T03Z", now), utc(2024, 1, 2, 3));
  assert.equal(parseDockerTime("2024-01-02T03:04Z", now), utc(2024, 1, 2, 3, 4));
  assert.equal(parseDockerTime("2024-01-02Z", now), utc(2024, 1, 2));
});

Deno.test("parseDockerTime: without a zone the time is the local one", () => {
  const now = new Date();
  const local = BigInt(new Date(2024, 0, 2, 3, 4, 5).getTime()) * 1_000_000n;
  // The offset Docker uses is the reference time's (now), as Go's FixedZone(reference.Zone()).
  const shift = BigInt(
    (new Date(2024, 0, 2).getTimezoneOffset() - now.getTimezoneOffset()) * 60_000,
  ) * 1_000_000n;
  assert.equal(parseDockerTime("2024-01-02T03:04:05", now), local + shift);
  assert.equal(
    parseDockerTime("2024-01-02", now),
    BigInt(new Date(2024, 0, 2).getTime()) * 1_000_000n + shift,
  );
});

Deno.test("parseDockerTime: Unix timestamps with up to nine decimals", () => {
  assert.equal(parseDockerTime("1700000000"), 1700000000n * S);
  assert.equal(parseDockerTime("1700000000.5"), 1700000000n * S + 500_000_000n);
  assert.equal(parseDockerTime("1700000000.000000001"), 1700000000n * S + 1n);
  assert.equal(parseDockerTime("0"), 0n);
});

Deno.test("parseDockerTime: Docker's messages for what it cannot read", () => {
  assert.throws(
    () => parseDockerTime("yesterday"),
    { message: 'failed to parse value as time or duration: "yesterday"' },
  );
  // A `-` means it was meant as a date: the date's own error.
  assert.throws(
    () => parseDockerTime("2024-13-01"),
    /parsing time "2024-13-01": month out of range/,
  );
  assert.throws(() => parseDockerTime("2024-02-30"), /day out of range/);
  assert.throws(() => parseDockerTime("2024-01-01T25:00:00Z"), /hour out of range/);
});

Deno.test("parseLogTime and formatNanoFixed round-trip Docker's nine-digit times", () => {
  const s = "2024-01-02T03:04:05.000000600Z";
  assert.equal(formatNanoFixed(parseLogTime(s)!), s);
  assert.equal(
    formatNanoFixed(parseLogTime("2024-01-02T03:04:05.5Z")!),
    "2024-01-02T03:04:05.500000000Z",
  );
  assert.equal(parseLogTime("t"), null);
});

Deno.test("nowNanos never goes backwards", () => {
  let last = nowNanos();
  for (let i = 0; i < 1000; i++) {
    const t = nowNanos();
    assert.ok(t > last);
    last = t;
  }
  assert.ok(last / 1_000_000n - BigInt(Date.now()) < 1000n);
});
