import assert from "node:assert/strict";
import {
  mergeRuntimeLimits,
  resourcesFromOptions,
  resourcesToChange,
} from "../../src/runtime/update.ts";
import { eventLine, statsDocument } from "../../src/runtime/events.ts";
import { parseOciResources } from "../../src/config/oci_spec.ts";
import { limitFiles } from "../../src/cgroups/resources.ts";
import { validateLimits } from "../../src/config/limits.ts";
import {
  parseV1BlkioEntries,
  parseV2IoEntries,
  readCgroupDetail,
  readOomKills,
} from "../../src/cgroups/stats.ts";
import { FakeCgroupFs } from "./fake_cgroupfs.ts";

const MiB = 1024 * 1024;
const change = (o: Parameters<typeof resourcesFromOptions>[0], base?: object) =>
  resourcesToChange(resourcesFromOptions(o, base));

Deno.test("update flags: sizes take Docker's units and -1, numbers are checked", () => {
  assert.deepEqual(
    change({
      memory: "64m",
      memorySwap: "-1",
      memoryReservation: "32M",
      cpuShares: "512",
      cpuQuota: "-1",
      cpuPeriod: "50000",
      cpusetCpus: "0-1",
      cpusetMems: "0",
      pidsLimit: "10",
      blkioWeight: "300",
    }),
    {
      memoryBytes: 64 * MiB,
      memorySwapBytes: -1,
      memoryReservationBytes: 32 * MiB,
      cpuShares: 512,
      cpuQuotaUs: -1,
      cpuPeriodUs: 50000,
      cpusetCpus: "0-1",
      cpusetMems: "0",
      pidsLimit: 10,
      blkioWeight: 300,
    },
  );
  assert.throws(() => change({ memory: "lots" }), /invalid value for memory: "lots"/);
  assert.throws(() => change({ cpuShares: "-2" }), /invalid value for cpu-share/);
  assert.throws(() => change({ pidsLimit: "1.5" }), /invalid value for pids-limit/);
});

Deno.test("update: zero and empty values leave a setting alone, as runc's", () => {
  assert.deepEqual(
    change({}, { memory: { limit: 0 }, cpu: { period: 0, quota: 0, cpus: "" } }),
    {},
  );
  assert.deepEqual(change({ blkioWeight: "0", cpusetCpus: "" }), {});
});

Deno.test("update: a pids limit of 0 is one task and below 0 none, as runc's", () => {
  assert.deepEqual(change({ pidsLimit: "0" }), { pidsLimit: 1 });
  assert.deepEqual(change({ pidsLimit: "-1" }), { pidsLimit: -1 });
  assert.equal(limitFiles({ pidsLimit: -1 }, "v1")[0].value, "max");
});

Deno.test("update: flags override the --resources document", () => {
  const doc = parseOciResources(
    JSON.stringify({ memory: { limit: 32 * MiB, swap: 64 * MiB }, pids: { limit: 5 } }),
  );
  assert.deepEqual(change({ pidsLimit: "7", memory: "48m" }, doc), {
    memoryBytes: 48 * MiB,
    memorySwapBytes: 64 * MiB,
    pidsLimit: 7,
  });
});

Deno.test("update: what cannot be applied is refused naming the field", () => {
  const cases: Array<[object, RegExp]> = [
    [{ memory: { limit: -1 } }, /memory\.limit: lifting the memory limit/],
    [{ memory: { swappiness: 10 } }, /memory\.swappiness/],
    [{ cpu: { realtimePeriod: 1000 } }, /cpu\.realtimePeriod/],
    [{ cpu: { burst: 10 } }, /cpu\.burst/],
    [{ cpu: { idle: 1 } }, /cpu\.idle/],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] } }, /blockIO\./],
    [{ hugepageLimits: [{ pageSize: "2MB", limit: 0 }] }, /hugepageLimits/],
    [{ unified: { "memory.high": "1M" } }, /unified/],
  ];
  for (const [doc, message] of cases) {
    assert.throws(() => resourcesToChange(doc), message, JSON.stringify(doc));
  }
  // As runc: device rules and the deprecated kernel memory are not updated, not refused.
  assert.deepEqual(
    resourcesToChange({
      devices: [{ allow: false, access: "rwm" }],
      memory: { kernel: 1000, disableOOMKiller: true, swappiness: -1 },
    }),
    {},
  );
});

Deno.test("update: --resources is checked as config.json's linux.resources", () => {
  assert.throws(
    () => parseOciResources('{"cpu":{"shares":1}}', "stdin"),
    /stdin: cpu\.shares: must be 0 \(default\) or from 2 to 262144/,
  );
  assert.throws(() => parseOciResources("{", "stdin"), /stdin: not JSON/);
  // A value beyond 2^53 is read exactly (then refused as a limit later, not mangled).
  const big = parseOciResources('{"memory":{"limit":9223372036854775807}}');
  assert.equal(big.memory?.limit, 9223372036854775807n);
});

Deno.test("update: the change replaces only what it names; the result is validated", () => {
  const previous = { memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB, pidsLimit: 5 };
  const next = mergeRuntimeLimits(previous, { memoryBytes: 64 * MiB });
  assert.deepEqual(next, { memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB, pidsLimit: 5 });
  assert.throws(() => validateLimits(next), /memoryswap limit should be larger/);
  assert.throws(() => validateLimits({ cpusetMems: "zero" }), /Invalid value zero for cpuset mems/);
  assert.deepEqual(limitFiles({ cpusetCpus: "0", cpusetMems: "0" }, "v2").map((f) => f.file), [
    "cpuset.cpus",
    "cpuset.mems",
  ]);
});

const V1 = "/sys/fs/cgroup";
const V1_PATHS = {
  cpu: `${V1}/cpu/c`,
  cpuacct: `${V1}/cpuacct/c`,
  memory: `${V1}/memory/c`,
  pids: `${V1}/pids/c`,
  blkio: `${V1}/blkio/c`,
  cpuset: `${V1}/cpuset/c`,
};

function v1Fs(): FakeCgroupFs {
  return new FakeCgroupFs(Object.values(V1_PATHS), {
    [`${V1}/cpuacct/c/cpuacct.usage`]: "3000\n",
    [`${V1}/cpuacct/c/cpuacct.usage_percpu`]: "1000 2000 \n",
    [`${V1}/cpuacct/c/cpuacct.stat`]: "user 3\nsystem 1\n",
    [`${V1}/cpuacct/c/cpuacct.usage_all`]: "cpu user system\n0 700 300\n1 1500 500\n",
    [`${V1}/cpu/c/cpu.stat`]: "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n",
    [`${V1}/memory/c/memory.usage_in_bytes`]: "4096\n",
    [`${V1}/memory/c/memory.max_usage_in_bytes`]: "8192\n",
    [`${V1}/memory/c/memory.failcnt`]: "0\n",
    [`${V1}/memory/c/memory.limit_in_bytes`]: "9223372036854771712\n",
    [`${V1}/memory/c/memory.memsw.usage_in_bytes`]: "4096\n",
    [`${V1}/memory/c/memory.memsw.max_usage_in_bytes`]: "8192\n",
    [`${V1}/memory/c/memory.memsw.failcnt`]: "3\n",
    [`${V1}/memory/c/memory.memsw.limit_in_bytes`]: "16777216\n",
    [`${V1}/memory/c/memory.stat`]: "cache 100\nrss 200\n",
    [`${V1}/memory/c/memory.oom_control`]: "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    [`${V1}/pids/c/pids.current`]: "3\n",
    [`${V1}/pids/c/pids.max`]: "max\n",
    [`${V1}/blkio/c/blkio.throttle.io_service_bytes_recursive`]:
      "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n",
    [`${V1}/blkio/c/blkio.throttle.io_serviced_recursive`]: "8:0 Read 1\n8:0 Write 2\n",
    [`${V1}/cpuset/c/cpuset.cpus`]: "0-1\n",
    [`${V1}/cpuset/c/cpuset.mems`]: "0\n",
    [`${V1}/cpuset/c/cpuset.sched_load_balance`]: "1\n",
  });
}

Deno.test("cgroup detail (v1): every counter runc's events reports, from its file", () => {
  const d = readCgroupDetail("v1", V1_PATHS, v1Fs());
  assert.deepEqual(d.cpu, {
    total: 3000,
    kernel: 10_000_000,
    user: 30_000_000,
    percpu: [1000, 2000],
    percpuKernel: [300, 500],
    percpuUser: [700, 1500],
    periods: 10,
    throttledPeriods: 2,
    throttledTime: 5000,
  });
  assert.deepEqual(d.memory.usage, {
    usage: 4096,
    max: 8192,
    failcnt: 0,
    limit: 9223372036854771712n,
  });
  assert.equal(d.memory.swap.failcnt, 3);
  assert.equal(d.memory.swap.limit, 16777216n);
  assert.deepEqual(d.memory.kernel, { usage: 0, max: 0, failcnt: 0, limit: 0n });
  assert.equal(d.memory.cache, 100);
  assert.deepEqual(d.pids, { current: 3, limit: 0 });
  assert.deepEqual(d.blkio.serviceBytes, [
    { major: 8, minor: 0, op: "Read", value: 512 },
    { major: 8, minor: 0, op: "Write", value: 1024 },
  ]);
  assert.deepEqual(d.cpuset, { cpus: [0, 1], mems: [0], flags: { sched_load_balance: 1 } });
  assert.equal(readOomKills("v1", V1_PATHS, v1Fs()), 2);
});

Deno.test("cgroup detail (v2): unified files, swap reported as memory plus swap", () => {
  const dir = "/sys/fs/cgroup/c";
  const fs = new FakeCgroupFs([dir], {
    [`${dir}/cpu.stat`]:
      "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n",
    [`${dir}/memory.current`]: "1000\n",
    [`${dir}/memory.peak`]: "2000\n",
    [`${dir}/memory.max`]: "16777216\n",
    [`${dir}/memory.events`]: "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
    [`${dir}/memory.swap.current`]: "10\n",
    [`${dir}/memory.swap.max`]: "0\n",
    [`${dir}/memory.stat`]: "anon 10\nfile 20\n",
    [`${dir}/pids.current`]: "2\n",
    [`${dir}/pids.max`]: "9\n",
    [`${dir}/io.stat`]: "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n",
  });
  const d = readCgroupDetail("v2", { unified: dir }, fs);
  assert.equal(d.cpu.total, 5000);
  assert.equal(d.cpu.kernel, 2000);
  assert.equal(d.cpu.user, 3000);
  assert.equal(d.cpu.throttledTime, 7000);
  assert.deepEqual(d.memory.usage, { usage: 1000, max: 2000, failcnt: 4, limit: 16777216n });
  assert.deepEqual(d.memory.swap, { usage: 1010, max: 0, failcnt: 0, limit: 16777216n });
  assert.equal(d.memory.cache, 20);
  assert.deepEqual(d.pids, { current: 2, limit: 9 });
  assert.equal(d.blkio.serviceBytes.length, 3);
  assert.deepEqual(d.blkio.serviced[1], { major: 8, minor: 0, op: "Write", value: 2 });
  assert.equal(readOomKills("v2", { unified: dir }, fs), 1);
});

Deno.test("blkio entry parsers skip the Total line and read io.stat's pairs", () => {
  assert.deepEqual(parseV1BlkioEntries("Total 0\n"), []);
  assert.deepEqual(parseV2IoEntries("").serviceBytes, []);
});

Deno.test("events lines: runc's field names and omitempty, 64-bit limits exact", () => {
  assert.equal(eventLine("oom", "c1"), '{"type":"oom","id":"c1"}');
  const line = eventLine("stats", "c1", statsDocument(readCgroupDetail("v1", V1_PATHS, v1Fs())));
  assert.match(line, /^\{"type":"stats","id":"c1","data":\{"cpu":\{"usage":\{"total":3000,/);
  assert.match(line, /"memory":\{"cache":100,"usage":\{"limit":9223372036854771712,"usage":4096/);
  const data = JSON.parse(line).data;
  assert.deepEqual(data.pids, { current: 3 });
  assert.deepEqual(data.memory.kernel, undefined);
  // runc's omitempty drops minor 0 too.
  assert.deepEqual(data.blkio.ioServiceBytesRecursive[0], {
    major: 8,
    op: "Read",
    value: 512,
  });
  assert.deepEqual(data.cpu.throttling, {
    periods: 10,
    throttledPeriods: 2,
    throttledTime: 5000,
  });
  assert.equal(data.cpuset.sched_load_balance, 1);
  assert.equal(data.cpuset.cpu_exclusive, 0);
  assert.deepEqual([data.hugetlb, data.intel_rdt, data.network_interfaces], [{}, {}, null]);
});
