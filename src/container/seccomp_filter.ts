/**
 * Containers' seccomp programs, compiled once and kept in the data root's
 * `cache/seccomp/`: compiling Docker's profile means loading it and the compiler (a 59 KB
 * chunk) and about 2 ms of work, which every run, start, restart and exec would pay again
 * for the same bytes (4-6 ms of a `run --rm` in a CPU profile). A program is named after
 * the SHA-256 of everything it is compiled from: the profile (Docker's default or the
 * user's text), the capability set (the default profile's rules depend on it), the running
 * kernel and machine, and this build of m-docker (the default profile and the compiler are
 * in its code). So no two containers that need different programs can share one. Each file
 * starts with a magic word, the program's length and hash: anything else (a torn or foreign
 * file) is compiled anew and replaced.
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

/**
 * This build of m-docker: the main module's (or the compiled binary's) inode, size and
 * modification time. A rebuild changes them, so a program compiled by other code is not
 * reused; the entries of older builds are removed when a new one is written.
 */
function buildStamp(): string {
  const main = Deno.mainModule.startsWith("file:")
    ? decodeURIComponent(new URL(Deno.mainModule).pathname)
    : Deno.execPath();
  try {
    const st = Deno.statSync(main);
    return [st.ino ?? 0, st.size, st.mtime?.getTime() ?? 0].map((n) => n.toString(36)).join(".");
  } catch {
    return "unknown";
  }
}

/**
 * The data root's seccomp cache directory: the container's directory is
 * `<root>/containers/<id>` (src/state/roots.ts).
 */
export function seccompCacheDir(state: ContainerState): string {
  const dir = state.containerDir;
  return `${dir.slice(0, dir.lastIndexOf("/containers/"))}/cache/seccomp`;
}

async function cacheFile(state: ContainerState, stamp: string): Promise<string> {
  const spec = state.spec;
  const inputs = JSON.stringify([
    typeof spec.seccomp === "object" ? spec.seccomp.profileJson : null,
    [...containerCapabilities(spec.capabilities)].sort((a, b) => a - b),
    Deno.osRelease(),
    Deno.build.arch,
    stamp,
  ]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inputs));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${seccompCacheDir(state)}/${stamp}-${hex}.bpf`;
}

/**
 * The container's filter as classic BPF bytes, or undefined when it runs without one
 * (`--privileged`, `seccomp=unconfined`). Read from the cache when this build compiled the
 * same inputs before on this kernel; else compiled and kept there.
 */
export async function containerFilter(
  state: ContainerState,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const spec = state.spec;
  if (spec.privileged || spec.seccomp === "unconfined") return undefined;
  const stamp = buildStamp();
  const path = await cacheFile(state, stamp);
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
    const dir = seccompCacheDir(state);
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(path, out, { mode: 0o600 });
    removeOtherBuilds(dir, stamp);
  } catch {
    // Only a cache: the next start compiles it again.
  }
  return program;
}

function removeOtherBuilds(dir: string, stamp: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.endsWith(".bpf") && !entry.name.startsWith(`${stamp}-`)) {
      try {
        Deno.removeSync(`${dir}/${entry.name}`);
      } catch { /* another process's removal won */ }
    }
  }
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
