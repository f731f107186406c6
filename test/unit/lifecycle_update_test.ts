/**
 * The pure parts of `update`, `pause` and `--label`: merging limits with Docker's rules, the
 * cgroup files an update writes and their order, the freezer files, the labels' syntax.
 */
import assert from "node:assert/strict";
import { changedLimitFiles } from "../../src/cgroups/common.ts";
import { openCgroupManager } from "../../src/cgroups/manager.ts";
import { CgroupUnsupportedError } from "../../src/cgroups/errors.ts";
import { mergeLimits, UpdateConflictError } from "../../src/container/update.ts";
import { parseLabelFile, requestLabels, validateLabel } from "../../src/cli/labels.ts";
import { statusText } from "../../src/util/humanize.ts";
import { UsageError } from "../../src/util/errors.ts";
import { FakeCgroupFs, FakeDeviceFilterLoader } from "./fake_cgroupfs.ts";

const MiB = 1024 * 1024;
const SWAP_CONFLICT = "Memory limit should be smaller than already set memoryswap limit, " +
  "update the memoryswap at the same time";

Deno.test("mergeLimits: only values given (and not 0) replace those in force", () => {
  const current = { memoryBytes: 64 * MiB, memorySwapBytes: 256 * MiB, pidsLimit: 10 };
  assert.deepEqual(
    mergeLimits(current, { pidsLimit: 20, cpuShares: 0, memoryReservationBytes: undefined }),
    { memoryBytes: 64 * MiB, memorySwapBytes: 256 * MiB, pidsLimit: 20 },
  );
  assert.deepEqual(mergeLimits(current, { pidsLimit: -1 }).pidsLimit, -1, "-1: unlimited");
  assert.deepEqual(mergeLimits(current, { cpusetCpus: "" }), current);
});

Deno.test("mergeLimits: Docker's rule for memory above the memory+swap in force", () => {
  const explicit = { memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB };
  assert.throws(() => mergeLimits(explicit, { memoryBytes: 200 * MiB }), (e) => {
    assert.ok(e instanceof UpdateConflictError);
    assert.equal(e.message, SWAP_CONFLICT);
    assert.equal(e.exitCode, 1);
    return true;
  });
  assert.equal(mergeLimits(explicit, { memoryBytes: 100 * MiB }).memoryBytes, 100 * MiB);
  assert.deepEqual(
    mergeLimits(explicit, { memoryBytes: 200 * MiB, memorySwapBytes: 400 * MiB }),
    { memoryBytes: 200 * MiB, memorySwapBytes: 400 * MiB },
  );
  // Docker records twice the memory as memory+swap when -m came alone.
  const implied = { memoryBytes: 64 * MiB };
  assert.equal(mergeLimits(implied, { memoryBytes: 128 * MiB }).memoryBytes, 128 * MiB);
  assert.throws(() => mergeLimits(implied, { memoryBytes: 129 * MiB }), /memoryswap/);
  // No limit at all: Docker's rule refuses a memory limit without a memory+swap one.
  assert.throws(() => mergeLimits({}, { memoryBytes: 64 * MiB }), /memoryswap/);
  assert.throws(
    () => mergeLimits({ memoryBytes: 64 * MiB, memorySwapBytes: -1 }, { memoryBytes: 65 * MiB }),
    /memoryswap/,
  );
});

Deno.test("changedLimitFiles: what differs from the files in force, in limitFiles' order", () => {
  const before = { memoryBytes: 64 * MiB, pidsLimit: 10, cpuShares: 512 };
  const after = { memoryBytes: 64 * MiB, pidsLimit: 20, cpuShares: 1024, cpusetCpus: "0" };
  assert.deepEqual(changedLimitFiles(before, after, "v1").map((f) => [f.file, f.value]), [
    ["cpu.shares", "1024"],
    ["cpuset.cpus", "0"],
    ["pids.max", "20"],
  ]);
  assert.deepEqual(changedLimitFiles(before, before, "v2"), []);
  // v2's swap.max depends on memory too: a new memory limit rewrites it.
  const swap = { memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB };
  assert.deepEqual(
    changedLimitFiles(swap, { ...swap, memoryBytes: 100 * MiB }, "v2").map((f) => f.file),
    ["memory.max", "memory.swap.max"],
  );
});

const V1 = {
  memory: "/sys/fs/cgroup/memory/m-docker/c",
  freezer: "/sys/fs/cgroup/freezer/m-docker/c",
  pids: "/sys/fs/cgroup/pids/m-docker/c",
};

function v1Fs(memsw: number): FakeCgroupFs {
  return new FakeCgroupFs(Object.values(V1), {
    [`${V1.memory}/memory.limit_in_bytes`]: String(64 * MiB),
    [`${V1.memory}/memory.memsw.limit_in_bytes`]: String(memsw),
    [`${V1.freezer}/freezer.state`]: "THAWED\n",
    [`${V1.pids}/pids.max`]: "10\n",
  });
}

Deno.test("v1 update: memory+swap first when memory rises above the one in force", () => {
  const prev = { memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB };
  const raise = v1Fs(128 * MiB);
  openCgroupManager("v1", V1, raise).updateLimits(prev, {
    memoryBytes: 200 * MiB,
    memorySwapBytes: 300 * MiB,
  });
  assert.deepEqual(raise.writes.map(([p]) => p.split("/").pop()), [
    "memory.memsw.limit_in_bytes",
    "memory.limit_in_bytes",
  ]);
  const lower = v1Fs(128 * MiB);
  openCgroupManager("v1", V1, lower).updateLimits(prev, {
    memoryBytes: 32 * MiB,
    memorySwapBytes: 100 * MiB,
  });
  assert.deepEqual(lower.writes.map(([p]) => p.split("/").pop()), [
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes",
  ]);
  const pidsOnly = v1Fs(128 * MiB);
  openCgroupManager("v1", V1, pidsOnly).updateLimits({ pidsLimit: 10 }, { pidsLimit: -1 });
  assert.deepEqual(pidsOnly.writes, [[`${V1.pids}/pids.max`, "max"]]);
});

Deno.test("v1 freezer: freezer.state FROZEN and THAWED; none mounted says so", () => {
  const fs = v1Fs(0);
  const cg = openCgroupManager("v1", V1, fs);
  cg.setFrozen(true);
  assert.equal(fs.files.get(`${V1.freezer}/freezer.state`), "FROZEN");
  cg.setFrozen(false);
  assert.equal(fs.files.get(`${V1.freezer}/freezer.state`), "THAWED");
  const { freezer: _, ...noFreezer } = V1;
  assert.throws(
    () => openCgroupManager("v1", noFreezer, fs).setFrozen(true),
    (e) => e instanceof CgroupUnsupportedError && /freezer cgroup controller/.test(e.message),
  );
});

/** A v2 cgroupfs whose cgroup.events follows cgroup.freeze, as the kernel's does. */
class FreezingFs extends FakeCgroupFs {
  override write(path: string, data: string): void {
    super.write(path, data);
    if (path.endsWith("/cgroup.freeze")) {
      this.files.set(path.replace(/freeze$/, "events"), `populated 1\nfrozen ${data}\n`);
    }
  }
}

Deno.test("v2 freezer: cgroup.freeze, waiting for cgroup.events", () => {
  const dir = "/sys/fs/cgroup/m-docker/c";
  const fs = new FreezingFs([dir], {
    [`${dir}/cgroup.freeze`]: "0\n",
    [`${dir}/cgroup.events`]: "populated 1\nfrozen 0\n",
  });
  const cg = openCgroupManager("v2", { unified: dir }, fs, new FakeDeviceFilterLoader(fs));
  cg.setFrozen(true);
  assert.match(fs.files.get(`${dir}/cgroup.events`)!, /^frozen 1$/m);
  cg.setFrozen(false);
  assert.deepEqual(fs.writes.map(([, v]) => v), ["1", "0"]);
  const old = new FakeCgroupFs([dir], {});
  assert.throws(
    () =>
      openCgroupManager("v2", { unified: dir }, old, new FakeDeviceFilterLoader(fs)).setFrozen(
        true,
      ),
    (e) => e instanceof CgroupUnsupportedError && /Linux 5\.2/.test(e.message),
  );
});

Deno.test("statusText: a paused container is Up ... (Paused), as Docker's", () => {
  assert.equal(
    statusText({ status: "running", startedAt: 0, paused: true }, 3000),
    "Up 3 seconds (Paused)",
  );
  assert.equal(statusText({ status: "running", startedAt: 0 }, 3000), "Up 3 seconds");
});

Deno.test("labels: Docker's syntax for --label and --label-file", () => {
  assert.equal(validateLabel("a=b"), "a=b");
  assert.throws(
    () => validateLabel("=x"),
    new UsageError(`invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`),
  );
  assert.throws(() => validateLabel("a b=1"), /label 'a b' contains whitespaces/);
  assert.deepEqual(parseLabelFile("f", "\uFEFF# c\n\n  a=1 \nbare\r\nb=\n"), ["a=1 ", "b="]);
  assert.throws(
    () => parseLabelFile("f", "a b=1\n"),
    new UsageError("--label-file: invalid env file (f): variable 'a b' contains whitespaces"),
  );
  assert.throws(() => parseLabelFile("f", "=1\n"), /no variable name on line '=1'/);
  const files: Record<string, string> = { one: "a=file\nz=1\n" };
  assert.deepEqual(requestLabels(["one"], ["a=flag", "b", "c=x=y"], (p) => files[p]), {
    a: "flag",
    z: "1",
    b: "",
    c: "x=y",
  });
  assert.throws(
    () =>
      requestLabels(["missing"], [], () => {
        throw new Deno.errors.NotFound("no such file");
      }),
    /--label-file: open missing: no such file/,
  );
});
