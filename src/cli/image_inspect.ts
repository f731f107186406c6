/**
 * `image inspect`: Docker's image document (Id, RepoTags, Created, Config, Os,
 * Architecture, Size, RootFS...), as JSON or through `--format`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import type { ImageRecord } from "../image/store.ts";
import { imageRefs, inspectFormatFlags } from "./params.ts";
import { action, type CliContext } from "./context.ts";
import { printInspect } from "./inspect_print.ts";

/** Go's GOARCH for this machine, which Docker's images record. */
function goArch(): string {
  return ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
}

/** Docker's `image inspect` document for one image. */
export function imageDocument(ctx: CliContext, image: ImageRecord): Record<string, unknown> {
  const tags = ctx.engine.images.list().find((i) => i.id === image.id)?.tags ?? [];
  const platform = image as ImageRecord & { os?: string; architecture?: string };
  const config = image.config as Record<string, unknown>;
  return {
    Id: image.id,
    RepoTags: tags,
    RepoDigests: image.repoDigests ?? [],
    Parent: "",
    Comment: "",
    Created: image.created,
    Config: image.config,
    Architecture: platform.architecture ?? (config.Architecture as string | undefined) ?? goArch(),
    Os: platform.os ?? (config.Os as string | undefined) ?? "linux",
    Size: image.size,
    GraphDriver: { Name: "overlay2", Data: null },
    RootFS: { Type: "layers", Layers: image.layers },
    Metadata: { LastTagTime: "0001-01-01T00:00:00Z" },
  };
}

/** `image inspect [--format F] IMAGE...` */
export const imageInspectCommand = buildCommand<{ format?: string }, string[], CliContext>({
  func: action(function (this: CliContext, flags: { format?: string }, ...refs: string[]) {
    const docs: Record<string, unknown>[] = [];
    const errors: string[] = [];
    for (const ref of refs) {
      const image = this.engine.images.find(ref);
      if (image) docs.push(imageDocument(this, image));
      else errors.push(`Error: No such image: ${ref}`);
    }
    return printInspect(this, docs, errors, flags.format);
  }),
  parameters: {
    ...inspectFormatFlags,
    positional: imageRefs,
  },
  docs: { brief: "Display detailed information on one or more images" },
});
