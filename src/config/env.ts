/**
 * Environment lists (`KEY=VALUE` strings), as containers and processes take them.
 *
 * @module
 */

/**
 * Merges `KEY=VALUE` lists; later entries replace earlier ones with the same key, and keys
 * keep the place where they were first seen.
 *
 * @example
 * ```ts
 * mergeEnv(["A=1", "B=2"], ["A=3"]); // ["A=3", "B=2"]
 * ```
 */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) map.set(entry.split("=", 1)[0], entry);
  }
  return [...map.values()];
}

/**
 * An environment object as a `KEY=VALUE` list, for spawning a process.
 *
 * @example
 * ```ts
 * envList({ HOME: "/root" }); // ["HOME=/root"]
 * ```
 */
export function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}
