import assert from "node:assert/strict";
import { parseCpus, parseCpuset, parseMemorySize, sharesToWeight } from "../../src/util/units.ts";
import { UsageError } from "../../src/util/errors.ts";

Deno.test("parseMemorySize reads Docker's sizes", () => {
  assert.equal(parseMemorySize("256m"), 256 * 1024 * 1024);
  assert.equal(parseMemorySize("256M"), 256 * 1024 * 1024);
  assert.equal(parseMemorySize("256mb"), 256 * 1024 * 1024);
  assert.equal(parseMemorySize("1g"), 1024 ** 3);
  assert.equal(parseMemorySize("1.5g"), 1.5 * 1024 ** 3);
  assert.equal(parseMemorySize("512k"), 512 * 1024);
  assert.equal(parseMemorySize("1024b"), 1024);
  assert.equal(parseMemorySize("4096"), 4096);
  assert.equal(parseMemorySize("2GiB"), 2 * 1024 ** 3);
});

Deno.test("parseMemorySize refuses junk with a message naming it", () => {
  for (const bad of ["12xb", "", "-1", "abc", "1.2.3m", "m", "1 g b", "1e9"]) {
    assert.throws(
      () => parseMemorySize(bad),
      (e: unknown) => e instanceof UsageError && e.message.includes(bad),
      bad,
    );
  }
});

Deno.test("parseCpus turns --cpus into a CFS quota and period, within the machine's CPUs", () => {
  assert.deepEqual(parseCpus("0.5", 2), { quotaUs: 50_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus("2", 2), { quotaUs: 200_000, periodUs: 100_000 });
  assert.deepEqual(parseCpus(".25", 2), { quotaUs: 25_000, periodUs: 100_000 });
  assert.throws(() => parseCpus("3", 2), /from 0\.01 to 2\.00, as there are only 2 CPUs/);
  assert.throws(() => parseCpus("0", 2), UsageError);
  for (const bad of ["abc", "", "-1", "1,5"]) {
    assert.throws(() => parseCpus(bad, 2), UsageError, bad);
  }
});

Deno.test("parseCpuset accepts lists and ranges and refuses the rest", () => {
  assert.equal(parseCpuset("0"), "0");
  assert.equal(parseCpuset("0-1, 3"), "0-1,3");
  for (const bad of ["", "x-y", "1-0", "0,,1", "-1", "0-"]) {
    assert.throws(() => parseCpuset(bad), UsageError, bad);
  }
});

Deno.test("sharesToWeight converts as runc does", () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
});
