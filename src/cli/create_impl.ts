/**
 * What `create` does: the request `run` would make, the container created (image pulled
 * if missing) and left `created`, its ID printed. Failures exit 125, as `run`'s before the
 * command runs.
 *
 * @module
 */

import { action, type CliContext, println } from "./context.ts";
import { createOrAbandon, type RunFlags, runRequestFrom } from "./run.ts";

/** `create`'s flags as parsed: `run`'s, less `-d` and `--sig-proxy`. */
export type CreateFlags = Omit<RunFlags, "detach" | "sigProxy">;

async function create(this: CliContext, flags: CreateFlags, image: string, ...command: string[]) {
  // Detached as far as the container knows: a plain `start` runs it under a shim, so its
  // restart policy is honoured, as Docker's is for a created container.
  const request = await runRequestFrom({ ...flags, detach: true, sigProxy: true }, image, command);
  const state = await createOrAbandon(
    this,
    request,
    flags.pull ?? "missing",
    () => {},
    flags.quiet ?? false,
  );
  println(this, state.id);
  return 0;
}

/** The body of `create`, as its command's loader hands it over. */
export default action(create);
