import assert from "node:assert/strict";
import {
  computeStats,
  countCpuList,
  parseMemoryLimit,
  parseNetDev,
  parseProcStatCpu,
  parseV1Blkio,
  parseV2IoStat,
  readCgroupSample,
  type StatsSample,
} from "../../src/cgroups/stats.ts";
import { bytesSize } from "../../src/util/humanize.ts";
import { statsEntry } from "../../src/cli/stats_impl.ts";
import { FakeCgroupFs } from "./fake_cgroupfs.ts";

// File contents as the kernel writes them (recorded on Linux 6.x, v1 and v2).
const V1_MEMORY_STAT = `cache 1261568
rss 540672
mapped_file 0
inactive_anon 0
active_anon 540672
inactive_file 1200000
active_file 61568
hierarchical_memory_limit 67108864
total_cache 1261568
total_rss 540672
total_inactive_file 1200000
total_active_file 61568
`;
const V1_BLKIO = `8:0 Read 4096
8:0 Write 8192
8:0 Sync 12288
8:0 Async 0
8:0 Discard 0
8:0 Total 12288
8:16 Read 1000
8:16 Write 0
Total 13288
`;
const V2_IO_STAT = `8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0
8:16 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0
`;
const V2_CPU_STAT = `usage_usec 2500000
user_usec 2000000
system_usec 500000
nr_periods 0
nr_throttled 0
throttled_usec 0
`;
const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    1476      18    0    0    0     0          0         0      586       7    0    0    0     0       0          0
  eth1:      24       1    0    0    0     0          0         0       14       1    0    0    0     0       0          0
`;

Deno.test("v1 blkio and v2 io.stat: bytes read and written, summed over devices", () => {
  assert.deepEqual(parseV1Blkio(V1_BLKIO), { read: 5096, write: 8192 });
  assert.deepEqual(parseV2IoStat(V2_IO_STAT), { read: 5096, write: 8192 });
  assert.deepEqual(parseV1Blkio("Total 0\n"), { read: 0, write: 0 });
  assert.deepEqual(parseV2IoStat(""), { read: 0, write: 0 });
});

Deno.test("/proc/PID/net/dev: rx and tx bytes of every interface but loopback", () => {
  assert.deepEqual(parseNetDev(NET_DEV), { rx: 1500, tx: 600 });
});

Deno.test("/proc/stat: the host's CPU time as Docker's daemon counts it (user..softirq)", () => {
  const text = "cpu  877022 0 147502 1497347 5847 0 12706 5190 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
  // 877022+147502+1497347+5847+12706 ticks at 100 Hz, in ns; steal (5190) is not counted.
  assert.equal(parseProcStatCpu(text), 2540424 * 1e7);
});

Deno.test("memory limits: v2's max and v1's unlimited number mean none", () => {
  assert.equal(parseMemoryLimit("max\n"), null);
  assert.equal(parseMemoryLimit("9223372036854771712\n"), null);
  assert.equal(parseMemoryLimit("67108864\n"), 67108864);
  assert.equal(countCpuList("0-3,6\n"), 5);
  assert.equal(countCpuList("0\n"), 1);
});

Deno.test("readCgroupSample reads v1's hierarchies (cpuacct apart or with cpu)", () => {
  const fs = new FakeCgroupFs([], {
    "/cg/cpu,cpuacct/c/cpuacct.usage": "123456789\n",
    "/cg/memory/c/memory.usage_in_bytes": "1802240\n",
    "/cg/memory/c/memory.limit_in_bytes": "67108864\n",
    "/cg/memory/c/memory.stat": V1_MEMORY_STAT,
    "/cg/blkio/c/blkio.io_service_bytes_recursive": "Total 0\n",
    "/cg/blkio/c/blkio.throttle.io_service_bytes_recursive": V1_BLKIO,
    "/cg/pids/c/pids.current": "3\n",
  });
  const s = readCgroupSample("hybrid", {
    "cpu,cpuacct": "/cg/cpu,cpuacct/c",
    memory: "/cg/memory/c",
    blkio: "/cg/blkio/c",
    pids: "/cg/pids/c",
  }, fs);
  assert.equal(s.cpuNs, 123456789);
  assert.equal(s.memoryUsage, 1802240);
  assert.equal(s.memoryLimit, 67108864);
  assert.equal(s.memoryStat.total_inactive_file, 1200000);
  assert.deepEqual([s.blockRead, s.blockWrite, s.pids], [5096, 8192, 3]);
});

Deno.test("readCgroupSample reads v2's files; missing ones read as zero", () => {
  const fs = new FakeCgroupFs([], {
    "/cg/c/cpu.stat": V2_CPU_STAT,
    "/cg/c/memory.current": "1802240\n",
    "/cg/c/memory.max": "max\n",
    "/cg/c/memory.stat": "anon 540672\nfile 1261568\ninactive_file 1200000\n",
    "/cg/c/io.stat": V2_IO_STAT,
    "/cg/c/pids.current": "2\n",
  });
  const s = readCgroupSample("v2", { unified: "/cg/c" }, fs);
  assert.equal(s.cpuNs, 2_500_000_000);
  assert.equal(s.memoryLimit, null);
  assert.equal(s.memoryStat.inactive_file, 1200000);
  assert.deepEqual([s.blockRead, s.blockWrite, s.pids], [5096, 8192, 2]);
  const gone = readCgroupSample("v2", { unified: "/cg/gone" }, fs);
  assert.deepEqual([gone.cpuNs, gone.memoryUsage, gone.pids], [0, 0, 0]);
});

function sample(over: Partial<StatsSample> & { cpuNs?: number }): StatsSample {
  return {
    cgroup: {
      cpuNs: over.cpuNs ?? 0,
      memoryUsage: 1802240,
      memoryLimit: 67108864,
      memoryStat: { total_inactive_file: 1200000 },
      blockRead: 0,
      blockWrite: 0,
      pids: 1,
    },
    systemNs: 0,
    onlineCpus: 2,
    machineMemory: 8 << 30,
    netRx: 0,
    netTx: 0,
    ...over,
  };
}

Deno.test("docker/cli's CPU %: container delta over system delta, times online CPUs", () => {
  const prev = sample({ cpuNs: 1e9, systemNs: 100e9 });
  const cur = sample({ cpuNs: 1.5e9, systemNs: 102e9 });
  assert.equal(computeStats(prev, cur).cpuPercent, 50); // 0.5 s of 2 s, 2 CPUs
  assert.equal(computeStats(null, cur).cpuPercent, 0);
  assert.equal(computeStats(cur, cur).cpuPercent, 0);
});

Deno.test("docker/cli's memory: usage less inactive file pages, against the limit or the host", () => {
  const s = computeStats(null, sample({}));
  assert.equal(s.memoryUsage, 602240);
  assert.equal(s.memoryLimit, 67108864);
  assert.equal(s.memoryPercent, 602240 / 67108864 * 100);
  const unlimited = sample({});
  unlimited.cgroup.memoryLimit = null;
  unlimited.cgroup.memoryStat = { inactive_file: 2_000_000 }; // v2, larger than usage: kept
  const u = computeStats(null, unlimited);
  assert.equal(u.memoryLimit, 8 << 30);
  assert.equal(u.memoryUsage, 1802240);
});

Deno.test("go-units' BytesSize and the stats row as docker/cli prints it", () => {
  assert.equal(bytesSize(0), "0B");
  assert.equal(bytesSize(1023), "1023B");
  assert.equal(bytesSize(1_433_600), "1.367MiB");
  assert.equal(bytesSize(64 << 20), "64MiB");
  assert.equal(bytesSize(8_350_000_000), "7.777GiB");
  const row = statsEntry("web", { id: "a".repeat(64), name: "web" }, {
    cpuPercent: 0.123,
    memoryUsage: 602240,
    memoryLimit: 67108864,
    memoryPercent: 0.8974,
    netRx: 1476,
    netTx: 586,
    blockRead: 4096,
    blockWrite: 0,
    pids: 1,
  }, false);
  assert.deepEqual(row, {
    BlockIO: "4.1kB / 0B",
    CPUPerc: "0.12%",
    Container: "web",
    ID: "aaaaaaaaaaaa",
    MemPerc: "0.90%",
    MemUsage: "588.1KiB / 64MiB",
    Name: "web",
    NetIO: "1.48kB / 586B",
    PIDs: "1",
  });
});
