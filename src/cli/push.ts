/**
 * `m-docker push [--all-tags|-a] [--quiet|-q] NAME[:TAG]`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { insecureRegistries } from "../engine.ts";
import { loadCredentials } from "../image/credentials.ts";
import { parseReference } from "../image/reference.ts";
import { imageNames } from "./names.ts";
import { action, type CliContext, CliError, println } from "./context.ts";
import { TerminalProgress } from "./progress.ts";

interface PushFlags {
  allTags?: boolean;
  quiet?: boolean;
}

async function push(this: CliContext, flags: PushFlags, reference: string) {
  const { imagesToPush, pushImage, pushRepositoryName } = await import("../image/push.ts");
  const ref = parseReference(reference);
  // A tag the user wrote (parseReference supplies `latest`).
  const named = reference.slice(reference.lastIndexOf("/") + 1);
  if (flags.allTags && /[:@]/.test(named)) {
    throw new CliError("tag can't be used with --all-tags/-a");
  }
  const images = imagesToPush(this.engine.images, reference, flags.allTags ?? false);
  const say = flags.quiet ? () => {} : (line: string) => println(this, line);
  say(`The push refers to repository [${pushRepositoryName(reference)}]`);
  const credentials = loadCredentials(this.engine.roots.root, ref.registry);
  for (const { tag, image } of images) {
    const terminal = !flags.quiet && Deno.stdout.isTerminal()
      ? new TerminalProgress((s) => this.process.stdout.write(s))
      : undefined;
    await pushImage(this.engine.images, ref, tag, image, {
      insecure: insecureRegistries(),
      credentials,
      progress: say,
      layerProgress: flags.quiet
        ? () => {}
        : terminal
        ? (id, status, current, total) => terminal.update(id, status, current, total)
        : undefined,
    });
    // docker push -q prints the reference it pushed, nothing else.
    if (flags.quiet) println(this, `${ref.registry}/${ref.repository}:${tag}`);
  }
  return 0;
}

/** The `push` command. */
export const pushCommand = buildCommand<PushFlags, [string], CliContext>({
  func: action(push),
  parameters: {
    flags: {
      allTags: { kind: "boolean", optional: true, brief: "Push all tags of the repository" },
      quiet: { kind: "boolean", optional: true, brief: "Suppress verbose output" },
    },
    aliases: { a: "allTags", q: "quiet" },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Image reference",
        parse: String,
        placeholder: "NAME[:TAG]",
        proposeCompletions: imageNames,
      }],
    },
  },
  docs: { brief: "Upload an image to a registry" },
});
