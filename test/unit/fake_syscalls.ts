/**
 * A recording `Syscalls` for unit tests: every call is logged with its arguments, and a small
 * model of the kernel answers them, so the root filesystem plan runs without root. It holds
 * a tree of files (host paths), a mount table, a root and a working directory, and
 * descriptors. Where it matters for confinement it behaves as Linux does: a bind remount
 * changes one mount only (MS_REC is ignored), a recursive bind copies the submounts below its
 * source, mount_setattr(AT_RECURSIVE) reaches the whole tree, mounting procfs or sysfs makes
 * their files appear, and /proc/self/mountinfo lists the mounts under the current root.
 * Failures are injected per call with `failOn`.
 */
import { SyscallError } from "../../ffi/errors.ts";
import { AT, MOUNT_ATTR, MS, O, type SpawnOptions } from "../../ffi/libc.ts";
import type { FileKind, Syscalls } from "../../ffi/syscalls.ts";
import type { LateSpawnChoices, NamespacedSpawnOptions } from "../../ffi/nsclone.ts";

/** One recorded call. */
export interface Call {
  name: string;
  args: unknown[];
}

/** A file in the fake tree. */
export interface FakeNode {
  kind: FileKind | "char";
  uid?: number;
  gid?: number;
  mode: number;
  /** A symlink's text. */
  target?: string;
  /** A file's content. */
  content?: string;
  /** A device node's numbers. */
  device?: [major: number, minor: number];
}

/** One mount in the fake table; `target` is a host path. */
export interface FakeMount {
  id: number;
  source: string | null;
  target: string;
  fstype: string;
  /** Per-mount MS_NOSUID, MS_NODEV, MS_NOEXEC and atime flags. */
  flags: number;
  readonly: boolean;
}

const PER_MOUNT = MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME |
  MS.STRICTATIME;

const EPERM = 1, ENOENT = 2, EEXIST = 17, ENOTDIR = 20, EINVAL = 22, ENOSYS = 38;

/** What a fresh procfs, sysfs and devpts show (paths ending in "/" are directories). */
export const DEFAULT_KERNEL_TREES: Record<string, Record<string, string>> = {
  proc: {
    "acpi/": "",
    "kcore": "",
    "keys": "",
    "timer_list": "",
    "sched_debug": "",
    "bus/": "",
    "fs/": "",
    "irq/": "",
    "sys/": "",
    "sys/kernel/": "",
    "sys/kernel/cap_last_cap": "40\n",
    "sysrq-trigger": "",
    "self/": "",
  },
  sysfs: { "firmware/": "", "class/": "", "fs/": "", "fs/cgroup/": "" },
  devpts: { "ptmx": "" },
};

function normalize(path: string): string {
  const out: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return "/" + out.join("/");
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf("/")) || "/";
const under = (p: string, base: string) =>
  p === base || p.startsWith(base === "/" ? "/" : `${base}/`);

/** The fake; see the module comment. */
export class FakeSyscalls implements Syscalls {
  /** Every call, in order. */
  readonly calls: Call[] = [];
  /** The file tree, by host path. */
  readonly nodes = new Map<string, FakeNode>();
  /** The mount table, oldest first (a later mount at the same path is on top). */
  mounts: FakeMount[] = [];
  /** The calling thread's root and working directory, as host paths. */
  root = "/";
  cwd = "/";
  /** Open descriptors and the host path each refers to. */
  readonly fds = new Map<number, string>();
  /** The file-creation mask. */
  umaskValue = 0o022;
  /** False models a kernel before 5.12, where mount_setattr(2) is ENOSYS. */
  hasMountSetattr = true;
  /** What mounting each filesystem type makes appear (see DEFAULT_KERNEL_TREES). */
  kernelTrees = DEFAULT_KERNEL_TREES;
  private nextFd = 100;
  private nextMountId = 2;
  private failures: Array<{ name: string; when: (...args: never[]) => boolean; errno: number }> =
    [];

  constructor() {
    this.nodes.set("/", { kind: "directory", mode: 0o755 });
    this.mounts.push({
      id: 1,
      source: "/dev/root",
      target: "/",
      fstype: "ext4",
      flags: MS.RELATIME,
      readonly: false,
    });
  }

  // --- set-up and inspection for tests --------------------------------------------------

  /** Makes `call` fail with `errno` whenever `when` returns true for its arguments. */
  failOn<K extends keyof Syscalls>(
    name: K,
    // deno-lint-ignore no-explicit-any
    when: (...args: any[]) => boolean,
    errno: number,
  ): void {
    this.failures.push({ name, when, errno });
  }

  /** Creates directories (mkdir -p) on the host side. */
  addDir(...paths: string[]): void {
    for (const p of paths) this.makeDirs(normalize(p), 0o755);
  }

  /** Creates a file (and its parent directories). */
  addFile(path: string, content = ""): void {
    this.makeDirs(parentOf(normalize(path)), 0o755);
    this.nodes.set(normalize(path), { kind: "file", mode: 0o644, content });
  }

  /** Creates a symlink (and its parent directories). */
  addSymlink(path: string, target: string): void {
    this.makeDirs(parentOf(normalize(path)), 0o755);
    this.nodes.set(normalize(path), { kind: "symlink", mode: 0o777, target });
  }

  /** A mount that exists on the host before the test starts (a submount of a volume, say). */
  addMount(target: string, fstype: string, flags = 0): void {
    this.addDir(target);
    this.mounts.push({
      id: this.nextMountId++,
      source: fstype,
      target: normalize(target),
      fstype,
      flags: flags & PER_MOUNT,
      readonly: (flags & MS.RDONLY) !== 0,
    });
  }

  /** The recorded calls named, as `[name, ...args]`, in order. */
  trace(...names: Array<keyof Syscalls>): unknown[][] {
    return this.calls.filter((c) => names.includes(c.name as keyof Syscalls)).map((
      c,
    ) => [c.name, ...c.args]);
  }

  /** The topmost mount exactly at host path `target`. */
  mountAt(target: string): FakeMount | undefined {
    return this.mounts.findLast((m) => m.target === normalize(target));
  }

  /** The mounts at or below host path `target`. */
  mountsUnder(target: string): FakeMount[] {
    return this.mounts.filter((m) => under(m.target, normalize(target)));
  }

  /** A host path as the calling thread names it. */
  resolve(path: string): string {
    // /proc/self/fd/N/...: the path descriptor N was opened on (Linux's magic link).
    const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(path);
    if (m && this.fds.has(Number(m[1]))) {
      return normalize(`${this.fds.get(Number(m[1]))}/${m[2] ?? ""}`);
    }
    return normalize(path.startsWith("/") ? `${this.root}/${path}` : `${this.cwd}/${path}`);
  }

  // --- the model ------------------------------------------------------------------------

  private record(name: keyof Syscalls, args: unknown[], target?: string): void {
    this.calls.push({ name, args });
    for (const f of this.failures) {
      if (f.name === name && (f.when as (...a: unknown[]) => boolean)(...args)) {
        throw new SyscallError(name === "mountSetattr" ? "mount_setattr" : name, f.errno, target);
      }
    }
  }

  private fail(name: string, errno: number, target?: string): never {
    throw new SyscallError(name, errno, target);
  }

  private makeDirs(path: string, mode: number): void {
    if (path === "/") return;
    const node = this.nodes.get(path);
    if (node) {
      if (node.kind !== "directory") this.fail("mkdir", EEXIST, path);
      return;
    }
    this.makeDirs(parentOf(path), mode);
    this.nodes.set(path, { kind: "directory", mode: mode & ~this.umaskValue });
  }

  /** Creates a node whose parent must already be a directory. */
  private create(name: string, path: string, node: FakeNode): void {
    if (this.nodes.has(path)) this.fail(name, EEXIST, path);
    const parent = this.nodes.get(parentOf(path));
    if (!parent) this.fail(name, ENOENT, path);
    if (parent.kind !== "directory") this.fail(name, ENOTDIR, path);
    this.nodes.set(path, node);
  }

  /** Follows symlinks at the end of a host path (relative to the thread's root). */
  private follow(path: string): string {
    let p = path;
    for (let i = 0; i < 40; i++) {
      const n = this.nodes.get(p);
      if (n?.kind !== "symlink") return p;
      p = n.target!.startsWith("/")
        ? this.resolve(n.target!)
        : normalize(`${parentOf(p)}/${n.target}`);
    }
    return this.fail("stat", 40, path);
  }

  private requireMountPoint(name: string, path: string, shown: string): FakeMount {
    return this.mountAt(path) ?? this.fail(name, EINVAL, shown);
  }

  private visible(hostPath: string): string | null {
    if (this.root === "/") return hostPath;
    if (hostPath === this.root) return "/";
    return hostPath.startsWith(`${this.root}/`) ? hostPath.slice(this.root.length) : null;
  }

  private mountInfo(): string {
    const escape = (s: string) =>
      s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
    const names: Array<[number, string]> = [
      [MS.NOSUID, "nosuid"],
      [MS.NODEV, "nodev"],
      [MS.NOEXEC, "noexec"],
      [MS.NOATIME, "noatime"],
      [MS.NODIRATIME, "nodiratime"],
      [MS.RELATIME, "relatime"],
      [MS.STRICTATIME, "strictatime"],
    ];
    return this.mounts.flatMap((m) => {
      const v = this.visible(m.target);
      if (v === null) return [];
      const opts = [
        m.readonly ? "ro" : "rw",
        ...names.filter(([f]) => m.flags & f).map(([, n]) => n),
      ];
      return [
        `${m.id} 1 0:${m.id} / ${escape(v)} ${opts.join(",")} shared:${m.id} - ${m.fstype} ${
          m.source ?? "none"
        } rw\n`,
      ];
    }).join("");
  }

  // --- Syscalls -------------------------------------------------------------------------

  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null = null,
  ): void {
    this.record("mount", [source, target, fstype, flags, data], target);
    const t = this.resolve(target);
    if (!this.nodes.has(t)) this.fail("mount", ENOENT, target);
    if (flags & MS.REMOUNT) {
      const m = this.requireMountPoint("mount", t, target);
      // A bind remount changes this one mount's flags; MS_REC is ignored, as by the kernel.
      m.readonly = (flags & MS.RDONLY) !== 0;
      if (flags & MS.BIND) m.flags = flags & PER_MOUNT;
      return;
    }
    if (flags & MS.BIND) {
      const s = this.follow(this.resolve(source!));
      if (!this.nodes.has(s)) this.fail("mount", ENOENT, source!);
      const from = this.mounts.findLast((m) => under(s, m.target))!;
      const below = flags & MS.REC
        ? this.mounts.filter((m) => m.target !== s && under(m.target, s))
        : [];
      // What is under the source shows under the target too (a copy: writes are not shared).
      for (const [p, node] of [...this.nodes]) {
        if (p !== s && under(p, s)) this.nodes.set(t + p.slice(s.length), { ...node });
      }
      this.mounts.push({ ...from, id: this.nextMountId++, source, target: t });
      for (const m of below) {
        this.mounts.push({ ...m, id: this.nextMountId++, target: t + m.target.slice(s.length) });
      }
      return;
    }
    if (flags & (MS.PRIVATE | MS.SLAVE | MS.SHARED)) {
      this.requireMountPoint("mount", t, target);
      return;
    }
    this.mounts.push({
      id: this.nextMountId++,
      source,
      target: t,
      fstype: fstype!,
      flags: flags & PER_MOUNT,
      readonly: (flags & MS.RDONLY) !== 0,
    });
    for (const [rel, content] of Object.entries(this.kernelTrees[fstype!] ?? {})) {
      const p = normalize(`${t}/${rel}`);
      this.nodes.set(
        p,
        rel.endsWith("/")
          ? { kind: "directory", mode: 0o555 }
          : { kind: "file", mode: 0o444, content },
      );
    }
  }

  umount(target: string, detach = false): void {
    this.record("umount", [target, detach], target);
    const t = this.resolve(target);
    const m = this.requireMountPoint("umount", t, target);
    if (m.target === "/" && this.root !== "/") {
      // The old root after pivot_root: what only it could reach goes with it.
      this.mounts = this.mounts.filter((x) => under(x.target, this.root));
      return;
    }
    this.mounts = this.mounts.filter((x) => x !== m && !(x.target !== t && under(x.target, t)));
  }

  mountSetattr(path: string, flags: number, attrSet: number, attrClr = 0): void {
    this.record("mountSetattr", [path, flags, attrSet, attrClr], path);
    if (!this.hasMountSetattr) this.fail("mount_setattr", ENOSYS, path);
    const t = this.resolve(path);
    const top = this.requireMountPoint("mount_setattr", t, path);
    const targets = flags & AT.RECURSIVE ? this.mountsUnder(t) : [top];
    for (const m of targets) {
      if (attrSet & MOUNT_ATTR.RDONLY) m.readonly = true;
      if (attrClr & MOUNT_ATTR.RDONLY) m.readonly = false;
    }
  }

  pivotRoot(newRoot: string, putOld: string): void {
    this.record("pivotRoot", [newRoot, putOld], newRoot);
    const n = this.resolve(newRoot);
    if (n === this.root) this.fail("pivot_root", EINVAL, newRoot);
    this.requireMountPoint("pivot_root", n, newRoot);
    this.root = n;
  }

  unshare(flags: number): void {
    this.record("unshare", [flags]);
  }

  setns(fd: number, nstype: number, what?: string): void {
    this.record("setns", [fd, nstype, what], what);
    if (!this.fds.has(fd)) this.fail("setns", 9, what);
  }

  chdir(path: string): void {
    this.record("chdir", [path], path);
    const p = this.follow(this.resolve(path));
    const n = this.nodes.get(p);
    if (!n) this.fail("chdir", ENOENT, path);
    if (n.kind !== "directory") this.fail("chdir", ENOTDIR, path);
    this.cwd = p;
  }

  fchdir(fd: number): void {
    this.record("fchdir", [fd]);
    const p = this.fds.get(fd) ?? this.fail("fchdir", 9);
    this.cwd = p;
  }

  chroot(path: string): void {
    this.record("chroot", [path], path);
    this.root = this.resolve(path);
  }

  open(path: string, flags: number, mode = 0o644): number {
    this.record("open", [path, flags, mode], path);
    const p = this.follow(this.resolve(path));
    if (!this.nodes.has(p)) {
      if (!(flags & O.CREAT)) this.fail("open", ENOENT, path);
      this.create("open", p, { kind: "file", mode: mode & ~this.umaskValue, content: "" });
    }
    const fd = this.nextFd++;
    this.fds.set(fd, p);
    return fd;
  }

  close(fd: number): void {
    this.record("close", [fd]);
    this.fds.delete(fd);
  }

  mknod(path: string, kind: "char" | "block" | "fifo", mode: number, major: number, minor: number) {
    this.record("mknod", [path, kind, mode, major, minor], path);
    if (kind === "fifo") this.fail("mknod", EPERM, path);
    this.create("mknod", this.resolve(path), {
      kind: "char",
      mode: mode & ~this.umaskValue,
      device: [major, minor],
    });
  }

  lchown(path: string, uid: number, gid: number): void {
    this.record("lchown", [path, uid, gid], path);
    const n = this.nodes.get(this.resolve(path));
    if (!n) this.fail("lchown", ENOENT, path);
    n.uid = uid;
    n.gid = gid;
  }

  umask(mask: number): number {
    this.record("umask", [mask]);
    const old = this.umaskValue;
    this.umaskValue = mask;
    return old;
  }

  sethostname(name: string): void {
    this.record("sethostname", [name], name);
  }

  dropBoundingCapability(cap: number): void {
    this.record("dropBoundingCapability", [cap]);
  }

  clearInheritableCapabilities(): void {
    this.record("clearInheritableCapabilities", []);
  }

  setNoNewPrivs(): void {
    this.record("setNoNewPrivs", []);
  }

  setCredentials(uid: number, gid: number, groups: readonly number[]): void {
    this.record("setCredentials", [uid, gid, groups]);
  }

  loadSeccompFilter(program: Uint8Array<ArrayBuffer>): void {
    this.record("loadSeccompFilter", [program.length / 8]);
  }

  openPty(ptmxPath: string): { master: number; ptsNumber: number } {
    this.record("openPty", [ptmxPath], ptmxPath);
    const ptmx = this.resolve(ptmxPath);
    if (!this.nodes.has(ptmx)) this.fail("open", ENOENT, ptmxPath);
    const dir = parentOf(ptmx);
    let n = 0;
    while (this.nodes.has(`${dir}/${n}`)) n++;
    this.nodes.set(`${dir}/${n}`, { kind: "char", mode: 0o620, device: [136, n] });
    const master = this.nextFd++;
    this.fds.set(master, ptmx);
    return { master, ptsNumber: n };
  }

  setWindowSize(fd: number, rows: number, columns: number): void {
    this.record("setWindowSize", [fd, rows, columns]);
  }

  /** The program each spawnInNamespaces would exec (its `prepare` may choose it late). */
  readonly spawnedPaths: string[] = [];

  spawnInNamespaces(
    opts: NamespacedSpawnOptions,
    prepare?: (pid: number) => LateSpawnChoices | void,
  ): number {
    this.record("spawnInNamespaces", [opts], opts.path);
    const late = prepare?.(4242);
    this.spawnedPaths.push(late?.path ?? opts.path);
    return 4242;
  }

  /** Detached mounts: the host path (or `overlay`) each descriptor's mount shows. */
  readonly detached = new Map<number, string>();

  openTreeClone(path: string, recursive: boolean): number {
    this.record("openTreeClone", [path, recursive], path);
    const p = this.follow(this.resolve(path));
    if (!this.nodes.has(p)) this.fail("open_tree", ENOENT, path);
    const fd = this.nextFd++;
    this.fds.set(fd, p);
    this.detached.set(fd, p);
    return fd;
  }

  idmapMount(fd: number, usernsFd: number, what: string): void {
    this.record("idmapMount", [fd, usernsFd, what], what);
    if (!this.detached.has(fd)) this.fail("mount_setattr", EINVAL, what);
  }

  fsmountDetached(fstype: string, options: ReadonlyArray<[string, string]>): number {
    this.record("fsmountDetached", [fstype, options], fstype);
    const fd = this.nextFd++;
    this.fds.set(fd, `detached:${fstype}`);
    this.detached.set(fd, `detached:${fstype}`);
    return fd;
  }

  /**
   * Attaches a detached mount: a bind clone shows its source's files at the target, a new
   * filesystem an empty directory; the descriptor then names the target (as
   * /proc/self/fd/N does on Linux).
   */
  moveMount(fd: number, target: string): void {
    this.record("moveMount", [fd, target], target);
    const source = this.detached.get(fd);
    if (source === undefined) this.fail("move_mount", EINVAL, target);
    const t = this.resolve(target);
    if (!this.nodes.has(t)) this.fail("move_mount", ENOENT, target);
    this.detached.delete(fd);
    if (!source.startsWith("detached:")) {
      for (const [p, node] of [...this.nodes]) {
        if (p !== source && under(p, source)) {
          this.nodes.set(t + p.slice(source.length), { ...node });
        }
      }
    }
    this.mounts.push({
      id: this.nextMountId++,
      source,
      target: t,
      fstype: source.startsWith("detached:") ? source.slice(9) : "bind",
      flags: 0,
      readonly: false,
    });
    this.fds.set(fd, t);
  }

  spawn(opts: SpawnOptions): number {
    this.record("spawn", [opts], opts.path);
    return 4242;
  }

  mkdirAll(path: string, mode = 0o755): void {
    this.record("mkdirAll", [path, mode], path);
    const p = this.resolve(path);
    if (this.nodes.get(p)?.kind === "symlink") this.fail("mkdir", EEXIST, path);
    this.makeDirs(p, mode);
  }

  symlink(target: string, path: string): void {
    this.record("symlink", [target, path], path);
    this.create("symlink", this.resolve(path), { kind: "symlink", mode: 0o777, target });
  }

  createFile(path: string, mode = 0o644): void {
    this.record("createFile", [path, mode], path);
    this.create("open", this.resolve(path), {
      kind: "file",
      mode: mode & ~this.umaskValue,
      content: "",
    });
  }

  fileKind(path: string, follow = false): FileKind | null {
    this.record("fileKind", [path, follow], path);
    const p = this.resolve(path);
    const n = this.nodes.get(follow ? this.follow(p) : p);
    if (!n) return null;
    return n.kind === "char" ? "other" : n.kind;
  }

  readLink(path: string): string {
    this.record("readLink", [path], path);
    const n = this.nodes.get(this.resolve(path));
    if (!n) this.fail("readlink", ENOENT, path);
    if (n.kind !== "symlink") this.fail("readlink", EINVAL, path);
    return n.target!;
  }

  readTextFile(path: string): string {
    this.record("readTextFile", [path], path);
    if (path === "/proc/self/mountinfo") return this.mountInfo();
    const n = this.nodes.get(this.follow(this.resolve(path)));
    if (n?.kind !== "file") this.fail("read", ENOENT, path);
    return n.content ?? "";
  }

  /** What writeTextFile wrote, by path. */
  readonly written = new Map<string, string>();
  /** The process's limits as setRlimit left them, by resource number. */
  readonly rlimits = new Map<number, { soft: number; hard: number }>();

  writeTextFile(path: string, text: string): void {
    this.record("writeTextFile", [path, text], path);
    this.written.set(path, text);
  }

  setRlimit(
    resource: number,
    soft: number,
    hard: number,
    pid = 0,
  ): { soft: number; hard: number } {
    this.record("setRlimit", [resource, soft, hard, pid], String(resource));
    const old = this.rlimits.get(resource) ?? { soft: -1, hard: -1 };
    this.rlimits.set(resource, { soft, hard });
    return old;
  }
}
