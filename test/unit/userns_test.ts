/**
 * User-namespace remapping: the subuid/subgid parsing, the mode, and the remapped root
 * filesystem plan (detached mounts made by the parent, attached by init) on the fake.
 */
import assert from "node:assert/strict";
import { SyscallError } from "../../ffi/errors.ts";
import { MS } from "../../ffi/libc.ts";
import { packLayers } from "../../src/image/layer_pack.ts";
import {
  containerOwners,
  formatUsernsWord,
  idMapLine,
  parseSubIdFile,
  parseUsernsMode,
  parseUsernsWord,
} from "../../src/config/userns.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { openDetachedMounts } from "../../src/rootfs/detached.ts";
import { prepareRootfs } from "../../src/rootfs/setup.ts";
import { remapRanges } from "../../src/container/userns.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";
import { initConfig } from "./fixtures.ts";

Deno.test("subuid: the first dockremap entry counts; comments and other users do not", () => {
  const text = "# ids\nalice:100000:65536\n\n 1000:300000:65536\ndockremap:231072:65536\n" +
    "dockremap:500000:65536\n";
  assert.deepEqual(parseSubIdFile(text), { hostStart: 231072, size: 65536 });
  assert.deepEqual(parseSubIdFile(text, "alice"), { hostStart: 100000, size: 65536 });
  assert.equal(parseSubIdFile("alice:1:2\n"), undefined);
  assert.equal(parseSubIdFile(""), undefined);
});

Deno.test("subuid: a malformed dockremap line is refused, naming it", () => {
  for (
    const line of ["dockremap:x:65536", "dockremap:100000", "dockremap:1:0", "dockremap:1:2:3"]
  ) {
    assert.throws(() => parseSubIdFile(`${line}\n`), /malformed entry for dockremap/, line);
  }
  // Another user's odd line is not ours to judge.
  assert.equal(parseSubIdFile("bob:zzz\n"), undefined);
});

Deno.test("--userns: host or remap; the environment's default; anything else refused", () => {
  assert.deepEqual(parseUsernsMode(undefined, undefined), { mode: "host", explicit: false });
  assert.deepEqual(parseUsernsMode(undefined, ""), { mode: "host", explicit: false });
  assert.deepEqual(parseUsernsMode(undefined, "default"), { mode: "remap", explicit: false });
  assert.deepEqual(parseUsernsMode("host", "default"), { mode: "host", explicit: true });
  assert.deepEqual(parseUsernsMode("remap", undefined), { mode: "remap", explicit: true });
  for (const bad of ["", "private", "container:x", "HOST", "remap "]) {
    assert.throws(
      () => parseUsernsMode(bad, undefined),
      (e) => e instanceof InvalidConfigError && /must be "host" or "remap"/.test(e.message),
    );
  }
  assert.throws(() => parseUsernsMode(undefined, "dockremap"), /M_DOCKER_USERNS_REMAP/);
});

Deno.test("the ranges: 65536 ids from each file's first entry; a clear error without one", () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-userns-" });
  try {
    Deno.writeTextFileSync(`${dir}/u`, "dockremap:100000:131072\n");
    Deno.writeTextFileSync(`${dir}/g`, "dockremap:200000:65536\n");
    Deno.writeTextFileSync(`${dir}/small`, "dockremap:100000:1000\n");
    const env = (u: string, g: string) => ({ M_DOCKER_SUBUID_FILE: u, M_DOCKER_SUBGID_FILE: g });
    assert.deepEqual(remapRanges(env(`${dir}/u`, `${dir}/g`)), {
      uid: { hostStart: 100000, size: 65536 },
      gid: { hostStart: 200000, size: 65536 },
    });
    assert.throws(
      () => remapRanges(env(`${dir}/u`, `${dir}/none`)),
      /needs a dockremap range in .*none: add a line such as "dockremap:100000:65536"/,
    );
    assert.throws(() => remapRanges(env(`${dir}/small`, `${dir}/g`)), /has 1000 ids/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the id map line and the shim's word", () => {
  const remap = {
    uid: { hostStart: 100000, size: 65536 },
    gid: { hostStart: 200000, size: 65536 },
  };
  assert.equal(idMapLine(remap.uid), "0 100000 65536\n");
  assert.equal(formatUsernsWord(remap), "remap:100000:65536:200000:65536");
  assert.deepEqual(parseUsernsWord(formatUsernsWord(remap)), remap);
  assert.equal(formatUsernsWord(undefined), "host");
  assert.equal(parseUsernsWord("host"), undefined);
  assert.equal(parseUsernsWord(undefined), undefined);
});

const LAYERS = "/var/lib/md/layers/l";
const C = "/var/lib/md/containers/c1";
const M = `${C}/merged`;
const ETC = "/run/md/c1";
const USERNS_FD = 7;

function host(): FakeSyscalls {
  const fake = new FakeSyscalls();
  fake.addDir(`${LAYERS}/A`, `${LAYERS}/B`, `${C}/upper`, `${C}/work`, M, "/sys", "/srv/data");
  for (const f of ["hostname", "hosts", "resolv.conf"]) fake.addFile(`${ETC}/${f}`, "x\n");
  for (const d of ["null", "zero", "full", "random", "urandom", "tty"]) fake.addFile(`/dev/${d}`);
  fake.addFile("/srv/data/f", "data");
  return fake;
}

function remappedConfig(fake: FakeSyscalls, extra = {}) {
  const config = initConfig([`${LAYERS}/A`, `${LAYERS}/B`], C, ETC, {
    mounts: [{ source: "/srv/data", destination: "/data", readonly: true }],
    ...extra,
  });
  const { fds, plan } = openDetachedMounts(
    fake,
    USERNS_FD,
    config.rootfs,
    config.etcFiles,
    config.mounts,
  );
  // What init does with the descriptors it received: indices become descriptors, and it
  // changes into the mount point before it unshares its mount namespace.
  config.userns = {
    mountPoint: fds[plan.mountPoint],
    rootfs: fds[plan.rootfs],
    etc: {
      hostname: fds[plan.etc.hostname],
      hosts: fds[plan.etc.hosts],
      resolvConf: fds[plan.etc.resolvConf],
    },
    mounts: plan.mounts.map((m) => ({ fd: fds[m.fd], directory: m.directory })),
  };
  fake.fchdir(config.userns.mountPoint);
  return config;
}

Deno.test("detached mounts: idmapped layers under a new overlay, clones of the binds", () => {
  const fake = host();
  const config = remappedConfig(fake);
  const u = config.userns!;
  const trace = fake.trace("openTreeClone", "idmapMount", "fsmountDetached", "close");
  assert.deepEqual(trace.slice(0, 4), [
    ["openTreeClone", `${LAYERS}/A`, false],
    ["idmapMount", 100, USERNS_FD, `${LAYERS}/A`],
    ["openTreeClone", `${LAYERS}/B`, false],
    ["idmapMount", 101, USERNS_FD, `${LAYERS}/B`],
  ]);
  assert.deepEqual(trace[4], [
    "fsmountDetached",
    "overlay",
    [
      ["lowerdir", "/proc/self/fd/100:/proc/self/fd/101"],
      ["upperdir", `${C}/upper`],
      ["workdir", `${C}/work`],
    ],
  ]);
  // The layers' own descriptors are closed once the overlay holds them; the rest go to init.
  assert.deepEqual(trace.filter((c) => c[0] === "close"), [["close", 100], ["close", 101]]);
  assert.equal(fake.fds.get(u.mountPoint), M);
  assert.deepEqual(fake.trace("openTreeClone").slice(2), [
    ["openTreeClone", `${ETC}/hostname`, false],
    ["openTreeClone", `${ETC}/hosts`, false],
    ["openTreeClone", `${ETC}/resolv.conf`, false],
    ["openTreeClone", "/srv/data", true],
  ]);
  assert.deepEqual(u.mounts.map((m) => m.directory), [true]);
});

Deno.test("detached mounts: a kernel that refuses idmapping is named, and nothing stays open", () => {
  const fake = host();
  fake.failOn("idmapMount", (_fd, _ns, what) => what === `${LAYERS}/B`, 22);
  const before = new Set(fake.fds.keys());
  assert.throws(
    () =>
      openDetachedMounts(
        fake,
        USERNS_FD,
        initConfig([`${LAYERS}/A`, `${LAYERS}/B`], C, ETC).rootfs,
        initConfig([], C, ETC).etcFiles,
        [],
      ),
    (e) =>
      e instanceof Error && e.cause instanceof SyscallError &&
      /remapping needs idmapped mounts of the image's layers, .*refuses: .*Invalid argument/.test(
        e.message,
      ),
  );
  assert.deepEqual(new Set(fake.fds.keys()), before);
});

Deno.test("the remapped plan: attach the root and the binds, bind /dev's nodes, no mknod", () => {
  const fake = host();
  const config = remappedConfig(fake);
  const u = config.userns!;
  const root = `/proc/self/fd/${u.rootfs}`;
  prepareRootfs(fake, config);
  const calls = fake.trace("mount", "moveMount", "mknod", "pivotRoot", "chdir");
  assert.deepEqual(calls.slice(0, 4), [
    ["mount", null, "/", null, MS.REC | MS.PRIVATE, null],
    ["moveMount", u.rootfs, "."],
    ["mount", "proc", `${root}/proc`, "proc", MS.NOSUID | MS.NODEV | MS.NOEXEC, null],
    ["mount", "sysfs", `${root}/sys`, "sysfs", MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, null],
  ]);
  assert.equal(calls.filter((c) => c[0] === "mknod").length, 0);
  assert.ok(!calls.some((c) => c[0] === "mount" && c[3] === "overlay"), "init mounts no overlay");
  for (const d of ["null", "zero", "full", "random", "urandom", "tty"]) {
    assert.ok(
      calls.some((c) =>
        c[0] === "mount" && c[1] === `/dev/${d}` && c[2] === `${root}/dev/${d}` &&
        c[4] === MS.BIND
      ),
      `/dev/${d} is bound`,
    );
  }
  const moves = calls.filter((c) => c[0] === "moveMount").slice(1);
  assert.deepEqual(moves, [
    ["moveMount", u.etc.hostname, `${root}/etc/hostname`],
    ["moveMount", u.etc.hosts, `${root}/etc/hosts`],
    ["moveMount", u.etc.resolvConf, `${root}/etc/resolv.conf`],
    ["moveMount", u.mounts[0].fd, `${root}/data`],
  ]);
  // The :ro volume is made read-only where it was attached.
  assert.ok(fake.trace("mountSetattr").some((c) => c[1] === `${root}/data`));
  // The volume's files show at its destination inside the new root.
  assert.equal(fake.nodes.get(`${M}/data/f`)?.content, "data");
  // Into the root through its descriptor, then pivot_root there.
  const pivot = calls.findIndex((c) => c[0] === "pivotRoot");
  assert.deepEqual(calls.slice(pivot - 1, pivot + 1), [["chdir", root], ["pivotRoot", ".", "."]]);
});

Deno.test("the remapped plan on a network namespace it does not own binds the host's /sys", () => {
  const fake = host();
  const config = remappedConfig(fake, { loopbackUp: false });
  const root = `/proc/self/fd/${config.userns!.rootfs}`;
  prepareRootfs(fake, config);
  const trace = fake.trace("mount", "mountSetattr");
  assert.ok(!trace.some((c) => c[0] === "mount" && c[3] === "sysfs"), "no sysfs mount");
  const i = trace.findIndex((c) => c[0] === "mount" && c[1] === "/sys" && c[2] === `${root}/sys`);
  assert.ok(i >= 0, "the host's /sys is bound");
  assert.equal(trace[i][4], MS.BIND | MS.REC);
  assert.equal(trace[i + 1][0], "mountSetattr", "and made read-only");
});

Deno.test("commit and export: a remapped upper layer's host owners become the container's", () => {
  const remap = {
    uid: { hostStart: 100000, size: 65536 },
    gid: { hostStart: 200000, size: 65536 },
  };
  const owners = containerOwners(remap)!;
  assert.deepEqual(owners(100000, 200000), { uid: 0, gid: 0 });
  assert.deepEqual(owners(101000, 200050), { uid: 1000, gid: 50 });
  // Outside the range: the overflow id, as the container itself sees such a file.
  assert.deepEqual(owners(0, 265536), { uid: 65534, gid: 65534 });
  assert.equal(containerOwners(undefined), undefined);
});

Deno.test({
  name: "packLayers: topOwners changes the top layer's entries only, also below lower dirs",
  ignore: Deno.uid() !== 0,
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-pack-" });
    try {
      Deno.mkdirSync(`${dir}/upper/etc`, { recursive: true });
      Deno.mkdirSync(`${dir}/lower/bin`, { recursive: true });
      Deno.mkdirSync(`${dir}/lower/etc`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/upper/etc/new`, "n");
      Deno.writeTextFileSync(`${dir}/lower/bin/tool`, "t");
      Deno.chownSync(`${dir}/upper/etc`, 100000, 100000);
      Deno.chownSync(`${dir}/upper/etc/new`, 101000, 100050);
      const entries = packLayers([`${dir}/upper`, `${dir}/lower`], {
        topOwners: containerOwners({
          uid: { hostStart: 100000, size: 65536 },
          gid: { hostStart: 100000, size: 65536 },
        }),
      });
      const owner = (name: string) => {
        const e = entries.find((x) => x.name === name)!;
        return `${e.uid}:${e.gid}`;
      };
      assert.equal(owner("etc"), "0:0");
      assert.equal(owner("etc/new"), "1000:50");
      assert.equal(owner("bin"), "0:0");
      assert.equal(owner("bin/tool"), "0:0");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
