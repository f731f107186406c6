/** Docker's JSON seccomp profiles: parsing, and resolution for one container. */
import assert from "node:assert/strict";
import {
  actionReturn,
  parseSeccompProfile,
  resolveProfile,
  SECCOMP_RET,
  SeccompProfileError,
} from "../../src/seccomp/profile.ts";
import { DOCKER_DEFAULT_PROFILE } from "../../src/seccomp/docker_default.ts";
import { SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import { DEFAULT_CAPABILITIES } from "../../src/rootfs/capabilities.ts";

Deno.test("a Docker JSON profile parses, 64-bit values exactly", () => {
  const p = parseSeccompProfile(`{
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "mmap", "action": "SCMP_ACT_ALLOW", "args": [
        {"index": 2, "value": 18446744069414584320, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
      ]},
      {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
       "args": null, "comment": "ignored", "includes": {}, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
    ]
  }`);
  assert.equal(p.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  assert.deepEqual(p.syscalls[0].names, ["read", "write"]);
  assert.deepEqual(p.syscalls[1].names, ["mmap"]);
  assert.equal(p.syscalls[1].args![0].value, 0xffffffff00000000n);
  assert.equal(p.syscalls[1].args![0].valueTwo, 0n);
  assert.equal(p.syscalls[2].errnoRet, 38);
  assert.equal(p.syscalls[2].args, undefined);
  assert.equal(p.syscalls[2].includes, undefined);
  assert.deepEqual(p.syscalls[2].excludes, { caps: ["CAP_SYS_ADMIN"] });
});

Deno.test("a profile with a wrong field is refused, naming the field", () => {
  const cases: Array<[string, RegExp]> = [
    ["{", /JSON/],
    ["[]", /top level/],
    [`{"defaultAction": "SCMP_ACT_NOTIFY", "syscalls": []}`, /defaultAction: unsupported/],
    [
      `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}`,
      /syscalls\[0\]: has no names/,
    ],
    [
      `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`,
      /args\[0\]\.index/,
    ],
    [
      `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ISH"}]}]}`,
      /args\[0\]\.op/,
    ],
    [
      `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}`,
      /value: must fit in 64 bits/,
    ],
    [`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}`, /defaultErrnoRet/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseSeccompProfile(text), (e: Error) => {
      assert.ok(e instanceof SeccompProfileError, String(e));
      assert.match(e.message, message);
      return true;
    }, text);
  }
});

Deno.test("includes and excludes decide by caps, arch and kernel, as Docker does", () => {
  const p = parseSeccompProfile(JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["read"],
        action: "SCMP_ACT_ALLOW",
        includes: { caps: ["CAP_SYS_ADMIN", "CAP_BPF"] },
      },
      {
        names: ["write"],
        action: "SCMP_ACT_ALLOW",
        excludes: { caps: ["CAP_BPF", "CAP_SYS_ADMIN"] },
      },
      { names: ["open"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm64"] } },
      { names: ["close"], action: "SCMP_ACT_ALLOW", includes: { arches: ["x86", "amd64"] } },
      { names: ["stat"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["amd64"] } },
      { names: ["fstat"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "5.10" } },
      { names: ["lstat"], action: "SCMP_ACT_ALLOW", excludes: { minKernel: "5.10" } },
      { names: ["no_such_call", "poll"], action: "SCMP_ACT_ALLOW" },
    ],
  }));
  const names = (caps: number[], kernel: [number, number]) =>
    resolveProfile(p, { capabilities: caps, kernel }).rules.map((r) => r.name);
  const SYS_ADMIN = 21, BPF = 39;
  assert.deepEqual(names([], [5, 4]), ["write", "close", "lstat", "poll"]);
  assert.deepEqual(names([SYS_ADMIN], [5, 10]), ["close", "fstat", "poll"]);
  assert.deepEqual(names([SYS_ADMIN, BPF], [6, 1]), ["read", "close", "fstat", "poll"]);
});

Deno.test("two comparisons of one argument become two rules (ORed), as runc does", () => {
  const p = parseSeccompProfile(JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, value: 0, op: "SCMP_CMP_EQ" },
        { index: 0, value: 8, op: "SCMP_CMP_EQ" },
      ],
    }, {
      names: ["mmap"],
      action: "SCMP_ACT_ALLOW",
      args: [
        { index: 0, value: 0, op: "SCMP_CMP_EQ" },
        { index: 2, value: 1, op: "SCMP_CMP_EQ" },
      ],
    }],
  }));
  const rules = resolveProfile(p, { capabilities: [], kernel: [6, 1] }).rules;
  assert.deepEqual(rules.map((r) => [r.name, r.args.length]), [
    ["personality", 1],
    ["personality", 1],
    ["mmap", 2],
  ]);
});

Deno.test("actions map to the kernel's return values", () => {
  assert.equal(actionReturn("SCMP_ACT_ALLOW"), 0x7fff0000);
  assert.equal(actionReturn("SCMP_ACT_ERRNO"), 0x00050001);
  assert.equal(actionReturn("SCMP_ACT_ERRNO", 38), 0x00050026);
  assert.equal(actionReturn("SCMP_ACT_KILL"), 0);
  assert.equal(actionReturn("SCMP_ACT_KILL_THREAD"), 0);
  assert.equal(actionReturn("SCMP_ACT_KILL_PROCESS"), SECCOMP_RET.KILL_PROCESS);
  assert.equal(actionReturn("SCMP_ACT_TRAP"), 0x00030000);
  assert.equal(actionReturn("SCMP_ACT_LOG"), 0x7ffc0000);
  assert.equal(actionReturn("SCMP_ACT_TRACE", 5), 0x7ff00005);
});

Deno.test("Docker's default profile resolves to Docker's lists for the default caps", () => {
  const flat = resolveProfile(DOCKER_DEFAULT_PROFILE, {
    capabilities: DEFAULT_CAPABILITIES,
    kernel: [6, 1],
  });
  assert.equal(flat.defaultRet, 0x00050001);
  assert.deepEqual(flat.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const byName = new Map(flat.rules.map((r) => [r.name, r]));
  // Every name of the profile that x86_64 has is known to the table, but for the 32-bit and
  // other arches' names (their rules are for those arches, or they are 32-bit variants).
  const unknown = DOCKER_DEFAULT_PROFILE.syscalls.flatMap((s) => s.names)
    .filter((n) => !SYSCALLS_X86_64.has(n));
  for (const n of unknown) {
    assert.match(
      n,
      /32$|64$|^_|^arm_|^s390_|^riscv_|^(breakpoint|cacheflush|set_tls|swapcontext|sync_file_range2|ipc|socketcall|send|recv|select|sigprocmask|sigreturn|stime|time64|umount|waitpid|mmap2|chown32|ugetrlimit|_llseek|_newselect)$/,
      n,
    );
  }
  assert.ok(byName.has("arch_prctl") && byName.has("modify_ldt"), "amd64's own calls");
  assert.ok(byName.has("chroot"), "CAP_SYS_CHROOT is a default cap");
  assert.ok(byName.has("ptrace"), "ptrace from kernel 4.8");
  for (const n of ["mount", "setns", "unshare", "bpf", "reboot", "iopl", "syslog", "acct"]) {
    assert.ok(!byName.has(n), n);
  }
  assert.equal(byName.get("clone3")!.ret, 0x00050026);
  assert.equal(byName.get("clone")!.args[0].value, 0x7e020000n);
  assert.equal(flat.rules.filter((r) => r.name === "personality").length, 5);
  assert.equal(flat.rules.filter((r) => r.args.length === 0).length, flat.rules.length - 7);
  const old = resolveProfile(DOCKER_DEFAULT_PROFILE, {
    capabilities: DEFAULT_CAPABILITIES,
    kernel: [4, 4],
  });
  assert.ok(!old.rules.some((r) => r.name === "ptrace"), "no ptrace before 4.8");
});
