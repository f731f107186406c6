/**
 * `m-docker attach [--detach-keys KEYS] [--no-stdin] CONTAINER`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { attachToContainer } from "../container/attach_client.ts";
import { parseDetachKeys } from "../container/attach_protocol.ts";
import { containerNames } from "./names.ts";
import { action, type CliContext } from "./context.ts";

interface AttachFlags {
  detachKeys?: Uint8Array;
  noStdin?: boolean;
}

async function attach(this: CliContext, flags: AttachFlags, ref: string) {
  const store = this.engine.containers;
  const outcome = await attachToContainer(store, store.resolve(ref), {
    detachKeys: flags.detachKeys ?? parseDetachKeys("ctrl-p,ctrl-q"),
    stdin: !(flags.noStdin ?? false),
  });
  // Docker leaves the terminal on a fresh line and exits 0 when detaching.
  if (outcome.detached) {
    this.process.stderr.write("\r\nread escape sequence\r\n");
    return 0;
  }
  return outcome.exitCode;
}

/** The `attach` command. */
export const attachCommand = buildCommand<AttachFlags, [string], CliContext>({
  func: action(attach),
  parameters: {
    flags: {
      detachKeys: {
        kind: "parsed",
        parse: parseDetachKeys,
        optional: true,
        brief: "Key sequence for detaching (default ctrl-p,ctrl-q)",
      },
      noStdin: { kind: "boolean", optional: true, brief: "Do not attach STDIN" },
    },
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
  docs: { brief: "Attach local standard input, output, and error streams to a running container" },
});
