/**
 * Builds an OCI bundle's container filesystem in init's new mount namespace, as the runtime
 * spec (config.md, "Mounts"; config-linux.md) and runc define it: the bundle's root made a
 * mount point, each of `mounts` in order, the default device nodes and /dev links when /dev
 * is not the host's, pivot_root, then the masked and read-only paths and a read-only root.
 * Only sync calls through the `Syscalls` seam (init's namespaces are its main thread's).
 *
 * @module
 */

import { MS } from "../../ffi/libc.ts";
import type { Syscalls } from "../../ffi/syscalls.ts";
import type { OciInitConfig, OciMountCall } from "../config/oci_init.ts";
import type { CgroupFsPlan } from "../config/init.ts";
import type { DeviceNode } from "../config/devices.ts";
import {
  allocateTerminal,
  enterRoot,
  join,
  makeDevices,
  makeReadonlyRecursive,
  mountCgroupFs,
  protect,
  touch,
} from "./setup.ts";

/** The nodes runc makes in a /dev that is not bound from the host (its DefaultSimpleDevices). */
const DEFAULT_DEVICES: ReadonlyArray<[name: string, major: number, minor: number]> = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["tty", 5, 0],
  ["urandom", 1, 9],
  ["random", 1, 8],
];

/** What `prepareBundleRootfs` hands back to init: the terminal, when one was asked for. */
export interface PreparedBundle {
  ttyMaster?: number;
  ttySlavePath?: string;
}

/**
 * Makes the bundle's root filesystem and enters it. On return the process is at `/` of the
 * container, with every mount of config.json made, in order.
 */
export function prepareBundleRootfs(sys: Syscalls, config: OciInitConfig): PreparedBundle {
  sys.mount(null, "/", null, config.rootPropagation);
  // A shared parent would fail pivot_root (EINVAL) and would carry the root's bind to the
  // host: made private first, as runc's rootfsParentMountPrivate does.
  const parent = sharedParentMount(sys, config.root);
  if (parent !== null) sys.mount(null, parent, null, MS.PRIVATE);
  // pivot_root needs the new root to be a mount point.
  sys.mount(config.root, config.root, null, MS.BIND | MS.REC);
  const root = config.root;
  let devBound = false;
  for (const m of config.mounts) {
    mountOne(sys, root, m);
    if (m.destination.replace(/\/+$/, "") === "/dev" && m.fstype === null) devBound = true;
  }
  const bindNodes = config.userns === true;
  if (!devBound) makeDefaultDevices(sys, root, config.devices, bindNodes);
  else if (config.devices.length) makeDevices(sys, root, config.devices, bindNodes);
  const prepared: PreparedBundle = {};
  if (config.process.terminal) {
    const t = allocateTerminal(sys, root, join(sys, root, "/dev/pts"), config.process.consoleSize);
    prepared.ttyMaster = t.master;
    prepared.ttySlavePath = t.slavePath;
  }
  enterRoot(sys, root);
  // Again on the new "/" when it asks for sharing (runc applies an explicit propagation
  // again after pivot_root): the bind made under the now private parent is not shared.
  // Only then: the default rslave would turn a mount's own `shared` option into slave.
  if (config.rootPropagation & MS.SHARED) sys.mount(null, "/", null, config.rootPropagation);
  for (const path of config.maskedPaths) maskPath(sys, path);
  for (const path of config.readonlyPaths) readonlyPath(sys, path);
  if (config.rootReadonly) sys.mount(null, "/", null, MS.BIND | MS.REMOUNT | MS.RDONLY);
  return prepared;
}

/**
 * The mount point of the mount `path` is on, when that mount is shared (a `shared:N`
 * optional field in mountinfo); otherwise null.
 */
function sharedParentMount(sys: Syscalls, path: string): string | null {
  let best: { point: string; shared: boolean } | null = null;
  for (const line of sys.readTextFile("/proc/self/mountinfo").split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0) continue;
    const point = f[4].replace(
      /\\([0-7]{3})/g,
      (_, o: string) => String.fromCharCode(parseInt(o, 8)),
    );
    const under = point === "/" || path === point || path.startsWith(`${point}/`);
    // The last of equal mount points is the one on top.
    if (under && (best === null || point.length >= best.point.length)) {
      best = { point, shared: f.slice(6, dash).some((o) => o.startsWith("shared:")) };
    }
  }
  return best?.shared ? best.point : null;
}

/** One entry of `mounts`: its mount point made (directory, or file for a file bind), then the calls. */
function mountOne(sys: Syscalls, root: string, m: OciMountCall): void {
  const target = join(sys, root, m.destination);
  const fail = (e: unknown): never => {
    throw new Error(
      `mount ${m.source ?? m.fstype ?? "none"} to ${m.destination}: ${(e as Error).message}`,
      { cause: e },
    );
  };
  try {
    if (m.cgroup && m.cgroupBind) {
      sys.mkdirAll(target);
      bindCgroups(sys, target, m.cgroup, m.cgroupBind);
    } else if (m.cgroup) {
      sys.mkdirAll(target);
      mountCgroupFs(sys, root, m.cgroup);
    } else if (m.fstype === null) {
      const kind = m.source === null ? null : sys.fileKind(m.source, true);
      if (kind === null) throw new Error(`bind source ${m.source}: no such file or directory`);
      if (kind === "directory") sys.mkdirAll(target);
      else touch(sys, target);
      sys.mount(m.source, target, null, m.flags);
      if (m.remountFlags !== undefined) {
        sys.mount(null, target, null, MS.BIND | MS.REMOUNT | m.remountFlags);
      }
    } else {
      sys.mkdirAll(target);
      sys.mount(m.source, target, m.fstype, m.flags, m.data ?? null);
    }
    for (const p of m.propagation) sys.mount(null, target, null, p);
  } catch (e) {
    fail(e);
  }
}

/**
 * The container's own cgroup directories at `target`, read-only: on v2 its unified directory
 * itself; on v1 a tmpfs with one bind per hierarchy, and a link per controller of a
 * co-mounted one (`cpu` -> `cpu,cpuacct`), as mountCgroupFs lays them out.
 */
function bindCgroups(
  sys: Syscalls,
  target: string,
  plan: CgroupFsPlan,
  paths: Record<string, string>,
): void {
  const ro = MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (plan.version === 2) {
    sys.mount(paths.unified, target, null, MS.BIND);
    sys.mount(null, target, null, ro);
    return;
  }
  sys.mount("tmpfs", target, "tmpfs", MS.NOSUID | MS.NODEV | MS.NOEXEC, "mode=755");
  const dirs = new Set(plan.hierarchies.map((h) => h.dir));
  for (const h of plan.hierarchies) {
    const source = paths[h.dir];
    if (source === undefined) continue;
    sys.mkdirAll(`${target}/${h.dir}`);
    sys.mount(source, `${target}/${h.dir}`, null, MS.BIND);
    sys.mount(null, `${target}/${h.dir}`, null, ro);
    if (!h.dir.includes(",")) continue;
    for (const c of h.dir.split(",")) if (!dirs.has(c)) sys.symlink(h.dir, `${target}/${c}`);
  }
  sys.mount(null, target, null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

/** runc's default nodes, the bundle's `linux.devices`, and the /dev links to /proc and pts. */
function makeDefaultDevices(
  sys: Syscalls,
  root: string,
  extra: readonly DeviceNode[],
  bindNodes: boolean,
): void {
  const dev = join(sys, root, "/dev");
  sys.mkdirAll(dev);
  const named = new Set(extra.map((d) => d.path));
  const defaults: DeviceNode[] = DEFAULT_DEVICES
    .filter(([name]) => !named.has(`/dev/${name}`))
    .map(([name, major, minor]) => ({
      path: `/dev/${name}`,
      hostPath: `/dev/${name}`,
      type: "c",
      major,
      minor,
      mode: 0o666,
      uid: 0,
      gid: 0,
      access: "rwm",
    }));
  makeDevices(sys, root, [...defaults, ...extra], bindNodes);
  const link = (target: string, name: string) => {
    if (sys.fileKind(`${dev}/${name}`) === null) sys.symlink(target, `${dev}/${name}`);
  };
  link("/proc/self/fd", "fd");
  link("/proc/self/fd/0", "stdin");
  link("/proc/self/fd/1", "stdout");
  link("/proc/self/fd/2", "stderr");
  if (sys.fileKind("/proc/kcore", true) !== null) link("/proc/kcore", "core");
  if (sys.fileKind(`${dev}/pts/ptmx`, true) !== null) link("pts/ptmx", "ptmx");
}

/** `maskedPaths`: /dev/null over a file, an empty read-only tmpfs over a directory. */
function maskPath(sys: Syscalls, path: string): void {
  const kind = sys.fileKind(path, true);
  if (kind === null) return;
  protect("mask", path, () => {
    if (kind === "directory") sys.mount("tmpfs", path, "tmpfs", MS.RDONLY);
    else sys.mount("/dev/null", path, null, MS.BIND);
  });
}

/** `readonlyPaths`: bound onto itself, then everything at and below it read-only. */
function readonlyPath(sys: Syscalls, path: string): void {
  if (sys.fileKind(path, true) === null) return;
  protect("make read-only", path, () => {
    sys.mount(path, path, null, MS.BIND | MS.REC);
    makeReadonlyRecursive(sys, path);
  });
}
