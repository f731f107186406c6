/**
 * Small filesystem questions asked all over the engine, answered one way.
 *
 * @module
 */

/**
 * `lstat` of `path` (never following a final symlink), or null when nothing is there.
 * Errors other than "not found" (permission, I/O) are thrown: they are not absence.
 *
 * @example
 * ```ts
 * if (lstatOrNull("/etc/hosts")?.isFile) console.log("a plain file");
 * ```
 */
export function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}
