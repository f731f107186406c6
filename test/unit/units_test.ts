/** Parsing sizes, CPU amounts and cpusets as Docker does, and the limits' validation. */
import assert from "node:assert/strict";
import { parseCpus, parseCpuset, parseMemorySize, sharesToWeight } from "../../src/util/units.ts";
import { clampCpuShares, pidsMaxValue, validateResourceLimits } from "../../src/cgroups/limits.ts";
import { UsageError } from "../../src/util/errors.ts";

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3;

Deno.test("parseMemorySize reads Docker's sizes", () => {
  const cases: Array<[string, number]> = [
    ["256m", 256 * MiB],
    ["256M", 256 * MiB],
    ["256mb", 256 * MiB],
    ["256MiB", 256 * MiB],
    ["256mi", 256 * MiB],
    ["256 m", 256 * MiB],
    ["1g", GiB],
    ["1.5g", 1.5 * GiB],
    ["0.5k", 512],
    [".5k", 512],
    ["512k", 512 * KiB],
    ["512K", 512 * KiB],
    ["2t", 2 * 1024 ** 4],
    ["1p", 1024 ** 5],
    ["1024b", 1024],
    ["1024B", 1024],
    ["4096", 4096],
    ["0", 0],
    ["2GiB", 2 * GiB],
    ["1.7b", 1], // fractions of a byte are dropped, as Docker's int64 conversion does
    ["10.", 10],
  ];
  for (const [s, want] of cases) assert.equal(parseMemorySize(s), want, s);
});

Deno.test("parseMemorySize refuses junk with a UsageError naming it", () => {
  const bad = [
    "12xb",
    "",
    "-1",
    "abc",
    "1.2.3m",
    "m",
    "1 g b",
    "1  g",
    " 1g",
    "1e9",
    "1bb",
    "1kbi",
    "1kibb",
    "1x",
    "0x10",
    ".",
    "+1",
    "1,5g",
    "99999999999p",
  ];
  for (const s of bad) {
    assert.throws(
      () => parseMemorySize(s),
      (e: unknown) => e instanceof UsageError && e.message.includes(`'${s}'`),
      s,
    );
  }
});

Deno.test("parseCpus turns --cpus into a CFS quota and period", () => {
  assert.deepEqual(parseCpus("0.5", 2), { quotaUs: 50_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus("2", 2), { quotaUs: 200_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus(".25", 2), { quotaUs: 25_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus("0.01", 2), { quotaUs: 1000, periodUs: 100_000 });
  assert.deepEqual(parseCpus("1.5", 2), { quotaUs: 150_000, periodUs: 100_000 });
  // Exact decimal arithmetic: 0.29 * 100000 is 28999.999... in floating point.
  assert.deepEqual(parseCpus("0.29", 2), { quotaUs: 29_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus("0.123456789", 2), { quotaUs: 12_345, periodUs: 100_000 });
  assert.deepEqual(parseCpus("1.000000000000", 2), { quotaUs: 100_000, periodUs: 100_000 });
});

Deno.test("parseCpus refuses what Docker refuses, with Docker's range message", () => {
  const range = /range of CPUs is from 0\.01 to 2\.00, as there are only 2 CPUs available/;
  for (const s of ["3", "2.01", "0", "0.0", "0.009"]) {
    assert.throws(
      () => parseCpus(s, 2),
      (e: Error) => e instanceof UsageError && range.test(e.message),
      s,
    );
  }
  assert.throws(() => parseCpus("0.0000000001", 2), /too precise/);
  for (const bad of ["abc", "", "-1", "1,5", "1e3", " 1", "1/2", "."]) {
    assert.throws(() => parseCpus(bad, 2), UsageError, bad);
  }
  // The machine's CPU count by default.
  const n = navigator.hardwareConcurrency;
  assert.equal(parseCpus(String(n)).quotaUs, n * 100_000);
  assert.throws(() => parseCpus(String(n + 1)), new RegExp(`only ${n} CPUs`));
});

Deno.test("parseCpuset accepts lists and ranges and refuses the rest", () => {
  assert.equal(parseCpuset("0"), "0");
  assert.equal(parseCpuset("0-1,3"), "0-1,3");
  assert.equal(parseCpuset("0-1, 3"), "0-1,3");
  assert.equal(parseCpuset("2-2"), "2-2");
  for (const bad of ["", " ", "x-y", "1-0", "0,,1", "-1", "0-", "1-2-3", "a", "0;1", ","]) {
    assert.throws(
      () => parseCpuset(bad),
      (e: unknown) => e instanceof UsageError && e.message.includes("cpuset"),
      JSON.stringify(bad),
    );
  }
});

Deno.test("parseCpuset with a CPU count refuses CPUs the machine lacks", () => {
  assert.equal(parseCpuset("0-1", 2), "0-1");
  assert.throws(
    () => parseCpuset("0-3", 2),
    /Requested CPUs are not available - requested 0-3, available: 0-1/,
  );
  assert.throws(() => parseCpuset("1", 1), /available: 0$/);
});

Deno.test("sharesToWeight converts as runc does", () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(1), 1, "clamped to 2 first");
  assert.equal(sharesToWeight(1_000_000), 10000, "clamped to 262144 first");
});

Deno.test("validateResourceLimits accepts Docker's valid combinations", () => {
  validateResourceLimits({});
  validateResourceLimits({
    memoryBytes: 64 * MiB,
    memorySwapBytes: 128 * MiB,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    cpuShares: 512,
    cpusetCpus: "0-1",
    pidsLimit: -1,
  });
  validateResourceLimits({ memoryBytes: 64 * MiB, memorySwapBytes: -1 });
  validateResourceLimits({ memoryBytes: 64 * MiB, memorySwapBytes: 64 * MiB });
  validateResourceLimits({ memoryBytes: 0, cpuShares: 0, pidsLimit: 0 });
});

Deno.test("validateResourceLimits refuses with Docker's messages", () => {
  const cases: Array<[object, RegExp]> = [
    [{ memoryBytes: 4 * MiB }, /Minimum memory limit allowed is 6MB/],
    [{ memoryBytes: -5 }, /invalid memory limit/],
    [{ memorySwapBytes: 128 * MiB }, /always set the Memory limit when using Memoryswap/],
    [{ memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB }, /memoryswap limit should be larger/],
    [{ cpuQuotaUs: 999 }, /CPU cfs quota can not be less than 1ms/],
    [{ cpuPeriodUs: 999 }, /CPU cfs period can not be less than 1ms/],
    [{ cpuPeriodUs: 1_000_001 }, /larger than 1s/],
    [{ cpuShares: -1 }, /invalid CPU shares/],
    [{ cpusetCpus: "1-0" }, /cpuset/],
    [{ pidsLimit: 1.5 }, /pids limit: 1.5: not an integer/],
    [{ memoryBytes: Number.NaN }, /not an integer/],
  ];
  for (const [limits, message] of cases) {
    assert.throws(
      () => validateResourceLimits(limits),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      JSON.stringify(limits),
    );
  }
});

Deno.test("clampCpuShares and pidsMaxValue spell values as the kernel takes them", () => {
  assert.equal(clampCpuShares(1), 2);
  assert.equal(clampCpuShares(512), 512);
  assert.equal(clampCpuShares(300_000), 262_144);
  assert.equal(pidsMaxValue(20), "20");
  assert.equal(pidsMaxValue(0), "max");
  assert.equal(pidsMaxValue(-1), "max");
});

Deno.test("UsageError is an Error named UsageError", () => {
  const e = new UsageError("bad");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "UsageError");
  assert.equal(e.message, "bad");
});
