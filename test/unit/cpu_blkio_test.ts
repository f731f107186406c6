/**
 * `--cpus` (NanoCpus) beside `--cpu-period` and `--cpu-quota`, and `--blkio-weight`: Docker's
 * checks and messages, the cgroup files they become (v1 and v2, with runc's choice of weight
 * file), the update rules, and the discard of a weight the kernel cannot apply.
 */
import assert from "node:assert/strict";
import { blkioToIoWeight, type LimitFile, limitFiles } from "../../src/cgroups/resources.ts";
import { writeLimitFiles } from "../../src/cgroups/common.ts";
import { newCgroupManager } from "../../src/cgroups/manager.ts";
import {
  BLKIO_WEIGHT_DISCARDED,
  blkioWeightSupported,
  discardUnsupportedLimits,
} from "../../src/cgroups/support.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { validateLimits } from "../../src/config/limits.ts";
import { mergeLimits, UpdateConflictError } from "../../src/container/update.ts";
import { nanoCpusOf, parseBlkioWeight } from "../../src/cli/run.ts";
import { parseCpus } from "../../src/util/units.ts";
import { UsageError } from "../../src/util/errors.ts";
import { FakeCgroupFs, FakeDeviceFilterLoader } from "./fake_cgroupfs.ts";

const spelled = (files: LimitFile[]) => files.map((f) => `${f.controller}/${f.file}=${f.value}`);

Deno.test("--cpus is NanoCpus, applied as a quota per 100 ms; --cpu-period/--cpu-quota as given", () => {
  assert.equal(nanoCpusOf(parseCpus("1.5", 2)), 1_500_000_000);
  assert.equal(nanoCpusOf(parseCpus("0.29", 2)), 290_000_000);
  assert.equal(nanoCpusOf(parseCpus("0", 2)), 0);
  assert.equal(nanoCpusOf(undefined), undefined);
  assert.deepEqual(spelled(limitFiles({ nanoCpus: 1_500_000_000 }, "v1")), [
    "cpu/cpu.cfs_period_us=100000",
    "cpu/cpu.cfs_quota_us=150000",
  ]);
  assert.deepEqual(spelled(limitFiles({ nanoCpus: 500_000_000 }, "v2")), [
    "cpu/cpu.max=50000 100000",
  ]);
  assert.deepEqual(spelled(limitFiles({ cpuPeriodUs: 50_000, cpuQuotaUs: 25_000 }, "v1")), [
    "cpu/cpu.cfs_period_us=50000",
    "cpu/cpu.cfs_quota_us=25000",
  ]);
  assert.deepEqual(spelled(limitFiles({ cpuPeriodUs: 50_000, cpuQuotaUs: 25_000 }, "v2")), [
    "cpu/cpu.max=25000 50000",
  ]);
});

Deno.test("validateLimits: Docker's conflicts of --cpus with --cpu-period/--cpu-quota, and ranges", () => {
  const refused = (l: Parameters<typeof validateLimits>[0], message: string) =>
    assert.throws(
      () => validateLimits(l),
      (e) => e instanceof InvalidConfigError && e.message.includes(message),
    );
  refused(
    { nanoCpus: 1e9, cpuPeriodUs: 50_000 },
    "Conflicting options: Nano CPUs and CPU Period cannot both be set",
  );
  refused(
    { nanoCpus: 1e9, cpuQuotaUs: 50_000 },
    "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
  );
  refused(
    { cpuPeriodUs: 999 },
    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
  );
  refused({ cpuPeriodUs: 1_000_001 }, "larger than 1s (i.e. 1000000)");
  refused({ cpuQuotaUs: 999 }, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  refused({ blkioWeight: 9 }, "Range of blkio weight is from 10 to 1000");
  refused({ blkioWeight: 1001 }, "Range of blkio weight is from 10 to 1000");
  validateLimits({ nanoCpus: 1e9, cpuQuotaUs: -1 }); // Docker checks > 0 only
  validateLimits({ cpuPeriodUs: 1000, cpuQuotaUs: 1000, blkioWeight: 10 });
  validateLimits({ cpuPeriodUs: 1_000_000, blkioWeight: 1000 });
  validateLimits({ blkioWeight: 0 });
});

Deno.test("--blkio-weight parses as Docker's uint16", () => {
  assert.equal(parseBlkioWeight("300"), 300);
  assert.throws(
    () => parseBlkioWeight("-5"),
    new UsageError(
      'invalid argument "-5" for "--blkio-weight" flag: strconv.ParseUint: parsing "-5": invalid syntax',
    ),
  );
  assert.throws(() => parseBlkioWeight("70000"), /value out of range/);
});

Deno.test("blkio weight files: runc's choices on v1 and v2, the fallback where the first is absent", () => {
  assert.deepEqual(limitFiles({ blkioWeight: 300 }, "v1"), [{
    controller: "blkio",
    file: "blkio.weight",
    value: "300",
    fallback: { file: "blkio.bfq.weight", value: "300" },
  }]);
  assert.deepEqual(limitFiles({ blkioWeight: 500 }, "v2"), [{
    controller: "io",
    file: "io.bfq.weight",
    value: "500",
    fallback: { file: "io.weight", value: "4950" },
  }]);
  assert.deepEqual([10, 500, 1000].map(blkioToIoWeight), [1, 4950, 10000]);
  // Written: the first file where it exists, else the fallback.
  const fs = new FakeCgroupFs(["/c"], { "/c/blkio.bfq.weight": "100" });
  writeLimitFiles(fs, limitFiles({ blkioWeight: 300 }, "v1"), () => "/c", () => "none");
  assert.deepEqual(fs.writes, [["/c/blkio.bfq.weight", "300"]]);
  fs.files.set("/c/blkio.weight", "500");
  fs.writes.length = 0;
  writeLimitFiles(fs, limitFiles({ blkioWeight: 300 }, "v1"), () => "/c", () => "none");
  assert.deepEqual(fs.writes, [["/c/blkio.weight", "300"]]);
});

Deno.test("mergeLimits: Docker's update conflicts between --cpus and --cpu-period/--cpu-quota", () => {
  const conflict = (current: object, change: object, message: string) =>
    assert.throws(
      () => mergeLimits(current, change),
      (e) => e instanceof UpdateConflictError && e.message === `Conflicting options: ${message}`,
    );
  conflict(
    { cpuPeriodUs: 50_000 },
    { nanoCpus: 1e9 },
    "Nano CPUs cannot be updated as CPU Period has already been set",
  );
  conflict(
    { cpuQuotaUs: 50_000 },
    { nanoCpus: 1e9 },
    "Nano CPUs cannot be updated as CPU Quota has already been set",
  );
  conflict(
    { nanoCpus: 5e8 },
    { cpuPeriodUs: 50_000 },
    "CPU Period cannot be updated as NanoCPUs has already been set",
  );
  conflict(
    { nanoCpus: 5e8 },
    { cpuQuotaUs: 80_000 },
    "CPU Quota cannot be updated as NanoCPUs has already been set",
  );
  assert.deepEqual(mergeLimits({ nanoCpus: 5e8 }, { nanoCpus: 8e8 }), { nanoCpus: 8e8 });
  assert.deepEqual(
    mergeLimits({ cpuPeriodUs: 50_000, cpuQuotaUs: 25_000 }, {
      cpuQuotaUs: 40_000,
      blkioWeight: 300,
    }),
    { cpuPeriodUs: 50_000, cpuQuotaUs: 40_000, blkioWeight: 300 },
  );
});

const HYBRID = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");
const V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";

Deno.test("blkioWeightSupported: v1's weight files at the blkio root; v2's io controller", () => {
  // These machines: blkio mounted, with neither CFQ's nor BFQ's weight.
  const fs = new FakeCgroupFs(["/sys/fs/cgroup/blkio"], {
    "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device": "",
  });
  assert.equal(blkioWeightSupported("/sys/fs/cgroup", HYBRID, fs), false);
  fs.files.set("/sys/fs/cgroup/blkio/blkio.bfq.weight", "default 100\n");
  assert.equal(blkioWeightSupported("/sys/fs/cgroup", HYBRID, fs), true);
  assert.equal(
    blkioWeightSupported("/sys/fs/cgroup", HYBRID.split("\n").slice(0, 2).join("\n"), fs),
    false,
    "no blkio hierarchy",
  );
  const v2 = new FakeCgroupFs(["/sys/fs/cgroup"], {
    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu memory pids\n",
  });
  assert.equal(blkioWeightSupported("/sys/fs/cgroup", V2, v2), false);
  v2.files.set("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  assert.equal(blkioWeightSupported("/sys/fs/cgroup", V2, v2), true);
});

Deno.test("discardUnsupportedLimits: Docker's warning, the weight dropped; probed only when asked", () => {
  let probed = 0;
  const no = { blkioWeight: () => (probed++, false) };
  assert.deepEqual(discardUnsupportedLimits({ blkioWeight: 300, pidsLimit: 5 }, no), {
    limits: { blkioWeight: 0, pidsLimit: 5 },
    warnings: [BLKIO_WEIGHT_DISCARDED],
  });
  assert.equal(
    BLKIO_WEIGHT_DISCARDED,
    "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
  );
  // Docker discards before it checks the range: an out-of-range weight is only a warning here.
  assert.deepEqual(discardUnsupportedLimits({ blkioWeight: 5 }, no).limits, { blkioWeight: 0 });
  probed = 0;
  assert.deepEqual(discardUnsupportedLimits({ pidsLimit: 5 }, no), {
    limits: { pidsLimit: 5 },
    warnings: [],
  });
  assert.equal(probed, 0);
  const yes = { blkioWeight: () => true };
  assert.deepEqual(discardUnsupportedLimits({ blkioWeight: 300 }, yes).limits, {
    blkioWeight: 300,
  });
});

Deno.test("v2: io is enabled only for a container with a weight, at create or at its update", () => {
  const fs = new FakeCgroupFs(["/sys/fs/cgroup"], {
    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
    "/sys/fs/cgroup/cgroup.subtree_control": "\n",
    "/sys/fs/cgroup/cgroup.procs": "1\n",
  });
  fs.v2Root = "/sys/fs/cgroup";
  const manager = (id: string) =>
    newCgroupManager({
      id,
      parent: "/p",
      mountinfo: V2,
      procSelfCgroup: "0::/\n",
      fs,
      deviceFilter: new FakeDeviceFilterLoader(fs),
    });
  const plain = manager("a".repeat(64));
  plain.create({ pidsLimit: 5 });
  assert.equal(fs.files.get("/sys/fs/cgroup/p/cgroup.subtree_control"), "cpu cpuset memory pids\n");
  // Updated with a weight: io passed down first, then io.weight (no BFQ here) converted.
  plain.updateLimits({ pidsLimit: 5 }, { pidsLimit: 5, blkioWeight: 500 });
  assert.match(fs.files.get("/sys/fs/cgroup/p/cgroup.subtree_control")!, /\bio\b/);
  assert.equal(fs.files.get(`${plain.paths.unified}/io.weight`), "4950");
  const weighted = manager("b".repeat(64));
  weighted.create({ blkioWeight: 10 });
  assert.equal(fs.files.get(`${weighted.paths.unified}/io.weight`), "1");
});
