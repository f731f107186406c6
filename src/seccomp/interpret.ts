/**
 * A classic BPF interpreter for seccomp programs, for tests and debugging: checks a program
 * the way the kernel's loader does (bpf_check_classic and seccomp_check_filter, for the
 * opcodes used here), and runs it against one system call.
 *
 * @module
 */

import { BPF, BPF_MAXINSNS, type BpfInsn, SECCOMP_DATA } from "./bpf.ts";

/** One system call as the filter sees it: struct seccomp_data. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six 64-bit arguments; missing ones are 0. */
  args?: ReadonlyArray<bigint | number>;
}

const JUMPS = new Set<number>([BPF.JEQ_K, BPF.JGT_K, BPF.JGE_K, BPF.JSET_K]);

/**
 * Throws when the kernel would refuse the program: empty or over 4096 instructions, an
 * unknown opcode, a jump past the end, a load outside seccomp_data or not 4-aligned, or a
 * last instruction that is not a RET.
 */
export function validateProgram(insns: readonly BpfInsn[]): void {
  if (insns.length === 0 || insns.length > BPF_MAXINSNS) {
    throw new Error(`program length ${insns.length} not in 1..${BPF_MAXINSNS}`);
  }
  insns.forEach((insn, pc) => {
    const where = `instruction ${pc}`;
    if (insn.jt > 255 || insn.jf > 255 || insn.jt < 0 || insn.jf < 0) {
      throw new Error(`${where}: jump offsets are 8-bit`);
    }
    switch (insn.code) {
      case BPF.LD_W_ABS:
        if (insn.k % 4 !== 0 || insn.k >= SECCOMP_DATA.size) {
          throw new Error(`${where}: load at ${insn.k} outside seccomp_data`);
        }
        break;
      case BPF.ALU_AND_K:
      case BPF.RET_K:
        break;
      case BPF.JA:
        if (pc + 1 + insn.k >= insns.length) throw new Error(`${where}: JA past the end`);
        break;
      default:
        if (!JUMPS.has(insn.code)) throw new Error(`${where}: opcode ${insn.code} not allowed`);
        if (pc + 1 + Math.max(insn.jt, insn.jf) >= insns.length) {
          throw new Error(`${where}: jump past the end`);
        }
    }
  });
  if (insns[insns.length - 1].code !== BPF.RET_K) throw new Error("the last instruction is no RET");
}

function word(data: SeccompData, offset: number): number {
  if (offset === SECCOMP_DATA.nr) return data.nr >>> 0;
  if (offset === SECCOMP_DATA.arch) return data.arch >>> 0;
  const i = offset < 16 ? -1 : (offset - 16) >> 3;
  const v = i < 0
    ? (data.instructionPointer ?? 0n)
    : BigInt.asUintN(64, BigInt(data.args?.[i] ?? 0));
  return Number((offset & 4 ? v >> 32n : v) & 0xffffffffn);
}

/** The outcome of one run: the filter's return value and the instructions executed. */
export interface RunResult {
  ret: number;
  steps: number;
}

/** Runs a (validated) program against one call. */
export function runProgram(insns: readonly BpfInsn[], data: SeccompData): RunResult {
  let a = 0, pc = 0, steps = 0;
  for (;;) {
    const insn = insns[pc];
    if (!insn) throw new Error(`fell off the program at ${pc}`);
    steps++;
    switch (insn.code) {
      case BPF.LD_W_ABS:
        a = word(data, insn.k);
        pc++;
        continue;
      case BPF.ALU_AND_K:
        a = (a & insn.k) >>> 0;
        pc++;
        continue;
      case BPF.JA:
        pc += 1 + insn.k;
        continue;
      case BPF.RET_K:
        return { ret: insn.k >>> 0, steps };
    }
    const k = insn.k >>> 0;
    const taken = insn.code === BPF.JEQ_K
      ? a === k
      : insn.code === BPF.JGT_K
      ? a > k
      : insn.code === BPF.JGE_K
      ? a >= k
      : insn.code === BPF.JSET_K
      ? (a & k) !== 0
      : (() => {
        throw new Error(`opcode ${insn.code} at ${pc}`);
      })();
    pc += 1 + (taken ? insn.jt : insn.jf);
  }
}

/** A return value in words: "ALLOW", "ERRNO(1)", "KILL_PROCESS", ... */
export function describeReturn(ret: number): string {
  const action = (ret & 0xffff0000) >>> 0, data = ret & 0xffff;
  switch (action) {
    case 0x80000000:
      return "KILL_PROCESS";
    case 0:
      return "KILL_THREAD";
    case 0x00030000:
      return "TRAP";
    case 0x00050000:
      return `ERRNO(${data})`;
    case 0x7ff00000:
      return `TRACE(${data})`;
    case 0x7ffc0000:
      return "LOG";
    case 0x7fff0000:
      return "ALLOW";
    default:
      return `0x${ret.toString(16)}`;
  }
}
