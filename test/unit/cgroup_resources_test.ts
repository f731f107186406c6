/**
 * The one translation of limits to cgroup files, v1 and v2 side by side: which file, which
 * value, in which order, as runc and crun write them.
 */
import assert from "node:assert/strict";
import {
  clampCpuShares,
  type LimitFile,
  limitFiles,
  pidsMaxValue,
  sharesToWeight,
} from "../../src/cgroups/resources.ts";

const MiB = 1024 ** 2;

/** The entries as `controller/file=value` strings, for compact assertions. */
const spelled = (files: LimitFile[]) => files.map((f) => `${f.controller}/${f.file}=${f.value}`);

Deno.test("sharesToWeight converts as runc does", () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(1), 1, "clamped to 2 first");
  assert.equal(sharesToWeight(1_000_000), 10000, "clamped to 262144 first");
});

Deno.test("clampCpuShares and pidsMaxValue spell values as the kernel takes them", () => {
  assert.equal(clampCpuShares(1), 2);
  assert.equal(clampCpuShares(512), 512);
  assert.equal(clampCpuShares(300_000), 262_144);
  assert.equal(pidsMaxValue(20), "20");
  assert.equal(pidsMaxValue(0), "max");
  assert.equal(pidsMaxValue(-1), "max");
});

Deno.test("limitFiles: no limits, no files; zero values are Docker's unset", () => {
  assert.deepEqual(limitFiles({}, "v1"), []);
  assert.deepEqual(limitFiles({}, "v2"), []);
  const zeros = { memoryBytes: 0, memorySwapBytes: 0, cpuQuotaUs: 0, cpuPeriodUs: 0, cpuShares: 0 };
  assert.deepEqual(limitFiles(zeros, "v1"), []);
  assert.deepEqual(limitFiles(zeros, "v2"), []);
});

Deno.test("limitFiles: every limit, v1 and v2, in the order they are written", () => {
  const all = {
    memoryBytes: 64 * MiB,
    memorySwapBytes: 96 * MiB,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 200_000,
    cpuShares: 1024,
    cpusetCpus: "0-1",
    pidsLimit: 20,
  };
  assert.deepEqual(spelled(limitFiles(all, "v1")), [
    `memory/memory.limit_in_bytes=${64 * MiB}`,
    `memory/memory.memsw.limit_in_bytes=${96 * MiB}`, // after the memory limit
    "cpu/cpu.cfs_period_us=200000", // before the quota
    "cpu/cpu.cfs_quota_us=50000",
    "cpu/cpu.shares=1024",
    "cpuset/cpuset.cpus=0-1",
    "pids/pids.max=20",
  ]);
  assert.deepEqual(spelled(limitFiles(all, "v2")), [
    `memory/memory.max=${64 * MiB}`,
    `memory/memory.swap.max=${32 * MiB}`, // swap alone: memory+swap - memory
    "cpu/cpu.max=50000 200000",
    "cpu/cpu.weight=39",
    "cpuset/cpuset.cpus=0-1",
    "pids/pids.max=20",
  ]);
});

Deno.test("limitFiles: memory and swap", () => {
  assert.deepEqual(spelled(limitFiles({ memoryBytes: 64 * MiB }, "v1")), [
    `memory/memory.limit_in_bytes=${64 * MiB}`,
  ]);
  // Swap equal to memory: no swap at all.
  assert.deepEqual(
    spelled(limitFiles({ memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB }, "v2")),
    [`memory/memory.max=${32 * MiB}`, "memory/memory.swap.max=0"],
  );
  // Unlimited swap: the kernel's default, so a kernel without swap accounting is fine.
  const v1 = limitFiles({ memoryBytes: 32 * MiB, memorySwapBytes: -1 }, "v1")[1];
  assert.deepEqual([v1.file, v1.value, v1.optional], ["memory.memsw.limit_in_bytes", "-1", true]);
  const v2 = limitFiles({ memoryBytes: 32 * MiB, memorySwapBytes: -1 }, "v2")[1];
  assert.deepEqual([v2.file, v2.value, v2.optional], ["memory.swap.max", "max", true]);
  // A real swap limit needs the file, and says why it may be missing.
  const needed = limitFiles({ memoryBytes: 32 * MiB, memorySwapBytes: 64 * MiB }, "v1")[1];
  assert.equal(needed.optional, false);
  assert.match(needed.unsupported ?? "", /does not support memory swap limit/);
});

Deno.test("limitFiles: CPU quota and period", () => {
  // A quota alone gets the default period.
  assert.deepEqual(spelled(limitFiles({ cpuQuotaUs: 20_000 }, "v1")), [
    "cpu/cpu.cfs_period_us=100000",
    "cpu/cpu.cfs_quota_us=20000",
  ]);
  assert.deepEqual(spelled(limitFiles({ cpuQuotaUs: 20_000 }, "v2")), [
    "cpu/cpu.max=20000 100000",
  ]);
  // -1: unlimited, as each version spells it.
  assert.deepEqual(spelled(limitFiles({ cpuQuotaUs: -1, cpuPeriodUs: 100_000 }, "v1")), [
    "cpu/cpu.cfs_period_us=100000",
    "cpu/cpu.cfs_quota_us=-1",
  ]);
  assert.deepEqual(spelled(limitFiles({ cpuQuotaUs: -1 }, "v2")), ["cpu/cpu.max=max 100000"]);
  // A period alone: v1 sets the period only, v2 keeps the quota unlimited.
  assert.deepEqual(spelled(limitFiles({ cpuPeriodUs: 50_000 }, "v1")), [
    "cpu/cpu.cfs_period_us=50000",
  ]);
  assert.deepEqual(spelled(limitFiles({ cpuPeriodUs: 50_000 }, "v2")), ["cpu/cpu.max=max 50000"]);
});

Deno.test("limitFiles: shares become v2's weight as runc converts them, clamped on v1", () => {
  for (
    const [shares, v1, v2] of [[2, "2", "1"], [512, "512", "20"], [1, "2", "1"], [
      1_000_000,
      "262144",
      "10000",
    ]]
  ) {
    assert.deepEqual(spelled(limitFiles({ cpuShares: Number(shares) }, "v1")), [
      `cpu/cpu.shares=${v1}`,
    ]);
    assert.deepEqual(spelled(limitFiles({ cpuShares: Number(shares) }, "v2")), [
      `cpu/cpu.weight=${v2}`,
    ]);
  }
});

Deno.test("limitFiles: cpuset and pids are spelled alike on both versions", () => {
  for (const v of ["v1", "v2"] as const) {
    assert.deepEqual(spelled(limitFiles({ cpusetCpus: "0,2-3" }, v)), ["cpuset/cpuset.cpus=0,2-3"]);
    assert.deepEqual(spelled(limitFiles({ pidsLimit: 5 }, v)), ["pids/pids.max=5"]);
    assert.deepEqual(spelled(limitFiles({ pidsLimit: 0 }, v)), ["pids/pids.max=max"]);
    assert.deepEqual(spelled(limitFiles({ pidsLimit: -1 }, v)), ["pids/pids.max=max"]);
  }
});

Deno.test("limitFiles: memory reservation and the OOM killer switch (v1 only)", () => {
  const l = { memoryBytes: 64 * MiB, memoryReservationBytes: 32 * MiB, oomKillDisable: true };
  assert.deepEqual(spelled(limitFiles(l, "v1")), [
    `memory/memory.limit_in_bytes=${64 * MiB}`,
    `memory/memory.soft_limit_in_bytes=${32 * MiB}`,
    "memory/memory.oom_control=1",
  ]);
  // v2 has no switch: the CLI warns that it is discarded.
  assert.deepEqual(spelled(limitFiles(l, "v2")), [
    `memory/memory.max=${64 * MiB}`,
    `memory/memory.low=${32 * MiB}`,
  ]);
});
