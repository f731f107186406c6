/**
 * `login` and `logout`: registry credentials kept in `<root>/auth.json`, readable by root
 * only (0600), as `{ "registry": "base64(user:password)" }` like Docker's config.json.
 *
 * @module
 */

import { writeFileAtomic } from "../util/atomic_file.ts";

/** The credentials file under a root. */
export function credentialsPath(root: string): string {
  return `${root}/auth.json`;
}

function readCredentialFile(root: string): Record<string, string> {
  try {
    return JSON.parse(Deno.readTextFileSync(credentialsPath(root)));
  } catch {
    return {};
  }
}

function writeAll(root: string, all: Record<string, string>): void {
  Deno.mkdirSync(root, { recursive: true });
  // Readable by root only, whatever the umask.
  writeFileAtomic(credentialsPath(root), JSON.stringify(all, null, 2), { mode: 0o600 });
}

/** Stores `user:password` for `registry`. */
export function saveCredentials(
  root: string,
  registry: string,
  user: string,
  password: string,
): void {
  const all = readCredentialFile(root);
  all[registry] = btoa(`${user}:${password}`);
  writeAll(root, all);
}

/** Forgets `registry`'s credentials; false if there were none. */
export function removeCredentials(root: string, registry: string): boolean {
  const all = readCredentialFile(root);
  if (!(registry in all)) return false;
  delete all[registry];
  writeAll(root, all);
  return true;
}

/** `user:password` for `registry`, if stored. */
export function loadCredentials(root: string, registry: string): string | undefined {
  const entry = readCredentialFile(root)[registry];
  return entry ? atob(entry) : undefined;
}
