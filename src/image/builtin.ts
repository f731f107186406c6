/**
 * The built-in `busybox` image, assembled from the host's static busybox so that
 * `m-docker run --rm -it busybox sh` works right after setup, with no registry.
 *
 * @module
 */

import { DEFAULT_PATH } from "../config/container.ts";
import { hostPlatform } from "./platform.ts";
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

/**
 * Applet paths (`bin/sh`, `usr/bin/awk`, ...) that the host busybox provides. Entries with
 * no directory (`linuxrc`, an initramfs's init) are not commands a container runs, and
 * Docker Hub's busybox has none.
 */
function appletPaths(busybox: string): string[] {
  const out = new Deno.Command(busybox, { args: ["--list-full"], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l.includes("/") && !l.startsWith("/") && !l.includes("..")
  );
}

/** Docker Hub busybox's /etc/passwd (buildroot's skeleton, which that image installs). */
export const BUILTIN_PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

/** Docker Hub busybox's /etc/group: `nobody` is group 65534 (not Debian's `nogroup`). */
export const BUILTIN_GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
`;

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
  Deno.writeTextFileSync(`${dir}/etc/passwd`, BUILTIN_PASSWD);
  Deno.writeTextFileSync(`${dir}/etc/group`, BUILTIN_GROUP);
}

/**
 * Makes sure the built-in image is in the store, building it on first use. Returns it.
 * Building is idempotent and safe to race: the layer lands by rename.
 */
export async function ensureBuiltinImage(store: ImageStore): Promise<ImageRecord> {
  const existing = store.find(BUILTIN_IMAGE);
  // One built before the image recorded its platform (with `nogroup` and /linuxr) is built
  // again, as a newer pull would replace it; the old one stays for containers that use it.
  if (existing?.os && existing.layers.every((l) => store.hasLayer(l))) return existing;
  const busybox = findHostBusybox();
  const layer = await sha256(`m-docker builtin busybox rootfs v2\n${await sha256(busybox.bytes)}`);
  await store.addLayer(layer, (dir) => fillRootfs(dir, busybox));
  const config: ImageRunConfig = { Env: [`PATH=${DEFAULT_PATH}`], Cmd: ["sh"] };
  const created = new Date((await Deno.stat(busybox.path)).mtime ?? Date.now()).toISOString();
  // The host's own busybox: the host's platform, as Docker Hub's image for it says.
  const [os, architecture] = hostPlatform().split("/");
  // Docker Hub busybox's history: the root filesystem added, then its CMD.
  const history = [
    { created, created_by: `/bin/sh -c #(nop) ADD file:${busybox.path} in / ` },
    { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
  ];
  return await store.addSingleLayerImage(layer, config, created, BUILTIN_IMAGE, {
    os,
    architecture,
    history,
  });
}
