/**
 * The cgroup managers against a fake cgroupfs: where a container's cgroup goes in each
 * hierarchy, what create writes and in which order, and that failures and destroy leave
 * nothing of ours behind.
 */
import assert from "node:assert/strict";
import {
  containerCgroupDir,
  detectCgroupLayout,
  newCgroupManager,
  openCgroupManager,
  validateCgroupParent,
} from "../../src/cgroups/manager.ts";
import { ownCgroupDir, parseCgroupMounts, parseProcCgroup } from "../../src/cgroups/detect.ts";
import { DEFAULT_DEVICE_RULES, formatDeviceRule } from "../../src/config/devices.ts";
const ALLOWED_DEVICES = DEFAULT_DEVICE_RULES.map(formatDeviceRule);
import { InvalidConfigError } from "../../src/config/errors.ts";
import {
  CgroupDeviceFilterError,
  CgroupUnsupportedError,
  CgroupWriteError,
} from "../../src/cgroups/errors.ts";
import { compileDeviceFilter } from "../../src/cgroups/device_filter.ts";
import { FakeCgroupFs, FakeDeviceFilterLoader } from "./fake_cgroupfs.ts";
import { childPlacementOf, v1MountOf } from "../../src/cgroups/join.ts";

const ID = "f".repeat(64);
const OWN_MEMORY = "/process_api/5ed3de7d3c41d5aa282905e67febd46e";

/** This machine's /proc/self/mountinfo (hybrid: v1 controllers, an empty cgroup2). */
const HYBRID_MOUNTINFO = [
  "24 1 0:22 / / rw,relatime - ext4 /dev/vda rw",
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
  "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices",
  "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer",
  "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
  "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

/** This machine's /proc/self/cgroup: only memory is nested (in the session's cgroup). */
const HYBRID_SELF = [
  "9:name=systemd:/",
  "8:pids:/",
  "7:blkio:/",
  "6:freezer:/",
  "5:devices:/",
  `4:memory:${OWN_MEMORY}`,
  "3:cpuset:/",
  "2:cpuacct:/",
  "1:cpu:/",
  "0::/",
].join("\n");

const V2_MOUNTINFO = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";

// ---------------------------------------------------------------------------------------
// Detection and paths

Deno.test("detectCgroupLayout tells v1, v2 and hybrid apart from mountinfo", () => {
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", HYBRID_MOUNTINFO), "hybrid");
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", V2_MOUNTINFO), "v2");
  const v1 = HYBRID_MOUNTINFO.split("\n").filter((l) => !l.includes("cgroup2")).join("\n");
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", v1), "v1");
  assert.throws(
    () => detectCgroupLayout("/sys/fs/cgroup", "1 0 0:1 / / rw - ext4 /dev/vda rw"),
    /no cgroup filesystem is mounted at \/sys\/fs\/cgroup/,
  );
});

Deno.test("detectCgroupLayout: a later mount over a cgroup mount point hides it", () => {
  const masked = `${HYBRID_MOUNTINFO}\n50 41 0:60 / /sys/fs/cgroup/unified ro - tmpfs tmpfs ro`;
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", masked), "v1");
  // A cgroup2 mounted over a tmpfs root is pure v2, whatever was mounted before.
  const remounted = `${HYBRID_MOUNTINFO}\n51 23 0:61 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw`;
  assert.equal(detectCgroupLayout("/sys/fs/cgroup", remounted), "v2");
});

Deno.test("parseCgroupMounts reads root, type and controllers, and unescapes paths", () => {
  const [m] = parseCgroupMounts(
    "7 1 0:5 /docker/abc /sys/fs/cgroup/cpu\\040x rw master:3 - cgroup cgroup rw,cpu,cpuacct",
  );
  assert.deepEqual(m, {
    mountPoint: "/sys/fs/cgroup/cpu x",
    root: "/docker/abc",
    fsType: "cgroup",
    options: ["rw", "cpu", "cpuacct"],
  });
});

Deno.test("parseProcCgroup maps each hierarchy to the caller's path", () => {
  const m = parseProcCgroup(HYBRID_SELF);
  assert.equal(m.get("memory"), OWN_MEMORY);
  assert.equal(m.get("name=systemd"), "/");
  assert.equal(m.get(""), "/");
});

Deno.test("ownCgroupDir follows a bind-mounted root and refuses a cgroup it cannot see", () => {
  const mount = {
    mountPoint: "/sys/fs/cgroup/memory",
    root: "/",
    fsType: "cgroup" as const,
    options: [],
  };
  assert.equal(ownCgroupDir(mount, "/a/b"), "/sys/fs/cgroup/memory/a/b");
  assert.equal(ownCgroupDir(mount, "/"), "/sys/fs/cgroup/memory");
  const bound = { ...mount, root: "/docker/x" };
  assert.equal(ownCgroupDir(bound, "/docker/x"), "/sys/fs/cgroup/memory");
  assert.equal(ownCgroupDir(bound, "/docker/x/y"), "/sys/fs/cgroup/memory/y");
  assert.throws(() => ownCgroupDir(bound, "/docker/xy"), /does not contain/);
});

Deno.test("containerCgroupDir: relative parents under our own cgroup, absolute at the root", () => {
  const mem = "/sys/fs/cgroup/memory";
  assert.equal(
    containerCgroupDir(mem, `${mem}/session`, "m-docker", "x"),
    `${mem}/session/m-docker/m-docker-x`,
  );
  assert.equal(
    containerCgroupDir(mem, `${mem}/session`, "/m-docker/web/", "x"),
    `${mem}/m-docker/web/m-docker-x`,
  );
  assert.equal(containerCgroupDir(mem, mem, "a/b", "x"), `${mem}/a/b/m-docker-x`);
});

Deno.test("validateCgroupParent refuses escapes and empty segments", () => {
  for (const ok of ["m-docker", "/m-docker", "a/b.c", "/a/b"]) validateCgroupParent(ok);
  for (const bad of ["", "..", "../x", "a/../b", "a//b", "./a", "/", "a/./b", "a/"]) {
    assert.throws(() => validateCgroupParent(bad), InvalidConfigError, bad);
  }
});

Deno.test("newCgroupManager refuses a bad parent (InvalidConfigError) and an id that is not a name", () => {
  const base = { mountinfo: HYBRID_MOUNTINFO, procSelfCgroup: HYBRID_SELF, fs: hybridFs() };
  assert.throws(
    () => newCgroupManager({ ...base, id: ID, parent: "../x" }),
    (e: unknown) => e instanceof InvalidConfigError && e.field === "cgroupParent",
  );
  for (const id of ["", "..", "a/b", "../x"]) {
    assert.throws(() => newCgroupManager({ ...base, id }), /invalid container id/, id);
  }
});

// ---------------------------------------------------------------------------------------
// v1 and hybrid

/** The files each of this machine's v1 hierarchies creates in a new cgroup. */
const V1_FILES: Record<string, Record<string, string>> = {
  cpu: { "cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cpu.shares": "1024\n" },
  cpuset: { "cpuset.cpus": "\n", "cpuset.mems": "\n" },
  memory: {
    "memory.limit_in_bytes": "9223372036854771712\n",
    "memory.memsw.limit_in_bytes": "9223372036854771712\n",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "memory.failcnt": "0\n",
  },
  devices: { "devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n" },
  freezer: { "freezer.state": "THAWED\n" },
  pids: { "pids.max": "max\n" },
};

function hybridFs(): FakeCgroupFs {
  const root = "/sys/fs/cgroup";
  const names = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"];
  const fs = new FakeCgroupFs([
    root,
    ...[...names, "systemd", "unified"].map((n) => `${root}/${n}`),
    `${root}/memory/process_api`,
    `${root}/memory${OWN_MEMORY}`,
  ]);
  fs.template = { "cgroup.procs": "" };
  for (const [name, files] of Object.entries(V1_FILES)) {
    fs.v1Templates[`${root}/${name}`] = files;
    for (const [file, content] of Object.entries(files)) {
      fs.files.set(`${root}/${name}/${file}`, content);
      if (name === "memory") fs.files.set(`${root}/memory${OWN_MEMORY}/${file}`, content);
    }
  }
  // The root cpuset holds every CPU and memory node; new cgroups start empty.
  fs.files.set(`${root}/cpuset/cpuset.cpus`, "0-1\n");
  fs.files.set(`${root}/cpuset/cpuset.mems`, "0\n");
  return fs;
}

function hybridManager(fs: FakeCgroupFs, parent?: string, id = ID) {
  return newCgroupManager({
    id,
    parent,
    mountinfo: HYBRID_MOUNTINFO,
    procSelfCgroup: HYBRID_SELF,
    fs,
  });
}

const ALL_LIMITS = {
  memoryBytes: 64 << 20,
  cpuQuotaUs: 50_000,
  cpuPeriodUs: 100_000,
  cpuShares: 512,
  cpusetCpus: "0",
  pidsLimit: 20,
};

Deno.test("v1: one directory per mounted hierarchy, under our own cgroup in each", () => {
  const m = hybridManager(hybridFs());
  assert.equal(m.layout, "hybrid");
  const at = (n: string) => `/sys/fs/cgroup/${n}/m-docker/m-docker-${ID}`;
  assert.deepEqual(m.paths, {
    cpu: at("cpu"),
    cpuacct: at("cpuacct"),
    cpuset: at("cpuset"),
    memory: `/sys/fs/cgroup/memory${OWN_MEMORY}/m-docker/m-docker-${ID}`,
    devices: at("devices"),
    freezer: at("freezer"),
    blkio: at("blkio"),
    pids: at("pids"),
    systemd: at("systemd"),
  });
});

Deno.test("v1: an absolute parent is relative to each hierarchy's root", () => {
  const m = hybridManager(hybridFs(), "/m-docker/web");
  assert.equal(m.paths.memory, `/sys/fs/cgroup/memory/m-docker/web/m-docker-${ID}`);
  assert.equal(m.paths.pids, `/sys/fs/cgroup/pids/m-docker/web/m-docker-${ID}`);
});

Deno.test("v1: co-mounted controllers share a directory; unknown hierarchies are skipped", () => {
  const mountinfo = [
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
    "36 31 0:33 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,net_cls",
  ].join("\n");
  const fs = new FakeCgroupFs(["/sys/fs/cgroup", "/sys/fs/cgroup/cpu,cpuacct"]);
  fs.template = { "cgroup.procs": "" };
  fs.v1Templates["/sys/fs/cgroup/cpu,cpuacct"] = V1_FILES.cpu;
  fs.dirs.add("/sys/fs/cgroup/memory");
  const m = newCgroupManager({
    id: ID,
    mountinfo,
    procSelfCgroup: "2:cpu,cpuacct:/s\n1:memory:/s\n",
    fs,
  });
  assert.equal(m.layout, "v1");
  assert.deepEqual(Object.keys(m.paths), ["cpu,cpuacct", "memory"]);
  fs.dirs.add("/sys/fs/cgroup/cpu,cpuacct/s");
  fs.dirs.add("/sys/fs/cgroup/memory/s");
  m.create({ cpuQuotaUs: 20_000 });
  assert.equal(fs.files.get(`${m.paths["cpu,cpuacct"]}/cpu.cfs_quota_us`), "20000");
});

Deno.test("v1: create writes every limit to its controller's file", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({ ...ALL_LIMITS, memorySwapBytes: 96 << 20 });
  const file = (ctl: string, name: string) => fs.files.get(`${m.paths[ctl]}/${name}`);
  assert.equal(file("memory", "memory.limit_in_bytes"), String(64 << 20));
  assert.equal(file("memory", "memory.memsw.limit_in_bytes"), String(96 << 20));
  assert.equal(file("cpu", "cpu.cfs_quota_us"), "50000");
  assert.equal(file("cpu", "cpu.cfs_period_us"), "100000");
  assert.equal(file("cpu", "cpu.shares"), "512");
  assert.equal(file("cpuset", "cpuset.cpus"), "0");
  assert.equal(file("pids", "pids.max"), "20");
  const order = fs.writes.map(([p]) => p.split("/").pop());
  // The period before the quota, the memory limit before memsw: the kernel checks both.
  assert.ok(order.indexOf("cpu.cfs_period_us") < order.indexOf("cpu.cfs_quota_us"));
  assert.ok(order.indexOf("memory.limit_in_bytes") < order.indexOf("memory.memsw.limit_in_bytes"));
});

Deno.test("v1: unlimited pids and swap are written as the kernel spells them", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({ memoryBytes: 64 << 20, memorySwapBytes: -1, pidsLimit: -1, cpuShares: 1 });
  assert.equal(fs.files.get(`${m.paths.pids}/pids.max`), "max");
  assert.equal(fs.files.get(`${m.paths.memory}/memory.memsw.limit_in_bytes`), "-1");
  assert.equal(fs.files.get(`${m.paths.cpu}/cpu.shares`), "2", "clamped to the kernel's minimum");
});

Deno.test("v1: cpuset.cpus and cpuset.mems are copied into every new level", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  const parent = "/sys/fs/cgroup/cpuset/m-docker";
  assert.equal(fs.files.get(`${parent}/cpuset.cpus`), "0-1");
  assert.equal(fs.files.get(`${parent}/cpuset.mems`), "0");
  assert.equal(fs.files.get(`${m.paths.cpuset}/cpuset.cpus`), "0-1");
  assert.equal(fs.files.get(`${m.paths.cpuset}/cpuset.mems`), "0");
  // The parent is filled before the child reads it.
  const writes = fs.writes.map(([p]) => p).filter((p) => p.includes("cpuset.cpus"));
  assert.deepEqual(writes, [`${parent}/cpuset.cpus`, `${m.paths.cpuset}/cpuset.cpus`]);
});

Deno.test("v1: an existing parent left with an empty cpuset is filled too", () => {
  const fs = hybridFs();
  const parent = "/sys/fs/cgroup/cpuset/m-docker";
  fs.mkdir(parent); // as a create that died half-way left it
  const m = hybridManager(fs);
  m.create({ cpusetCpus: "1" });
  assert.equal(fs.files.get(`${parent}/cpuset.cpus`), "0-1");
  assert.equal(fs.files.get(`${parent}/cpuset.mems`), "0");
  assert.equal(fs.files.get(`${m.paths.cpuset}/cpuset.cpus`), "1");
  assert.equal(fs.files.get(`${m.paths.cpuset}/cpuset.mems`), "0");
});

Deno.test("v1: devices: deny all, then allow runc's standard list, one rule per write", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  const rules = fs.writes.filter(([p]) => p.startsWith(m.paths.devices + "/devices."))
    .map(([p, d]) => `${p.split("/").pop()} ${d}`);
  assert.deepEqual(rules, [
    "devices.deny a",
    ...ALLOWED_DEVICES.map((r) => `devices.allow ${r}`),
  ]);
  for (const dev of ["c 1:3 rwm", "c 5:2 rwm", "c 136:* rwm", "c *:* m", "b *:* m"]) {
    assert.ok(ALLOWED_DEVICES.includes(dev), dev);
  }
});

Deno.test("v1: a failed limit removes every directory create made, and names the file", () => {
  const fs = hybridFs();
  fs.failWrite = (p) => p.endsWith("pids.max");
  const m = hybridManager(fs);
  assert.throws(
    () => m.create({ pidsLimit: 5 }),
    (e: Error) => e.message === `write ${m.paths.pids}/pids.max: Device or resource busy`,
  );
  // The error carries what a front end needs to say which limit failed, and why.
  try {
    m.create({ pidsLimit: 5 });
    assert.fail("create succeeded");
  } catch (e) {
    assert.ok(e instanceof CgroupWriteError);
    assert.deepEqual(
      [e.path, e.file, e.value, e.errno, e.code, e.appliesLimit],
      [`${m.paths.pids}/pids.max`, "pids.max", "5", 16, "EBUSY", true],
    );
  }
  assert.deepEqual(fs.dirsMatching("m-docker"), []);
  assert.ok(fs.dirs.has(`/sys/fs/cgroup/memory${OWN_MEMORY}`), "our own cgroup stays");
});

Deno.test("v1: a failed create leaves a parent that existed before it", () => {
  const fs = hybridFs();
  const other = hybridManager(fs, undefined, "e".repeat(64));
  other.create({});
  fs.failWrite = (p) => p.endsWith("memory.limit_in_bytes");
  assert.throws(() => hybridManager(fs).create({ memoryBytes: 64 << 20 }), /memory\.limit/);
  assert.deepEqual(
    fs.dirsMatching(ID),
    [],
    "nothing of the failed container is left",
  );
  for (const dir of Object.values(other.paths)) assert.ok(fs.dirs.has(dir), dir);
});

Deno.test("v1: a swap limit without swap accounting is unsupported, and cleans up", () => {
  const fs = hybridFs();
  delete fs.v1Templates["/sys/fs/cgroup/memory"]["memory.memsw.limit_in_bytes"];
  const m = hybridManager(fs);
  assert.throws(
    () => m.create({ memoryBytes: 64 << 20, memorySwapBytes: 128 << 20 }),
    (e: Error) =>
      e instanceof CgroupUnsupportedError && e.file === "memory.memsw.limit_in_bytes" &&
      /does not support memory swap limit/.test(e.message),
  );
  assert.deepEqual(fs.dirsMatching("m-docker"), []);
  // Unlimited swap needs no file: nothing to do.
  m.create({ memoryBytes: 64 << 20, memorySwapBytes: -1 });
  assert.equal(fs.files.get(`${m.paths.memory}/memory.limit_in_bytes`), String(64 << 20));
});

Deno.test("v1: a limit whose controller is not mounted is refused, not ignored", () => {
  const mountinfo = HYBRID_MOUNTINFO.split("\n").filter((l) => !l.includes("pids")).join("\n");
  const fs = hybridFs();
  const m = newCgroupManager({ id: ID, mountinfo, procSelfCgroup: HYBRID_SELF, fs });
  assert.equal(m.paths.pids, undefined);
  assert.throws(() => m.create({ pidsLimit: 10 }), /pids cgroup controller is not mounted/);
  assert.deepEqual(fs.dirsMatching("m-docker"), []);
});

Deno.test("v1: oomKilled reads oom_kill, or memory.failcnt on kernels without it", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({ memoryBytes: 64 << 20 });
  const ctl = `${m.paths.memory}/memory.oom_control`;
  assert.equal(m.oomKilled(), false);
  fs.files.set(ctl, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  assert.equal(m.oomKilled(), true);
  fs.files.set(`${m.paths.memory}/memory.failcnt`, "12\n");
  fs.files.set(ctl, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  assert.equal(m.oomKilled(), false, "oom_kill is authoritative when present");
  fs.files.set(ctl, "oom_kill_disable 0\nunder_oom 0\n"); // before Linux 4.13
  assert.equal(m.oomKilled(), true);
  fs.files.set(`${m.paths.memory}/memory.failcnt`, "0\n");
  assert.equal(m.oomKilled(), false);
});

Deno.test("v1: pids() lists every hierarchy and the cgroups nested in them, once each", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  fs.files.set(`${m.paths.pids}/cgroup.procs`, "10\n11\n");
  fs.files.set(`${m.paths.memory}/cgroup.procs`, "11\n10\n");
  fs.mkdir(`${m.paths.systemd}/inner`);
  fs.files.set(`${m.paths.systemd}/inner/cgroup.procs`, "12\n");
  assert.deepEqual(m.pids(), [10, 11, 12]);
});

Deno.test("v1: addProcess writes the pid to cgroup.procs in every hierarchy", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  fs.writes.length = 0;
  m.addProcess(4242);
  assert.deepEqual(
    fs.writes.map(([p, d]) => [p, d]),
    Object.values(m.paths).map((d) => [`${d}/cgroup.procs`, "4242"]),
  );
});

Deno.test("v1: destroy removes the container's cgroups, nested ones first, and the emptied parent", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  fs.mkdir(`${m.paths.memory}/a`);
  fs.mkdir(`${m.paths.memory}/a/b`);
  m.destroy();
  m.destroy(); // idempotent
  assert.deepEqual(fs.dirsMatching(ID), []);
  assert.ok(
    !fs.dirs.has(`/sys/fs/cgroup/memory${OWN_MEMORY}/m-docker`),
    "the emptied shared parent",
  );
  assert.ok(!fs.dirs.has("/sys/fs/cgroup/pids/m-docker"));
  assert.ok(fs.dirs.has(`/sys/fs/cgroup/memory${OWN_MEMORY}`), "the caller's own cgroup stays");
});

Deno.test("v1: destroy of an emptied cgroup is one rmdir per hierarchy; one still in use is killed and removed", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({});
  let reads = 0;
  const read = fs.read.bind(fs), readdir = fs.readdir.bind(fs);
  fs.read = (path) => (reads++, read(path));
  fs.readdir = (path) => (reads++, readdir(path));
  m.destroy();
  assert.equal(reads, 0, "no tree walk and no cgroup.procs read for an empty cgroup");
  assert.deepEqual(fs.dirsMatching(ID), []);
  // A process left in one hierarchy: that one refuses the rmdir, so the kill and the walk
  // run, and everything goes once the process is gone.
  const busy = hybridManager(fs);
  busy.create({});
  const procs = `${busy.paths.pids}/cgroup.procs`;
  fs.files.set(procs, "999999999\n");
  const kill = Deno.kill;
  const killed: number[] = [];
  Deno.kill = ((pid: number) => {
    killed.push(pid);
    fs.files.set(procs, "");
  }) as typeof Deno.kill;
  try {
    busy.destroy();
  } finally {
    Deno.kill = kill;
  }
  assert.deepEqual(killed, [999999999]);
  assert.deepEqual(fs.dirsMatching(ID), []);
});

Deno.test("v1: destroy leaves a sibling container alone", () => {
  const fs = hybridFs();
  const a = hybridManager(fs);
  a.create({});
  const b = hybridManager(fs, undefined, "e".repeat(64));
  b.create({});
  a.destroy();
  for (const dir of Object.values(b.paths)) assert.ok(fs.dirs.has(dir), dir);
  assert.ok(fs.dirs.has("/sys/fs/cgroup/pids/m-docker"), "a parent still in use stays");
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
        if (fs.dirs.has(d)) fs.rmdir(d);
      }
    }
    return realRead(p);
  };
  m.destroy();
  assert.deepEqual(fs.dirsMatching(ID), []);
});

Deno.test("create tries again when a concurrent cleanup removes a shared parent", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  let removed = false;
  const realMkdir = fs.mkdir.bind(fs);
  fs.mkdir = (p: string) => {
    // Our parent is made; before our leaf, another process's cleanup removes the parent.
    if (p === m.paths.pids && !removed) {
      removed = true;
      fs.rmdir("/sys/fs/cgroup/pids/m-docker");
    }
    realMkdir(p);
  };
  m.create({ pidsLimit: 3 });
  assert.ok(removed);
  assert.equal(fs.files.get(`${m.paths.pids}/pids.max`), "3");
});

Deno.test("openCgroupManager reopens a v1 cgroup from its persisted paths", () => {
  const fs = hybridFs();
  const m = hybridManager(fs);
  m.create({ pidsLimit: 7 });
  const again = openCgroupManager(m.layout, JSON.parse(JSON.stringify(m.paths)), fs);
  assert.deepEqual(again.paths, m.paths);
  again.destroy();
  assert.deepEqual(fs.dirsMatching(ID), []);
  // And recreates it (restart): the mount is found from the path alone.
  again.create({ pidsLimit: 7, cpusetCpus: "1" });
  assert.equal(fs.files.get(`${m.paths.pids}/pids.max`), "7");
  assert.equal(fs.files.get(`${m.paths.cpuset}/cpuset.mems`), "0");
});

// ---------------------------------------------------------------------------------------
// v2

function v2Fs(own = "/"): FakeCgroupFs {
  const fs = new FakeCgroupFs(["/sys/fs/cgroup"], {
    "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids\n",
    "/sys/fs/cgroup/cgroup.subtree_control": "\n",
    "/sys/fs/cgroup/cgroup.procs": "1\n",
  });
  fs.v2Root = "/sys/fs/cgroup";
  let dir = "/sys/fs/cgroup";
  for (const part of own.split("/").filter((p) => p)) {
    dir = `${dir}/${part}`;
    fs.mkdir(dir);
  }
  fs.writes.length = 0;
  return fs;
}

function v2Manager(
  fs: FakeCgroupFs,
  parent?: string,
  own = "/",
  deviceFilter = new FakeDeviceFilterLoader(fs),
) {
  return newCgroupManager({
    id: ID,
    parent,
    mountinfo: V2_MOUNTINFO,
    procSelfCgroup: `0::${own}\n`,
    fs,
    deviceFilter,
  });
}

Deno.test("v2: controllers are enabled in every ancestor, root first, then limits written", () => {
  const fs = v2Fs();
  const m = v2Manager(fs, "/m-docker.slice/web");
  assert.equal(m.layout, "v2");
  assert.deepEqual(m.paths, { unified: `/sys/fs/cgroup/m-docker.slice/web/m-docker-${ID}` });
  m.create({ ...ALL_LIMITS, cpuShares: 1024, memorySwapBytes: 96 << 20 });
  const enables = fs.writes.filter(([p]) => p.endsWith("cgroup.subtree_control"));
  assert.deepEqual(enables, [
    ["/sys/fs/cgroup/cgroup.subtree_control", "+cpu +cpuset +memory +pids"],
    ["/sys/fs/cgroup/m-docker.slice/cgroup.subtree_control", "+cpu +cpuset +memory +pids"],
    ["/sys/fs/cgroup/m-docker.slice/web/cgroup.subtree_control", "+cpu +cpuset +memory +pids"],
  ]);
  const file = (name: string) => fs.files.get(`${m.paths.unified}/${name}`);
  assert.equal(file("memory.max"), String(64 << 20));
  assert.equal(file("memory.swap.max"), String(32 << 20), "swap alone: memory+swap - memory");
  assert.equal(file("cpu.max"), "50000 100000");
  assert.equal(file("cpu.weight"), "39");
  assert.equal(file("cpuset.cpus"), "0");
  assert.equal(file("pids.max"), "20");
});

Deno.test("v2: controllers already enabled are not written again; io stays off", () => {
  const fs = v2Fs();
  fs.files.set("/sys/fs/cgroup/cgroup.subtree_control", "cpu memory\n");
  const m = v2Manager(fs, "/p");
  m.create({});
  assert.deepEqual(fs.writes.filter(([p]) => p.endsWith("subtree_control")), [
    ["/sys/fs/cgroup/cgroup.subtree_control", "+cpuset +pids"],
    ["/sys/fs/cgroup/p/cgroup.subtree_control", "+cpu +cpuset +memory +pids"],
  ]);
});

Deno.test("v2: a controller the root lacks is skipped; a limit needing it says so", () => {
  const fs = v2Fs();
  fs.files.set("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
  const m = v2Manager(fs, "/p");
  m.create({ memoryBytes: 64 << 20 });
  assert.equal(fs.files.get("/sys/fs/cgroup/p/cgroup.subtree_control"), "cpu memory pids\n");
  m.destroy();
  assert.throws(
    () => m.create({ cpusetCpus: "0" }),
    (e: Error) =>
      e instanceof CgroupUnsupportedError && e.controller === "cpuset" &&
      /cpuset controller is not available/.test(e.message),
  );
  assert.deepEqual(fs.dirsMatching(ID), []);
});

Deno.test("v2: unlimited swap and pids are 'max'; no swap accounting is unsupported", () => {
  const fs = v2Fs();
  const m = v2Manager(fs, "/p");
  m.create({ memoryBytes: 1 << 26, memorySwapBytes: -1, pidsLimit: 0, cpuQuotaUs: -1 });
  assert.equal(fs.files.get(`${m.paths.unified}/memory.swap.max`), "max");
  assert.equal(fs.files.get(`${m.paths.unified}/pids.max`), "max");
  assert.equal(fs.files.get(`${m.paths.unified}/cpu.max`), "max 100000");
  m.destroy();
  fs.v2Missing.add("memory.swap.max");
  assert.throws(
    () => m.create({ memoryBytes: 1 << 26, memorySwapBytes: 1 << 27 }),
    /does not support memory swap limit/,
  );
  m.create({ memoryBytes: 1 << 26, memorySwapBytes: -1 }); // nothing to limit: fine
});

Deno.test("v2: a relative parent nests under our cgroup; a busy one fails with a hint", () => {
  const fs = v2Fs("/user.slice/session-1.scope");
  fs.files.set("/sys/fs/cgroup/user.slice/session-1.scope/cgroup.procs", "77\n");
  // The kernel's "no internal processes" rule.
  fs.failWrite = (p) => p === "/sys/fs/cgroup/user.slice/session-1.scope/cgroup.subtree_control";
  const m = v2Manager(fs, undefined, "/user.slice/session-1.scope");
  assert.equal(
    m.paths.unified,
    `/sys/fs/cgroup/user.slice/session-1.scope/m-docker/m-docker-${ID}`,
  );
  assert.throws(() => m.create({}), /Device or resource busy \(cgroup v2 cannot enable/);
  assert.throws(
    () => m.create({}),
    (e: unknown) => e instanceof CgroupWriteError && e.code === "EBUSY" && !e.appliesLimit,
  );
  assert.deepEqual(fs.dirsMatching("m-docker"), [], "the parent it made is removed too");
});

Deno.test("v2: oomKilled reads oom_kill in memory.events", () => {
  const fs = v2Fs();
  const m = v2Manager(fs, "/p");
  m.create({ memoryBytes: 1 << 26 });
  assert.equal(m.oomKilled(), false);
  fs.files.set(`${m.paths.unified}/memory.events`, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  assert.equal(m.oomKilled(), true);
});

Deno.test("v2: destroy uses cgroup.kill, removes nested cgroups and the emptied parent", () => {
  const fs = v2Fs();
  const m = v2Manager(fs, "/p");
  m.create({});
  fs.files.set(`${m.paths.unified}/cgroup.kill`, "");
  fs.mkdir(`${m.paths.unified}/inner`);
  m.destroy();
  m.destroy();
  assert.ok(fs.writes.some(([p, d]) => p === `${m.paths.unified}/cgroup.kill` && d === "1"));
  assert.deepEqual(fs.dirsMatching(ID), []);
  assert.ok(!fs.dirs.has("/sys/fs/cgroup/p"));
});

Deno.test("v2: create attaches the device program after mkdir, before any limit", () => {
  const fs = v2Fs();
  const loader = new FakeDeviceFilterLoader(fs);
  const m = v2Manager(fs, "/p", "/", loader);
  m.create({ memoryBytes: 1 << 26, pidsLimit: 9 });
  assert.equal(loader.attached.length, 1);
  const [first] = loader.attached;
  assert.equal(first.dir, m.paths.unified);
  assert.deepEqual(first.program, compileDeviceFilter(DEFAULT_DEVICE_RULES), "the defaults");
  const limitWrites = fs.writes.slice(first.writesBefore).map(([p]) => p.split("/").pop());
  assert.deepEqual(limitWrites, ["memory.max", "pids.max"], "every limit is written after");
});

Deno.test("v2: the given allow-list is compiled; a second create replaces the program", () => {
  const fs = v2Fs();
  const loader = new FakeDeviceFilterLoader(fs);
  const m = v2Manager(fs, "/p", "/", loader);
  const custom = [{ type: "c" as const, major: 10, minor: 200, access: "rwm" }];
  m.create({}, custom);
  assert.deepEqual(loader.current(m.paths.unified), compileDeviceFilter(custom));
  // A restart calls create again on the existing cgroup.
  openCgroupManager("v2", m.paths, fs, loader).create({});
  assert.equal(loader.attached.length, 2);
  assert.deepEqual(loader.current(m.paths.unified), compileDeviceFilter(DEFAULT_DEVICE_RULES));
  m.destroy();
  assert.equal(loader.current(m.paths.unified), undefined);
});

Deno.test("v2: a refused device program removes what create made, in one clear error", () => {
  const fs = v2Fs();
  const loader = new FakeDeviceFilterLoader(fs);
  loader.failWith = 22; // EINVAL: this kernel has no cgroup device programs
  const m = v2Manager(fs, "/m-docker/web", "/", loader);
  assert.throws(
    () => m.create({ memoryBytes: 1 << 26 }),
    (e: unknown) =>
      e instanceof CgroupDeviceFilterError && e.errno === 22 &&
      e.message === `cannot restrict device access: bpf(BPF_PROG_ATTACH) ${m.paths.unified}: ` +
          "Invalid argument (the kernel lacks BPF cgroup device programs: CONFIG_CGROUP_BPF)",
  );
  assert.deepEqual(fs.dirsMatching("m-docker"), [], "the cgroup and its parents are gone");
  assert.ok(!fs.writes.some(([p]) => p.endsWith("memory.max")), "no limit was written");
  // A malformed rule fails before anything is made.
  loader.failWith = undefined;
  assert.throws(() => m.create({}, [{ type: "c", major: 1, minor: 3, access: "q" }]), /"q"/);
  assert.deepEqual(fs.dirsMatching("m-docker"), []);
});

Deno.test("v2: with a fake cgroupfs and no loader, create refuses rather than call bpf()", () => {
  const fs = v2Fs();
  const m = openCgroupManager("v2", { unified: `/sys/fs/cgroup/p/m-docker-${ID}` }, fs);
  assert.throws(() => m.create({}), /no device filter loader was given/);
  assert.deepEqual(fs.dirsMatching(ID), []);
});

Deno.test("openCgroupManager reopens a v2 cgroup", () => {
  const fs = v2Fs();
  const m = v2Manager(fs, "/p");
  m.create({ pidsLimit: 4 });
  const again = openCgroupManager("v2", m.paths, fs);
  assert.equal(again.layout, "v2");
  again.destroy();
  assert.deepEqual(fs.dirsMatching(ID), []);
});

Deno.test("exec's join from the recorded paths is the managers' own placement", () => {
  // exec uses join.ts without a manager: the two must never tell a child different places.
  const v1 = hybridManager(hybridFs());
  assert.deepEqual(childPlacementOf(v1.layout, v1.paths), v1.childPlacement());
  assert.deepEqual(
    childPlacementOf("hybrid", v1.paths),
    { tasksFiles: Object.values(v1.paths).map((d) => `${d}/tasks`) },
  );
  const v2 = v2Manager(v2Fs(), "/p");
  assert.deepEqual(childPlacementOf("v2", v2.paths), v2.childPlacement());
  assert.deepEqual(childPlacementOf("v2", v2.paths), { bornIn: v2.paths.unified });
  // A reopened v1 cgroup finds each hierarchy's mount from its path alone.
  assert.equal(
    v1MountOf({ memory: "/sys/fs/cgroup/memory/a/m-docker/m-docker-x" }, "memory"),
    "/sys/fs/cgroup/memory",
  );
  assert.equal(
    v1MountOf({ "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/m-docker-x" }, "cpu,cpuacct"),
    "/sys/fs/cgroup/cpu,cpuacct",
  );
});
