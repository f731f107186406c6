/**
 * Resolving a container path on the host without letting the image escape its root.
 *
 * An image may contain `etc -> /` or `data -> ../../..`; a naive `join(root, "/data/x")`
 * followed by a mount would then write on the host. This walks the path one component at a
 * time and resolves each symlink as if `root` were `/` (what runc's securejoin does).
 *
 * @module
 */

/** Reads a symlink target, or returns null if `path` is not a symlink or does not exist. */
export type ReadLink = (path: string) => string | null;

function defaultReadLink(path: string): string | null {
  try {
    return Deno.lstatSync(path).isSymlink ? Deno.readLinkSync(path) : null;
  } catch {
    return null;
  }
}

/**
 * Joins `unsafePath` onto `root`, resolving symlinks inside `root` so that the result never
 * leaves it. Components that do not exist are kept as they are.
 *
 * @example
 * ```ts
 * // with rootfs/etc -> /, secureJoin("/rootfs", "/etc/passwd") === "/rootfs/passwd"
 * ```
 */
export function secureJoin(root: string, unsafePath: string, readLink = defaultReadLink): string {
  const base = root.replace(/\/+$/, "");
  let pending = unsafePath.split("/").filter((c) => c !== "" && c !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = `${base}/${[...resolved, part].join("/")}`;
    const target = readLink(candidate);
    if (target === null) {
      resolved.push(part);
      continue;
    }
    if (++links > 255) throw new Error(`${unsafePath}: too many levels of symbolic links`);
    const targetParts = target.split("/").filter((c) => c !== "" && c !== ".");
    if (target.startsWith("/")) resolved.length = 0;
    pending = [...targetParts, ...pending];
  }
  return resolved.length === 0 ? base : `${base}/${resolved.join("/")}`;
}
