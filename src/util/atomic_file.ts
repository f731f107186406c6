/**
 * The one way m-docker replaces a file that others read: write a temporary file beside it,
 * fsync it, rename it over the old one, fsync the directory. A reader sees the old content
 * or the new, never a part; after a crash the file is one or the other, not empty (the
 * fsync before the rename), and the rename itself is on disk (the directory's fsync).
 *
 * Used by every store: container state, image records and references, credentials.
 *
 * @module
 */

/** Makes an open file's (or directory's) data durable: `fsync(2)`. Replaceable in tests. */
export type SyncFn = (file: Deno.FsFile, path: string) => void;

/** The real `fsync`. */
export const fsync: SyncFn = (file) => file.syncSync();

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** Permission bits of the new file, whatever the umask (default 0o644). */
  mode?: number;
  /** How to fsync the file and then its directory (the real fsync unless a test injects one). */
  sync?: SyncFn;
  /**
   * Fsync the directory after the rename (default true). False only for a directory that
   * is itself new and will be synced (and renamed into place) by the caller.
   */
  syncDirectory?: boolean;
}

/** The temporary file `writeFileAtomic` uses for `path`: hidden, beside it, per process. */
export function atomicTempPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp-${Deno.pid}`;
}

/**
 * Replaces `path` with `data` atomically and durably. The directory must exist: a missing
 * one is an error (NotFound), never created here, so that a write cannot bring back a
 * directory someone removed. On failure the temporary file is removed.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array<ArrayBuffer>,
  opts: AtomicWriteOptions = {},
): void {
  const sync = opts.sync ?? fsync;
  const tmp = atomicTempPath(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const mode = opts.mode ?? 0o644;
  try {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode });
    try {
      // The umask may have changed the bits, or a stale temp file had others.
      Deno.chmodSync(tmp, mode);
      for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
      sync(file, tmp);
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never made, or already renamed */ }
    throw e;
  }
  if (opts.syncDirectory === false) return;
  const slash = path.lastIndexOf("/");
  syncDirectory(slash < 0 ? "." : path.slice(0, slash) || "/", sync);
}

/** Makes a directory's entries (a rename, a new or removed name) durable. */
export function syncDirectory(dir: string, sync: SyncFn = fsync): void {
  const d = Deno.openSync(dir, { read: true });
  try {
    sync(d, dir);
  } finally {
    d.close();
  }
}
