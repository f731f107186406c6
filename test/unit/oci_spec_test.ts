/**
 * config.json as the OCI runtime specification defines it (config.md, config-linux.md,
 * runtime.md, features.md): the default document against what `runc spec` writes, configs in
 * the shapes containerd and podman write, one failing case per rule with its exact message,
 * the state and features documents.
 */
import assert from "node:assert/strict";
import {
  defaultOciSpec,
  HOOK_NAMES,
  NAMESPACE_TYPES,
  OCI_VERSION,
  OCI_VERSION_MIN,
  type OciBox,
  ociFeatures,
  type OciProcess,
  type OciSpec,
  ociState,
  type OciUser,
  parseOciSpec,
  RLIMIT_NAMES,
  SECCOMP_OPERATORS,
  SUPPORTED_SECCOMP_ACTIONS,
} from "../../src/config/oci_spec.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { CAPABILITY_NAMES } from "../../src/config/capabilities.ts";
import { MOUNT_OPTION_NAMES } from "../../src/config/oci_mounts.ts";
import { parseSeccompProfile } from "../../src/seccomp/profile.ts";

/** `runc spec` of runc 1.1.5 (spec 1.0.2-dev) on this machine (cgroup v1: no cgroup ns). */
const RUNC_SPEC = `{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": {
			"uid": 0,
			"gid": 0
		},
		"args": [
			"sh"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"effective": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"permitted": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			],
			"ambient": [
				"CAP_AUDIT_WRITE",
				"CAP_KILL",
				"CAP_NET_BIND_SERVICE"
			]
		},
		"rlimits": [
			{
				"type": "RLIMIT_NOFILE",
				"hard": 1024,
				"soft": 1024
			}
		],
		"noNewPrivileges": true
	},
	"root": {
		"path": "rootfs",
		"readonly": true
	},
	"hostname": "runc",
	"mounts": [
		{
			"destination": "/proc",
			"type": "proc",
			"source": "proc"
		},
		{
			"destination": "/dev",
			"type": "tmpfs",
			"source": "tmpfs",
			"options": [
				"nosuid",
				"strictatime",
				"mode=755",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/pts",
			"type": "devpts",
			"source": "devpts",
			"options": [
				"nosuid",
				"noexec",
				"newinstance",
				"ptmxmode=0666",
				"mode=0620",
				"gid=5"
			]
		},
		{
			"destination": "/dev/shm",
			"type": "tmpfs",
			"source": "shm",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"mode=1777",
				"size=65536k"
			]
		},
		{
			"destination": "/dev/mqueue",
			"type": "mqueue",
			"source": "mqueue",
			"options": [
				"nosuid",
				"noexec",
				"nodev"
			]
		},
		{
			"destination": "/sys",
			"type": "sysfs",
			"source": "sysfs",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"ro"
			]
		},
		{
			"destination": "/sys/fs/cgroup",
			"type": "cgroup",
			"source": "cgroup",
			"options": [
				"nosuid",
				"noexec",
				"nodev",
				"relatime",
				"ro"
			]
		}
	],
	"linux": {
		"resources": {
			"devices": [
				{
					"allow": false,
					"access": "rwm"
				}
			]
		},
		"namespaces": [
			{
				"type": "pid"
			},
			{
				"type": "network"
			},
			{
				"type": "ipc"
			},
			{
				"type": "uts"
			},
			{
				"type": "mount"
			}
		],
		"maskedPaths": [
			"/proc/acpi",
			"/proc/asound",
			"/proc/kcore",
			"/proc/keys",
			"/proc/latency_stats",
			"/proc/timer_list",
			"/proc/timer_stats",
			"/proc/sched_debug",
			"/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus",
			"/proc/fs",
			"/proc/irq",
			"/proc/sys",
			"/proc/sysrq-trigger"
		]
	}
}`;

// ---------------------------------------------------------------------------------------
// The default document.

Deno.test("defaultOciSpec is runc spec's document, field by field and in key order", () => {
  const runc = JSON.parse(RUNC_SPEC);
  // The deliberate differences, and only these: the version m-docker writes, and runc 1.1's
  // ambient set, which current runc no longer writes (runc 0de19533: an ambient capability
  // needs the same inheritable one, and runc spec had already dropped inheritable).
  assert.equal(runc.ociVersion, "1.0.2-dev");
  runc.ociVersion = OCI_VERSION;
  assert.deepEqual(runc.process.capabilities.ambient, runc.process.capabilities.bounding);
  delete runc.process.capabilities.ambient;
  const ours = defaultOciSpec();
  assert.deepEqual(ours, runc);
  // Same order of keys too: the document `spec` writes reads as runc's.
  assert.equal(JSON.stringify(ours, null, "\t"), JSON.stringify(runc, null, "\t"));
});

Deno.test("defaultOciSpec validates, and adds a cgroup namespace when asked (cgroup v2 hosts)", () => {
  const text = JSON.stringify(defaultOciSpec());
  assert.deepEqual(parseOciSpec(text), defaultOciSpec());
  assert.deepEqual(parseOciSpec(RUNC_SPEC).process?.args, ["sh"]);
  const v2 = defaultOciSpec({ cgroupNamespace: true });
  assert.deepEqual(v2.linux?.namespaces?.map((n) => n.type), [
    "pid",
    "network",
    "ipc",
    "uts",
    "mount",
    "cgroup",
  ]);
  parseOciSpec(JSON.stringify(v2));
  // Each call is a fresh document: a caller may change it.
  const a = defaultOciSpec();
  a.process!.args!.push("-c");
  assert.deepEqual(defaultOciSpec().process?.args, ["sh"]);
});

// ---------------------------------------------------------------------------------------
// Documents other engines write.

/**
 * containerd's default (pkg/oci/spec.go populateDefaultUnixSpec and defaultMounts), with
 * what `ctr run` adds from an image (args, env, cwd) and a seccomp rule of Docker's profile
 * whose mask is beyond 2^53.
 */
const CONTAINERD_CONFIG = {
  ociVersion: "1.2.1",
  process: {
    user: { uid: 0, gid: 0, additionalGids: [0, 10] },
    args: ["/bin/sh", "-c", "echo hi"],
    env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    cwd: "/",
    capabilities: {
      bounding: [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
      ],
      effective: ["CAP_CHOWN", "CAP_KILL"],
      permitted: ["CAP_CHOWN", "CAP_KILL"],
    },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: "rootfs" },
  mounts: [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", "ro"],
    },
    {
      destination: "/run",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: "rwm" }] },
    cgroupsPath: "/default/web",
    namespaces: [
      { type: "pid" },
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
      { type: "network" },
    ],
    seccomp: {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        {
          names: ["clone"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    },
    maskedPaths: [
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/sys/firmware",
      "/sys/devices/virtual/powercap",
      "/proc/scsi",
    ],
    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
  },
};

Deno.test("a containerd-style config validates, unchanged", () => {
  const text = JSON.stringify(CONTAINERD_CONFIG);
  assert.deepEqual(parseOciSpec(text), CONTAINERD_CONFIG);
  // A 64-bit mask, as Docker's profile has for the high word of an argument, stays exact.
  const big = text.replace('"valueTwo":0', '"valueTwo":18446744069414584320');
  const arg = parseOciSpec(big).linux?.seccomp?.syscalls?.[1].args?.[0];
  assert.equal(arg?.valueTwo, 18446744069414584320n);
  assert.equal(arg?.value, 2114060288);
});

/**
 * What podman writes for a rootless `podman run --ulimit host -it`: a user namespace with
 * its mappings, binds with rprivate, cgroupfs as a cgroup2 mount, its hooks and annotations,
 * a systemd-style cgroupsPath, rlimits at RLIM_INFINITY, and its seccomp profile's shape.
 */
const PODMAN_CONFIG = `{
  "ociVersion": "1.0.0",
  "process": {
    "terminal": true,
    "consoleSize": { "height": 50, "width": 180 },
    "user": { "uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [1000] },
    "args": ["bash"],
    "env": ["PATH=/usr/bin:/bin", "TERM=xterm", "container=podman", "HOME=/root", "EMPTY="],
    "cwd": "/home/user",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_SETGID"]
    },
    "rlimits": [
      { "type": "RLIMIT_NOFILE", "hard": 524288, "soft": 524288 },
      { "type": "RLIMIT_NPROC", "hard": 18446744073709551615, "soft": 18446744073709551615 },
      { "type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0 }
    ],
    "noNewPrivileges": false,
    "oomScoreAdj": 200,
    "apparmorProfile": "containers-default-0.50.1",
    "selinuxLabel": ""
  },
  "root": { "path": "/home/user/.local/share/containers/storage/overlay/abc/merged" },
  "hostname": "5b0a1c2d3e4f",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"] },
    { "destination": "/etc/hosts", "type": "bind", "source": "/run/user/1000/containers/overlay-containers/abc/userdata/hosts", "options": ["bind", "rprivate"] },
    { "destination": "/dev/shm", "type": "bind", "source": "/home/user/.local/share/containers/storage/overlay-containers/abc/userdata/shm", "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"] },
    { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rw", "rprivate"] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"] }
  ],
  "hooks": {
    "createRuntime": [
      { "path": "/usr/libexec/podman/hook", "args": ["hook", "create"], "env": ["A=1"], "timeout": 10 }
    ],
    "poststop": [{ "path": "/usr/bin/podman", "args": ["podman", "container", "cleanup"] }]
  },
  "annotations": {
    "io.container.manager": "libpod",
    "org.opencontainers.image.stopSignal": "15",
    "io.podman.annotations.autoremove": "FALSE"
  },
  "linux": {
    "uidMappings": [
      { "containerID": 0, "hostID": 1, "size": 1000 },
      { "containerID": 1000, "hostID": 0, "size": 1 },
      { "containerID": 1001, "hostID": 1001, "size": 64536 }
    ],
    "gidMappings": [
      { "containerID": 0, "hostID": 1, "size": 1000 },
      { "containerID": 1000, "hostID": 0, "size": 1 },
      { "containerID": 1001, "hostID": 1001, "size": 64536 }
    ],
    "sysctl": { "net.ipv4.ping_group_range": "0 0" },
    "resources": {
      "devices": [{ "allow": false, "access": "rwm" }, { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" }],
      "memory": { "limit": 536870912, "swap": 1073741824 },
      "cpu": { "shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1" },
      "pids": { "limit": 2048 },
      "unified": { "memory.high": "max" }
    },
    "cgroupsPath": "user.slice:libpod:abc",
    "namespaces": [
      { "type": "pid" },
      { "type": "network", "path": "/run/user/1000/netns/netns-1234" },
      { "type": "ipc" },
      { "type": "uts" },
      { "type": "mount" },
      { "type": "user" },
      { "type": "cgroup" }
    ],
    "devices": [{ "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 }],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [
        { "names": ["bdflush", "io_pgetevents"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 },
        { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ" }] }
      ]
    },
    "rootfsPropagation": "rprivate",
    "maskedPaths": ["/proc/acpi", "/proc/kcore"],
    "readonlyPaths": ["/proc/asound", "/proc/bus"],
    "mountLabel": ""
  },
  "x-podman-extension": { "anything": true }
}`;

Deno.test("a podman-style config validates; its RLIM_INFINITY stays exact", () => {
  const spec = parseOciSpec(PODMAN_CONFIG);
  assert.equal(spec.process?.rlimits?.[1].hard, 18446744073709551615n);
  assert.equal(spec.process?.rlimits?.[0].hard, 524288);
  assert.equal(spec.linux?.namespaces?.length, 7);
  // Unknown fields are extensions: kept, not refused.
  assert.deepEqual((spec as unknown as Record<string, unknown>)["x-podman-extension"], {
    anything: true,
  });
});

Deno.test("the versions features.md says the runtime accepts are accepted, and 1.x", () => {
  for (const v of [OCI_VERSION_MIN, OCI_VERSION, "1.0.2-dev", "1.2.0", "1.3.0+dev"]) {
    const spec = defaultOciSpec();
    spec.ociVersion = v;
    assert.equal(parseOciSpec(JSON.stringify(spec)).ociVersion, v);
  }
});

Deno.test("unknown fields and nulls are ignored: null reads as absent, as Go's decoder reads it", () => {
  const spec = {
    ...defaultOciSpec(),
    mounts: null,
    hooks: { prestart: null, future: [{ anything: 1 }] },
    windows: { layerFolders: ["c:\\x"] },
    solaris: {},
  };
  const parsed = parseOciSpec(JSON.stringify(spec)) as unknown as Record<string, unknown>;
  assert.deepEqual(parsed.windows, { layerFolders: ["c:\\x"] });
  assert.equal(parsed.mounts, null);
});

// ---------------------------------------------------------------------------------------
// One failing case per rule, with its exact message.

type Doc = OciSpec & Record<string, unknown>;

/** A valid document to break: runc's default with a user namespace's worth of parts. */
function base(): Doc {
  const spec = defaultOciSpec() as Doc;
  spec.hooks = { prestart: [{ path: "/bin/true" }], poststop: [{ path: "/bin/true" }] };
  spec.linux!.seccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{
      names: ["getcwd"],
      action: "SCMP_ACT_ERRNO",
      args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }],
    }],
  };
  spec.linux!.devices = [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }];
  return spec;
}

/** Asserts that `mutate`d base() is refused with `message`, whose path is the error's field. */
function refuses(mutate: (d: Doc) => void, message: string): void {
  const doc = base();
  parseOciSpec(JSON.stringify(doc)); // base() itself is valid
  mutate(doc);
  assert.throws(
    () => parseOciSpec(JSON.stringify(doc)),
    (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.equal(e.message, message);
      const rest = message.slice("config.json: ".length);
      assert.equal(e.field, rest.slice(0, rest.indexOf(": ")));
      assert.ok(!e.message.includes("\n"));
      return true;
    },
  );
}

const p = (d: Doc) => d.process!;
const l = (d: Doc) => d.linux!;
const res = (d: Doc) => (l(d).resources ??= {});

Deno.test("not JSON, not an object: the file is named", () => {
  assert.throws(() => parseOciSpec("{", "/b/config.json"), (e: unknown) => {
    assert.ok(e instanceof InvalidConfigError);
    assert.match(e.message, /^\/b\/config\.json: not JSON: \S/);
    assert.equal(e.field, "");
    return true;
  });
  assert.throws(() => parseOciSpec("[]"), { message: "config.json: must be a JSON object" });
  assert.throws(() => parseOciSpec("null"), { message: "config.json: must be a JSON object" });
});

Deno.test("ociVersion: present, SemVer, major 1", () => {
  refuses((d) => delete (d as Partial<Doc>).ociVersion, "config.json: ociVersion: is required");
  refuses(
    (d) => (d.ociVersion = "1.0"),
    'config.json: ociVersion: must be a SemVer version such as "1.0.2", not "1.0"',
  );
  refuses(
    (d) => (d.ociVersion = "2.0.0"),
    'config.json: ociVersion: unsupported version "2.0.0": m-docker reads 1.x',
  );
  refuses(
    (d) => (d.ociVersion = 1 as unknown as string),
    "config.json: ociVersion: must be a string",
  );
});

Deno.test("root: required, with a path (relative to the bundle is fine)", () => {
  refuses((d) => delete d.root, "config.json: root: is required");
  refuses((d) => (d.root = {} as Doc["root"]), "config.json: root.path: is required");
  refuses((d) => (d.root!.path = ""), "config.json: root.path: must not be empty");
  refuses(
    (d) => (d.root!.readonly = "yes" as unknown as boolean),
    "config.json: root.readonly: must be true or false",
  );
});

Deno.test("process: args, cwd, env, user", () => {
  refuses((d) => (p(d).args = []), "config.json: process.args: must have at least one entry");
  refuses(
    (d) => delete (p(d) as Partial<OciProcess>).args,
    "config.json: process.args: is required",
  );
  refuses(
    (d) => (p(d).args = [1 as unknown as string]),
    "config.json: process.args[0]: must be a string",
  );
  refuses((d) => (p(d).args = [""]), "config.json: process.args[0]: must not be empty");
  refuses(
    (d) => (p(d).args = "sh" as unknown as string[]),
    "config.json: process.args: must be a list",
  );
  refuses(
    (d) => delete (p(d) as Partial<Doc["process"]>)!.cwd,
    "config.json: process.cwd: is required",
  );
  refuses((d) => (p(d).cwd = "tmp"), "config.json: process.cwd: must be an absolute path");
  refuses(
    (d) => (p(d).env = ["A=1", "FOO"]),
    'config.json: process.env[1]: must be "NAME=VALUE", not "FOO"',
  );
  refuses(
    (d) => (p(d).env = ["=x"]),
    'config.json: process.env[0]: must be "NAME=VALUE", not "=x"',
  );
  refuses(
    (d) => delete (p(d) as Partial<Doc["process"]>)!.user,
    "config.json: process.user: is required",
  );
  refuses(
    (d) => delete (p(d).user as Partial<OciUser>).gid,
    "config.json: process.user.gid: is required",
  );
  refuses(
    (d) => (p(d).user.uid = -1),
    "config.json: process.user.uid: must be a non-negative integer",
  );
  refuses(
    (d) => (p(d).user.uid = 1.5),
    "config.json: process.user.uid: must be a non-negative integer",
  );
  refuses(
    (d) => (p(d).user.uid = "0" as unknown as number),
    "config.json: process.user.uid: must be a non-negative integer",
  );
  refuses(
    (d) => (p(d).user.gid = 2 ** 32),
    "config.json: process.user.gid: must be at most 4294967295",
  );
  refuses(
    (d) => (p(d).user.additionalGids = [5, -5]),
    "config.json: process.user.additionalGids[1]: must be a non-negative integer",
  );
  refuses(
    (d) => (p(d).user.umask = 0o1000),
    "config.json: process.user.umask: must be an integer from 0 to 511",
  );
  refuses(
    (d) => (p(d).terminal = 1 as unknown as boolean),
    "config.json: process.terminal: must be true or false",
  );
});

Deno.test("process: consoleSize, oomScoreAdj, scheduler, ioPriority", () => {
  refuses(
    (d) => (p(d).consoleSize = { height: -1, width: 80 }),
    "config.json: process.consoleSize.height: must be a non-negative integer",
  );
  refuses(
    (d) => (p(d).consoleSize = { height: 25 } as OciBox),
    "config.json: process.consoleSize.width: is required",
  );
  refuses(
    (d) => (p(d).consoleSize = { height: 25, width: 70000 }),
    "config.json: process.consoleSize.width: must be at most 65535",
  );
  refuses(
    (d) => (p(d).oomScoreAdj = 1001),
    "config.json: process.oomScoreAdj: must be an integer from -1000 to 1000",
  );
  refuses(
    (d) => (p(d).oomScoreAdj = -1001),
    "config.json: process.oomScoreAdj: must be an integer from -1000 to 1000",
  );
  refuses(
    (d) => (p(d).scheduler = { policy: "SCHED_FAST" }),
    'config.json: process.scheduler.policy: unknown scheduling policy "SCHED_FAST"',
  );
  refuses(
    (d) => (p(d).scheduler = { policy: "SCHED_OTHER", nice: 20 }),
    "config.json: process.scheduler.nice: must be an integer from -20 to 19",
  );
  refuses(
    (d) => (p(d).ioPriority = { class: "IOPRIO_CLASS_BE", priority: 8 }),
    "config.json: process.ioPriority.priority: must be an integer from 0 to 7",
  );
  refuses(
    (d) => (p(d).execCPUAffinity = { initial: "0-" }),
    'config.json: process.execCPUAffinity.initial: must be a list such as "0-3,7", not "0-"',
  );
});

Deno.test("process.rlimits: RLIMIT_* types, soft <= hard, no duplicates", () => {
  refuses(
    (d) => (p(d).rlimits = [{ type: "RLIMIT_FOO", soft: 1, hard: 1 }]),
    'config.json: process.rlimits[0].type: unknown rlimit type "RLIMIT_FOO"',
  );
  refuses(
    (d) => (p(d).rlimits = [{ type: "nofile", soft: 1, hard: 1 }]),
    'config.json: process.rlimits[0].type: unknown rlimit type "nofile"',
  );
  refuses(
    (d) => (p(d).rlimits = [{ type: "RLIMIT_NOFILE", soft: 2048, hard: 1024 }]),
    "config.json: process.rlimits[0].soft: 2048 is above the hard limit 1024",
  );
  refuses(
    (d) => p(d).rlimits!.push({ type: "RLIMIT_NOFILE", soft: 1, hard: 1 }),
    'config.json: process.rlimits[1].type: duplicate rlimit type "RLIMIT_NOFILE"',
  );
  refuses(
    (d) => (p(d).rlimits = [{ type: "RLIMIT_CORE", soft: -1, hard: 0 }]),
    "config.json: process.rlimits[0].soft: must be a non-negative integer",
  );
  refuses(
    (d) => delete (p(d).rlimits![0] as Partial<{ hard: number }>).hard,
    "config.json: process.rlimits[0].hard: is required",
  );
  assert.equal(RLIMIT_NAMES.length, 16);
  assert.ok(RLIMIT_NAMES.includes("RLIMIT_MSGQUEUE") && RLIMIT_NAMES.includes("RLIMIT_RTTIME"));
});

Deno.test("process.rlimits: 64-bit values compare exactly", () => {
  const doc = base();
  const text = JSON.stringify(doc).replace(
    '"hard":1024,"soft":1024',
    '"hard":18446744073709551614,"soft":18446744073709551615',
  );
  assert.throws(() => parseOciSpec(text), {
    message:
      "config.json: process.rlimits[0].soft: 18446744073709551615 is above the hard limit 18446744073709551614",
  });
  const tooBig = JSON.stringify(doc).replace('"hard":1024', '"hard":18446744073709551616');
  assert.throws(() => parseOciSpec(tooBig), {
    message: "config.json: process.rlimits[0].hard: must be at most 18446744073709551615",
  });
});

Deno.test("process.capabilities: known CAP_* names only", () => {
  refuses(
    (d) => p(d).capabilities!.bounding!.push("CAP_FOO"),
    'config.json: process.capabilities.bounding[3]: unknown capability "CAP_FOO"',
  );
  refuses(
    (d) => (p(d).capabilities!.ambient = ["chown"]),
    'config.json: process.capabilities.ambient[0]: unknown capability "chown"',
  );
  refuses(
    (d) => (p(d).capabilities!.inheritable = "CAP_KILL" as unknown as string[]),
    "config.json: process.capabilities.inheritable: must be a list",
  );
});

Deno.test("linux.namespaces: known types, once each, absolute paths", () => {
  refuses(
    (d) => (l(d).namespaces![2] = { type: "foo" as "pid" }),
    'config.json: linux.namespaces[2].type: unknown namespace type "foo"',
  );
  refuses(
    (d) => l(d).namespaces!.push({ type: "pid" }),
    'config.json: linux.namespaces[5].type: duplicate namespace type "pid"',
  );
  refuses(
    (d) => (l(d).namespaces![1].path = "run/netns/x"),
    "config.json: linux.namespaces[1].path: must be an absolute path",
  );
  refuses(
    (d) => (l(d).namespaces![0] = {} as { type: "pid" }),
    "config.json: linux.namespaces[0].type: is required",
  );
  for (const type of NAMESPACE_TYPES) {
    const doc = base();
    doc.linux!.namespaces = [{ type, path: `/proc/1/ns/${type}` }];
    parseOciSpec(JSON.stringify({ ...doc, hostname: undefined }));
  }
});

Deno.test("user namespace mappings: sizes, ranges, and a user namespace to go with them", () => {
  const userns = (d: Doc) => {
    l(d).namespaces!.push({ type: "user" });
    l(d).uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    l(d).gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  refuses((d) => {
    userns(d);
    l(d).uidMappings![0].size = 0;
  }, "config.json: linux.uidMappings[0].size: must be at least 1");
  refuses((d) => {
    userns(d);
    l(d).gidMappings![0] = { containerID: 0, hostID: 4294967295, size: 2 };
  }, "config.json: linux.gidMappings[0]: hostID 4294967295 + size 2 goes past 4294967295");
  refuses((d) => {
    userns(d);
    delete (l(d).uidMappings![0] as Partial<{ hostID: number }>).hostID;
  }, "config.json: linux.uidMappings[0].hostID: is required");
  refuses((d) => {
    l(d).uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  }, "config.json: linux.uidMappings: needs a user namespace");
  refuses(
    (d) => l(d).namespaces!.push({ type: "user" }),
    "config.json: linux.namespaces[5]: a new user namespace needs uidMappings and gidMappings",
  );
  // Joining one needs no mappings: the namespace has them.
  const join = base();
  join.linux!.namespaces!.push({ type: "user", path: "/proc/1234/ns/user" });
  parseOciSpec(JSON.stringify(join));
  const mapped = base();
  userns(mapped);
  parseOciSpec(JSON.stringify(mapped));
});

Deno.test("hooks: absolute paths, positive timeouts, NAME=VALUE env", () => {
  refuses(
    (d) => (d.hooks!.prestart![0].path = "bin/true"),
    "config.json: hooks.prestart[0].path: must be an absolute path",
  );
  refuses(
    (d) => (d.hooks!.poststop![0].timeout = 0),
    "config.json: hooks.poststop[0].timeout: must be a positive number of seconds",
  );
  refuses(
    (d) => (d.hooks!.createRuntime = [{ path: "/h", env: ["X"] }]),
    'config.json: hooks.createRuntime[0].env[0]: must be "NAME=VALUE", not "X"',
  );
  refuses(
    (d) => (d.hooks!.startContainer = [{} as { path: string }]),
    "config.json: hooks.startContainer[0].path: is required",
  );
  for (const name of HOOK_NAMES) {
    refuses(
      (d) => (d.hooks = { [name]: [{ path: "/h", timeout: -1 }] }),
      `config.json: hooks.${name}[0].timeout: must be a positive number of seconds`,
    );
  }
});

Deno.test("mounts: destinations, mappings in pairs, idmap needs a mapping", () => {
  refuses(
    (d) => delete (d.mounts![1] as Partial<{ destination: string }>).destination,
    "config.json: mounts[1].destination: is required",
  );
  refuses(
    (d) => (d.mounts![1].options = "ro" as unknown as string[]),
    "config.json: mounts[1].options: must be a list",
  );
  refuses(
    (d) => (d.mounts![2].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    "config.json: mounts[2].uidMappings: needs gidMappings too",
  );
  refuses(
    (d) => (d.mounts![2].options = ["rbind", "idmap"]),
    "config.json: mounts[2].options: idmap needs uidMappings and gidMappings or a user namespace",
  );
  const mapped = base();
  mapped.mounts![2].options = ["rbind", "ridmap"];
  mapped.mounts![2].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  mapped.mounts![2].gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  parseOciSpec(JSON.stringify(mapped));
});

Deno.test("mounts: a relative destination (deprecated) is read under / with a warning", () => {
  const doc = base();
  doc.mounts![1].destination = "dev";
  const warnings: string[] = [];
  const spec = parseOciSpec(JSON.stringify(doc), "/b/config.json", (w) => warnings.push(w));
  assert.equal(spec.mounts![1].destination, "/dev");
  assert.deepEqual(warnings, [
    '/b/config.json: mounts[1].destination: "dev" is relative (deprecated): mounted at "/dev"',
  ]);
});

Deno.test("linux.seccomp: SCMP_ACT_*, SCMP_ARCH_*, SCMP_CMP_* names, and errnoRet's actions", () => {
  const sc = (d: Doc) => l(d).seccomp!;
  refuses(
    (d) => (sc(d).defaultAction = "SCMP_ACT_FOO"),
    'config.json: linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO"',
  );
  refuses(
    (d) => delete (sc(d) as Partial<{ defaultAction: string }>).defaultAction,
    "config.json: linux.seccomp.defaultAction: is required",
  );
  refuses(
    (d) => (sc(d).syscalls![0].action = "allow"),
    'config.json: linux.seccomp.syscalls[0].action: unknown seccomp action "allow"',
  );
  refuses(
    (d) => (sc(d).architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_AMD64"]),
    'config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "SCMP_ARCH_AMD64"',
  );
  refuses(
    (d) => (sc(d).flags = ["SECCOMP_FILTER_FLAG_FOO"]),
    'config.json: linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_FOO"',
  );
  refuses(
    (d) => (sc(d).syscalls![0].args![0].op = "SCMP_CMP_FOO"),
    'config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_FOO"',
  );
  refuses(
    (d) => (sc(d).syscalls![0].args![0].index = 6),
    "config.json: linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5",
  );
  refuses(
    (d) => (sc(d).syscalls![0].names = []),
    "config.json: linux.seccomp.syscalls[0].names: must have at least one entry",
  );
  refuses(
    (d) => (sc(d).syscalls![0].names = [""]),
    "config.json: linux.seccomp.syscalls[0].names[0]: must not be empty",
  );
  refuses(
    (d) => (sc(d).syscalls![0] = { names: ["kill"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }),
    "config.json: linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not SCMP_ACT_ALLOW",
  );
  refuses(
    (d) => (sc(d).defaultErrnoRet = 1),
    "config.json: linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not SCMP_ACT_ALLOW",
  );
  refuses(
    (d) => (sc(d).listenerMetadata = "x"),
    "config.json: linux.seccomp.listenerMetadata: needs listenerPath",
  );
  refuses(
    (d) => delete (sc(d).syscalls![0].args![0] as Partial<{ value: number }>).value,
    "config.json: linux.seccomp.syscalls[0].args[0].value: is required",
  );
});

Deno.test("linux.devices: c, b, u or p, major and minor unless p, absolute paths", () => {
  const dev = (d: Doc) => l(d).devices![0];
  refuses(
    (d) => (dev(d).type = "x" as "c"),
    'config.json: linux.devices[0].type: unknown device type "x"',
  );
  refuses(
    (d) => delete dev(d).major,
    'config.json: linux.devices[0].major: is required for type "c"',
  );
  refuses(
    (d) => (dev(d).minor = -1),
    "config.json: linux.devices[0].minor: must be an integer from 0 to 1048575",
  );
  refuses(
    (d) => (dev(d).major = 4096),
    "config.json: linux.devices[0].major: must be an integer from 0 to 4095",
  );
  refuses(
    (d) => (dev(d).path = "dev/fuse"),
    "config.json: linux.devices[0].path: must be an absolute path",
  );
  refuses(
    (d) => (dev(d).fileMode = -1),
    "config.json: linux.devices[0].fileMode: must be a non-negative integer",
  );
  const fifo = base();
  fifo.linux!.devices = [{ path: "/dev/fifo", type: "p" }];
  parseOciSpec(JSON.stringify(fifo));
});

Deno.test("linux.resources: devices rules, memory, cpu, pids", () => {
  refuses(
    (d) => (res(d).devices![0].access = "rwx"),
    'config.json: linux.resources.devices[0].access: must be made of r, w and m, not "rwx"',
  );
  refuses(
    (d) => delete (res(d).devices![0] as Partial<{ allow: boolean }>).allow,
    "config.json: linux.resources.devices[0].allow: is required",
  );
  refuses(
    (d) => (res(d).devices = [{ allow: true, type: "x" as "a" }]),
    'config.json: linux.resources.devices[0].type: unknown device type "x"',
  );
  refuses(
    (d) => (res(d).devices = [{ allow: true, type: "c", major: -2 }]),
    "config.json: linux.resources.devices[0].major: must be -1 (all) or a device number",
  );
  for (const bad of [0, -2, 1.5]) {
    refuses(
      (d) => (res(d).memory = { limit: bad }),
      "config.json: linux.resources.memory.limit: must be -1 (unlimited) or a positive number of bytes",
    );
  }
  refuses(
    (d) => (res(d).memory = { limit: 1 << 20, swap: 1 << 19 }),
    "config.json: linux.resources.memory.swap: 524288 is below limit 1048576 (swap counts memory plus swap)",
  );
  refuses(
    (d) => (res(d).memory = { reservation: -3 }),
    "config.json: linux.resources.memory.reservation: must be -1 (unlimited) or a number of bytes",
  );
  refuses(
    (d) => (res(d).memory = { swappiness: 101 }),
    "config.json: linux.resources.memory.swappiness: must be an integer from 0 to 100",
  );
  refuses(
    (d) => (res(d).cpu = { shares: 1 }),
    "config.json: linux.resources.cpu.shares: must be 0 (default) or from 2 to 262144",
  );
  refuses(
    (d) => (res(d).cpu = { quota: -2 }),
    "config.json: linux.resources.cpu.quota: must be -1 (unlimited) or a number of microseconds",
  );
  refuses(
    (d) => (res(d).cpu = { period: 999 }),
    "config.json: linux.resources.cpu.period: must be 0 (default) or from 1000 to 1000000 microseconds",
  );
  refuses(
    (d) => (res(d).cpu = { quota: 50000, burst: 60000 }),
    "config.json: linux.resources.cpu.burst: 60000 is above quota 50000",
  );
  refuses(
    (d) => (res(d).cpu = { cpus: "a-b" }),
    'config.json: linux.resources.cpu.cpus: must be a list such as "0-3,7", not "a-b"',
  );
  refuses(
    (d) => (res(d).cpu = { idle: 2 }),
    "config.json: linux.resources.cpu.idle: must be an integer from 0 to 1",
  );
  refuses(
    (d) => (res(d).pids = { limit: -2 }),
    "config.json: linux.resources.pids.limit: must be -1 (unlimited) or a number of tasks",
  );
  // 0 is a limit for the pids controller (config-linux.md), and -1 is unlimited.
  for (const limit of [0, -1, 100]) {
    const doc = base();
    doc.linux!.resources!.pids = { limit };
    doc.linux!.resources!.memory = { limit: -1, swap: -1 };
    doc.linux!.resources!.cpu = { shares: 0, quota: -1, period: 100000 };
    parseOciSpec(JSON.stringify(doc));
  }
});

Deno.test("linux.resources: blockIO, hugepageLimits, network, rdma, unified", () => {
  refuses(
    (d) => (res(d).blockIO = { weight: 5 }),
    "config.json: linux.resources.blockIO.weight: must be an integer from 10 to 1000",
  );
  refuses(
    (d) => (res(d).blockIO = { weightDevice: [{ major: 8, minor: 0 }] }),
    "config.json: linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight",
  );
  refuses(
    (d) => (res(d).blockIO = {
      throttleReadBpsDevice: [{ major: 8, minor: 0 } as { major: 8; minor: 0; rate: 1 }],
    }),
    "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required",
  );
  refuses(
    (d) => (res(d).hugepageLimits = [{ pageSize: "2M", limit: 1 }]),
    'config.json: linux.resources.hugepageLimits[0].pageSize: must be a size such as "2MB", not "2M"',
  );
  refuses(
    (d) => (res(d).network = { priorities: [{ name: "eth0", priority: -1 }] }),
    "config.json: linux.resources.network.priorities[0].priority: must be a non-negative integer",
  );
  refuses(
    (d) => (res(d).rdma = { mlx5_1: {} }),
    'config.json: linux.resources.rdma["mlx5_1"]: needs hcaHandles or hcaObjects',
  );
  refuses(
    (d) => (res(d).unified = { "../cpu.max": "max" }),
    'config.json: linux.resources.unified["../cpu.max"]: must name a file of the container\'s cgroup (no slashes)',
  );
  refuses(
    (d) => (res(d).unified = { "memory.max": 1 as unknown as string }),
    'config.json: linux.resources.unified["memory.max"]: must be a string',
  );
});

Deno.test("linux: propagation, masked and read-only paths, sysctl, and the rest", () => {
  refuses(
    (d) => (l(d).rootfsPropagation = "rpivate"),
    'config.json: linux.rootfsPropagation: unknown propagation "rpivate"',
  );
  refuses(
    (d) => l(d).maskedPaths!.push("proc/kcore"),
    "config.json: linux.maskedPaths[10]: must be an absolute path",
  );
  refuses(
    (d) => (l(d).readonlyPaths = [""]),
    "config.json: linux.readonlyPaths[0]: must be an absolute path",
  );
  refuses(
    (d) => (l(d).sysctl = { "net.ipv4.ip_forward": 1 as unknown as string }),
    'config.json: linux.sysctl["net.ipv4.ip_forward"]: must be a string',
  );
  refuses(
    (d) => (l(d).personality = { domain: "LINUX64" as "LINUX" }),
    'config.json: linux.personality.domain: unknown personality domain "LINUX64"',
  );
  refuses(
    (d) => (l(d).timeOffsets = { realtime: { secs: 1 } }),
    'config.json: linux.timeOffsets["realtime"]: unknown clock "realtime"',
  );
  refuses(
    (d) => (l(d).intelRdt = { memBwSchema: "L3:0=ff" }),
    'config.json: linux.intelRdt.memBwSchema: must start with "MB:"',
  );
  refuses(
    (d) => (l(d).intelRdt = { schemata: ["L3:0=ff\nMB:0=50"] }),
    "config.json: linux.intelRdt.schemata[0]: must not contain a newline",
  );
  refuses(
    (d) => (l(d).memoryPolicy = { mode: "MPOL_FOO" }),
    'config.json: linux.memoryPolicy.mode: unknown memory policy mode "MPOL_FOO"',
  );
  refuses(
    (d) => (l(d).cgroupsPath = 1 as unknown as string),
    "config.json: linux.cgroupsPath: must be a string",
  );
  for (const word of ["shared", "slave", "private", "unbindable", "rshared", "rprivate"]) {
    const doc = base();
    doc.linux!.rootfsPropagation = word;
    parseOciSpec(JSON.stringify(doc));
  }
});

Deno.test("hostname and annotations", () => {
  refuses(
    (d) => (l(d).namespaces = l(d).namespaces!.filter((n) => n.type !== "uts")),
    "config.json: hostname: needs a uts namespace in linux.namespaces",
  );
  refuses((d) => (d.hostname = 5 as unknown as string), "config.json: hostname: must be a string");
  refuses(
    (d) => (d.annotations = { "org.example.n": 1 as unknown as string }),
    'config.json: annotations["org.example.n"]: must be a string',
  );
  refuses(
    (d) => (d.annotations = ["a"] as unknown as Record<string, string>),
    "config.json: annotations: must be an object",
  );
});

// ---------------------------------------------------------------------------------------
// The state document.

Deno.test("ociState: the keys in runtime.md's order, pid when there is one", () => {
  const s = ociState({
    id: "oci-container1",
    status: "running",
    pid: 4422,
    bundle: "/containers/redis",
    annotations: { myKey: "myValue" },
  });
  assert.equal(
    JSON.stringify(s),
    '{"ociVersion":"1.1.0","id":"oci-container1","status":"running","pid":4422,' +
      '"bundle":"/containers/redis","annotations":{"myKey":"myValue"}}',
  );
  assert.deepEqual(ociState({ id: "c", status: "stopped", pid: 0, bundle: "/b" }), {
    ociVersion: OCI_VERSION,
    id: "c",
    status: "stopped",
    bundle: "/b",
  });
  assert.equal(ociState({ id: "c", status: "creating", bundle: "/b" }).pid, undefined);
  assert.equal(ociState({ id: "c", status: "paused", pid: 7, bundle: "/b" }).pid, 7);
});

Deno.test("ociState refuses what the state may not be", () => {
  const cases: Array<[Parameters<typeof ociState>[0], string, string]> = [
    [{ id: "", status: "stopped", bundle: "/b" }, "id", "state: id: must not be empty"],
    [
      { id: "c", status: "stopped", bundle: "b" },
      "bundle",
      "state: bundle: must be an absolute path",
    ],
    [{ id: "c", status: "created", bundle: "/b" }, "pid", "state: pid: is required when created"],
    [
      { id: "c", status: "running", bundle: "/b", pid: 0 },
      "pid",
      "state: pid: is required when running",
    ],
    [
      { id: "c", status: "running", bundle: "/b", pid: -3 },
      "pid",
      "state: pid: must be a positive integer",
    ],
  ];
  for (const [values, field, message] of cases) {
    assert.throws(() => ociState(values), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.deepEqual([e.field, e.message], [field, message]);
      return true;
    });
  }
});

// ---------------------------------------------------------------------------------------
// The features document.

Deno.test("ociFeatures: hooks, mount options, namespaces, capabilities, cgroup, LSMs", () => {
  const f = ociFeatures();
  assert.equal(f.ociVersionMin, "1.0.0");
  assert.equal(f.ociVersionMax, "1.1.0");
  assert.deepEqual(f.hooks, [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
  ]);
  // The table's words, less the ID-mapped mounts of spec 1.2 (features.md: no property or
  // value of a later version than ociVersionMax).
  assert.deepEqual(f.mountOptions, MOUNT_OPTION_NAMES.filter((w) => !w.includes("idmap")));
  assert.ok(f.mountOptions.includes("rro") && f.mountOptions.includes("tmpcopyup"));
  assert.deepEqual(f.linux.namespaces, [
    "cgroup",
    "ipc",
    "mount",
    "network",
    "pid",
    "time",
    "user",
    "uts",
  ]);
  assert.deepEqual(f.linux.capabilities, CAPABILITY_NAMES);
  assert.deepEqual(f.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false });
  assert.deepEqual(f.linux.apparmor, { enabled: false });
  assert.deepEqual(f.linux.selinux, { enabled: false });
  assert.deepEqual(Object.keys(f), [
    "ociVersionMin",
    "ociVersionMax",
    "hooks",
    "mountOptions",
    "linux",
  ]);
});

Deno.test("ociFeatures' seccomp lists exactly what src/seccomp compiles", () => {
  const s = ociFeatures().linux.seccomp;
  assert.equal(s.enabled, true);
  assert.deepEqual(s.archs, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  assert.deepEqual(s.actions, [...SUPPORTED_SECCOMP_ACTIONS].sort());
  assert.deepEqual(s.operators, [...SECCOMP_OPERATORS].sort());
  const profile = (action: string, op = "SCMP_CMP_EQ") =>
    JSON.stringify({
      defaultAction: action,
      syscalls: [{ names: ["read"], action, args: [{ index: 0, value: 1, op }] }],
    });
  for (const a of s.actions) parseSeccompProfile(profile(a));
  for (const op of s.operators) parseSeccompProfile(profile("SCMP_ACT_ALLOW", op));
  // The one action of the specification it leaves out, because the compiler refuses it.
  assert.throws(() => parseSeccompProfile(profile("SCMP_ACT_NOTIFY")), /unsupported action/);
  assert.equal(s.actions.length, 8);
});
