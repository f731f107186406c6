/**
 * `m-docker pull [--platform OS/ARCH] IMAGE`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { insecureRegistries } from "../engine.ts";
import { loadCredentials } from "../image/credentials.ts";
import { parseReference } from "../image/reference.ts";
import { action, type CliContext, println } from "./context.ts";
import { TerminalProgress } from "./progress.ts";

async function pull(this: CliContext, flags: { platform?: string }, ref: string) {
  const { pullImage } = await import("../image/pull.ts");
  const terminal = Deno.stdout.isTerminal()
    ? new TerminalProgress((s) => this.process.stdout.write(s))
    : undefined;
  await pullImage(this.engine.images, ref, {
    layerProgress: terminal
      ? (id, status, current, total) => terminal.update(id, status, current, total)
      : undefined,
    platform: flags.platform,
    insecure: insecureRegistries(),
    credentials: loadCredentials(this.engine.roots.root, parseReference(ref).registry),
    progress: (line) => println(this, line),
  });
  return 0;
}

/** The `pull` command. */
export const pullCommand = buildCommand<{ platform?: string }, [string], CliContext>({
  func: action(pull),
  parameters: {
    flags: {
      platform: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Platform (os/arch), the host's by default",
      },
    },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Image reference", parse: String, placeholder: "NAME[:TAG|@DIGEST]" }],
    },
  },
  docs: { brief: "Download an image from a registry" },
});
