/**
 * The root filesystem plan (src/rootfs/setup.ts), run against the recording fake: which
 * mounts, in which order, with which flags, and what the container ends up with.
 */
import assert from "node:assert/strict";
import { SyscallError } from "../../ffi/errors.ts";
import { AT, MOUNT_ATTR, MS, O } from "../../ffi/libc.ts";
import type { InitConfig } from "../../src/config/init.ts";
import { dropCapabilities } from "../../src/rootfs/capabilities.ts";
import { mountsUnder, parseMountInfo, perMountFlags } from "../../src/rootfs/mountinfo.ts";
import {
  childMounts,
  enterPreparedRoot,
  makeReadonlyRecursive,
  prepareRootfs,
  prepareRootfsForChild,
} from "../../src/rootfs/setup.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";
import { initConfig } from "./fixtures.ts";

const LAYERS = "/var/lib/md/layers/l";
const C = "/var/lib/md/containers/c1";
const M = `${C}/merged`;
const ETC = "/run/md/c1";
const NOSUID_NODEV_NOEXEC = MS.NOSUID | MS.NODEV | MS.NOEXEC;
const RECURSIVE_RO = ["mountSetattr", AT.RECURSIVE | AT.SYMLINK_NOFOLLOW, MOUNT_ATTR.RDONLY, 0];

function config(extra: Partial<InitConfig> = {}): InitConfig {
  return initConfig([`${LAYERS}/A`, `${LAYERS}/B`], C, ETC, extra);
}

/** A host with the image layers, the container's directories and its /etc files. */
function host(): FakeSyscalls {
  const fake = new FakeSyscalls();
  fake.addDir(`${LAYERS}/A`, `${LAYERS}/B`, `${C}/upper`, `${C}/work`, M, `${M}/etc`);
  for (const f of ["hostname", "hosts", "resolv.conf"]) fake.addFile(`${ETC}/${f}`, "x\n");
  return fake;
}

const MOUNT_CALLS = ["mount", "mountSetattr", "pivotRoot", "umount"] as const;

/** The trace's entries from the first one matching `name` and `target` on. */
function from(trace: unknown[][], name: string, target: unknown): unknown[][] {
  const i = trace.findIndex((c) => c[0] === name && (c[1] === target || c[2] === target));
  assert.ok(i >= 0, `${name} ${target} not in the trace`);
  return trace.slice(i);
}

Deno.test("the plan: every mount, in order, with its flags, around pivot_root", () => {
  const fake = host();
  const prepared = prepareRootfs(fake, config());
  assert.deepEqual(prepared, {});
  assert.deepEqual(fake.trace(...MOUNT_CALLS), [
    ["mount", null, "/", null, MS.REC | MS.PRIVATE, null],
    ["mount", "overlay", M, "overlay", 0, `lowerdir=l/A:l/B,upperdir=${C}/upper,workdir=${C}/work`],
    ["mount", "proc", `${M}/proc`, "proc", NOSUID_NODEV_NOEXEC, null],
    ["mount", "sysfs", `${M}/sys`, "sysfs", NOSUID_NODEV_NOEXEC | MS.RDONLY, null],
    ["mount", "tmpfs", `${M}/dev`, "tmpfs", MS.NOSUID | MS.NOEXEC, "mode=755,size=65536k"],
    [
      "mount",
      "devpts",
      `${M}/dev/pts`,
      "devpts",
      MS.NOSUID | MS.NOEXEC,
      "newinstance,ptmxmode=0666,mode=0620,gid=5",
    ],
    ["mount", "shm", `${M}/dev/shm`, "tmpfs", NOSUID_NODEV_NOEXEC, "mode=1777,size=65536k"],
    ["mount", "mqueue", `${M}/dev/mqueue`, "mqueue", NOSUID_NODEV_NOEXEC, null],
    ["mount", `${ETC}/hostname`, `${M}/etc/hostname`, null, MS.BIND | MS.REC, null],
    ["mount", `${ETC}/hosts`, `${M}/etc/hosts`, null, MS.BIND | MS.REC, null],
    ["mount", `${ETC}/resolv.conf`, `${M}/etc/resolv.conf`, null, MS.BIND | MS.REC, null],
    ["pivotRoot", ".", "."],
    ["mount", null, ".", null, MS.REC | MS.SLAVE, null],
    ["umount", ".", true],
    // Masks: this kernel (the fake's procfs) has no asound, latency_stats, timer_stats,
    // scsi or powercap, so those are skipped.
    ["mount", "tmpfs", "/proc/acpi", "tmpfs", MS.RDONLY, null],
    ["mount", "/dev/null", "/proc/kcore", null, MS.BIND, null],
    ["mount", "/dev/null", "/proc/keys", null, MS.BIND, null],
    ["mount", "/dev/null", "/proc/timer_list", null, MS.BIND, null],
    ["mount", "/dev/null", "/proc/sched_debug", null, MS.BIND, null],
    ["mount", "tmpfs", "/sys/firmware", "tmpfs", MS.RDONLY, null],
    ...["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].flatMap((p) => [
      ["mount", p, p, null, MS.BIND | MS.REC, null],
      [RECURSIVE_RO[0], p, ...RECURSIVE_RO.slice(1)],
    ]),
  ]);
});

Deno.test("overlay: lower layers named relative to their directory, from there", () => {
  const fake = host();
  prepareRootfs(fake, config());
  const t = fake.trace("chdir", "mount");
  const overlay = t.findIndex((c) => c[1] === "overlay");
  assert.deepEqual(t[overlay - 1], ["chdir", "/var/lib/md/layers"]);
  assert.equal(fake.mountAt(M)?.fstype, "overlay");
});

Deno.test("overlay: layers in different directories keep their full paths", () => {
  const fake = host();
  fake.addDir("/other/X");
  prepareRootfs(
    fake,
    config({ rootfs: { ...config().rootfs, lowerDirs: [`${LAYERS}/A`, "/other/X"] } }),
  );
  const overlay = fake.trace("mount").find((c) => c[1] === "overlay")!;
  assert.match(overlay[5] as string, new RegExp(`^lowerdir=${LAYERS}/A:/other/X,`));
});

Deno.test("/dev: the standard nodes with mode 0666 under umask 0, the links, then umask back", () => {
  const fake = host();
  prepareRootfs(fake, config());
  const nodes = ["null", "zero", "full", "random", "urandom", "tty"].map((n) => {
    const node = fake.nodes.get(`${M}/dev/${n}`);
    return [n, node?.kind, node?.mode, node?.device];
  });
  assert.deepEqual(nodes, [
    ["null", "char", 0o666, [1, 3]],
    ["zero", "char", 0o666, [1, 5]],
    ["full", "char", 0o666, [1, 7]],
    ["random", "char", 0o666, [1, 8]],
    ["urandom", "char", 0o666, [1, 9]],
    ["tty", "char", 0o666, [5, 0]],
  ]);
  const links = Object.fromEntries(
    ["fd", "stdin", "stdout", "stderr", "core", "ptmx"].map((n) => [
      n,
      fake.nodes.get(`${M}/dev/${n}`)?.target,
    ]),
  );
  assert.deepEqual(links, {
    fd: "/proc/self/fd",
    stdin: "/proc/self/fd/0",
    stdout: "/proc/self/fd/1",
    stderr: "/proc/self/fd/2",
    core: "/proc/kcore",
    ptmx: "pts/ptmx",
  });
  assert.deepEqual(fake.trace("umask"), [["umask", 0], ["umask", 0o022]]);
  assert.equal(fake.umaskValue, 0o022);
  // The nodes are made on the new tmpfs, after it is mounted.
  const t = fake.trace("mount", "mknod");
  assert.ok(t.findIndex((c) => c[0] === "mknod") > t.findIndex((c) => c[2] === `${M}/dev`));
});

Deno.test("/etc files: empty files are made to mount over when the image has none", () => {
  const fake = host();
  prepareRootfs(fake, config());
  for (const f of ["hostname", "hosts", "resolv.conf"]) {
    assert.equal(fake.nodes.get(`${M}/etc/${f}`)?.kind, "file");
    assert.equal(fake.mountAt(`${M}/etc/${f}`)?.source, `${ETC}/${f}`);
  }
});

Deno.test("volumes: directories and files, bound recursively, through the image's symlinks", () => {
  const fake = host();
  fake.addDir("/srv/data");
  fake.addFile("/srv/app.conf");
  // The image's /data is an absolute symlink: it must resolve inside the root.
  fake.addSymlink(`${M}/data`, "/srv/real");
  prepareRootfs(
    fake,
    config({
      mounts: [
        { source: "/srv/data", destination: "/data", readonly: false },
        { source: "/srv/app.conf", destination: "/etc/app/app.conf", readonly: false },
      ],
    }),
  );
  const binds = fake.trace("mount").filter((c) => (c[1] as string)?.startsWith("/srv/"));
  assert.deepEqual(binds, [
    ["mount", "/srv/data", `${M}/srv/real`, null, MS.BIND | MS.REC, null],
    ["mount", "/srv/app.conf", `${M}/etc/app/app.conf`, null, MS.BIND | MS.REC, null],
  ]);
  assert.equal(fake.nodes.get(`${M}/srv/real`)?.kind, "directory");
  assert.equal(fake.nodes.get(`${M}/etc/app/app.conf`)?.kind, "file");
  assert.equal(fake.mountAt(`${M}/srv/real`)?.readonly, false);
  assert.equal(fake.trace("mountSetattr").filter((c) => (c[1] as string).startsWith(M)).length, 0);
});

Deno.test(":ro volumes: mount_setattr(AT_RECURSIVE) makes every submount read-only", () => {
  const fake = host();
  fake.addDir("/srv/data", "/srv/rw");
  fake.addMount("/srv/data/sub", "tmpfs", MS.NOSUID | MS.NODEV);
  fake.addMount("/srv/data/sub/deeper", "tmpfs");
  prepareRootfs(
    fake,
    config({
      mounts: [
        { source: "/srv/data", destination: "/v", readonly: true },
        { source: "/srv/rw", destination: "/w", readonly: false },
      ],
    }),
  );
  const t = fake.trace(...MOUNT_CALLS);
  assert.deepEqual(from(t, "mount", "/srv/data").slice(0, 3), [
    ["mount", "/srv/data", `${M}/v`, null, MS.BIND | MS.REC, null],
    ["mountSetattr", `${M}/v`, AT.RECURSIVE | AT.SYMLINK_NOFOLLOW, MOUNT_ATTR.RDONLY, 0],
    ["mount", "/srv/rw", `${M}/w`, null, MS.BIND | MS.REC, null],
  ]);
  const ro = fake.mountsUnder(`${M}/v`).map((m) => [m.target, m.readonly]);
  assert.deepEqual(ro, [
    [`${M}/v`, true],
    [`${M}/v/sub`, true],
    [`${M}/v/sub/deeper`, true],
  ]);
  assert.equal(fake.mountAt(`${M}/w`)?.readonly, false);
  // The host's own mounts are not touched.
  assert.equal(fake.mountAt("/srv/data/sub")?.readonly, undefined);
});

Deno.test(":ro volumes without mount_setattr (ENOSYS): each submount remounted, flags kept", () => {
  const fake = host();
  fake.hasMountSetattr = false;
  fake.addDir("/srv/data", "/srv/data2");
  fake.addMount("/srv/data/sub", "tmpfs", MS.NOSUID | MS.NODEV);
  prepareRootfs(
    fake,
    config({
      mounts: [
        { source: "/srv/data", destination: "/v", readonly: true },
        // A sibling whose name extends /v: not a submount of it.
        { source: "/srv/data2", destination: "/v2", readonly: false },
      ],
    }),
  );
  const t = from(fake.trace(...MOUNT_CALLS), "mount", "/srv/data");
  const remount = MS.BIND | MS.REMOUNT | MS.RDONLY;
  assert.deepEqual(t.slice(0, 4), [
    ["mount", "/srv/data", `${M}/v`, null, MS.BIND | MS.REC, null],
    ["mountSetattr", `${M}/v`, AT.RECURSIVE | AT.SYMLINK_NOFOLLOW, MOUNT_ATTR.RDONLY, 0],
    ["mount", null, `${M}/v`, null, remount | MS.RELATIME, null],
    ["mount", null, `${M}/v/sub`, null, remount | MS.NOSUID | MS.NODEV, null],
  ]);
  assert.deepEqual(fake.mountsUnder(`${M}/v`).map((m) => m.readonly), [true, true]);
  assert.equal(fake.mountAt(`${M}/v2`)?.readonly, false);
  // After pivot_root the read-only kernel paths take the same way, with container paths.
  const sys = from(t, "mount", "/proc/sys").slice(0, 3);
  assert.deepEqual(sys, [
    ["mount", "/proc/sys", "/proc/sys", null, MS.BIND | MS.REC, null],
    ["mountSetattr", "/proc/sys", AT.RECURSIVE | AT.SYMLINK_NOFOLLOW, MOUNT_ATTR.RDONLY, 0],
    ["mount", null, "/proc/sys", null, remount | NOSUID_NODEV_NOEXEC, null],
  ]);
  assert.equal(fake.mountAt(`${M}/proc/sys`)?.readonly, true);
});

Deno.test("the fake models the kernel: a bind remount with MS_REC leaves submounts writable", () => {
  // Why mount_setattr: the old remount made only the top mount read-only.
  const fake = new FakeSyscalls();
  fake.addDir("/v");
  fake.addMount("/v", "tmpfs");
  fake.addMount("/v/sub", "tmpfs");
  fake.mount(null, "/v", null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC);
  assert.deepEqual(fake.mountsUnder("/v").map((m) => m.readonly), [true, false]);
});

Deno.test("makeReadonlyRecursive fails when mountinfo does not list the path", () => {
  const fake = new FakeSyscalls();
  fake.hasMountSetattr = false;
  fake.addDir("/not/a/mount");
  assert.throws(() => makeReadonlyRecursive(fake, "/not/a/mount"), /not a mount point/);
});

Deno.test("mount_setattr failing otherwise than ENOSYS is an error, not a fallback", () => {
  const fake = host();
  fake.addDir("/srv/data");
  fake.failOn("mountSetattr", (p: string) => p === `${M}/v`, 1);
  assert.throws(
    () =>
      prepareRootfs(
        fake,
        config({ mounts: [{ source: "/srv/data", destination: "/v", readonly: true }] }),
      ),
    (e: unknown) =>
      e instanceof SyscallError && e.message === `mount_setattr ${M}/v: Operation not permitted`,
  );
  assert.equal(fake.trace("pivotRoot").length, 0);
});

Deno.test("masks: a path this kernel lacks is skipped, a failing mask stops the container", () => {
  const fake = host();
  fake.failOn("mount", (_s: string, target: string) => target === "/proc/kcore", 1);
  assert.throws(
    () => prepareRootfs(fake, config()),
    /^Error: cannot mask \/proc\/kcore: mount \/proc\/kcore: Operation not permitted$/,
  );
});

Deno.test("masks: a path that cannot be examined (not ENOENT) is an error too", () => {
  const fake = host();
  fake.failOn("fileKind", (p: string) => p === "/proc/keys", 13);
  assert.throws(() => prepareRootfs(fake, config()), /Permission denied/);
});

Deno.test("read-only kernel paths: a failing bind stops the container with the path named", () => {
  const fake = host();
  fake.failOn("mount", (_s: string, target: string) => target === "/proc/irq", 22);
  assert.throws(
    () => prepareRootfs(fake, config()),
    /cannot make read-only \/proc\/irq: mount \/proc\/irq: Invalid argument/,
  );
});

Deno.test("read-only kernel paths: a missing one is skipped", () => {
  const fake = host();
  const proc = Object.entries(fake.kernelTrees.proc).filter(([p]) => !p.startsWith("sys/"));
  fake.kernelTrees = { ...fake.kernelTrees, proc: Object.fromEntries(proc) };
  prepareRootfs(fake, config());
  assert.deepEqual(fake.trace("mount").filter((c) => c[2] === "/proc/sys"), []);
  assert.equal(fake.mountAt(`${M}/proc/irq`)?.readonly, true);
});

Deno.test("tty: a pty from the container's devpts, sized, bound at /dev/console", () => {
  const fake = host();
  const prepared = prepareRootfs(
    fake,
    config({ tty: true, consoleSize: { rows: 24, columns: 80 } }),
  );
  assert.equal(prepared.ttySlavePath, "/dev/pts/0");
  assert.ok(prepared.ttyMaster !== undefined && fake.fds.has(prepared.ttyMaster));
  assert.deepEqual(fake.trace("openPty", "setWindowSize"), [
    ["openPty", `${M}/dev/pts/ptmx`],
    ["setWindowSize", prepared.ttyMaster, 24, 80],
  ]);
  const t = fake.trace(...MOUNT_CALLS);
  const console = t.findIndex((c) => c[2] === `${M}/dev/console`);
  assert.deepEqual(t[console], [
    "mount",
    `${M}/dev/pts/0`,
    `${M}/dev/console`,
    null,
    MS.BIND,
    null,
  ]);
  assert.ok(console < t.findIndex((c) => c[0] === "pivotRoot"));
  assert.equal(fake.nodes.get(`${M}/dev/console`)?.kind, "file");
});

Deno.test("no tty: no pty and no /dev/console", () => {
  const fake = host();
  prepareRootfs(fake, config());
  assert.deepEqual(fake.trace("openPty"), []);
  assert.equal(fake.nodes.get(`${M}/dev/console`), undefined);
});

Deno.test("pivot_root: onto itself, the old root detached, nothing of the host left", () => {
  const fake = host();
  prepareRootfs(fake, config());
  const t = fake.trace("open", "chdir", "pivotRoot", "fchdir", "mount", "umount", "close");
  // The descriptor of the old root: the one fchdir steps into.
  const fd = t.find((c) => c[0] === "fchdir")![1];
  assert.ok(typeof fd === "number");
  assert.deepEqual(from(t, "open", "/").slice(0, 8), [
    ["open", "/", O.RDONLY | O.DIRECTORY | O.CLOEXEC, 0o644],
    ["chdir", M],
    ["pivotRoot", ".", "."],
    ["fchdir", fd],
    ["mount", null, ".", null, MS.REC | MS.SLAVE, null],
    ["umount", ".", true],
    ["chdir", "/"],
    ["close", fd],
  ]);
  assert.equal(fake.root, M);
  assert.equal(fake.cwd, M);
  assert.deepEqual(fake.mounts.filter((m) => !m.target.startsWith(M)), []);
  assert.equal(fake.fds.size, 0, "every descriptor the plan opened is closed");
  // Everything the container sees is under its root, with the overlay at "/".
  const info = parseMountInfo(fake.readTextFile("/proc/self/mountinfo"));
  assert.equal(info[0].mountPoint, "/");
  assert.equal(info[0].fstype, "overlay");
});

Deno.test("a failure before pivot_root leaves the root alone", () => {
  const fake = host();
  fake.failOn("mount", (s: string) => s === "sysfs", 16);
  assert.throws(
    () => prepareRootfs(fake, config()),
    /^SyscallError: mount .*\/sys: Device or resource busy$/,
  );
  assert.equal(fake.root, "/");
  assert.deepEqual(fake.trace("pivotRoot"), []);
});

Deno.test("dropCapabilities drops all but Docker's set, up to cap_last_cap", () => {
  const fake = new FakeSyscalls();
  fake.addFile("/proc/sys/kernel/cap_last_cap", "40\n");
  dropCapabilities(fake);
  const dropped = fake.trace("dropBoundingCapability").map((c) => c[1]);
  const kept = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];
  assert.deepEqual(dropped, [...Array(41).keys()].filter((c) => !kept.includes(c)));
});

Deno.test("parseMountInfo: escapes, optional fields, per-mount flags", () => {
  const text = [
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
    "36 35 98:0 /mnt1 /mnt/with\\040space ro,noatime master:1 propagate_from:2 - ext3 /dev/root rw",
    "37 36 0:30 / /mnt/with\\040space/sub rw - tmpfs tmpfs rw",
    "38 1 0:31 / /mnt/with\\040spaces rw - tmpfs tmpfs rw",
    "",
  ].join("\n");
  const info = parseMountInfo(text);
  assert.deepEqual(info.map((m) => [m.id, m.parent, m.mountPoint, m.fstype]), [
    [22, 1, "/proc", "proc"],
    [36, 35, "/mnt/with space", "ext3"],
    [37, 36, "/mnt/with space/sub", "tmpfs"],
    [38, 1, "/mnt/with spaces", "tmpfs"],
  ]);
  assert.equal(perMountFlags(info[0]), NOSUID_NODEV_NOEXEC | MS.RELATIME);
  assert.equal(perMountFlags(info[1]), MS.NOATIME);
  assert.deepEqual(mountsUnder(info, "/mnt/with space/").map((m) => m.id), [36, 37]);
  assert.equal(mountsUnder(info, "/").length, 4);
  assert.throws(() => parseMountInfo("1 2 3\n"), /unreadable mountinfo line/);
});

Deno.test("a direct start: the thread builds all but /proc and the hierarchies, the child mounts those after the pivot", () => {
  const fake = host();
  const cfg = config({
    cgroupFs: {
      version: 1,
      hierarchies: [{ dir: "cpu,cpuacct", options: "cpu,cpuacct" }, {
        dir: "memory",
        options: "memory",
      }],
    },
  });
  // The host's own /proc and /sys, which the plan reads.
  fake.addDir("/proc", "/sys");
  fake.mount("proc", "/proc", "proc", 0);
  fake.mount("sysfs", "/sys", "sysfs", 0);
  const hostMounts = fake.trace(...MOUNT_CALLS).length;
  const { prepared, root } = prepareRootfsForChild(fake, cfg);
  assert.deepEqual(prepared, {});
  assert.equal(root, M);
  // The mount points the child needs, and v1's links, are there before the pivot.
  assert.equal(fake.fileKind(`${M}/proc`), "directory");
  assert.equal(fake.fileKind(`${M}/sys/fs/cgroup/memory`), "directory");
  assert.equal(fake.fileKind(`${M}/sys/fs/cgroup/cpu`), "symlink");
  // Listed before the pivot: the host's /proc and /sys say which kernel files exist.
  const mounts = childMounts(fake, cfg);
  enterPreparedRoot(fake, cfg, root);
  const thread = fake.trace(...MOUNT_CALLS).slice(hostMounts);
  // Neither /proc (it must be the new PID namespace's) nor a cgroup hierarchy (the cgroup
  // namespace's) is mounted by the thread; their mount points are made, and v1's tmpfs.
  assert.ok(!thread.some((c) => c[3] === "proc" || c[3] === "cgroup"), JSON.stringify(thread));
  assert.deepEqual(from(thread, "mount", `${M}/sys/fs/cgroup`)[0], [
    "mount",
    "tmpfs",
    `${M}/sys/fs/cgroup`,
    "tmpfs",
    NOSUID_NODEV_NOEXEC,
    "mode=755",
  ]);
  assert.deepEqual(thread.at(-3), ["pivotRoot", ".", "."]);
  const RO = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY;
  assert.deepEqual(mounts, [
    { source: "proc", target: "/proc", fstype: "proc", flags: NOSUID_NODEV_NOEXEC },
    // The same masks as init's plan, in the same order.
    { source: "tmpfs", target: "/proc/acpi", fstype: "tmpfs", flags: MS.RDONLY },
    { source: "/dev/null", target: "/proc/kcore", fstype: null, flags: MS.BIND },
    { source: "/dev/null", target: "/proc/keys", fstype: null, flags: MS.BIND },
    { source: "/dev/null", target: "/proc/timer_list", fstype: null, flags: MS.BIND },
    { source: "/dev/null", target: "/proc/sched_debug", fstype: null, flags: MS.BIND },
    { source: "tmpfs", target: "/sys/firmware", fstype: "tmpfs", flags: MS.RDONLY },
    ...["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].flatMap((p) => [
      { source: p, target: p, fstype: null, flags: MS.BIND | MS.REC },
      { source: null, target: p, fstype: null, flags: MS.BIND | MS.REMOUNT | RO },
    ]),
    {
      source: "cgroup",
      target: "/sys/fs/cgroup/cpu,cpuacct",
      fstype: "cgroup",
      flags: RO,
      data: "cpu,cpuacct",
    },
    {
      source: "cgroup",
      target: "/sys/fs/cgroup/memory",
      fstype: "cgroup",
      flags: RO,
      data: "memory",
    },
    { source: null, target: "/sys/fs/cgroup", fstype: null, flags: MS.BIND | MS.REMOUNT | RO },
  ]);
  // --privileged hides nothing; v2 is one cgroup2 mount.
  assert.deepEqual(childMounts(fake, config({ privileged: true, cgroupFs: { version: 2 } })), [
    { source: "proc", target: "/proc", fstype: "proc", flags: NOSUID_NODEV_NOEXEC },
    { source: "cgroup2", target: "/sys/fs/cgroup", fstype: "cgroup2", flags: RO },
  ]);
});
