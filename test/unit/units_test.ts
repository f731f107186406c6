/** Parsing sizes, CPU amounts and cpusets as Docker does. */
import assert from "node:assert/strict";
import {
  cpuListRanges,
  cpusAvailable,
  parseCpus,
  parseCpuset,
  parseMemorySize,
} from "../../src/util/units.ts";
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
  for (const s of ["3", "2.01", "0.009"]) {
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

Deno.test("parseCpus: 0 means no CPU limit, as Docker's --cpus 0", () => {
  for (const s of ["0", "0.0", ".0", "0.000000000"]) {
    assert.deepEqual(parseCpus(s, 2), { quotaUs: 0, periodUs: 0 }, s);
  }
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

Deno.test("cpuListRanges reads a cpuset list; cpusAvailable compares ranges", () => {
  assert.deepEqual(cpuListRanges("0-1, 3"), [[0, 1], [3, 3]]);
  assert.equal(cpuListRanges("3-1"), undefined);
  assert.equal(cpuListRanges(""), undefined);
  assert.ok(cpusAvailable([[0, 2]], [[2, 3], [0, 1]]), "a request spanning two ranges");
  assert.ok(cpusAvailable([[1, 1], [3, 3]], [[0, 3]]));
  assert.ok(!cpusAvailable([[0, 4]], [[0, 1], [3, 4]]), "2 is missing");
  assert.ok(!cpusAvailable([[0, 4294967295]], [[0, 1]]), "a huge range is not expanded");
});

Deno.test("UsageError is an Error named UsageError", () => {
  const e = new UsageError("bad");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "UsageError");
  assert.equal(e.message, "bad");
});
