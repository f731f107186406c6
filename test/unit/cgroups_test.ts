import assert from "node:assert/strict";
import {
  containerCgroupDir,
  detectCgroupLayout,
  newCgroupManager,
  parseProcCgroup,
  validateCgroupParent,
} from "../../src/cgroups/manager.ts";
import { UsageError } from "../../src/util/errors.ts";
import { FakeCgroupFs } from "./fake_cgroupfs.ts";

/** This machine's layout: v1 controllers, an empty cgroup2, memory nested in a session. */
const HYBRID_MOUNTS = [
  "tmpfs /sys/fs/cgroup tmpfs rw 0 0",
  "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0",
  "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0",
  "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
  "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0",
  "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0",
  "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
].join("\n");
const HYBRID_SELF =
  "5:name=systemd:/\n4:memory:/session/abc\n3:pids:/\n2:cpuset:/\n1:cpu:/\n0::/\n";
const V2_MOUNTS = "cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0";
const ID = "f".repeat(64);

Deno.test("detectCgroupLayout tells v1, v2 and hybrid apart", () => {
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", HYBRID_MOUNTS), "hybrid");
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", V2_MOUNTS), "v2");
  const v1 = HYBRID_MOUNTS.split("\n").filter((l) => !l.includes("cgroup2")).join("\n");
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", v1), "v1");
  assert.throws(() => detectCgroupLayout("/sys/fs/cgroup", "proc /proc proc rw 0 0"), /no cgroup/);
});

Deno.test("parseProcCgroup maps each hierarchy to the caller's path", () => {
  const m = parseProcCgroup(HYBRID_SELF);
  assert.equal(m.get("memory"), "/session/abc");
  assert.equal(m.get("name=systemd"), "/");
  assert.equal(m.get(""), "/");
});

Deno.test("containerCgroupDir nests relative parents under the caller's own cgroup", () => {
  assert.equal(
    containerCgroupDir("/sys/fs/cgroup/memory", "/session/abc", "m-docker", "x"),
    "/sys/fs/cgroup/memory/session/abc/m-docker/m-docker-x",
  );
  assert.equal(
    containerCgroupDir("/sys/fs/cgroup/memory", "/session/abc", "/m-docker/web", "x"),
    "/sys/fs/cgroup/memory/m-docker/web/m-docker-x",
  );
  assert.equal(
    containerCgroupDir("/sys/fs/cgroup/cpu", "/", "p", "x"),
    "/sys/fs/cgroup/cpu/p/m-docker-x",
  );
});

Deno.test("validateCgroupParent refuses escapes and empty segments", () => {
  for (const ok of ["m-docker", "/m-docker", "a/b.c", "/a/b"]) validateCgroupParent(ok);
  for (const bad of ["", "..", "../x", "a/../b", "a//b", "./a", "/"]) {
    assert.throws(() => validateCgroupParent(bad), UsageError, bad);
  }
});

function hybridFs(): FakeCgroupFs {
  const fs = new FakeCgroupFs([
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup/cpuset",
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/memory/session",
    "/sys/fs/cgroup/memory/session/abc",
    "/sys/fs/cgroup/pids",
    "/sys/fs/cgroup/systemd",
  ], {
    "/sys/fs/cgroup/cpuset/cpuset.cpus": "0-1\n",
    "/sys/fs/cgroup/cpuset/cpuset.mems": "0\n",
  });
  fs.template = { "cpuset.cpus": "\n", "cpuset.mems": "\n", "cgroup.procs": "" };
  return fs;
}

function hybridManager(fs: FakeCgroupFs, parent?: string) {
  return newCgroupManager({
    id: ID,
    parent,
    mounts: HYBRID_MOUNTS,
    procSelfCgroup: HYBRID_SELF,
    fs,
  });
}

Deno.test("v1: paths per hierarchy, nested under the caller's cgroup in each", () => {
  const m = hybridManager(hybridFs());
  assert.equal(m.layout, "hybrid");
  assert.deepEqual(m.paths, {
    cpu: `/sys/fs/cgroup/cpu/m-docker/m-docker-${ID}`,
    cpuset: `/sys/fs/cgroup/cpuset/m-docker/m-docker-${ID}`,
    memory: `/sys/fs/cgroup/memory/session/abc/m-docker/m-docker-${ID}`,
    pids: `/sys/fs/cgroup/pids/m-docker/m-docker-${ID}`,
    systemd: `/sys/fs/cgroup/systemd/m-docker/m-docker-${ID}`,
  });
});

Deno.test("v1: create writes every limit to its controller, and cpuset is inherited", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({
    memoryBytes: 64 << 20,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    cpuShares: 512,
    cpusetCpus: "0",
    pidsLimit: 20,
  });
  const file = (ctl: string, name: string) => fs.files.get(`${m.paths[ctl]}/${name}`);
  assert.equal(file("memory", "memory.limit_in_bytes"), String(64 << 20));
  assert.equal(file("cpu", "cpu.cfs_quota_us"), "50000");
  assert.equal(file("cpu", "cpu.cfs_period_us"), "100000");
  assert.equal(file("cpu", "cpu.shares"), "512");
  assert.equal(file("cpuset", "cpuset.cpus"), "0");
  assert.equal(file("cpuset", "cpuset.mems"), "0");
  assert.equal(fs.files.get("/sys/fs/cgroup/cpuset/m-docker/cpuset.cpus"), "0-1");
  assert.equal(file("pids", "pids.max"), "20");
  // The period is written before the quota, or the kernel may refuse the quota.
  const order = fs.writes.map(([p]) => p.split("/").pop());
  assert.ok(order.indexOf("cpu.cfs_period_us") < order.indexOf("cpu.cfs_quota_us"));
});

Deno.test("v1: a failed limit removes every directory create made, and says which file", () => {
  const fs = hybridFs();
  fs.failWrite = (p) => p.endsWith("pids.max");
  const m = hybridManager(fs);
  assert.throws(() => m.create({ pidsLimit: 5 }), /write .*pids\.max: Device or resource busy/);
  assert.ok(![...fs.dirs].some((d) => d.includes("m-docker")), [...fs.dirs].join(" "));
});

Deno.test("v1: --memory-swap without swap accounting is a clear error", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  assert.throws(
    () => m.create({ memoryBytes: 1 << 26, memorySwapBytes: 1 << 27 }),
    /swap accounting/,
  );
});

Deno.test("v1: oomKilled reads memory.oom_control", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  fs.files.set(
    `${m.paths.memory}/memory.oom_control`,
    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
  );
  assert.equal(m.oomKilled(), false);
  fs.files.set(
    `${m.paths.memory}/memory.oom_control`,
    "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
  );
  assert.equal(m.oomKilled(), true);
});

Deno.test("v1: destroy removes the container's cgroup and the emptied parent, idempotently", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  m.destroy();
  m.destroy();
  assert.ok(![...fs.dirs].some((d) => d.includes("m-docker")));
  assert.ok(fs.dirs.has("/sys/fs/cgroup/memory/session/abc"), "the caller's own cgroup stays");
});

Deno.test("v1: destroy leaves a parent that another container still uses", () => {
  const fs = hybridFs();
  const a = hybridManager(fs);
  a.create({});
  const b = newCgroupManager({
    id: "e".repeat(64),
    mounts: HYBRID_MOUNTS,
    procSelfCgroup: HYBRID_SELF,
    fs,
  });
  b.create({});
  a.destroy();
  assert.ok(fs.dirs.has(b.paths.memory));
});

function v2Fs(): FakeCgroupFs {
  const fs = new FakeCgroupFs(["/sys/fs/cgroup"], {
    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
    "/sys/fs/cgroup/cgroup.subtree_control": "\n",
  });
  fs.template = { "cgroup.subtree_control": "\n", "cgroup.procs": "" };
  return fs;
}

Deno.test("v2: controllers are enabled in every ancestor, top down, then limits written", () => {
  const fs = v2Fs();
  const m = newCgroupManager({
    id: ID,
    parent: "/m-docker.slice/web",
    mounts: V2_MOUNTS,
    procSelfCgroup: "0::/user.slice/session-1.scope\n",
    fs,
  });
  assert.equal(m.layout, "v2");
  assert.equal(m.paths.unified, `/sys/fs/cgroup/m-docker.slice/web/m-docker-${ID}`);
  m.create({
    memoryBytes: 64 << 20,
    memorySwapBytes: 96 << 20,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    cpuShares: 1024,
    cpusetCpus: "0",
    pidsLimit: 20,
  });
  const enables = fs.writes.filter(([p]) => p.endsWith("cgroup.subtree_control")).map(([p]) => p);
  assert.deepEqual(enables, [
    "/sys/fs/cgroup/cgroup.subtree_control",
    "/sys/fs/cgroup/m-docker.slice/cgroup.subtree_control",
    "/sys/fs/cgroup/m-docker.slice/web/cgroup.subtree_control",
  ]);
  assert.equal(fs.files.get("/sys/fs/cgroup/cgroup.subtree_control"), "+cpu +cpuset +memory +pids");
  const file = (name: string) => fs.files.get(`${m.paths.unified}/${name}`);
  assert.equal(file("memory.max"), String(64 << 20));
  assert.equal(file("memory.swap.max"), String(32 << 20));
  assert.equal(file("cpu.max"), "50000 100000");
  assert.equal(file("cpu.weight"), "39");
  assert.equal(file("cpuset.cpus"), "0");
  assert.equal(file("pids.max"), "20");
});

Deno.test("v2: relative parents nest under the caller's cgroup; failures clean up", () => {
  const fs = v2Fs();
  fs.dirs.add("/sys/fs/cgroup/user.slice");
  fs.files.set("/sys/fs/cgroup/user.slice/cgroup.subtree_control", "\n");
  fs.failWrite = (p) => p === "/sys/fs/cgroup/user.slice/cgroup.subtree_control";
  const m = newCgroupManager({ id: ID, mounts: V2_MOUNTS, procSelfCgroup: "0::/user.slice\n", fs });
  assert.equal(m.paths.unified, `/sys/fs/cgroup/user.slice/m-docker/m-docker-${ID}`);
  assert.throws(() => m.create({}), /holds processes/);
  assert.ok(![...fs.dirs].some((d) => d.includes("m-docker")));
});

Deno.test("v2: oomKilled reads memory.events; unlimited swap is 'max'", () => {
  const fs = v2Fs();
  const m = newCgroupManager({
    id: ID,
    parent: "/p",
    mounts: V2_MOUNTS,
    procSelfCgroup: "0::/\n",
    fs,
  });
  m.create({ memoryBytes: 1 << 26, memorySwapBytes: -1, pidsLimit: -1 });
  assert.equal(fs.files.get(`${m.paths.unified}/memory.swap.max`), "max");
  assert.equal(fs.files.get(`${m.paths.unified}/pids.max`), "max");
  fs.files.set(`${m.paths.unified}/memory.events`, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  assert.equal(m.oomKilled(), true);
});

Deno.test("destroy tolerates a cgroup removed meanwhile by a concurrent cleanup", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  // Another process removes it between our existence check and our reads.
  const realRead = fs.read.bind(fs);
  fs.read = (p: string) => {
    if (p.endsWith("cgroup.procs")) {
      for (const d of Object.values(m.paths)) {
        fs.dirs.delete(d);
        for (const f of [...fs.files.keys()]) if (f.startsWith(`${d}/`)) fs.files.delete(f);
      }
    }
    return realRead(p);
  };
  m.destroy();
  assert.ok(!Object.values(m.paths).some((d) => fs.dirs.has(d)));
});
