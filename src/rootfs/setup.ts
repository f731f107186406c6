/**
 * Assembles the container's filesystem inside init's new mount namespace: the overlay root,
 * /proc, /sys, /dev, the generated /etc files and the user's bind mounts, then pivots into
 * it. Runs on init's main thread with sync calls only (see DESIGN.md, process model), every
 * one of them through the `Syscalls` it is given, so that unit tests can run the plan.
 *
 * @module
 */

import { ERRNO, SyscallError } from "../../ffi/errors.ts";
import { AT, MOUNT_ATTR, MS, O } from "../../ffi/libc.ts";
import type { Syscalls } from "../../ffi/syscalls.ts";
import type { BindMount, LayerView, MountPropagation, TmpfsMount } from "../config/container.ts";
import type { CgroupFsPlan, InitConfig } from "../config/init.ts";
import type { DeviceNode } from "../config/devices.ts";
import { mountsUnder, parseMountInfo, perMountFlags } from "./mountinfo.ts";
import { secureJoin } from "./secure_join.ts";
import type { ChildMount } from "../../ffi/nsclone.ts";

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

/** Makes an empty file to mount over, if nothing is there yet. */
export function touch(sys: Syscalls, path: string): void {
  if (sys.fileKind(path) !== null) return;
  sys.mkdirAll(path.slice(0, path.lastIndexOf("/")) || "/");
  sys.createFile(path, 0o644);
}

/** `secureJoin` that reads links through `sys`. */
export function join(sys: Syscalls, root: string, path: string): string {
  return secureJoin(root, path, (p) => sys.fileKind(p) === "symlink" ? sys.readLink(p) : null);
}

/**
 * Mounts the overlay root: image layers read-only below, the container's upper on top (none:
 * the layers alone, read-only).
 */
export function mountOverlay(sys: Syscalls, rootfs: InitConfig["rootfs"]): void {
  // Lower directories are short links in one directory: name them relative to it, so that
  // many layers fit in the one page overlayfs accepts for its options.
  let lowers = rootfs.lowerDirs;
  const base = lowers[0]?.slice(0, lowers[0].lastIndexOf("/"));
  if (base && lowers.every((l) => l.slice(0, l.lastIndexOf("/")) === base)) {
    sys.chdir(base.slice(0, base.lastIndexOf("/")));
    const dir = base.slice(base.lastIndexOf("/") + 1);
    lowers = lowers.map((l) => `${dir}/${l.slice(l.lastIndexOf("/") + 1)}`);
  }
  // No upper directory: a read-only view of the layers (a build's COPY --from).
  const options = rootfs.upperDir
    ? `lowerdir=${lowers.join(":")},upperdir=${rootfs.upperDir},workdir=${rootfs.workDir}`
    : `lowerdir=${lowers.join(":")}`;
  sys.mount("overlay", rootfs.mountPoint, "overlay", rootfs.upperDir ? 0 : MS.RDONLY, options);
}

/** /proc for the container's PID namespace (init is its PID 1, so the view is right). */
function mountProc(sys: Syscalls, root: string): void {
  const target = join(sys, root, "/proc");
  sys.mkdirAll(target);
  sys.mount("proc", target, "proc", MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

/** /sys read-only (writable when privileged); it shows the container's own network namespace. */
function mountSys(sys: Syscalls, root: string, privileged = false, bindHost = false): void {
  const target = join(sys, root, "/sys");
  sys.mkdirAll(target);
  if (bindHost) {
    // A user namespace may mount sysfs only for a network namespace it owns; on the host's
    // or another container's network, the host's /sys is bound instead (as rootless runc).
    sys.mount("/sys", target, null, MS.BIND | MS.REC);
    if (!privileged) makeReadonlyRecursive(sys, target);
    return;
  }
  const rdonly = privileged ? 0 : MS.RDONLY;
  sys.mount("sysfs", target, "sysfs", MS.NOSUID | MS.NODEV | MS.NOEXEC | rdonly);
}

/**
 * /sys/fs/cgroup, read-only, showing only the container's own cgroup: init is in its cgroup
 * namespace by now, so a cgroup filesystem mounted from here has the container's cgroup as
 * its root (as Docker's). On v1 a read-only tmpfs holds one mount per hierarchy, and a
 * co-mounted hierarchy (`cpu,cpuacct`) gets a link for each controller (`cpu`), as runc's.
 */
export function mountCgroupFs(
  sys: Syscalls,
  root: string,
  plan: CgroupFsPlan,
  forChild = false,
): void {
  const target = join(sys, root, "/sys/fs/cgroup");
  const flags = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY;
  if (plan.version === 2) {
    if (!forChild) sys.mount("cgroup2", target, "cgroup2", flags);
    return;
  }
  sys.mount("tmpfs", target, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, "mode=755");
  const dirs = new Set(plan.hierarchies.map((h) => h.dir));
  for (const h of plan.hierarchies) {
    sys.mkdirAll(`${target}/${h.dir}`);
    if (!forChild) sys.mount("cgroup", `${target}/${h.dir}`, "cgroup", flags, h.options);
    if (!h.dir.includes(",")) continue;
    for (const c of h.dir.split(",")) if (!dirs.has(c)) sys.symlink(h.dir, `${target}/${c}`);
  }
  // The child makes its hierarchies and this remount (see childMounts).
  if (!forChild) sys.mount(null, target, null, MS.BIND | MS.REMOUNT | flags);
}

/** mount(8) flag words and the MS_ bits they set (`true`) or clear (`false`). */
const MOUNT_FLAG_WORDS: Record<string, [number, boolean]> = {
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  nosuid: [MS.NOSUID, true],
  suid: [MS.NOSUID, false],
  nodev: [MS.NODEV, true],
  dev: [MS.NODEV, false],
  noexec: [MS.NOEXEC, true],
  exec: [MS.NOEXEC, false],
  noatime: [MS.NOATIME, true],
  atime: [MS.NOATIME, false],
  nodiratime: [MS.NODIRATIME, true],
  diratime: [MS.NODIRATIME, false],
  relatime: [MS.RELATIME, true],
  norelatime: [MS.RELATIME, false],
  strictatime: [MS.STRICTATIME, true],
};

/**
 * A tmpfs's options as mount(2) flags and data: flag words set or clear their bit (the
 * later word wins), everything else (`size=`, `mode=`) is passed to tmpfs, the later value
 * of a key winning, as Docker merges them.
 */
export function tmpfsMountArgs(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data = new Map<string, string>();
  for (const o of options) {
    const word = MOUNT_FLAG_WORDS[o];
    if (word) flags = word[1] ? flags | word[0] : flags & ~word[0];
    else data.set(o.split("=")[0], o);
  }
  return { flags, data: [...data.values()].join(",") };
}

/** A tmpfs inside the container (`--tmpfs`). */
function mountTmpfs(sys: Syscalls, root: string, m: TmpfsMount): void {
  const target = join(sys, root, m.destination);
  sys.mkdirAll(target);
  const { flags, data } = tmpfsMountArgs(m.options);
  sys.mount("tmpfs", target, "tmpfs", flags, data || null);
}

/**
 * `--device` nodes (and the host's, under --privileged) with the host node's mode and owner.
 * The device cgroup decides what may be opened; this only makes the names. In a user
 * namespace mknod is refused, so the host's node is bound instead (as rootless runc does).
 */
export function makeDevices(
  sys: Syscalls,
  root: string,
  devices: readonly DeviceNode[],
  bindNodes: boolean,
): void {
  const old = sys.umask(0);
  try {
    for (const d of devices) {
      const path = join(sys, root, d.path);
      sys.mkdirAll(path.slice(0, path.lastIndexOf("/")) || "/");
      if (bindNodes) {
        sys.createFile(path, d.mode & 0o777);
        sys.mount(d.hostPath, path, null, MS.BIND);
        continue;
      }
      sys.mknod(path, d.type === "b" ? "block" : "char", d.mode & 0o777, d.major, d.minor);
      sys.lchown(path, d.uid, d.gid);
    }
  } finally {
    sys.umask(old);
  }
}

/**
 * /dev as a small tmpfs holding only the standard nodes, a private devpts instance, shm
 * and mqueue. Returns the devpts directory (for the terminal).
 */
function mountDev(sys: Syscalls, root: string, shmSizeBytes?: number, bindNodes = false): string {
  const dev = join(sys, root, "/dev");
  sys.mkdirAll(dev);
  sys.mount("tmpfs", dev, "tmpfs", MS.NOSUID | MS.NOEXEC, "mode=755,size=65536k");
  if (bindNodes) {
    // mknod is refused in a user namespace: the host's nodes are bound instead (rootless runc).
    for (const [name] of DEVICES) {
      sys.createFile(`${dev}/${name}`, 0o666);
      sys.mount(`/dev/${name}`, `${dev}/${name}`, null, MS.BIND);
    }
  } else {
    const old = sys.umask(0);
    try {
      for (const [name, major, minor] of DEVICES) {
        sys.mknod(`${dev}/${name}`, "char", 0o666, major, minor);
      }
    } finally {
      sys.umask(old);
    }
  }
  sys.symlink("/proc/self/fd", `${dev}/fd`);
  sys.symlink("/proc/self/fd/0", `${dev}/stdin`);
  sys.symlink("/proc/self/fd/1", `${dev}/stdout`);
  sys.symlink("/proc/self/fd/2", `${dev}/stderr`);
  sys.symlink("/proc/kcore", `${dev}/core`);
  sys.mkdirAll(`${dev}/pts`);
  sys.mount(
    "devpts",
    `${dev}/pts`,
    "devpts",
    MS.NOSUID | MS.NOEXEC,
    "newinstance,ptmxmode=0666,mode=0620,gid=5",
  );
  sys.symlink("pts/ptmx", `${dev}/ptmx`);
  sys.mkdirAll(`${dev}/shm`);
  sys.mount(
    "shm",
    `${dev}/shm`,
    "tmpfs",
    MS.NOSUID | MS.NODEV | MS.NOEXEC,
    `mode=1777,size=${shmSizeBytes ?? "65536k"}`,
  );
  sys.mkdirAll(`${dev}/mqueue`);
  sys.mount("mqueue", `${dev}/mqueue`, "mqueue", MS.NOSUID | MS.NODEV | MS.NOEXEC);
  return `${dev}/pts`;
}

/**
 * Makes the mount at `path` and every mount below it read-only. A bind remount with
 * MS_RDONLY changes one mount only (the kernel ignores MS_REC on a remount), which would
 * leave a volume's submounts writable; mount_setattr(2) with AT_RECURSIVE changes the whole
 * tree at once. Kernels older than 5.12 lack it (ENOSYS): then each mount that
 * /proc/self/mountinfo lists at or below `path` is remounted by itself, as runc does.
 */
export function makeReadonlyRecursive(sys: Syscalls, path: string): void {
  try {
    sys.mountSetattr(path, AT.RECURSIVE | AT.SYMLINK_NOFOLLOW, MOUNT_ATTR.RDONLY);
    return;
  } catch (e) {
    if (!(e instanceof SyscallError && e.errno === ERRNO.ENOSYS)) throw e;
  }
  const mounts = mountsUnder(parseMountInfo(sys.readTextFile("/proc/self/mountinfo")), path);
  if (!mounts.some((m) => m.mountPoint === path)) {
    throw new Error(`cannot make ${path} read-only: it is not a mount point in mountinfo`);
  }
  for (const m of mounts) {
    sys.mount(null, m.mountPoint, null, MS.BIND | MS.REMOUNT | MS.RDONLY | perMountFlags(m));
  }
}

/**
 * Bind-mounts a host file or directory into the container, read-only if asked. With
 * `detached` (a remapped container) the parent has made the bind mount already and only
 * its descriptor is attached here: init cannot look up host paths by itself.
 */
function bindMount(
  sys: Syscalls,
  root: string,
  m: BindMount,
  detached?: { fd: number; directory: boolean },
): void {
  const target = join(sys, root, m.destination);
  const source = m.layers && !detached ? mountLayerView(sys, m.layers) : m.source;
  const directory = detached ? detached.directory : sys.fileKind(source, true) === "directory";
  if (directory) sys.mkdirAll(target);
  else touch(sys, target);
  if (detached) sys.moveMount(detached.fd, target);
  else sys.mount(source, target, null, MS.BIND | MS.REC);
  if (m.readonly) makeReadonlyRecursive(sys, target);
  if (m.propagation && m.propagation !== "rprivate") {
    sys.mount(null, target, null, PROPAGATION_FLAGS[m.propagation]);
  }
}

/** Mounts a layer view (see LayerView) at its mount point; returns the path it binds. */
function mountLayerView(sys: Syscalls, view: LayerView): string {
  if (view.upperDir || view.lowerDirs.length > 1) {
    mountOverlay(sys, {
      lowerDirs: view.lowerDirs,
      upperDir: view.upperDir ?? "",
      workDir: view.workDir ?? "",
      mountPoint: view.mountPoint,
    });
  } else if (view.lowerDirs.length === 1) {
    sys.mount(view.lowerDirs[0], view.mountPoint, null, MS.BIND);
  }
  // Links in the layers are the image's: they resolve inside the view, never on the host.
  return join(sys, view.mountPoint, view.path);
}

/** `bind-propagation=` as mount(2) flags (every mount starts rprivate: see prepareRootfs). */
const PROPAGATION_FLAGS: Record<MountPropagation, number> = {
  rprivate: MS.PRIVATE | MS.REC,
  private: MS.PRIVATE,
  rshared: MS.SHARED | MS.REC,
  shared: MS.SHARED,
  rslave: MS.SLAVE | MS.REC,
  slave: MS.SLAVE,
};

/**
 * Allocates the container's terminal from its own devpts instance and puts the slave at
 * /dev/console. Returns the master (to send to the parent) and the slave's container path.
 */
export function allocateTerminal(
  sys: Syscalls,
  root: string,
  pts: string,
  size?: { rows: number; columns: number },
): { master: number; slavePath: string } {
  const { master, ptsNumber } = sys.openPty(`${pts}/ptmx`);
  if (size) sys.setWindowSize(master, size.rows, size.columns);
  const console = join(sys, root, "/dev/console");
  touch(sys, console);
  sys.mount(`${pts}/${ptsNumber}`, console, null, MS.BIND);
  return { master, slavePath: `/dev/pts/${ptsNumber}` };
}

/** Runs one step of hiding a kernel path, naming the path when it fails. */
export function protect(what: string, path: string, step: () => void): void {
  try {
    step();
  } catch (e) {
    throw new Error(`cannot ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Hides kernel files with /dev/null or an empty read-only tmpfs, and makes the read-only
 * kernel paths read-only, after pivot_root. A path this kernel does not have is skipped;
 * any other failure stops the container, since it would run less confined than asked.
 */
function maskKernelPaths(sys: Syscalls): void {
  for (const path of MASKED_PATHS) {
    const kind = sys.fileKind(path, true);
    if (kind === null) continue;
    protect("mask", path, () => {
      if (kind === "directory") sys.mount("tmpfs", path, "tmpfs", MS.RDONLY);
      else sys.mount("/dev/null", path, null, MS.BIND);
    });
  }
  for (const path of READONLY_PATHS) {
    if (sys.fileKind(path, true) === null) continue;
    protect("make read-only", path, () => {
      sys.mount(path, path, null, MS.BIND | MS.REC);
      makeReadonlyRecursive(sys, path);
    });
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
export function prepareRootfs(sys: Syscalls, config: InitConfig): PreparedRootfs {
  const { prepared, root } = buildRootfs(sys, config, false);
  enterPreparedRoot(sys, config, root);
  // Docker's --privileged: nothing of the kernel's is hidden or read-only.
  if (!config.privileged) maskKernelPaths(sys);
  return prepared;
}

/**
 * The first half of a direct start (src/container/direct_start.ts), where the engine's own
 * thread, not an init process, builds the container's filesystem: everything but what only
 * a process inside the new PID and cgroup namespaces can mount (/proc and what hides parts
 * of it, the cgroup hierarchies), which `childMounts` lists for the container's first
 * process to make. Returns the terminal and the root to enter with `enterPreparedRoot`.
 */
export function prepareRootfsForChild(
  sys: Syscalls,
  config: InitConfig,
): { prepared: PreparedRootfs; root: string } {
  return buildRootfs(sys, config, true);
}

/** What the container's first process mounts, in order, once in its namespaces and root. */
export function childMounts(sys: Syscalls, config: InitConfig): ChildMount[] {
  const out: ChildMount[] = [
    { source: "proc", target: "/proc", fstype: "proc", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC },
  ];
  if (!config.privileged) {
    // The kernel's files are the same in every /proc and /sys: the host's say which exist.
    for (const path of MASKED_PATHS) {
      const kind = sys.fileKind(path, true);
      if (kind === null) continue;
      out.push(
        kind === "directory"
          ? { source: "tmpfs", target: path, fstype: "tmpfs", flags: MS.RDONLY }
          : { source: "/dev/null", target: path, fstype: null, flags: MS.BIND },
      );
    }
    for (const path of READONLY_PATHS) {
      if (sys.fileKind(path, true) === null) continue;
      // A fresh /proc has no mounts below these: one remount each makes them read-only.
      out.push({ source: path, target: path, fstype: null, flags: MS.BIND | MS.REC });
      out.push({
        source: null,
        target: path,
        fstype: null,
        flags: MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC,
      });
    }
  }
  const plan = config.cgroupFs;
  const flags = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY;
  if (plan?.version === 2) {
    out.push({ source: "cgroup2", target: CGROUP_FS, fstype: "cgroup2", flags });
  } else if (plan) {
    for (const h of plan.hierarchies) {
      out.push({
        source: "cgroup",
        target: `${CGROUP_FS}/${h.dir}`,
        fstype: "cgroup",
        flags,
        data: h.options,
      });
    }
    out.push({
      source: null,
      target: CGROUP_FS,
      fstype: null,
      flags: MS.BIND | MS.REMOUNT | flags,
    });
  }
  return out;
}

const CGROUP_FS = "/sys/fs/cgroup";

/** `--read-only`'s remount, then pivot_root into the built root. */
export function enterPreparedRoot(sys: Syscalls, config: InitConfig, root: string): void {
  // Only the root's own mount: /dev, /proc, the /etc files, tmpfs and volumes on it keep
  // their own modes, as Docker's --read-only leaves them.
  if (config.readonlyRootfs) sys.mount(null, root, null, MS.BIND | MS.REMOUNT | MS.RDONLY);
  enterRoot(sys, root);
}

/**
 * Everything but entering the root. `forChild`: /proc and the cgroup hierarchies are left
 * for the child (their mount points made, and on v1 the tmpfs that holds the hierarchies).
 */
function buildRootfs(
  sys: Syscalls,
  config: InitConfig,
  forChild: boolean,
): { prepared: PreparedRootfs; root: string } {
  // Nothing we mount may propagate back to the host's mount namespace.
  sys.mount(null, "/", null, MS.REC | MS.PRIVATE);
  const userns = config.userns;
  let root = config.rootfs.mountPoint;
  if (userns) {
    // Init's working directory is the mount point (see UsernsMounts); from here on the root
    // is named through the mount's own descriptor, since the host path above it may not be
    // searchable by the container's root.
    sys.moveMount(userns.rootfs, ".");
    root = `/proc/self/fd/${userns.rootfs}`;
  } else {
    mountOverlay(sys, config.rootfs);
  }
  if (forChild) sys.mkdirAll(join(sys, root, "/proc"));
  else mountProc(sys, root);
  mountSys(sys, root, config.privileged, userns !== undefined && !config.loopbackUp);
  if (config.cgroupFs) mountCgroupFs(sys, root, config.cgroupFs, forChild);
  const pts = mountDev(sys, root, config.shmSizeBytes, userns !== undefined);
  if (config.devices) makeDevices(sys, root, config.devices, userns !== undefined);
  const etc = (file: keyof typeof config.etcFiles) =>
    userns ? { fd: userns.etc[file], directory: false } : undefined;
  bindMount(sys, root, {
    source: config.etcFiles.hostname,
    destination: "/etc/hostname",
    readonly: false,
  }, etc("hostname"));
  bindMount(sys, root, {
    source: config.etcFiles.hosts,
    destination: "/etc/hosts",
    readonly: false,
  }, etc("hosts"));
  bindMount(sys, root, {
    source: config.etcFiles.resolvConf,
    destination: "/etc/resolv.conf",
    readonly: false,
  }, etc("resolvConf"));
  // Volumes and tmpfs together, shallower destinations first (Docker sorts them so), so
  // that `--tmpfs /data/cache` lands on `-v /x:/data` and not under it.
  const depth = (p: string) => p.split("/").filter((c) => c !== "").length;
  const mounts = [
    ...config.mounts.map((m, i) => ({
      at: m.destination,
      mount: () => bindMount(sys, root, m, userns?.mounts[i]),
    })),
    ...(config.tmpfs ?? []).map((m) => ({
      at: m.destination,
      mount: () => mountTmpfs(sys, root, m),
    })),
  ].sort((a, b) => depth(a.at) - depth(b.at));
  for (const m of mounts) m.mount();
  const prepared: PreparedRootfs = {};
  if (config.tty) {
    const t = allocateTerminal(sys, root, pts, config.consoleSize);
    prepared.ttyMaster = t.master;
    prepared.ttySlavePath = t.slavePath;
  }
  return { prepared, root };
}

/**
 * pivot_root into `root` without needing a directory for the old root: pivot onto itself,
 * then lazily detach the old root that now sits underneath (runc's technique).
 */
export function enterRoot(sys: Syscalls, root: string): void {
  const oldRoot = sys.open("/", O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  try {
    sys.chdir(root);
    sys.pivotRoot(".", ".");
    // The old root is now stacked over the new one at "/". Step into it, make sure no
    // unmount propagates anywhere, and detach it.
    sys.fchdir(oldRoot);
    sys.mount(null, ".", null, MS.REC | MS.SLAVE);
    sys.umount(".", true);
    sys.chdir("/");
  } finally {
    sys.close(oldRoot);
  }
}
