/**
 * The host's device nodes a container is given: each `--device` looked up at create (a
 * directory gives every node under it, as Docker's does), and under `--privileged` every
 * node of the host's /dev, looked up at each start, as Docker does, so a disk plugged in
 * since shows up after a restart.
 *
 * @module
 */

import type { DeviceNode, DeviceRequest } from "../config/devices.ts";
import { ExitCodeError } from "../util/errors.ts";

/** Linux's `major()` and `minor()` of a 64-bit dev_t. */
function splitDev(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  return {
    major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    minor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  };
}

/** The node at `hostPath` (symlinks followed, as Docker resolves them), or null if none. */
function nodeAt(hostPath: string, path: string, access: string): DeviceNode | null {
  const info = Deno.statSync(hostPath);
  if (!info.isCharDevice && !info.isBlockDevice) return null;
  return {
    hostPath,
    path,
    type: info.isBlockDevice ? "b" : "c",
    ...splitDev(info.rdev!),
    mode: info.mode! & 0o7777,
    uid: info.uid!,
    gid: info.gid!,
    access,
  };
}

/** Every node under `dir`, recursively, with its path relative to `dir`; `skip` prunes. */
function nodesUnder(
  dir: string,
  skip: (name: string, rel: string) => boolean = () => false,
  rel = "",
): Array<{ host: string; rel: string }> {
  const out: Array<{ host: string; rel: string }> = [];
  for (const e of Deno.readDirSync(`${dir}${rel}`)) {
    const r = `${rel}/${e.name}`;
    if (skip(e.name, r) || e.isSymlink) continue;
    if (e.isDirectory) out.push(...nodesUnder(dir, skip, r));
    else out.push({ host: `${dir}${r}`, rel: r });
  }
  return out;
}

/**
 * Looks up each `--device`'s node on the host. Throws ExitCodeError 125 with Docker's message
 * for a path that does not exist or is no device.
 */
export function resolveDevices(requests: readonly DeviceRequest[]): DeviceNode[] {
  const nodes: DeviceNode[] = [];
  for (const r of requests) {
    const fail = (why: string) =>
      new ExitCodeError(
        `error gathering device information while adding custom device "${r.hostPath}": ${why}`,
        125,
      );
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(r.hostPath);
    } catch (e) {
      throw fail(e instanceof Deno.errors.NotFound ? "no such file or directory" : String(e));
    }
    if (info.isDirectory) {
      const found = nodesUnder(r.hostPath).map((n) =>
        nodeAt(n.host, `${r.containerPath.replace(/\/$/, "")}${n.rel}`, r.access)
      ).filter((n): n is DeviceNode => n !== null);
      if (found.length === 0) throw fail("no devices found in the directory");
      nodes.push(...found);
      continue;
    }
    const node = nodeAt(r.hostPath, r.containerPath, r.access);
    if (!node) throw fail("not a device node");
    nodes.push(node);
  }
  return nodes;
}

/** What Docker's walk of /dev for `--privileged` leaves out: its own mounts and console. */
const NOT_HOST_DEVICES = new Set(["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"]);

/** The standard nodes every container has already (rootfs/setup.ts makes them; ptmx is devpts's). */
const STANDARD = new Set(["/null", "/zero", "/full", "/random", "/urandom", "/tty", "/ptmx"]);

/** Every device node of the host's /dev, for `--privileged`, at the same paths. */
export function hostDevices(dev = "/dev"): DeviceNode[] {
  const nodes: DeviceNode[] = [];
  const skip = (name: string, rel: string) =>
    NOT_HOST_DEVICES.has(name) || rel === "/console" || STANDARD.has(rel);
  for (const n of nodesUnder(dev, skip)) {
    try {
      const node = nodeAt(n.host, `/dev${n.rel}`, "rwm");
      if (node) nodes.push(node);
    } catch { /* gone since the walk: nothing to give */ }
  }
  return nodes;
}
