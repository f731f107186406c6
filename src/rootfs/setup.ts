/**
 * Assembles the container's filesystem inside init's new mount namespace: the overlay root,
 * /proc, /sys, /dev, the generated /etc files and the user's bind mounts, then pivots into
 * it. Runs on init's main thread with sync calls only (see DESIGN.md, process model).
 *
 * @module
 */

import {
  chdir,
  close,
  fchdir,
  mknodChar,
  mount,
  MS,
  O,
  open,
  openPty,
  pivotRoot,
  setWindowSize,
  umask,
  umount,
} from "../../ffi/libc.ts";
import type { BindMount } from "../config/container.ts";
import type { InitConfig } from "../config/init.ts";
import { secureJoin } from "./secure_join.ts";

/** The device nodes every container gets, as Docker and runc create them. */
const DEVICES: ReadonlyArray<[name: string, major: number, minor: number]> = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];

/** Kernel files a container must not read or write (runc's default masked paths). */
const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Kernel interfaces a container may read but not change (runc's default). */
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

function mkdirp(path: string, mode = 0o755): void {
  Deno.mkdirSync(path, { recursive: true, mode });
}

/** Makes an empty file to mount over, if nothing is there yet. */
function touch(path: string): void {
  try {
    Deno.lstatSync(path);
  } catch {
    mkdirp(path.slice(0, path.lastIndexOf("/")) || "/");
    Deno.writeFileSync(path, new Uint8Array(), { mode: 0o644 });
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Mounts the overlay root: image layers read-only below, the container's upper on top. */
export function mountOverlay(rootfs: InitConfig["rootfs"]): void {
  // Lower directories are short links in one directory: name them relative to it, so that
  // many layers fit in the one page overlayfs accepts for its options.
  let lowers = rootfs.lowerDirs;
  const base = lowers[0]?.slice(0, lowers[0].lastIndexOf("/"));
  if (base && lowers.every((l) => l.slice(0, l.lastIndexOf("/")) === base)) {
    chdir(base.slice(0, base.lastIndexOf("/")));
    const dir = base.slice(base.lastIndexOf("/") + 1);
    lowers = lowers.map((l) => `${dir}/${l.slice(l.lastIndexOf("/") + 1)}`);
  }
  const options = `lowerdir=${
    lowers.join(":")
  },upperdir=${rootfs.upperDir},workdir=${rootfs.workDir}`;
  mount("overlay", rootfs.mountPoint, "overlay", 0, options);
}

/** /proc for the container's PID namespace (init is its PID 1, so the view is right). */
function mountProc(root: string): void {
  const target = secureJoin(root, "/proc");
  mkdirp(target);
  mount("proc", target, "proc", MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

/** /sys read-only; it shows the container's own network namespace. */
function mountSys(root: string): void {
  const target = secureJoin(root, "/sys");
  mkdirp(target);
  mount("sysfs", target, "sysfs", MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY);
}

/**
 * /dev as a small tmpfs holding only the standard nodes, a private devpts instance, shm
 * and mqueue. Returns the devpts directory (for the terminal).
 */
function mountDev(root: string): string {
  const dev = secureJoin(root, "/dev");
  mkdirp(dev);
  mount("tmpfs", dev, "tmpfs", MS.NOSUID | MS.NOEXEC, "mode=755,size=65536k");
  const old = umask(0);
  try {
    for (const [name, major, minor] of DEVICES) mknodChar(`${dev}/${name}`, 0o666, major, minor);
  } finally {
    umask(old);
  }
  Deno.symlinkSync("/proc/self/fd", `${dev}/fd`);
  Deno.symlinkSync("/proc/self/fd/0", `${dev}/stdin`);
  Deno.symlinkSync("/proc/self/fd/1", `${dev}/stdout`);
  Deno.symlinkSync("/proc/self/fd/2", `${dev}/stderr`);
  Deno.symlinkSync("/proc/kcore", `${dev}/core`);
  mkdirp(`${dev}/pts`);
  mount(
    "devpts",
    `${dev}/pts`,
    "devpts",
    MS.NOSUID | MS.NOEXEC,
    "newinstance,ptmxmode=0666,mode=0620,gid=5",
  );
  Deno.symlinkSync("pts/ptmx", `${dev}/ptmx`);
  mkdirp(`${dev}/shm`);
  mount("shm", `${dev}/shm`, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, "mode=1777,size=65536k");
  mkdirp(`${dev}/mqueue`);
  mount("mqueue", `${dev}/mqueue`, "mqueue", MS.NOSUID | MS.NODEV | MS.NOEXEC);
  return `${dev}/pts`;
}

/** Bind-mounts a host file or directory into the container, read-only if asked. */
function bindMount(root: string, m: BindMount): void {
  const target = secureJoin(root, m.destination);
  if (isDirectory(m.source)) mkdirp(target);
  else touch(target);
  mount(m.source, target, null, MS.BIND | MS.REC);
  if (m.readonly) {
    mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC);
  }
}

/**
 * Allocates the container's terminal from its own devpts instance and puts the slave at
 * /dev/console. Returns the master (to send to the parent) and the slave's container path.
 */
function allocateTerminal(
  root: string,
  pts: string,
  size?: { rows: number; columns: number },
): { master: number; slavePath: string } {
  const { master, ptsNumber } = openPty(`${pts}/ptmx`);
  if (size) setWindowSize(master, size.rows, size.columns);
  const console = secureJoin(root, "/dev/console");
  touch(console);
  mount(`${pts}/${ptsNumber}`, console, null, MS.BIND);
  return { master, slavePath: `/dev/pts/${ptsNumber}` };
}

/** Hides kernel files with /dev/null or an empty read-only tmpfs, after pivot_root. */
function maskKernelPaths(): void {
  for (const path of MASKED_PATHS) {
    try {
      if (isDirectory(path)) mount("tmpfs", path, "tmpfs", MS.RDONLY);
      else if (Deno.lstatSync(path)) mount("/dev/null", path, null, MS.BIND);
    } catch {
      // Not present on this kernel: nothing to hide.
    }
  }
  for (const path of READONLY_PATHS) {
    try {
      mount(path, path, null, MS.BIND | MS.REC);
      mount(null, path, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.REC);
    } catch {
      // Not present on this kernel.
    }
  }
}

/** What `prepareRootfs` hands back to init. */
export interface PreparedRootfs {
  /** The terminal master to send to the parent, when a tty was asked for. */
  ttyMaster?: number;
  /** The terminal's path inside the container. */
  ttySlavePath?: string;
}

/**
 * Builds the whole container filesystem in the current (new, private) mount namespace and
 * makes it the root. On return the process is inside the container's root at `/`.
 */
export function prepareRootfs(config: InitConfig): PreparedRootfs {
  // Nothing we mount may propagate back to the host's mount namespace.
  mount(null, "/", null, MS.REC | MS.PRIVATE);
  mountOverlay(config.rootfs);
  const root = config.rootfs.mountPoint;
  mountProc(root);
  mountSys(root);
  const pts = mountDev(root);
  bindMount(root, {
    source: config.etcFiles.hostname,
    destination: "/etc/hostname",
    readonly: false,
  });
  bindMount(root, { source: config.etcFiles.hosts, destination: "/etc/hosts", readonly: false });
  bindMount(root, {
    source: config.etcFiles.resolvConf,
    destination: "/etc/resolv.conf",
    readonly: false,
  });
  for (const m of config.mounts) bindMount(root, m);
  const prepared: PreparedRootfs = {};
  if (config.tty) {
    const t = allocateTerminal(root, pts, config.consoleSize);
    prepared.ttyMaster = t.master;
    prepared.ttySlavePath = t.slavePath;
  }
  enterRoot(root);
  maskKernelPaths();
  return prepared;
}

/**
 * pivot_root into `root` without needing a directory for the old root: pivot onto itself,
 * then lazily detach the old root that now sits underneath (runc's technique).
 */
function enterRoot(root: string): void {
  const oldRoot = open("/", O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  try {
    chdir(root);
    pivotRoot(".", ".");
    // The old root is now stacked over the new one at "/". Step into it, make sure no
    // unmount propagates anywhere, and detach it.
    fchdir(oldRoot);
    mount(null, ".", null, MS.REC | MS.SLAVE);
    umount(".", true);
    chdir("/");
  } finally {
    close(oldRoot);
  }
}
