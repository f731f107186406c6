/**
 * planBundle (src/runtime/convert.ts) on hand-written specs: what the runtime refuses (each
 * refusal names its field, in the error and in its message, which is all the CLI prints),
 * the mount(2) calls a `mounts` entry becomes, the device rules, rlimits and the default
 * cgroup path.
 */
import assert from "node:assert/strict";
import { MS } from "../../ffi/libc.ts";
import { defaultOciSpec, type OciSpec, parseOciSpec } from "../../src/config/oci_spec.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { DEFAULT_DEVICE_RULES } from "../../src/config/devices.ts";
import { type HostFacts, planBundle } from "../../src/runtime/convert.ts";

const HOST: HostFacts = { lastCap: 40, cgroupFs: { version: 2 } };

/** A minimal valid spec (mount and UTS namespaces), changed by `edit`, as parseOciSpec reads it. */
function spec(edit: (s: OciSpec) => void = () => {}): OciSpec {
  const s: OciSpec = {
    ociVersion: "1.1.0",
    root: { path: "rootfs" },
    process: { cwd: "/", user: { uid: 0, gid: 0 }, args: ["true"] },
    linux: { namespaces: [{ type: "mount" }, { type: "uts" }, { type: "pid" }] },
  };
  edit(s);
  // Through the parser, as `create` does: bigints for 64-bit values, defaults checked.
  return parseOciSpec(
    JSON.stringify(s, (_k, v) => typeof v === "bigint" ? `${v}n` : v)
      .replace(/"(\d+)n"/g, "$1"),
  );
}

function plan(edit?: (s: OciSpec) => void, host = HOST) {
  return planBundle(spec(edit), "/bundle", "c1", host);
}

/** Asserts that planning refuses with an InvalidConfigError for `field`, naming it. */
function refuses(edit: (s: OciSpec) => void, field: string, what: RegExp): void {
  assert.throws(() => plan(edit), (e: unknown) => {
    assert.ok(e instanceof InvalidConfigError, `not an InvalidConfigError: ${e}`);
    assert.equal(e.field, field);
    assert.ok(e.message.includes(field), `the message does not name ${field}: ${e.message}`);
    assert.match(e.message, what);
    return true;
  });
}

Deno.test("planBundle refuses what the runtime cannot do, naming the field", () => {
  refuses(
    (s) => {
      s.linux!.namespaces!.push({ type: "user", path: "/proc/1/ns/user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
    "linux.namespaces[3].path",
    /joining a user namespace/,
  );
  refuses(
    (s) => s.linux!.namespaces!.unshift({ type: "time" }),
    "linux.namespaces[0].type",
    /time namespaces/,
  );
  refuses((s) => s.linux!.namespaces!.shift(), "linux.namespaces", /mount namespace/);
  refuses(
    (s) => {
      s.linux!.namespaces!.splice(1, 1);
      s.hostname = "h";
    },
    "hostname",
    /uts/i,
  );
  refuses(
    (s) => {
      s.linux!.namespaces!.splice(1, 1);
      s.domainname = "d";
    },
    "domainname",
    /uts/i,
  );
  refuses(
    (s) => s.linux!.resources = { unified: { "memory.max": "1" } },
    "linux.resources.unified",
    /unified/,
  );
  refuses(
    (s) =>
      s.mounts = [{ destination: "/m", type: "bind", source: "/x", options: ["rbind", "rro"] }],
    "mounts[0].options",
    /recursive/,
  );
  refuses(
    (s) => s.mounts = [{ destination: "/tmp", type: "tmpfs", source: "t", options: ["tmpcopyup"] }],
    "mounts[0].options",
    /tmpcopyup/,
  );
  refuses(
    (s) =>
      s.linux!.resources = {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
          { allow: false, type: "c", major: 1, minor: 5, access: "rwm" },
        ],
      },
    "linux.resources.devices[2]",
    /deny/,
  );
  refuses(
    (s) => s.process!.capabilities = { bounding: ["CAP_KILL"], effective: ["CAP_CHOWN"] },
    "process.capabilities.effective",
    /CAP_CHOWN/,
  );
});

Deno.test("planBundle passes the in-container hooks to init's plan", () => {
  const spec = defaultOciSpec();
  spec.hooks = {
    createContainer: [{ path: "/bin/true", timeout: 3 }],
    startContainer: [{ path: "/bin/echo", args: ["echo", "hi"] }],
  };
  const plan = planBundle(spec, "/b", "c1", HOST);
  assert.deepEqual(plan.hooks.createContainer, [
    { path: "/bin/true", args: undefined, env: undefined, timeout: 3 },
  ]);
  assert.deepEqual(plan.hooks.startContainer[0].args, ["echo", "hi"]);
});

Deno.test("planBundle's own checks hold for a spec the parser did not see", () => {
  // The parser refuses these first; planBundle must not rely on it.
  const raw = (edit: (s: OciSpec) => void): OciSpec => {
    const s: OciSpec = {
      ociVersion: "1.1.0",
      root: { path: "rootfs" },
      process: { cwd: "/", user: { uid: 0, gid: 0 }, args: ["true"] },
      linux: { namespaces: [{ type: "mount" }] },
    };
    edit(s);
    return s;
  };
  for (const key of ["hostname", "domainname"] as const) {
    assert.throws(
      () => planBundle(raw((s) => s[key] = "x"), "/b", "c1", HOST),
      /^InvalidConfigError: hostname: a hostname or domainname needs a private UTS namespace$/,
    );
  }
  assert.throws(
    () => planBundle(raw((s) => delete s.process), "/b", "c1", HOST),
    /^InvalidConfigError: process: /,
  );
  assert.throws(
    () =>
      planBundle(
        raw((s) => s.linux!.namespaces!.push({ type: "foo" as "pid" })),
        "/b",
        "c1",
        HOST,
      ),
    /^InvalidConfigError: linux\.namespaces\[1\]\.type: unknown namespace type "foo"$/,
  );
});

Deno.test("a cgroup mount needs the host's cgroup filesystem (refused without one)", () => {
  assert.throws(
    () =>
      planBundle(
        spec((s) => s.mounts = [{ destination: "/sys/fs/cgroup", type: "cgroup" }]),
        "/b",
        "c1",
        { lastCap: 40 },
      ),
    /^InvalidConfigError: mounts\[0\]\.type: no cgroup filesystem/,
  );
  const p = plan((s) =>
    s.mounts = [{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup" }]
  );
  assert.deepEqual(p.init.mounts[0], {
    source: null,
    destination: "/sys/fs/cgroup",
    fstype: "cgroup",
    flags: 0,
    propagation: [],
    cgroup: { version: 2 },
  });
});

Deno.test("bind mounts: MS_BIND (MS_REC for rbind), the other flags as a remount, relative sources", () => {
  const p = plan((s) =>
    s.mounts = [
      { destination: "/ro", type: "bind", source: "/host/ro", options: ["bind", "ro", "nosuid"] },
      { destination: "/rb", type: "none", source: "data", options: ["rbind", "rw"] },
      { destination: "/sh", source: "/host/sh", options: ["bind", "rshared"] },
    ]
  );
  assert.deepEqual(p.init.mounts[0], {
    source: "/host/ro",
    destination: "/ro",
    fstype: null,
    flags: MS.BIND,
    remountFlags: MS.RDONLY | MS.NOSUID,
    propagation: [],
  });
  // A relative source is the bundle's; rw asks for no remount.
  assert.deepEqual(p.init.mounts[1], {
    source: "/bundle/data",
    destination: "/rb",
    fstype: null,
    flags: MS.BIND | MS.REC,
    remountFlags: undefined,
    propagation: [],
  });
  assert.deepEqual(p.init.mounts[2].propagation, [MS.SHARED | MS.REC]);
  assert.equal(p.init.mounts[2].flags, MS.BIND);
  assert.throws(
    () => plan((s) => s.mounts = [{ destination: "/x", type: "bind", options: ["bind"] }]),
    /mounts\[0\]\.source/,
  );
});

Deno.test("other mounts keep their flags and data; sysfs without a netns of its own is a /sys bind", () => {
  const tmpfs = { destination: "/t", type: "tmpfs", source: "tmpfs" };
  const sysfs = { destination: "/sys", type: "sysfs", source: "sysfs" };
  const options = ["nosuid", "nodev", "ro"];
  const own = plan((s) => {
    s.linux!.namespaces!.push({ type: "network" });
    s.mounts = [
      { ...tmpfs, options: ["nosuid", "mode=1777", "size=1m", "rprivate"] },
      { ...sysfs, options },
    ];
  });
  assert.deepEqual(own.init.mounts[0], {
    source: "tmpfs",
    destination: "/t",
    fstype: "tmpfs",
    flags: MS.NOSUID,
    data: "mode=1777,size=1m",
    propagation: [MS.PRIVATE | MS.REC],
  });
  assert.equal(own.init.mounts[1].fstype, "sysfs");
  assert.equal(own.init.mounts[1].flags, MS.NOSUID | MS.NODEV | MS.RDONLY);
  assert.deepEqual(own.net, { kind: "new" });
  // The host's network namespace (none in the list), or one joined by path: bind /sys, not
  // recursively (a read-only remount of an rbind left the host's cgroupfs under it writable).
  for (const ns of [undefined, "/proc/1/ns/net"]) {
    const p = plan((s) => {
      if (ns) s.linux!.namespaces!.push({ type: "network", path: ns });
      s.mounts = [{ ...sysfs, options }];
    });
    assert.deepEqual(p.init.mounts[0], {
      source: "/sys",
      destination: "/sys",
      fstype: null,
      flags: MS.BIND,
      remountFlags: MS.NOSUID | MS.NODEV | MS.RDONLY,
      propagation: [],
    });
  }
  assert.throws(() => plan((s) => s.mounts = [{ destination: "/x", source: "x" }]), /type/);
});

Deno.test("namespaces: new ones unshared, paths joined, pid and network at the spawn", () => {
  const p = plan((s) => {
    s.linux!.namespaces = [
      { type: "mount" },
      { type: "ipc", path: "/proc/1/ns/ipc" },
      { type: "pid", path: "/proc/1/ns/pid" },
      { type: "network" },
      { type: "cgroup" },
    ];
  });
  assert.equal(p.init.unshare, 0x00020000 | 0x02000000); // CLONE_NEWNS | CLONE_NEWCGROUP
  assert.deepEqual(p.init.join, [[0x08000000, "/proc/1/ns/ipc"]]); // CLONE_NEWIPC
  assert.deepEqual(p.pid, { kind: "join", path: "/proc/1/ns/pid" });
  assert.deepEqual(p.net, { kind: "new" });
  assert.deepEqual(plan((s) => s.linux!.namespaces = [{ type: "mount" }]).pid, { kind: "host" });
});

Deno.test("device rules: the defaults always, then the bundle's, then its linux.devices", () => {
  const deny = plan((s) => s.linux!.resources = { devices: [{ allow: false, access: "rwm" }] });
  assert.deepEqual(deny.deviceRules, [...DEFAULT_DEVICE_RULES]);
  const some = plan((s) => {
    s.linux!.resources = {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 10, minor: 200, access: "rw" },
        { allow: true, type: "b", major: 8, access: "r" },
      ],
    };
    s.linux!.devices = [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }];
  });
  assert.deepEqual(some.deviceRules, [
    ...DEFAULT_DEVICE_RULES,
    { type: "c", major: 10, minor: 200, access: "rw" },
    { type: "b", major: 8, minor: null, access: "r" },
    { type: "c", major: 10, minor: 229, access: "rwm" },
  ]);
  assert.deepEqual(some.init.devices, [{
    hostPath: "/dev/fuse",
    path: "/dev/fuse",
    type: "c",
    major: 10,
    minor: 229,
    mode: 0o666,
    uid: 0,
    gid: 0,
    access: "rwm",
  }]);
  // The list is an allowlist (config-linux.md), as runc's emulator starts from deny-all:
  // no list allows the defaults only, a list without a deny-all first only what it allows.
  assert.deepEqual(plan().deviceRules, [...DEFAULT_DEVICE_RULES]);
  assert.deepEqual(
    plan((s) =>
      s.linux!.resources = { devices: [{ allow: true, type: "c", major: 1, access: "r" }] }
    ).deviceRules,
    [...DEFAULT_DEVICE_RULES, { type: "c", major: 1, minor: null, access: "r" }],
  );
  // An explicit allow-all still allows all.
  const all = { type: "a", major: null, minor: null, access: "rwm" };
  assert.deepEqual(
    plan((s) => s.linux!.resources = { devices: [{ allow: true, access: "rwm" }] }).deviceRules,
    [...DEFAULT_DEVICE_RULES, all],
  );
});

Deno.test("process: rlimits (RLIM_INFINITY is -1), user, capabilities, umask, oomScoreAdj", () => {
  const p = plan((s) => {
    s.process = {
      ...s.process!,
      user: { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o27 },
      rlimits: [
        { type: "RLIMIT_NOFILE", soft: 1024, hard: 4096 },
        // 2^64-1, which a double cannot hold: the parser keeps it as a bigint.
        { type: "RLIMIT_CORE", soft: 18446744073709551615n, hard: 18446744073709551615n },
      ],
      capabilities: { bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"] },
      noNewPrivileges: true,
      oomScoreAdj: 500,
    };
  });
  assert.deepEqual(p.init.process.rlimits, [
    { name: "nofile", soft: 1024, hard: 4096 },
    { name: "core", soft: -1, hard: -1 },
  ]);
  assert.equal(p.init.process.uid, 1000);
  assert.equal(p.init.process.gid, 100);
  assert.deepEqual(p.init.process.groups, [100, 5, 6]);
  assert.equal(p.init.process.umask, 0o27);
  assert.deepEqual(p.init.process.bounding.toSorted((a, b) => a - b), [0, 5]); // CHOWN, KILL
  assert.equal(p.init.process.noNewPrivileges, true);
  assert.equal(p.init.process.oomScoreAdj, 500);
});

Deno.test("cgroupsPath: the spec's, else /m-docker-runc/<id>; limits from resources", () => {
  assert.equal(plan().cgroupsPath, "/m-docker-runc/c1");
  const p = plan((s) => {
    s.linux!.cgroupsPath = "rel/c1";
    s.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 10 } };
  });
  assert.equal(p.cgroupsPath, "rel/c1");
  assert.equal(p.limits.memoryBytes, 64 << 20);
  assert.equal(p.limits.pidsLimit, 10);
});

Deno.test("root: relative to the bundle, read-only, propagation (default rslave)", () => {
  const p = plan((s) => {
    s.root = { path: "rootfs", readonly: true };
    s.linux!.rootfsPropagation = "private";
  });
  assert.equal(p.init.root, "/bundle/rootfs");
  assert.equal(p.init.rootReadonly, true);
  assert.equal(p.init.rootPropagation, MS.PRIVATE);
  assert.equal(plan().init.rootPropagation, MS.SLAVE | MS.REC);
  assert.equal(plan((s) => s.root = { path: "/abs" }).init.root, "/abs");
});
