/**
 * The cgroup v2 device program (src/cgroups/device_filter.ts), run by a small eBPF
 * interpreter that knows only the opcodes the compiler emits and refuses, as the kernel's
 * verifier would, what it cannot prove safe: a read of an unset register, a load from
 * anything but the context, a jump out of the program or backwards.
 */
import assert from "node:assert/strict";
import {
  accessBits,
  compileDeviceFilter,
  decodeEbpf,
  DEVCG_ACC,
  DEVCG_DEV,
  deviceFilterInsns,
  EBPF,
  type EbpfInsn,
  encodeEbpf,
} from "../../src/cgroups/device_filter.ts";
import {
  ALL_DEVICES_RULE,
  DEFAULT_DEVICE_RULES,
  type DeviceRule,
  parseDeviceRule,
} from "../../src/config/devices.ts";

type Reg = bigint | "ctx" | undefined;
const U32 = (v: bigint) => BigInt.asUintN(32, v);
const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** Runs `program` on struct bpf_cgroup_dev_ctx { access_type, major, minor }; returns r0. */
function run(program: Uint8Array, ctx: [number, number, number]): number {
  const insns = decodeEbpf(program);
  const r: Reg[] = new Array(11).fill(undefined);
  r[1] = "ctx";
  const scalar = (i: number): bigint => {
    const v = r[i];
    if (typeof v !== "bigint") throw new Error(`r${i} is ${v === undefined ? "unset" : "ctx"}`);
    return v;
  };
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    if (pc < 0 || pc >= insns.length) throw new Error(`pc ${pc} is outside the program`);
    const x = insns[pc];
    // As the verifier: fields an opcode does not use must be zero ("uses reserved fields").
    const reserved = (fields: Array<keyof EbpfInsn>) => {
      for (const f of fields) {
        if (x[f] !== 0) throw new Error(`${f} ${x[f]} of 0x${x.code.toString(16)} at ${pc}`);
      }
    };
    if (x.code === EBPF.LDX_MEM_W) reserved(["imm"]);
    else if (x.code === EBPF.ALU32_MOV_X) reserved(["off", "imm"]);
    else if (x.code === EBPF.JNE_X) reserved(["imm"]);
    else if (x.code === EBPF.JNE_K) reserved(["src"]);
    else if (x.code === EBPF.EXIT) reserved(["dst", "src", "off", "imm"]);
    else reserved(["src", "off"]);
    const jump = (taken: boolean) => {
      if (x.off < 0) throw new Error(`backward jump at ${pc}`);
      pc += 1 + (taken ? x.off : 0);
    };
    switch (x.code) {
      case EBPF.LDX_MEM_W: {
        if (r[x.src] !== "ctx") throw new Error(`load from r${x.src}, not the context`);
        if (![0, 4, 8].includes(x.off)) throw new Error(`context offset ${x.off}`);
        r[x.dst] = BigInt(ctx[x.off / 4] >>> 0);
        pc++;
        break;
      }
      case EBPF.ALU32_AND_K:
        r[x.dst] = U32(U32(scalar(x.dst)) & U32(BigInt(x.imm)));
        pc++;
        break;
      case EBPF.ALU32_RSH_K:
        r[x.dst] = U32(scalar(x.dst)) >> BigInt(x.imm & 31);
        pc++;
        break;
      case EBPF.ALU32_MOV_X:
        r[x.dst] = U32(scalar(x.src));
        pc++;
        break;
      case EBPF.ALU32_MOV_K:
        r[x.dst] = U32(BigInt(x.imm));
        pc++;
        break;
      case EBPF.JNE_K: // 64-bit compare with the sign-extended immediate
        jump(scalar(x.dst) !== U64(BigInt(x.imm)));
        break;
      case EBPF.JNE_X:
        jump(scalar(x.dst) !== scalar(x.src));
        break;
      case EBPF.EXIT:
        return Number(scalar(0));
      default:
        throw new Error(`opcode 0x${x.code.toString(16)} at ${pc} is not one the compiler emits`);
    }
  }
  throw new Error("the program did not finish");
}

type Kind = "b" | "c";
/** Whether the program lets a process do `access` (a subset of "rwm") on the device. */
function allows(program: Uint8Array, type: Kind, major: number, minor: number, access: string) {
  const devType = type === "b" ? DEVCG_DEV.block : DEVCG_DEV.char;
  const verdict = run(program, [devType | (accessBits(access) << 16), major, minor]);
  assert.ok(verdict === 0 || verdict === 1, `verdict ${verdict}`);
  return verdict === 1;
}

/** What the kernel's v1 devices.allow would decide for the same list. */
function reference(
  rules: readonly DeviceRule[],
  type: Kind,
  major: number,
  minor: number,
  a: string,
) {
  return rules.some((r) =>
    r.type === "a" ||
    (r.type === type && (r.major === null || r.major === major) &&
      (r.minor === null || r.minor === minor) && [...a].every((c) => r.access.includes(c)))
  );
}

const rules = (...text: string[]) => text.map((t) => parseDeviceRule(t));
const DEFAULTS = compileDeviceFilter(DEFAULT_DEVICE_RULES);

Deno.test("device filter: the default list allows the standard nodes, rw", () => {
  for (const minor of [3, 5, 7, 8, 9]) {
    for (const access of ["r", "w", "rw", "m", "rwm"]) {
      assert.ok(allows(DEFAULTS, "c", 1, minor, access), `c 1:${minor} ${access}`);
    }
  }
  for (const minor of [0, 1, 2]) assert.ok(allows(DEFAULTS, "c", 5, minor, "rw"), `c 5:${minor}`);
  for (const minor of [0, 1, 7, 255, 4096, 1048575]) {
    assert.ok(allows(DEFAULTS, "c", 136, minor, "rw"), `pts ${minor}`);
  }
});

Deno.test("device filter: the default list allows mknod of any node, and nothing else", () => {
  for (const [type, major, minor] of [["c", 1, 11], ["b", 8, 0], ["c", 10, 200], ["b", 7, 0]]) {
    assert.ok(allows(DEFAULTS, type as Kind, major as number, minor as number, "m"));
  }
  assert.equal(allows(DEFAULTS, "b", 8, 0, "r"), false, "read a disk");
  assert.equal(allows(DEFAULTS, "b", 8, 0, "w"), false, "write a disk");
  assert.equal(allows(DEFAULTS, "b", 7, 0, "rw"), false, "a loop device");
  assert.equal(allows(DEFAULTS, "c", 1, 11, "r"), false, "/dev/kmsg");
  assert.equal(allows(DEFAULTS, "c", 1, 1, "r"), false, "/dev/mem");
  assert.equal(allows(DEFAULTS, "c", 10, 200, "rw"), false, "/dev/net/tun");
  assert.equal(allows(DEFAULTS, "c", 4, 0, "w"), false, "/dev/tty0");
  assert.equal(allows(DEFAULTS, "c", 5, 3, "r"), false, "c 5:3 is not in the list");
  assert.equal(allows(DEFAULTS, "c", 137, 0, "r"), false, "only major 136 is pts");
  assert.equal(allows(DEFAULTS, "b", 1, 3, "r"), false, "block 1:3 is not char 1:3");
});

Deno.test("device filter: the default program is 64 instructions and ends in return 0", () => {
  const insns = deviceFilterInsns(DEFAULT_DEVICE_RULES);
  assert.equal(insns.length, 64);
  assert.equal(DEFAULTS.length, 64 * 8);
  assert.deepEqual(insns.slice(-2).map((x) => [x.code, x.imm]), [[EBPF.ALU32_MOV_K, 0], [
    EBPF.EXIT,
    0,
  ]]);
  // Every jump lands inside the program, forwards.
  insns.forEach((x, i) => {
    if (x.code === EBPF.JNE_K || x.code === EBPF.JNE_X) {
      assert.ok(x.off >= 0 && i + 1 + x.off < insns.length, `jump at ${i}`);
    }
  });
});

Deno.test("device filter: a custom list allows exactly what it names", () => {
  const list = rules("c 10:200 rwm", "b 8:* r", "c *:* m");
  const p = compileDeviceFilter(list);
  assert.ok(allows(p, "c", 10, 200, "rw"));
  assert.ok(allows(p, "b", 8, 0, "r"));
  assert.ok(allows(p, "b", 8, 17, "r"));
  assert.equal(allows(p, "b", 8, 17, "w"), false);
  assert.equal(allows(p, "b", 8, 17, "rw"), false);
  assert.equal(allows(p, "b", 8, 17, "m"), false, "no block mknod in this list");
  assert.ok(allows(p, "c", 4, 4, "m"));
  assert.equal(allows(p, "c", 10, 201, "r"), false);
  assert.equal(allows(p, "c", 1, 3, "r"), false, "/dev/null is not in this list");
});

Deno.test("device filter: a rule with partial access denies the rest", () => {
  const p = compileDeviceFilter(rules("c 1:3 r"));
  assert.ok(allows(p, "c", 1, 3, "r"));
  assert.equal(allows(p, "c", 1, 3, "w"), false);
  assert.equal(allows(p, "c", 1, 3, "rw"), false, "O_RDWR asks for both");
  assert.equal(allows(p, "c", 1, 3, "m"), false);
  const rw = compileDeviceFilter(rules("c 1:3 rw"));
  assert.ok(allows(rw, "c", 1, 3, "rw"));
  assert.equal(allows(rw, "c", 1, 3, "m"), false);
});

Deno.test("device filter: `a *:* rwm` allows everything; an empty list nothing", () => {
  const all = compileDeviceFilter([ALL_DEVICES_RULE, ...DEFAULT_DEVICE_RULES]);
  assert.equal(all.length, 2 * 8, "w0 = 1; exit");
  for (const [type, major, minor] of [["b", 8, 0], ["c", 1, 11], ["c", 10, 200], ["b", 259, 1]]) {
    assert.ok(allows(all, type as Kind, major as number, minor as number, "rwm"));
  }
  const none = compileDeviceFilter([]);
  assert.equal(allows(none, "c", 1, 3, "r"), false);
  assert.equal(allows(none, "c", 1, 3, "m"), false);
});

Deno.test("device filter: agrees with v1's rules over a grid of devices and lists", () => {
  const lists: DeviceRule[][] = [
    [...DEFAULT_DEVICE_RULES],
    rules("c 1:* rw", "b *:3 m", "c 5:1 w"),
    rules("b 8:0 rwm", "b 8:0 r", "c 136:* rw"),
    rules("c *:* r", "b *:* w"),
    rules("c 4095:1048575 rwm"),
  ];
  const majors = [0, 1, 5, 8, 136, 4095], minors = [0, 1, 3, 11, 1048575];
  const accesses = ["r", "w", "m", "rw", "rm", "wm", "rwm"];
  let cases = 0;
  for (const list of lists) {
    const p = compileDeviceFilter(list);
    for (const type of ["b", "c"] as const) {
      for (const major of majors) {
        for (const minor of minors) {
          for (const access of accesses) {
            const want = reference(list, type, major, minor, access);
            assert.equal(
              allows(p, type, major, minor, access),
              want,
              `${type} ${major}:${minor} ${access} under ${JSON.stringify(list)}`,
            );
            cases++;
          }
        }
      }
    }
  }
  assert.equal(cases, lists.length * 2 * majors.length * minors.length * accesses.length);
});

Deno.test("device filter: numbers no device has match nothing; bad rules throw", () => {
  const huge = compileDeviceFilter(rules("c 4294967295:* rwm", "c 1:99999999999 rwm"));
  assert.deepEqual(huge, compileDeviceFilter([]), "both rules are left out");
  assert.throws(
    () => compileDeviceFilter([{ type: "c", major: 1, minor: 3, access: "rx" }]),
    /invalid device access "rx"/,
  );
  assert.throws(
    () => compileDeviceFilter([{ type: "c", major: -1, minor: 3, access: "r" }]),
    /invalid device major -1/,
  );
  assert.throws(
    () => compileDeviceFilter([{ type: "x" as "c", major: 1, minor: 3, access: "r" }]),
    /invalid device type "x"/,
  );
});

Deno.test("device filter: struct bpf_insn encoding, little endian, dst in the low nibble", () => {
  const insns: EbpfInsn[] = [
    { code: EBPF.LDX_MEM_W, dst: 4, src: 1, off: 4, imm: 0 },
    { code: EBPF.JNE_K, dst: 5, src: 0, off: 3, imm: 136 },
    { code: EBPF.ALU32_MOV_K, dst: 0, src: 0, off: 0, imm: -1 },
  ];
  const bytes = encodeEbpf(insns);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x61, 0x14, 4, 0, 0, 0, 0, 0]);
  assert.deepEqual([...bytes.subarray(8, 16)], [0x55, 0x05, 3, 0, 136, 0, 0, 0]);
  assert.deepEqual([...bytes.subarray(16, 24)], [0xb4, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(decodeEbpf(bytes), insns);
  assert.equal(accessBits("rwm"), DEVCG_ACC.read | DEVCG_ACC.write | DEVCG_ACC.mknod);
});

Deno.test("device filter: the interpreter refuses what the verifier would", () => {
  const bad = (insns: EbpfInsn[]) => encodeEbpf(insns);
  const exit = { code: EBPF.EXIT, dst: 0, src: 0, off: 0, imm: 0 };
  assert.throws(() => run(bad([exit]), [0, 0, 0]), /r0 is unset/);
  assert.throws(
    () => run(bad([{ code: EBPF.LDX_MEM_W, dst: 2, src: 3, off: 0, imm: 0 }, exit]), [0, 0, 0]),
    /not the context/,
  );
  assert.throws(
    () => run(bad([{ code: EBPF.JNE_K, dst: 1, src: 0, off: 0, imm: 0 }, exit]), [0, 0, 0]),
    /r1 is ctx/,
  );
  assert.throws(
    () => run(bad([{ code: EBPF.ALU32_MOV_X, dst: 1, src: 3, off: 2, imm: 0 }, exit]), [0, 0, 0]),
    /off 2 of 0xbc at 0/,
  );
});
