/**
 * `diff`: what a container changed in its filesystem, from its overlay's upper directory,
 * as Docker's overlay2 driver reports it. A whiteout (a 0/0 character device) is a
 * deletion (`D`); a name the image's layers lack is an addition (`A`); one they have is a
 * change (`C`). A directory that the image has is listed as changed only when something
 * under it is, or its mode or owners differ (its upper copy exists only because a child
 * changed). Files m-docker itself placed (empty mountpoints for /etc/hostname, /etc/hosts
 * and /etc/resolv.conf, which Docker keeps in a layer of their own) are left out.
 *
 * @module
 */

import type { ContainerState } from "../state/types.ts";

/** One change, as Docker's `diff` prints it: `C /etc`. */
export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

/** Empty files create.ts puts in the upper layer for init to mount over. */
const PLACED = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]);

function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

const isWhiteout = (i: Deno.FileInfo) => i.isCharDevice && (i.rdev ?? 0) === 0;

/** The path as the image's layers show it (top first), or null when they lack it. */
function inLayers(lowerDirs: string[], rel: string): Deno.FileInfo | null {
  for (const layer of lowerDirs) {
    const info = lstat(`${layer}${rel}`);
    if (info) return isWhiteout(info) ? null : info;
  }
  return null;
}

/** The changes in an upper directory over its lower ones (top first), parents first. */
export function layerChanges(upperDir: string, lowerDirs: string[]): Change[] {
  const walk = (rel: string): Change[] => {
    const out: Change[] = [];
    const names = [...Deno.readDirSync(`${upperDir}${rel}`)].map((e) => e.name).sort();
    for (const name of names) {
      const path = `${rel}/${name}`;
      const info = lstat(`${upperDir}${path}`);
      if (!info) continue;
      if (isWhiteout(info)) {
        out.push({ kind: "D", path });
        continue;
      }
      if (PLACED.has(path) && info.isFile && info.size === 0 && !inLayers(lowerDirs, path)) {
        continue;
      }
      const lower = inLayers(lowerDirs, path);
      const below = info.isDirectory ? walk(path) : [];
      if (!lower) {
        out.push({ kind: "A", path }, ...below);
      } else if (info.isDirectory && lower.isDirectory) {
        const same = info.mode === lower.mode && info.uid === lower.uid && info.gid === lower.gid;
        if (!same || below.length > 0) out.push({ kind: "C", path }, ...below);
      } else {
        out.push({ kind: "C", path }, ...below);
      }
    }
    return out;
  };
  return walk("");
}

/** A container's changes (`docker diff`). */
export function containerChanges(state: ContainerState): Change[] {
  return layerChanges(state.rootfs.upperDir, state.rootfs.lowerDirs);
}
