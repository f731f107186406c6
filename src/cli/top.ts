/**
 * `m-docker top CONTAINER`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { resolveReconciled } from "../container/reconcile.ts";
import { containerProcesses } from "../container/top.ts";
import { tabwrite } from "../util/tabwriter.ts";
import { containerNames } from "./names.ts";
import { action, type CliContext } from "./context.ts";

async function top(this: CliContext, _flags: Record<never, never>, ref: string) {
  const store = this.engine.containers;
  const rows = containerProcesses(await resolveReconciled(store, ref)).map((p) => [
    String(p.uid),
    String(p.hostPid),
    String(p.hostPpid),
    String(p.containerPid),
    p.command,
  ]);
  // docker/cli's top writes its own table: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
  const lines = [["UID", "PID", "PPID", "CONTAINER PID", "CMD"], ...rows];
  this.process.stdout.write(
    tabwrite(lines.map((l) => l.join("\t") + "\n").join(""), { minWidth: 20, padding: 3 }),
  );
  await Promise.resolve();
  return 0;
}

/** The `top` command. */
export const topCommand = buildCommand<Record<never, never>, [string], CliContext>({
  func: action(top),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Container name or ID",
        parse: String,
        placeholder: "CONTAINER",
        proposeCompletions: containerNames,
      }],
    },
  },
  docs: { brief: "Display the running processes of a container" },
});
