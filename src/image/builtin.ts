/**
 * The built-in `busybox` image, assembled from the host's static busybox so that
 * `m-docker run --rm -it busybox sh` works right after setup, with no registry.
 *
 * @module
 */

import { DEFAULT_PATH } from "../config/container.ts";
import { type ImageRecord, type ImageRunConfig, type ImageStore, sha256 } from "./store.ts";

/** The reference the built-in image is known by. */
export const BUILTIN_IMAGE = "busybox:latest";

const HOST_BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

/** True when an ELF file has no program interpreter, i.e. it is statically linked. */
export function isStaticElf(bytes: Uint8Array): boolean {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== 0x7f454c46 || bytes[4] !== 2) return false; // ELF64 only
  const phoff = Number(v.getBigUint64(0x20, true));
  const phentsize = v.getUint16(0x36, true), phnum = v.getUint16(0x38, true);
  for (let i = 0; i < phnum; i++) {
    if (v.getUint32(phoff + i * phentsize, true) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

function findHostBusybox(): { path: string; bytes: Uint8Array<ArrayBuffer> } {
  for (const path of HOST_BUSYBOX_CANDIDATES) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = Deno.readFileSync(path);
    } catch {
      continue;
    }
    if (isStaticElf(bytes)) return { path, bytes };
  }
  throw new Error(
    "the built-in busybox image needs a static busybox on the host: " +
      "install Debian's busybox-static (scripts/setup does)",
  );
}

/** Applet paths (`bin/sh`, `usr/bin/awk`, ...) that the host busybox provides. */
function appletPaths(busybox: string): string[] {
  const out = new Deno.Command(busybox, { args: ["--list-full"], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l && !l.includes(".."));
}

function fillRootfs(dir: string, busybox: { path: string; bytes: Uint8Array<ArrayBuffer> }) {
  for (
    const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "var", "home"]
  ) {
    Deno.mkdirSync(`${dir}/${d}`, { recursive: true, mode: 0o755 });
  }
  Deno.mkdirSync(`${dir}/root`, { mode: 0o700 });
  Deno.mkdirSync(`${dir}/tmp`);
  Deno.chmodSync(`${dir}/tmp`, 0o1777);
  Deno.writeFileSync(`${dir}/bin/busybox`, busybox.bytes, { mode: 0o755 });
  Deno.chmodSync(`${dir}/bin/busybox`, 0o755);
  for (const applet of appletPaths(busybox.path)) {
    if (applet === "bin/busybox") continue;
    Deno.mkdirSync(`${dir}/${applet.slice(0, applet.lastIndexOf("/"))}`, { recursive: true });
    Deno.symlinkSync("/bin/busybox", `${dir}/${applet}`);
  }
  Deno.writeTextFileSync(
    `${dir}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  Deno.writeTextFileSync(`${dir}/etc/group`, "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
}

/**
 * Makes sure the built-in image is in the store, building it on first use. Returns it.
 * Building is idempotent and safe to race: the layer lands by rename.
 */
export async function ensureBuiltinImage(store: ImageStore): Promise<ImageRecord> {
  const existing = store.find(BUILTIN_IMAGE);
  if (existing && existing.layers.every((l) => store.hasLayer(l))) return existing;
  const busybox = findHostBusybox();
  const layer = await sha256(`m-docker builtin busybox rootfs v1\n${await sha256(busybox.bytes)}`);
  await store.addLayer(layer, (dir) => fillRootfs(dir, busybox));
  const config: ImageRunConfig = { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ["sh"] };
  const created = new Date((await Deno.stat(busybox.path)).mtime ?? Date.now()).toISOString();
  return await store.addSingleLayerImage(layer, config, created, BUILTIN_IMAGE);
}
