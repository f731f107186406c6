/**
 * `import ROOTFS.tar NAME[:TAG]`, in a module of its own: the command unpacks a file and
 * writes two records, so it loads the image store and the unpacker, not the listing,
 * template, prune and container code of images.ts (about 200 KB less to load at each start).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { importRootfs } from "../image/import.ts";
import { action, type CliContext, println } from "./context.ts";

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
