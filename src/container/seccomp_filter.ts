/**
 * A container's seccomp program, compiled once and kept in its directory: compiling Docker's
 * profile means loading it and the compiler (a 59 KB chunk) and about 2 ms of work, which
 * every start, restart and exec would pay again for the same bytes. The file is named after
 * the running kernel (the profile's rules depend on its version) and starts with a magic
 * word, so that anything else (another kernel's, a torn or foreign file) is compiled anew.
 *
 * @module
 */

import type { ContainerState } from "../state/types.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { containerCapabilities } from "../rootfs/capabilities.ts";

const MAGIC = new TextEncoder().encode("MDSECCP1");
const HEADER = MAGIC.length + 8;

/** 32-bit FNV-1a: enough to tell a program from a damaged copy of it. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function cachePath(state: ContainerState): string {
  return `${state.containerDir}/seccomp-${Deno.osRelease()}.bpf`;
}

/**
 * The container's filter as classic BPF bytes, or undefined when it runs without one
 * (`--privileged`, `seccomp=unconfined`). Read from the container's directory when it was
 * compiled before on this kernel; else compiled and kept there.
 */
export async function containerFilter(
  state: ContainerState,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const spec = state.spec;
  if (spec.privileged || spec.seccomp === "unconfined") return undefined;
  const path = cachePath(state);
  const cached = readCached(path);
  if (cached) return cached;
  const { containerSeccompFilter } = await import("../seccomp/container.ts");
  const program = containerSeccompFilter(spec.seccomp, containerCapabilities(spec.capabilities));
  if (!program) return undefined;
  try {
    const out = new Uint8Array(HEADER + program.length);
    out.set(MAGIC);
    const view = new DataView(out.buffer);
    view.setUint32(MAGIC.length, program.length, true);
    view.setUint32(MAGIC.length + 4, fnv1a(program), true);
    out.set(program, HEADER);
    writeFileAtomic(path, out, { mode: 0o600 });
  } catch {
    // Only a cache: the next start compiles it again.
  }
  return program;
}

function readCached(path: string): Uint8Array<ArrayBuffer> | null {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    return null;
  }
  if (bytes.length <= HEADER || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const program = bytes.slice(HEADER);
  const whole = view.getUint32(MAGIC.length, true) === program.length &&
    view.getUint32(MAGIC.length + 4, true) === fnv1a(program);
  return whole && program.length % 8 === 0 ? program : null;
}
