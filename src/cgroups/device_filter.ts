/**
 * The device allow-list as an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, the cgroup
 * v2 counterpart of v1's `devices.allow` (v2 has no devices files). The kernel runs the
 * program on every mknod and every open of a device node by a process in the cgroup, with
 * `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }` in r1: the device
 * type in the low 16 bits of access_type, the requested access in the high 16. The program
 * returns 1 to allow, 0 to deny (the caller then gets EPERM).
 *
 * The program is a prelude that unpacks the context into r2-r5, one block per rule that
 * falls through to the next rule on the first mismatch and returns 1 when all its checks
 * pass, and a final "return 0": everything no rule allows is denied. Pure: no FFI here.
 *
 * @module
 */

import type { DeviceRule } from "../config/devices.ts";

/** One eBPF instruction: struct bpf_insn { u8 code; u8 dst:4, src:4; s16 off; s32 imm; }. */
export interface EbpfInsn {
  code: number;
  dst: number;
  src: number;
  /** Jump offset, relative to the next instruction; memory offset for loads. */
  off: number;
  imm: number;
}

/** The opcodes this compiler emits (linux/bpf.h: class | op | source, or class | mode | size). */
export const EBPF = {
  /** BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off), zero-extended. */
  LDX_MEM_W: 0x61,
  /** BPF_ALU | BPF_AND | BPF_K: dst = (u32)dst & imm (the upper half is cleared). */
  ALU32_AND_K: 0x54,
  /** BPF_ALU | BPF_RSH | BPF_K: dst = (u32)dst >> imm. */
  ALU32_RSH_K: 0x74,
  /** BPF_ALU | BPF_MOV | BPF_X: dst = (u32)src. */
  ALU32_MOV_X: 0xbc,
  /** BPF_ALU | BPF_MOV | BPF_K: dst = (u32)imm. */
  ALU32_MOV_K: 0xb4,
  /** BPF_JMP | BPF_JNE | BPF_K: if dst != imm (sign-extended to 64 bits) goto pc + 1 + off. */
  JNE_K: 0x55,
  /** BPF_JMP | BPF_JNE | BPF_X: if dst != src goto pc + 1 + off. */
  JNE_X: 0x5d,
  /** BPF_JMP | BPF_EXIT: return r0. */
  EXIT: 0x95,
} as const;

/** BPF_DEVCG_DEV_*: the device type in the low 16 bits of access_type. */
export const DEVCG_DEV = { block: 1, char: 2 } as const;
/** BPF_DEVCG_ACC_*: the access asked for, in the high 16 bits of access_type. */
export const DEVCG_ACC = { mknod: 1, read: 2, write: 4 } as const;

/** The license the program is loaded under: it calls no helper, so any string is accepted. */
export const DEVICE_FILTER_LICENSE = "MIT";

// Offsets in struct bpf_cgroup_dev_ctx.
const CTX_ACCESS_TYPE = 0, CTX_MAJOR = 4, CTX_MINOR = 8;
// Registers: r0 is the verdict, r1 the context, r2-r5 what the prelude unpacks.
const R0 = 0, R1 = 1, R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5;
/** The largest number a JNE_K can compare exactly with a zero-extended u32 (imm is signed). */
const MAX_IMM = 0x7fffffff;

const insn = (code: number, dst: number, src: number, off: number, imm: number): EbpfInsn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** The access bits of an `rwm` string. */
export function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) {
    if (ch === "r") bits |= DEVCG_ACC.read;
    else if (ch === "w") bits |= DEVCG_ACC.write;
    else if (ch === "m") bits |= DEVCG_ACC.mknod;
    else throw new Error(`invalid device access "${access}": want a subset of "rwm"`);
  }
  return bits;
}

const ALL_ACCESS = DEVCG_ACC.read | DEVCG_ACC.write | DEVCG_ACC.mknod;

/** The checks of one rule, each a "goto next rule" on mismatch; the caller sets the offsets. */
function ruleChecks(rule: DeviceRule): EbpfInsn[] {
  const type = rule.type === "b" ? DEVCG_DEV.block : DEVCG_DEV.char;
  const access = accessBits(rule.access);
  // if (type != TYPE) goto next
  const checks = [insn(EBPF.JNE_K, R_TYPE, 0, 0, type)];
  if (access !== ALL_ACCESS) {
    // Every bit asked for must be in the rule's access (open O_RDWR asks for r and w at
    // once): w1 = access & RULE; if (w1 != access) goto next. r1 (the context) is no
    // longer needed after the prelude, so it serves as scratch.
    checks.push(
      insn(EBPF.ALU32_MOV_X, R1, R_ACCESS, 0, 0), // w1 = w3
      insn(EBPF.ALU32_AND_K, R1, 0, 0, access), // w1 &= RULE
      insn(EBPF.JNE_X, R1, R_ACCESS, 0, 0), // if (r1 != r3) goto next
    );
  }
  // if (major != MAJOR) goto next; likewise the minor. null (`*`) needs no check.
  if (rule.major !== null) checks.push(insn(EBPF.JNE_K, R_MAJOR, 0, 0, rule.major));
  if (rule.minor !== null) checks.push(insn(EBPF.JNE_K, R_MINOR, 0, 0, rule.minor));
  return checks;
}

/** A number a rule can hold: null, or an integer from 0. */
function checkNumber(n: number | null, what: string, rule: DeviceRule): void {
  if (n !== null && !(Number.isInteger(n) && n >= 0)) {
    throw new Error(`invalid device ${what} ${n} in rule ${JSON.stringify(rule)}`);
  }
}

/**
 * Compiles an allow-list to eBPF instructions. A rule of type `a` allows every device and
 * every access whatever its numbers and access say, as the kernel's v1 `devices.allow`
 * treats any `a` line, so one list means the same on v1 and v2. A rule whose major or minor
 * no Linux device can have (above 2^31 - 1; the kernel's are 12 and 20 bits) matches
 * nothing and is left out. Throws for a malformed rule.
 *
 * @example
 * ```ts
 * deviceFilterInsns(DEFAULT_DEVICE_RULES).length; // 64
 * ```
 */
export function deviceFilterInsns(rules: readonly DeviceRule[]): EbpfInsn[] {
  for (const rule of rules) {
    if (rule.type !== "a" && rule.type !== "b" && rule.type !== "c") {
      throw new Error(`invalid device type "${rule.type}": want a, b or c`);
    }
    checkNumber(rule.major, "major", rule);
    checkNumber(rule.minor, "minor", rule);
    accessBits(rule.access);
  }
  const allow = [insn(EBPF.ALU32_MOV_K, R0, 0, 0, 1), insn(EBPF.EXIT, 0, 0, 0, 0)];
  if (rules.some((r) => r.type === "a")) return allow; // w0 = 1; return
  const out: EbpfInsn[] = [
    insn(EBPF.LDX_MEM_W, R_TYPE, R1, CTX_ACCESS_TYPE, 0), // r2 = ctx->access_type
    insn(EBPF.ALU32_AND_K, R_TYPE, 0, 0, 0xffff), // w2 &= 0xffff: the type
    insn(EBPF.LDX_MEM_W, R_ACCESS, R1, CTX_ACCESS_TYPE, 0), // r3 = ctx->access_type
    insn(EBPF.ALU32_RSH_K, R_ACCESS, 0, 0, 16), // w3 >>= 16: the access
    insn(EBPF.LDX_MEM_W, R_MAJOR, R1, CTX_MAJOR, 0), // r4 = ctx->major
    insn(EBPF.LDX_MEM_W, R_MINOR, R1, CTX_MINOR, 0), // r5 = ctx->minor
  ];
  const fits = (n: number | null) => n === null || n <= MAX_IMM;
  for (const rule of rules.filter((r) => fits(r.major) && fits(r.minor))) {
    const checks = ruleChecks(rule);
    // The block is the checks then "w0 = 1; return": the next rule starts right after.
    const next = out.length + checks.length + allow.length;
    // Each check jumps there on a mismatch: the offset counts from the instruction after it.
    // Only the jumps get an offset: the verifier refuses any other instruction with one.
    for (const c of checks) {
      const isJump = c.code === EBPF.JNE_K || c.code === EBPF.JNE_X;
      out.push(isJump ? { ...c, off: next - (out.length + 1) } : c);
    }
    out.push(...allow);
  }
  out.push(insn(EBPF.ALU32_MOV_K, R0, 0, 0, 0), insn(EBPF.EXIT, 0, 0, 0, 0)); // return 0
  return out;
}

/** Encodes instructions as the bytes of a struct bpf_insn array (little endian). */
export function encodeEbpf(insns: readonly EbpfInsn[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((x, i) => {
    view.setUint8(i * 8, x.code);
    view.setUint8(i * 8 + 1, (x.src << 4) | x.dst);
    view.setInt16(i * 8 + 2, x.off, true);
    view.setInt32(i * 8 + 4, x.imm, true);
  });
  return out;
}

/** Decodes `encodeEbpf`'s bytes. */
export function decodeEbpf(bytes: Uint8Array): EbpfInsn[] {
  if (bytes.length % 8 !== 0) throw new Error("an eBPF program is a multiple of 8 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EbpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    const regs = view.getUint8(o + 1);
    out.push(
      insn(
        view.getUint8(o),
        regs & 0xf,
        regs >> 4,
        view.getInt16(o + 2, true),
        view.getInt32(o + 4, true),
      ),
    );
  }
  return out;
}

/**
 * The program for an allow-list, ready for bpf(BPF_PROG_LOAD): see `deviceFilterInsns`.
 *
 * @example
 * ```ts
 * const program = compileDeviceFilter(DEFAULT_DEVICE_RULES); // 64 instructions, 512 bytes
 * ```
 */
export function compileDeviceFilter(rules: readonly DeviceRule[]): Uint8Array<ArrayBuffer> {
  return encodeEbpf(deviceFilterInsns(rules));
}
