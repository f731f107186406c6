/**
 * `images` and `import`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { importRootfs } from "../image/import.ts";
import { ensureBuiltinImage } from "../image/builtin.ts";
import { createdAgo, humanSize } from "../util/humanize.ts";
import { formatTable } from "../util/table.ts";
import { action, type CliContext, println } from "./context.ts";

function splitReference(ref: string): [string, string] {
  const i = ref.lastIndexOf(":");
  return i > ref.lastIndexOf("/") ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, "latest"];
}

/** `images [-q] [--format json]` */
export const imagesCommand = buildCommand<{ quiet?: boolean; format?: string }, [], CliContext>({
  func: action(async function (this: CliContext, flags: { quiet?: boolean; format?: string }) {
    await ensureBuiltinImage(this.engine.images);
    const now = Date.now();
    const rows: string[][] = [];
    for (const image of this.engine.images.list()) {
      const short = image.id.replace("sha256:", "").slice(0, 12);
      const tags = image.tags.length > 0 ? image.tags : ["<none>:<none>"];
      for (const tag of tags) {
        const [repo, t] = splitReference(tag);
        if (flags.format === "json") {
          println(
            this,
            JSON.stringify({
              Repository: repo,
              Tag: t,
              ID: short,
              CreatedAt: image.created,
              CreatedSince: createdAgo(now - Date.parse(image.created)),
              Size: humanSize(image.size),
            }),
          );
        }
        rows.push([
          repo,
          t,
          short,
          createdAgo(now - Date.parse(image.created)),
          humanSize(image.size),
        ]);
      }
    }
    if (flags.format === "json") return 0;
    if (flags.quiet) {
      for (const id of new Set(rows.map((r) => r[2]))) println(this, id);
      return 0;
    }
    println(this, formatTable(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows));
    return 0;
  }),
  parameters: {
    flags: {
      quiet: { kind: "boolean", optional: true, brief: "Only show image IDs" },
      format: { kind: "parsed", parse: String, optional: true, brief: "Output format: json" },
    },
    aliases: { q: "quiet" },
  },
  docs: { brief: "List images" },
});

/** `import ROOTFS.tar NAME[:TAG]` */
export const importCommand = buildCommand<Record<never, never>, [string, string], CliContext>({
  func: action(
    async function (this: CliContext, _flags: Record<never, never>, tar: string, ref: string) {
      const image = await importRootfs(this.engine.images, tar, ref);
      println(this, image.id);
      return 0;
    },
  ),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Root filesystem tarball", parse: String, placeholder: "ROOTFS.tar" },
        { brief: "Image reference", parse: String, placeholder: "NAME[:TAG]" },
      ],
    },
  },
  docs: { brief: "Import a root filesystem tarball as an image" },
});
