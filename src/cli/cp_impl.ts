/**
 * The body of `m-docker cp` (see cp.ts): which side is the container, Docker's argument
 * rules and messages; the copying is src/container/copy.ts.
 *
 * @module
 */

import {
  containerIdsOf,
  containerRoot,
  CopyError,
  copyPath,
  extractEntries,
  hostIdsOf,
  resolveSource,
  tarEntries,
  writeSourceArchive,
} from "../container/copy.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { action, type CliContext } from "./context.ts";

/** The flags of `cp`. */
export interface CpFlags {
  archive?: boolean;
  followLink?: boolean;
}

/**
 * docker/cli's `splitCpArg`: an absolute path, or one whose part before the first colon
 * starts with a dot, is local; otherwise `CONTAINER:PATH`.
 */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith("/")) return { path: arg };
  const colon = arg.indexOf(":");
  if (colon < 0 || arg.slice(0, colon).startsWith(".")) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** A container path is from its root. */
const inContainer = (path: string) => path.startsWith("/") ? path : `/${path}`;

async function cp(this: CliContext, flags: CpFlags, srcArg: string, destArg: string) {
  const src = splitCpArg(srcArg), dest = splitCpArg(destArg);
  if (src.container !== undefined && dest.container !== undefined) {
    throw new CopyError("copying between containers is not supported");
  }
  if (src.container === undefined && dest.container === undefined) {
    throw new CopyError("must specify at least one container source");
  }
  const store = this.engine.containers;
  const archive = flags.archive ?? false;
  const followLink = flags.followLink ?? false;
  if (src.container !== undefined) {
    const state = await resolveReconciled(store, src.container);
    const root = containerRoot(state);
    const path = inContainer(src.path);
    const missing = () => new CopyError(`No such container:path: ${src.container}:${path}`);
    // A remapped container's files have host ids: the archive and -a carry its own.
    const ids = containerIdsOf(state.spec.userns);
    if (dest.path === "-") {
      const resolved = resolveSource(root, path, followLink);
      if (!resolved) throw missing();
      await writeSourceArchive(resolved, (chunk) => {
        let off = 0;
        while (off < chunk.length) off += Deno.stdout.writeSync(chunk.subarray(off));
      }, ids);
      return 0;
    }
    const owner = archive ? undefined : { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
    try {
      await copyPath({ root, path }, { root: "/", path: absolute(dest.path) }, {
        followLink,
        owner,
        ids,
      });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound && resolveSource(root, path, followLink) === null) {
        throw missing();
      }
      throw e;
    }
    return 0;
  }
  const state = await resolveReconciled(store, dest.container!);
  const path = inContainer(dest.path);
  // The container's root, or with -a the source's owners, as host ids (a remapped
  // container's are its range's).
  const ids = hostIdsOf(state.spec.userns);
  const owner = archive ? undefined : { uid: ids?.uid(0) ?? 0, gid: ids?.gid(0) ?? 0 };
  if (src.path === "-") {
    const root = containerRoot(state);
    const dir = resolveSource(root, path, true);
    if (!dir) throw new CopyError(`Could not find the file ${path} in container ${dest.container}`);
    if (!dir.info.isDirectory) {
      throw new CopyError(`destination "${dest.container}:${path}" must be a directory`);
    }
    await extractEntries({ root, dir: path, owner, ids }, tarEntries(Deno.stdin.readable));
    return 0;
  }
  const local = absolute(src.path);
  if (resolveSource("/", local, followLink) === null) {
    throw new CopyError(`lstat ${local}: no such file or directory`);
  }
  const root = containerRoot(state);
  await copyPath({ root: "/", path: local }, { root, path }, { followLink, owner, ids });
  return 0;
}

/** A host path from the caller's directory; a trailing `/` or `/.` is kept (it has meaning). */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** The command's function, loaded by `cp.ts`. */
export default action(cp);
