/**
 * Filesystem confinement: the plan's /sys/fs/cgroup, --read-only, --tmpfs and --shm-size
 * mounts (against the recording fake), the parent's cgroup layout for init, and the
 * parsers and checks of --tmpfs, --ulimit, --sysctl and --oom-score-adj.
 */
import assert from "node:assert/strict";
import { MS } from "../../ffi/libc.ts";
import type { InitConfig } from "../../src/config/init.ts";
import {
  parseSysctl,
  parseTmpfs,
  parseUlimit,
  validateConfinement,
} from "../../src/config/confine.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { cgroupFsPlan } from "../../src/cgroups/detect.ts";
import { prepareRootfs, tmpfsMountArgs } from "../../src/rootfs/setup.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";
import { initConfig } from "./fixtures.ts";

const C = "/var/lib/md/containers/c1";
const M = `${C}/merged`;
const ETC = "/run/md/c1";
const RO_CG = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY;

function config(extra: Partial<InitConfig> = {}): InitConfig {
  return initConfig(["/l/A"], C, ETC, extra);
}

function host(): FakeSyscalls {
  const fake = new FakeSyscalls();
  fake.addDir("/l/A", `${C}/upper`, `${C}/work`, M, `${M}/etc`);
  for (const f of ["hostname", "hosts", "resolv.conf"]) fake.addFile(`${ETC}/${f}`, "x\n");
  return fake;
}

/** The mount calls between the first one at `first` and the first one at `last`. */
function mountsBetween(fake: FakeSyscalls, first: string, last: string): unknown[][] {
  const t = fake.trace("mount", "symlink", "mkdirAll");
  const i = t.findIndex((c) => c[0] === "mount" && c[2] === first);
  const j = t.findIndex((c, k) => k > i && c[0] === "mount" && c[2] === last);
  assert.ok(i >= 0 && j > i, `${first} .. ${last} not in the trace`);
  return t.slice(i, j);
}

Deno.test("cgroup v2: cgroup2 at /sys/fs/cgroup, read-only, right after /sys", () => {
  const fake = host();
  prepareRootfs(fake, config({ cgroupFs: { version: 2 } }));
  assert.deepEqual(mountsBetween(fake, `${M}/sys`, `${M}/dev`).filter((c) => c[0] === "mount"), [
    ["mount", "sysfs", `${M}/sys`, "sysfs", RO_CG, null],
    ["mount", "cgroup2", `${M}/sys/fs/cgroup`, "cgroup2", RO_CG, null],
  ]);
  assert.equal(fake.mountAt(`${M}/sys/fs/cgroup`)?.readonly, true);
});

Deno.test("cgroup v1: a tmpfs of hierarchies, links for co-mounted ones, then read-only", () => {
  const fake = host();
  const cg = `${M}/sys/fs/cgroup`;
  prepareRootfs(
    fake,
    config({
      cgroupFs: {
        version: 1,
        hierarchies: [
          { dir: "cpu,cpuacct", options: "cpu,cpuacct" },
          { dir: "memory", options: "memory" },
          { dir: "systemd", options: "name=systemd" },
        ],
      },
    }),
  );
  assert.deepEqual(mountsBetween(fake, `${M}/sys`, `${M}/dev`).slice(1), [
    ["mount", "tmpfs", cg, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, "mode=755"],
    ["mkdirAll", `${cg}/cpu,cpuacct`, 0o755],
    ["mount", "cgroup", `${cg}/cpu,cpuacct`, "cgroup", RO_CG, "cpu,cpuacct"],
    ["symlink", "cpu,cpuacct", `${cg}/cpu`],
    ["symlink", "cpu,cpuacct", `${cg}/cpuacct`],
    ["mkdirAll", `${cg}/memory`, 0o755],
    ["mount", "cgroup", `${cg}/memory`, "cgroup", RO_CG, "memory"],
    ["mkdirAll", `${cg}/systemd`, 0o755],
    ["mount", "cgroup", `${cg}/systemd`, "cgroup", RO_CG, "name=systemd"],
    ["mount", null, cg, null, MS.BIND | MS.REMOUNT | RO_CG, null],
    ["mkdirAll", `${M}/dev`, 0o755],
  ]);
  for (const d of ["", "/cpu,cpuacct", "/memory", "/systemd"]) {
    assert.equal(fake.mountAt(`${cg}${d}`)?.readonly, true, d);
  }
});

Deno.test("no cgroup plan: nothing is mounted at /sys/fs/cgroup", () => {
  const fake = host();
  prepareRootfs(fake, config());
  assert.equal(fake.mountAt(`${M}/sys/fs/cgroup`), undefined);
});

Deno.test("--read-only: only the root's own mount, after every mount on it, before pivot", () => {
  const fake = host();
  fake.addDir("/srv/data");
  prepareRootfs(
    fake,
    config({
      readonlyRootfs: true,
      mounts: [{ source: "/srv/data", destination: "/data", readonly: false }],
      tmpfs: [{ destination: "/tmp", options: ["rw", "noexec"] }],
    }),
  );
  const t = fake.trace("mount", "pivotRoot");
  const remount = t.findIndex((c) => c[2] === M && c[4] === (MS.BIND | MS.REMOUNT | MS.RDONLY));
  assert.ok(remount > 0);
  assert.equal(t[remount + 1][0], "pivotRoot");
  assert.equal(fake.mountAt(M)?.readonly, true);
  for (const p of ["/dev", "/dev/shm", "/etc/hostname", "/etc/hosts", "/data", "/tmp"]) {
    assert.equal(fake.mountAt(`${M}${p}`)?.readonly, false, p);
  }
  const rw = host();
  prepareRootfs(rw, config());
  assert.equal(rw.mountAt(M)?.readonly, false);
});

Deno.test("--tmpfs: flags from the flag words, the rest as data, the later value winning", () => {
  assert.deepEqual(tmpfsMountArgs(parseTmpfs("/run:size=64m,mode=1777,exec").options), {
    flags: MS.NOSUID,
    data: "size=64m,mode=1777",
  });
  assert.deepEqual(tmpfsMountArgs(parseTmpfs("/tmp").options), {
    flags: MS.NOEXEC | MS.NOSUID,
    data: "size=65536k",
  });
  assert.deepEqual(tmpfsMountArgs(["ro", "nodev", "uid=1000"]), {
    flags: MS.RDONLY | MS.NODEV,
    data: "uid=1000",
  });
  const fake = host();
  prepareRootfs(fake, config({ tmpfs: [parseTmpfs("/run:size=1m"), parseTmpfs("/a/b")] }));
  const t = fake.trace("mount").filter((c) => c[1] === "tmpfs" && String(c[2]).startsWith(M));
  assert.deepEqual(t.slice(-2), [
    ["mount", "tmpfs", `${M}/run`, "tmpfs", MS.NOEXEC | MS.NOSUID, "size=1m"],
    ["mount", "tmpfs", `${M}/a/b`, "tmpfs", MS.NOEXEC | MS.NOSUID, "size=65536k"],
  ]);
  assert.throws(() => parseTmpfs("tmp"), /mount path must be absolute/);
  assert.throws(() => parseTmpfs("/:size=1m"), /mount path must be absolute/);
});

Deno.test("--shm-size: /dev/shm's size in bytes; 65536k by default", () => {
  const fake = host();
  prepareRootfs(fake, config({ shmSizeBytes: 8 << 20 }));
  const shm = fake.trace("mount").find((c) => c[2] === `${M}/dev/shm`)!;
  assert.equal(shm[5], `mode=1777,size=${8 << 20}`);
  const dflt = host();
  prepareRootfs(dflt, config());
  assert.equal(
    dflt.trace("mount").find((c) => c[2] === `${M}/dev/shm`)![5],
    "mode=1777,size=65536k",
  );
});

const HYBRID = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,release_agent=/x,name=systemd",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

Deno.test("the parent's cgroup plan: v1 hierarchies with controller options, or cgroup2", () => {
  assert.deepEqual(cgroupFsPlan(HYBRID), {
    version: 1,
    hierarchies: [
      { dir: "cpu,cpuacct", options: "cpu,cpuacct" },
      { dir: "memory", options: "memory" },
      { dir: "systemd", options: "name=systemd" },
    ],
  });
  assert.deepEqual(
    cgroupFsPlan("30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate"),
    { version: 2 },
  );
  assert.equal(cgroupFsPlan("1 0 0:1 / / rw - ext4 /dev/root rw"), undefined);
});

Deno.test("--ulimit: NAME=SOFT[:HARD], -1 unlimited, Docker's messages", () => {
  assert.deepEqual(parseUlimit("nofile=1024:2048"), { name: "nofile", soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit("core=0"), { name: "core", soft: 0, hard: 0 });
  assert.deepEqual(parseUlimit("stack=8192:-1"), { name: "stack", soft: 8192, hard: -1 });
  assert.deepEqual(parseUlimit("memlock=-1"), { name: "memlock", soft: -1, hard: -1 });
  assert.throws(() => parseUlimit("nofile"), /invalid ulimit argument: nofile/);
  assert.throws(() => parseUlimit("files=1"), /invalid ulimit type: files/);
  assert.throws(() => parseUlimit("nofile=x"), /invalid ulimit argument/);
  assert.throws(() => parseUlimit("nofile=1:2:3"), /too many limit value arguments/);
  assert.throws(() => parseUlimit("nofile=3:2"), /soft limit must be less than or equal.*3 > 2/);
  assert.throws(() => parseUlimit("nofile=-1:2"), /soft limit must be less than or equal/);
});

Deno.test("--sysctl: only the namespaced keys Docker allows; net.* needs its own netns", () => {
  assert.deepEqual(parseSysctl("net.ipv4.ip_forward=1"), ["net.ipv4.ip_forward", "1"]);
  assert.deepEqual(parseSysctl("kernel.shmmax=1=2"), ["kernel.shmmax", "1=2"]);
  assert.deepEqual(parseSysctl("fs.mqueue.msg_max=20"), ["fs.mqueue.msg_max", "20"]);
  for (const bad of ["kernel.hostname=x", "vm.swappiness=1", "net.ipv4", "net.../x=1", "=1"]) {
    assert.throws(() => parseSysctl(bad), new RegExp(`sysctl '.*' is not whitelisted`), bad);
  }
  const sysctls = { "net.ipv4.ip_forward": "1" };
  validateConfinement({ sysctls, network: "own" });
  validateConfinement({ sysctls: { "kernel.sem": "1 2 3 4" }, network: "host" });
  assert.throws(
    () => validateConfinement({ sysctls, network: "host" }),
    /sysctl "net.ipv4.ip_forward" not allowed in host network namespace/,
  );
  assert.throws(() => validateConfinement({ sysctls, network: "joined" }), InvalidConfigError);
});

Deno.test("--oom-score-adj: -1000..1000", () => {
  validateConfinement({ oomScoreAdj: -1000, network: "own" });
  validateConfinement({ oomScoreAdj: 1000, network: "own" });
  assert.throws(
    () => validateConfinement({ oomScoreAdj: 1001, network: "own" }),
    /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/,
  );
});

Deno.test("volumes and tmpfs are mounted shallowest destination first", () => {
  const fake = host();
  fake.addDir("/srv/data", "/srv/deep");
  prepareRootfs(
    fake,
    config({
      mounts: [
        { source: "/srv/deep", destination: "/a/b/c", readonly: false },
        { source: "/srv/data", destination: "/data", readonly: false },
      ],
      tmpfs: [parseTmpfs("/data/cache"), parseTmpfs("/a")],
    }),
  );
  const order = fake.trace("mount").map((c) => c[2] as string).filter((t) =>
    ["/a", "/a/b/c", "/data", "/data/cache"].some((p) => t === `${M}${p}`)
  );
  assert.deepEqual(order, ["/data", "/a", "/data/cache", "/a/b/c"].map((p) => `${M}${p}`));
  assert.equal(fake.mountAt(`${M}/data/cache`)?.fstype, "tmpfs");
});
