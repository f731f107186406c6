/**
 * Compiles a resolved profile (a `FlatFilter`) into a classic BPF program for
 * seccomp(SECCOMP_SET_MODE_FILTER) on x86_64, in plain TypeScript (no libseccomp).
 *
 * The program:
 *
 * 1. loads the arch; anything but AUDIT_ARCH_X86_64 (i386 through int 0x80, say) is killed,
 *    as libseccomp kills an arch its filter does not have;
 * 2. loads the number and finds it by binary search: the numbers 0..2^32 are cut into runs
 *    that share one outcome (allowed, the default errno, an argument check, ...), and a
 *    balanced tree of JGE jumps picks the run, so a call costs about log2(runs) jumps
 *    rather than a scan of ~350 names;
 * 3. numbers above the highest the profile names get ENOSYS rather than the default errno
 *    (runc's patchbpf: a libc probing a newer call, clone3 or faccessat2, must see "not
 *    implemented" and fall back, not "denied" and fail), and x32 numbers are killed;
 * 4. calls with argument rules compare the 64-bit arguments as two 32-bit words.
 *
 * Conditional jumps reach at most 255 instructions ahead: the program is built from its end
 * backwards, so every target is placed before the jump to it, and a target too far away is
 * reached through a copy of its RET or a JA, whose offset is 32-bit.
 *
 * @module
 */

import {
  AUDIT_ARCH_X86_64,
  BPF,
  BPF_MAXINSNS,
  type BpfInsn,
  encodeProgram,
  SECCOMP_DATA,
  X32_SYSCALL_BIT,
} from "./bpf.ts";
import {
  type FlatFilter,
  type FlatRule,
  SECCOMP_RET,
  type SeccompArg,
  type SeccompReturn,
} from "./profile.ts";

/** A compiled filter. */
export interface CompiledFilter {
  insns: BpfInsn[];
  /** struct sock_filter[] as bytes, what seccomp(2) takes. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The highest number the profile names: above it (and below x32's) is ENOSYS. */
  maxSyscall: number;
}

const ENOSYS = 38;

/** Where a jump goes: a verdict (placed wherever convenient) or an instruction. */
type Target = { ret: SeccompReturn } | { at: number };

/**
 * Builds the program backwards. An instruction's id is its distance from the program's
 * end (1 = last), fixed when it is pushed: a jump from id a to id b skips a - b - 1.
 */
class BackwardEmitter {
  readonly rev: BpfInsn[] = [];
  /** The nearest (latest pushed) RET of each verdict. */
  private readonly rets = new Map<SeccompReturn, number>();

  private push(insn: BpfInsn): number {
    this.rev.push(insn);
    return this.rev.length;
  }

  /**
   * The id to jump to for `t` from an instruction pushed after at most `reserve` more
   * pushes: the target itself when within 255, else a RET copy or a JA placed here.
   */
  private reach(t: Target, reserve: number): number {
    const near = (id: number) => this.rev.length + reserve - id <= 255;
    if ("ret" in t) {
      const id = this.rets.get(t.ret);
      if (id !== undefined && near(id)) return id;
      return this.ret(t.ret);
    }
    if (near(t.at)) return t.at;
    return this.push({ code: BPF.JA, jt: 0, jf: 0, k: this.rev.length - t.at });
  }

  /** RET k; becomes the nearest copy of that verdict. */
  ret(value: SeccompReturn): number {
    const id = this.push({ code: BPF.RET_K, jt: 0, jf: 0, k: value >>> 0 });
    this.rets.set(value, id);
    return id;
  }

  /** A straight-line instruction (load, ALU) that falls through to `next`. */
  op(code: number, k: number, next: Target): number {
    if ("ret" in next) {
      if (this.rets.get(next.ret) !== this.rev.length) this.ret(next.ret);
    } else if (next.at !== this.rev.length) {
      this.push({ code: BPF.JA, jt: 0, jf: 0, k: this.rev.length - next.at });
    }
    return this.push({ code, jt: 0, jf: 0, k: k >>> 0 });
  }

  /** A conditional jump: to `t` when the test holds, else to `f`. */
  jump(code: number, k: number, t: Target, f: Target): number {
    const jt = this.reach(t, 1);
    const jf = this.reach(f, 0);
    const self = this.rev.length + 1;
    return this.push({ code, jt: self - jt - 1, jf: self - jf - 1, k: k >>> 0 });
  }

  /** The program in execution order. */
  program(): BpfInsn[] {
    return [...this.rev].reverse();
  }
}

const at = (id: number): Target => ({ at: id });

function words(v: bigint): [hi: number, lo: number] {
  return [Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}

/** One comparison of a 64-bit argument: continues to `t` when it holds, `f` when not. */
function emitComparison(e: BackwardEmitter, a: SeccompArg, t: Target, f: Target): Target {
  const lo = SECCOMP_DATA.argLow(a.index), hi = SECCOMP_DATA.argHigh(a.index);
  const [vHi, vLo] = words(a.value);
  switch (a.op) {
    case "SCMP_CMP_EQ":
    case "SCMP_CMP_NE": {
      const [yes, no] = a.op === "SCMP_CMP_EQ" ? [t, f] : [f, t];
      const low = e.op(BPF.LD_W_ABS, lo, at(e.jump(BPF.JEQ_K, vLo, yes, no)));
      return at(e.op(BPF.LD_W_ABS, hi, at(e.jump(BPF.JEQ_K, vHi, at(low), no))));
    }
    case "SCMP_CMP_MASKED_EQ": {
      const [mHi, mLo] = words(a.value);
      const [dHi, dLo] = words(a.valueTwo);
      // Bits of the datum outside the mask can never match.
      if ((dHi & ~mHi) !== 0 || (dLo & ~mLo) !== 0) return f;
      const half = (offset: number, mask: number, datum: number, next: Target): Target => {
        if (mask === 0) return next; // (x & 0) == 0 always holds
        let id = e.jump(BPF.JEQ_K, datum, next, f);
        if (mask !== 0xffffffff) id = e.op(BPF.ALU_AND_K, mask, at(id));
        return at(e.op(BPF.LD_W_ABS, offset, at(id)));
      };
      return half(hi, mHi, dHi, half(lo, mLo, dLo, t));
    }
    default: {
      // Unsigned 64-bit order: the high words decide unless equal, then the low words.
      // LT and LE are the negations of GE and GT.
      const negate = a.op === "SCMP_CMP_LT" || a.op === "SCMP_CMP_LE";
      const strict = a.op === "SCMP_CMP_GT" || a.op === "SCMP_CMP_LE";
      const [yes, no] = negate ? [f, t] : [t, f];
      const low = e.op(BPF.LD_W_ABS, lo, at(e.jump(strict ? BPF.JGT_K : BPF.JGE_K, vLo, yes, no)));
      const equalHigh = e.jump(BPF.JEQ_K, vHi, at(low), no);
      return at(e.op(BPF.LD_W_ABS, hi, at(e.jump(BPF.JGT_K, vHi, yes, at(equalHigh)))));
    }
  }
}

/** The checks of one call's conditional rules, in profile order, then `fallback`. */
function emitArgumentBlock(
  e: BackwardEmitter,
  rules: readonly FlatRule[],
  fallback: SeccompReturn,
): Target {
  let next: Target = { ret: fallback };
  for (const rule of [...rules].reverse()) {
    let cur: Target = { ret: rule.ret };
    for (const a of [...rule.args].reverse()) cur = emitComparison(e, a, cur, next);
    next = cur;
  }
  return next;
}

/** What one syscall number leads to. */
type Outcome =
  | { kind: "ret"; ret: SeccompReturn }
  | { kind: "args"; nr: number; rules: FlatRule[]; fallback: SeccompReturn };

/** A run of numbers [start, next run's start) with one outcome. */
interface Run {
  start: number;
  outcome: Outcome;
}

function outcomeOf(nr: number, rules: FlatRule[], defaultRet: SeccompReturn): Outcome {
  // The first unconditional rule decides, as in libseccomp (which runc and crun use), where a
  // later one for the same call is not added over it: podman's profile, once its capability
  // conditions are resolved, allows setns and also denies it with EPERM.
  let fallback: SeccompReturn | undefined;
  for (const r of rules) {
    if (r.args.length === 0) fallback ??= r.ret;
  }
  fallback ??= defaultRet;
  // Conditional rules that end where the fallback would have gone change nothing.
  const conditional = rules.filter((r) => r.args.length > 0 && r.ret !== fallback);
  if (conditional.length === 0) return { kind: "ret", ret: fallback };
  return { kind: "args", nr, rules: conditional, fallback };
}

function runsOf(filter: FlatFilter, maxSyscall: number): Run[] {
  const byNr = new Map<number, FlatRule[]>();
  for (const r of filter.rules) {
    const list = byNr.get(r.nr);
    if (list) list.push(r);
    else byNr.set(r.nr, [r]);
  }
  const runs: Run[] = [];
  const add = (start: number, outcome: Outcome) => {
    const last = runs[runs.length - 1];
    if (
      last && outcome.kind === "ret" && last.outcome.kind === "ret" &&
      last.outcome.ret === outcome.ret
    ) return;
    runs.push({ start, outcome });
  };
  const unlisted: Outcome = { kind: "ret", ret: filter.defaultRet };
  let next = 0;
  for (const nr of [...byNr.keys()].sort((a, b) => a - b)) {
    if (nr > next) add(next, unlisted);
    add(nr, outcomeOf(nr, byNr.get(nr)!, filter.defaultRet));
    next = nr + 1;
  }
  // runc adds no ENOSYS stub when the default already lets calls through.
  const permissive = filter.defaultRet === SECCOMP_RET.ALLOW ||
    filter.defaultRet === SECCOMP_RET.LOG;
  const above = permissive || filter.rules.length === 0
    ? filter.defaultRet
    : (SECCOMP_RET.ERRNO | ENOSYS);
  if (maxSyscall + 1 < X32_SYSCALL_BIT) add(maxSyscall + 1, { kind: "ret", ret: above });
  add(X32_SYSCALL_BIT, { kind: "ret", ret: SECCOMP_RET.KILL_PROCESS });
  return runs;
}

/** Runs lo..hi as a balanced tree of JGE jumps; the accumulator holds the number. */
function emitTree(e: BackwardEmitter, runs: readonly Run[], lo: number, hi: number): Target {
  if (lo === hi) {
    const o = runs[lo].outcome;
    return o.kind === "ret" ? { ret: o.ret } : emitArgumentBlock(e, o.rules, o.fallback);
  }
  const mid = (lo + hi + 1) >> 1;
  // Right first: built backwards, the left half then sits right after the jump.
  const right = emitTree(e, runs, mid, hi);
  const left = emitTree(e, runs, lo, mid - 1);
  return at(e.jump(BPF.JGE_K, runs[mid].start, right, left));
}

/** Compiles a resolved profile into a seccomp BPF program for x86_64. */
export function compileFilter(filter: FlatFilter): CompiledFilter {
  const maxSyscall = filter.rules.reduce((m, r) => Math.max(m, r.nr), -1);
  const runs = runsOf(filter, maxSyscall);
  const e = new BackwardEmitter();
  const tree = emitTree(e, runs, 0, runs.length - 1);
  const loadNr = e.op(BPF.LD_W_ABS, SECCOMP_DATA.nr, tree);
  const archOk = e.jump(BPF.JEQ_K, AUDIT_ARCH_X86_64, at(loadNr), {
    ret: SECCOMP_RET.KILL_PROCESS,
  });
  e.op(BPF.LD_W_ABS, SECCOMP_DATA.arch, at(archOk));
  const insns = e.program();
  if (insns.length > BPF_MAXINSNS) {
    throw new Error(`seccomp profile: ${insns.length} instructions, over the kernel's 4096`);
  }
  return { insns, bytes: encodeProgram(insns), maxSyscall };
}
