/**
 * Finding the program to run inside the container's root, as Docker does, so that a
 * missing command is exit code 127 and one that cannot be run is 126. Sync calls only: it
 * runs on a thread that has entered the container's mount namespace.
 *
 * @module
 */

import { ExitCodeError } from "../util/errors.ts";

function envValue(env: readonly string[], key: string): string | undefined {
  const entry = env.findLast((e) => e.startsWith(`${key}=`));
  return entry?.slice(key.length + 1);
}

/**
 * The path of `name`: itself if it contains a slash, else the first match on the PATH in
 * `env`. Throws an `ExitCodeError` with 127 (not found) or 126 (not executable).
 */
export function resolveCommand(name: string, env: readonly string[]): string {
  const candidates = name.includes("/")
    ? [name]
    : (envValue(env, "PATH") ?? "").split(":").filter((d) => d).map((d) => `${d}/${name}`);
  for (const path of candidates) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      continue;
    }
    if (info.isDirectory) {
      if (name.includes("/")) throw new ExitCodeError(`exec: "${name}": is a directory`, 126);
      continue;
    }
    if (((info.mode ?? 0) & 0o111) === 0) {
      if (name.includes("/")) throw new ExitCodeError(`exec: "${name}": permission denied`, 126);
      continue;
    }
    return path;
  }
  if (name.includes("/")) {
    throw new ExitCodeError(`exec: "${name}": stat ${name}: no such file or directory`, 127);
  }
  throw new ExitCodeError(`exec: "${name}": executable file not found in $PATH`, 127);
}
