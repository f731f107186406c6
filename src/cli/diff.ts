/**
 * `m-docker diff CONTAINER`: Docker's `A`/`C`/`D` lines of what the container changed.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { containerChanges } from "../container/diff.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { action, type CliContext, println } from "./context.ts";

/** The `diff` command. */
export const diffCommand = buildCommand<Record<never, never>, [string], CliContext>({
  func: action(async function (this: CliContext, _flags: Record<never, never>, ref: string) {
    const state = await resolveReconciled(this.engine.containers, ref);
    for (const c of containerChanges(state)) println(this, `${c.kind} ${c.path}`);
    return 0;
  }),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Container name or ID", parse: String, placeholder: "CONTAINER" }],
    },
  },
  docs: { brief: "Inspect changes to files or directories on a container's filesystem" },
});
