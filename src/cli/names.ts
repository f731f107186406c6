/**
 * Names the shell completion offers for positional arguments (stricli's
 * `proposeCompletions`): the containers and images of the data root in use. Read from the
 * stores only when a completion asks.
 *
 * @module
 */

import { BUILTIN_IMAGE } from "../image/builtin.ts";
import type { CliContext } from "./context.ts";

/** The names of every container (`ps -a`'s NAMES), for completion. */
export function containerNames(this: CliContext, partial: string): string[] {
  return this.engine.containers.entries().map((c) => c.name).filter((n) =>
    n !== "" && n.startsWith(partial)
  );
}

/**
 * Every image reference (`busybox:latest`), and the built-in image, which is always there
 * to run; a `:latest` reference is offered without its tag too, as it is usually typed.
 */
export function imageNames(this: CliContext, partial: string): string[] {
  const refs = new Set<string>();
  for (const ref of [BUILTIN_IMAGE, ...Object.keys(this.engine.images.references())]) {
    refs.add(ref);
    if (ref.endsWith(":latest")) refs.add(ref.slice(0, -":latest".length));
  }
  return [...refs].filter((r) => r.startsWith(partial)).sort();
}
