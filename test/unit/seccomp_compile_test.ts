/** The seccomp compiler: Docker's default profile as BPF, run through the interpreter. */
import assert from "node:assert/strict";
import { DOCKER_DEFAULT_PROFILE } from "../../src/seccomp/docker_default.ts";
import {
  type FlatFilter,
  resolveProfile,
  SECCOMP_RET,
  type SeccompArg,
  type SeccompOp,
  type SeccompProfile,
} from "../../src/seccomp/profile.ts";
import { compileFilter } from "../../src/seccomp/compile.ts";
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF,
  decodeProgram,
  programFromBase64,
  programToBase64,
  X32_SYSCALL_BIT,
} from "../../src/seccomp/bpf.ts";
import {
  describeReturn,
  runProgram,
  type SeccompData,
  validateProgram,
} from "../../src/seccomp/interpret.ts";
import { MAX_SYSCALL_X86_64, SYSCALLS_X86_64 } from "../../src/seccomp/syscalls_x86_64.ts";
import { DEFAULT_CAPABILITIES } from "../../src/rootfs/capabilities.ts";

const CAP_SYS_ADMIN = 21;
const KERNEL: [number, number] = [6, 1];

function compileDefault(extraCaps: number[] = []) {
  const flat = resolveProfile(DOCKER_DEFAULT_PROFILE, {
    capabilities: [...DEFAULT_CAPABILITIES, ...extraCaps],
    kernel: KERNEL,
  });
  return { flat, compiled: compileFilter(flat) };
}

const { flat: defaultFlat, compiled: defaultProgram } = compileDefault();
const withSysAdmin = compileDefault([CAP_SYS_ADMIN]).compiled;

function nr(name: string): number {
  const n = SYSCALLS_X86_64.get(name);
  assert.ok(n !== undefined, `no syscall ${name}`);
  return n;
}

function verdict(
  program = defaultProgram,
  name: string | number,
  args: Array<number | bigint> = [],
  arch = AUDIT_ARCH_X86_64,
): string {
  const n = typeof name === "number" ? name : nr(name);
  return describeReturn(runProgram(program.insns, { nr: n, arch, args }).ret);
}

/** The profile's meaning, stated directly: what the compiled program must agree with. */
function reference(filter: FlatFilter, data: SeccompData): number {
  if (data.arch !== AUDIT_ARCH_X86_64 || data.nr >>> 0 >= X32_SYSCALL_BIT) {
    return SECCOMP_RET.KILL_PROCESS;
  }
  const max = Math.max(-1, ...filter.rules.map((r) => r.nr));
  const permissive = filter.defaultRet === SECCOMP_RET.ALLOW ||
    filter.defaultRet === SECCOMP_RET.LOG;
  if (data.nr > max) {
    return permissive || max < 0 ? filter.defaultRet : (SECCOMP_RET.ERRNO | 38);
  }
  const rules = filter.rules.filter((r) => r.nr === data.nr);
  const plain = rules.find((r) => r.args.length === 0);
  const arg = (i: number) => BigInt.asUintN(64, BigInt(data.args?.[i] ?? 0));
  const holds = (a: SeccompArg) => {
    const v = arg(a.index);
    switch (a.op) {
      case "SCMP_CMP_EQ":
        return v === a.value;
      case "SCMP_CMP_NE":
        return v !== a.value;
      case "SCMP_CMP_LT":
        return v < a.value;
      case "SCMP_CMP_LE":
        return v <= a.value;
      case "SCMP_CMP_GT":
        return v > a.value;
      case "SCMP_CMP_GE":
        return v >= a.value;
      case "SCMP_CMP_MASKED_EQ":
        return (v & a.value) === a.valueTwo;
    }
  };
  for (const r of rules) if (r.args.length && r.args.every(holds)) return r.ret;
  return plain ? plain.ret : filter.defaultRet;
}

Deno.test("the default profile compiles to a short program the kernel's checks accept", () => {
  const { insns, bytes } = defaultProgram;
  validateProgram(insns);
  assert.equal(bytes.length, insns.length * 8);
  assert.deepEqual(decodeProgram(bytes), insns);
  assert.deepEqual(programFromBase64(programToBase64(bytes)), bytes);
  // A binary search over runs of numbers: far below a linear scan of ~300 names (libseccomp's
  // x86_64 program for this profile is several hundred instructions).
  console.log(
    `default profile: ${insns.length} instructions, highest call ${defaultProgram.maxSyscall}`,
  );
  assert.ok(insns.length < 200, `${insns.length} instructions`);
  let longest = 0;
  for (const n of SYSCALLS_X86_64.values()) {
    longest = Math.max(longest, runProgram(insns, { nr: n, arch: AUDIT_ARCH_X86_64 }).steps);
  }
  console.log(`longest path: ${longest} instructions`);
  assert.ok(longest < 30, `longest path ${longest}`);
});

Deno.test("the default profile allows the calls it lists and denies others with EPERM", () => {
  for (const name of ["read", "write", "openat", "execve", "close_range", "rt_sigaction"]) {
    assert.equal(verdict(defaultProgram, name), "ALLOW", name);
  }
  for (const name of ["setresuid", "setgroups", "capset", "prctl", "exit_group", "wait4"]) {
    assert.equal(verdict(defaultProgram, name), "ALLOW", name);
  }
  // chroot comes with CAP_SYS_CHROOT, which Docker's default set has.
  assert.equal(verdict(defaultProgram, "chroot"), "ALLOW");
  for (
    const name of [
      "mount",
      "umount2",
      "unshare",
      "setns",
      "pivot_root",
      "keyctl",
      "add_key",
      "request_key",
      "kexec_load",
      "reboot",
      "swapon",
      "bpf",
      "perf_event_open",
      "userfaultfd",
      "open_by_handle_at",
      "sethostname",
    ]
  ) {
    assert.equal(verdict(defaultProgram, name), "ERRNO(1)", name);
  }
});

Deno.test("every x86_64 number gets what the profile says, for every arch and bit", () => {
  for (let n = 0; n <= MAX_SYSCALL_X86_64 + 20; n++) {
    const data = { nr: n, arch: AUDIT_ARCH_X86_64 };
    assert.equal(
      describeReturn(runProgram(defaultProgram.insns, data).ret),
      describeReturn(reference(defaultFlat, data)),
      `nr ${n}`,
    );
  }
});

Deno.test("x32 and i386 calls are killed, whatever their number", () => {
  for (const n of [0, 1, 59, 512, 520, 547]) {
    assert.equal(verdict(defaultProgram, n | X32_SYSCALL_BIT), "KILL_PROCESS", `x32 ${n}`);
    assert.equal(verdict(defaultProgram, n, [], AUDIT_ARCH_I386), "KILL_PROCESS", `i386 ${n}`);
  }
  assert.equal(verdict(defaultProgram, 0xffffffff), "KILL_PROCESS");
  assert.equal(verdict(defaultProgram, 0, [], 0xc00000b7 /* aarch64 */), "KILL_PROCESS");
});

Deno.test("numbers above the profile's highest call give ENOSYS, not EPERM", () => {
  const max = defaultProgram.maxSyscall;
  assert.equal(max, nr("futex_waitv"));
  assert.equal(verdict(defaultProgram, max), "ALLOW");
  for (const n of [max + 1, nr("cachestat"), nr("file_setattr"), 1000, X32_SYSCALL_BIT - 1]) {
    assert.equal(verdict(defaultProgram, n), "ERRNO(38)", `nr ${n}`);
  }
  // Numbers in range that the profile leaves out stay EPERM (the 335-423 hole, keyctl).
  assert.equal(verdict(defaultProgram, 400), "ERRNO(1)");
});

Deno.test("clone may create namespaces only with CAP_SYS_ADMIN; clone3 is ENOSYS without", () => {
  const THREAD = 0x3d0f00; // what pthread_create passes
  const VFORK = 0x4111; // posix_spawn: CLONE_VM | CLONE_VFORK | SIGCHLD
  for (const flags of [THREAD, VFORK, 0x11, /* fork: SIGCHLD */ 0x01200011]) {
    assert.equal(verdict(defaultProgram, "clone", [flags]), "ALLOW", flags.toString(16));
    assert.equal(verdict(withSysAdmin, "clone", [flags]), "ALLOW");
  }
  const NEWUSER = 0x10000000, NEWNS = 0x00020000, NEWNET = 0x40000000, NEWCGROUP = 0x02000000;
  for (const ns of [NEWUSER, NEWNS, NEWNET, NEWCGROUP, 0x04000000, 0x08000000, 0x20000000]) {
    assert.equal(verdict(defaultProgram, "clone", [ns | 0x11]), "ERRNO(1)", ns.toString(16));
    assert.equal(verdict(withSysAdmin, "clone", [ns | 0x11]), "ALLOW", ns.toString(16));
  }
  // Only the low word carries flags; bits above 32 do not hide a namespace flag.
  assert.equal(verdict(defaultProgram, "clone", [(1n << 40n) | BigInt(NEWUSER)]), "ERRNO(1)");
  assert.equal(verdict(defaultProgram, "clone3"), "ERRNO(38)");
  assert.equal(verdict(withSysAdmin, "clone3"), "ALLOW");
  assert.equal(verdict(defaultProgram, "unshare", [NEWUSER]), "ERRNO(1)");
  assert.equal(verdict(withSysAdmin, "unshare", [NEWUSER]), "ALLOW");
  assert.equal(verdict(withSysAdmin, "mount"), "ALLOW");
});

Deno.test("personality: only Docker's five values", () => {
  for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
    assert.equal(verdict(defaultProgram, "personality", [p]), "ALLOW", p.toString(16));
  }
  for (const p of [1, 0x0040000, /* ADDR_NO_RANDOMIZE */ 0x0400000, 0x20001, 0x1ffffffffn]) {
    assert.equal(verdict(defaultProgram, "personality", [p]), "ERRNO(1)", p.toString(16));
  }
});

Deno.test("socket: every family but AF_VSOCK", () => {
  const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;
  for (const family of [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET]) {
    assert.equal(verdict(defaultProgram, "socket", [family, 1, 0]), "ALLOW", `family ${family}`);
  }
  assert.equal(verdict(defaultProgram, "socket", [40, 1, 0]), "ERRNO(1)");
  assert.equal(verdict(defaultProgram, "socketpair", [40, 1, 0]), "ALLOW");
});

// ---------------------------------------------------------------------------------------
// Synthetic profiles: every comparison, long jumps.

const OPS: SeccompOp[] = [
  "SCMP_CMP_EQ",
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_GT",
  "SCMP_CMP_GE",
  "SCMP_CMP_MASKED_EQ",
];

/** Values around both words' edges, and the compared value itself. */
function probes(v: bigint): bigint[] {
  const out = new Set<bigint>([0n, 1n, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n]);
  for (const d of [-1n, 0n, 1n, -(1n << 32n), 1n << 32n]) {
    const x = v + d;
    if (x >= 0n && x < 1n << 64n) out.add(x);
  }
  return [...out];
}

function checkAgainstReference(profile: SeccompProfile, calls: SeccompData[]): number {
  const flat = resolveProfile(profile, { capabilities: [], kernel: KERNEL });
  const { insns } = compileFilter(flat);
  validateProgram(insns);
  for (const data of calls) {
    assert.equal(
      describeReturn(runProgram(insns, data).ret),
      describeReturn(reference(flat, data)),
      JSON.stringify(data, (_, v) => typeof v === "bigint" ? `0x${v.toString(16)}` : v),
    );
  }
  return insns.length;
}

Deno.test("every comparison on 64-bit values agrees with its definition", () => {
  const values = [0n, 5n, 0xffffffffn, 0x100000000n, 0x1234567890abcdefn, (1n << 64n) - 2n];
  const syscalls: SeccompProfile["syscalls"] = [];
  const calls: SeccompData[] = [];
  let n = 0;
  for (const op of OPS) {
    for (const value of values) {
      for (const valueTwo of op === "SCMP_CMP_MASKED_EQ" ? [0n, value & 0xff00ff00ffn] : [0n]) {
        const name = [...SYSCALLS_X86_64.keys()][n++];
        const index = n % 6;
        syscalls.push({
          names: [name],
          action: "SCMP_ACT_ALLOW",
          args: [{ index, value, valueTwo, op }],
        });
        for (const p of [...probes(value), ...probes(valueTwo)]) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[index] = p;
          calls.push({ nr: nr(name), arch: AUDIT_ARCH_X86_64, args });
        }
      }
    }
  }
  checkAgainstReference({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, calls);
});

Deno.test("rules on several arguments AND, rules of one call OR in order", () => {
  const eq = (index: number, value: bigint): SeccompArg => ({
    index,
    value,
    valueTwo: 0n,
    op: "SCMP_CMP_EQ",
  });
  const profile: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 13,
    syscalls: [
      { names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [eq(0, 1n), eq(1, 0x5401n)] },
      { names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 25, args: [eq(1, 0x5402n)] },
      { names: ["ioctl"], action: "SCMP_ACT_LOG" },
      { names: ["kill"], action: "SCMP_ACT_TRAP", args: [eq(1, 9n)] },
      { names: ["tkill"], action: "SCMP_ACT_KILL_PROCESS" },
    ],
  };
  const calls: SeccompData[] = [];
  for (const a0 of [0n, 1n, 2n]) {
    for (const a1 of [0n, 0x5401n, 0x5402n, 9n, 0x100005401n]) {
      for (const name of ["ioctl", "kill", "tkill", "read"]) {
        calls.push({ nr: nr(name), arch: AUDIT_ARCH_X86_64, args: [a0, a1] });
      }
    }
  }
  checkAgainstReference(profile, calls);
  const { insns } = compileFilter(resolveProfile(profile, { capabilities: [], kernel: KERNEL }));
  const ioctl = (a0: number, a1: number) =>
    describeReturn(
      runProgram(insns, { nr: nr("ioctl"), arch: AUDIT_ARCH_X86_64, args: [a0, a1] }).ret,
    );
  assert.equal(ioctl(1, 0x5401), "ALLOW");
  assert.equal(ioctl(2, 0x5401), "LOG");
  assert.equal(ioctl(2, 0x5402), "ERRNO(25)");
  assert.equal(
    verdict(compileFilter(resolveProfile(profile, { capabilities: [], kernel: KERNEL })), "read"),
    "ERRNO(13)",
  );
});

Deno.test("long programs reach far targets through RET copies and JA", () => {
  // Every call with an argument rule: a program of thousands of instructions, whose tree
  // jumps span far more than 255.
  const names = [...SYSCALLS_X86_64.keys()].slice(0, 300);
  const syscalls: SeccompProfile["syscalls"] = names.map((name, i) => ({
    names: [name],
    action: i % 3 === 0 ? "SCMP_ACT_ALLOW" : "SCMP_ACT_ERRNO",
    errnoRet: i % 7,
    args: [
      { index: i % 6, value: BigInt(i) << 20n, valueTwo: 0n, op: "SCMP_CMP_GE" },
      { index: (i + 1) % 6, value: BigInt(i), valueTwo: 0n, op: "SCMP_CMP_NE" },
    ],
  }));
  const calls: SeccompData[] = [];
  names.forEach((name, i) => {
    for (const v of [0n, BigInt(i), BigInt(i) << 20n, (BigInt(i) << 20n) + 1n]) {
      const args = [v, v, v, v, v, v];
      args[(i + 1) % 6] = v === 0n ? BigInt(i) : 7n;
      calls.push({ nr: nr(name), arch: AUDIT_ARCH_X86_64, args });
    }
  });
  const length = checkAgainstReference({ defaultAction: "SCMP_ACT_KILL", syscalls }, calls);
  assert.ok(length > 2000, `${length} instructions: not long enough to need long jumps`);
  const { insns } = compileFilter(resolveProfile({ defaultAction: "SCMP_ACT_KILL", syscalls }, {
    capabilities: [],
    kernel: KERNEL,
  }));
  assert.ok(insns.some((i) => i.code === BPF.JA), "no JA emitted");
});

Deno.test("a permissive default gets no ENOSYS above the highest call", () => {
  const profile: SeccompProfile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mount", "keyctl"], action: "SCMP_ACT_ERRNO" }],
  };
  const { insns } = compileFilter(resolveProfile(profile, { capabilities: [], kernel: KERNEL }));
  const v = (n: number) =>
    describeReturn(runProgram(insns, { nr: n, arch: AUDIT_ARCH_X86_64 }).ret);
  assert.equal(v(nr("mount")), "ERRNO(1)");
  assert.equal(v(nr("keyctl")), "ERRNO(1)");
  assert.equal(v(nr("read")), "ALLOW");
  assert.equal(v(nr("clone3")), "ALLOW");
  assert.equal(v(X32_SYSCALL_BIT | 1), "KILL_PROCESS");
});

Deno.test("of unconditional rules of one call with different actions, the first decides (libseccomp's)", () => {
  const profile: SeccompProfile = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
      { names: ["read"], action: "SCMP_ACT_LOG" },
      { names: ["write"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
      { names: ["write"], action: "SCMP_ACT_ALLOW" },
    ],
  };
  const { insns } = compileFilter(resolveProfile(profile, { capabilities: [], kernel: KERNEL }));
  const v = (n: number) =>
    describeReturn(runProgram(insns, { nr: n, arch: AUDIT_ARCH_X86_64 }).ret);
  assert.equal(v(nr("read")), "ALLOW");
  assert.equal(v(nr("write")), "ERRNO(1)");
});
