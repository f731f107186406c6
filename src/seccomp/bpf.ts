/**
 * Classic BPF as seccomp uses it: the instruction encoding (struct sock_filter), the
 * opcodes the compiler emits, and the layout of struct seccomp_data the program reads.
 *
 * @module
 */

/** One instruction: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }. */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The opcodes used here (linux/bpf_common.h: class | size/op | mode/source). */
export const BPF = {
  /** BPF_LD | BPF_W | BPF_ABS: A = 32-bit word of seccomp_data at k. */
  LD_W_ABS: 0x20,
  /** BPF_ALU | BPF_AND | BPF_K: A &= k. */
  ALU_AND_K: 0x54,
  /** BPF_JMP | BPF_JA: skip k instructions. */
  JA: 0x05,
  /** BPF_JMP | BPF_JEQ | BPF_K. */
  JEQ_K: 0x15,
  /** BPF_JMP | BPF_JGT | BPF_K (unsigned). */
  JGT_K: 0x25,
  /** BPF_JMP | BPF_JGE | BPF_K (unsigned). */
  JGE_K: 0x35,
  /** BPF_JMP | BPF_JSET | BPF_K: A & k != 0. */
  JSET_K: 0x45,
  /** BPF_RET | BPF_K: the filter's verdict is k. */
  RET_K: 0x06,
} as const;

/** Offsets in struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  /** Low 32 bits of args[i] (little endian). */
  argLow: (i: number): number => 16 + 8 * i,
  /** High 32 bits of args[i]. */
  argHigh: (i: number): number => 20 + 8 * i,
  size: 64,
} as const;

/** AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE). */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** AUDIT_ARCH_I386: what int 0x80 from any process reports. */
export const AUDIT_ARCH_I386 = 0x40000003;
/** The bit x32 system calls carry in their number under AUDIT_ARCH_X86_64. */
export const X32_SYSCALL_BIT = 0x40000000;

/** The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** Encodes instructions as the bytes of a struct sock_filter array (little endian). */
export function encodeProgram(insns: readonly BpfInsn[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return out;
}

/** Decodes `encodeProgram`'s bytes. */
export function decodeProgram(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) throw new Error("a BPF program is a multiple of 8 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const insns: BpfInsn[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    insns.push({
      code: view.getUint16(o, true),
      jt: view.getUint8(o + 2),
      jf: view.getUint8(o + 3),
      k: view.getUint32(o + 4, true),
    });
  }
  return insns;
}

/** The bytes as base64, for the init config (one JSON string rather than numbers). */
export function programToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** `programToBase64`'s inverse. */
export function programFromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
