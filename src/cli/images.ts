/**
 * `images` and `import`.
 *
 * @module
 */

import { containerOwners } from "../config/userns.ts";
import { buildCommand } from "@stricli/core";
import { importRootfs } from "../image/import.ts";
import { ensureBuiltinImage } from "../image/builtin.ts";
import { createdAgo, humanSize } from "../util/humanize.ts";
import { formatTable } from "../util/table.ts";
import { imageRefs } from "./params.ts";
import { action, type CliContext, CliError, println, reportError } from "./context.ts";
import { pruneImages, removeImage } from "../image/remove.ts";
import { parseReference } from "../image/reference.ts";
import { UsageError } from "../util/errors.ts";

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

/** `tag SOURCE TARGET` */
export const tagCommand = buildCommand<Record<never, never>, [string, string], CliContext>({
  func: action(
    function (this: CliContext, _flags: Record<never, never>, source: string, target: string) {
      const image = this.engine.images.find(source);
      if (!image) throw new UsageError(`No such image: ${source}`);
      parseReference(target); // refuses a malformed name before anything is written
      this.engine.images.tag(image.id, target);
      return 0;
    },
  ),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Source image", parse: String, placeholder: "SOURCE_IMAGE[:TAG]" },
        { brief: "New reference", parse: String, placeholder: "TARGET_IMAGE[:TAG]" },
      ],
    },
  },
  docs: { brief: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
});

/** `rmi [-f] IMAGE...` */
export const rmiCommand = buildCommand<{ force?: boolean }, string[], CliContext>({
  func: action(function (this: CliContext, flags: { force?: boolean }, ...refs: string[]) {
    let status = 0;
    for (const ref of refs) {
      try {
        for (
          const line of removeImage(
            this.engine.images,
            this.engine.containers,
            ref,
            flags.force ?? false,
          )
        ) {
          println(this, line);
        }
      } catch (e) {
        status = reportError(this, e);
      }
    }
    return status;
  }),
  parameters: {
    flags: { force: { kind: "boolean", optional: true, brief: "Force removal of the image" } },
    aliases: { f: "force" },
    positional: imageRefs,
  },
  docs: { brief: "Remove one or more images" },
});

/** `image inspect IMAGE...` */
export const imageInspectCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: action(function (this: CliContext, _flags: Record<never, never>, ...refs: string[]) {
    const docs = [];
    let status = 0;
    for (const ref of refs) {
      const image = this.engine.images.find(ref);
      if (!image) {
        status = reportError(this, new UsageError(`No such image: ${ref}`));
        continue;
      }
      const tags = this.engine.images.list().find((i) => i.id === image.id)?.tags ?? [];
      docs.push({
        Id: image.id,
        RepoTags: tags,
        Created: image.created,
        Size: image.size,
        Config: image.config,
        // Recorded since images keep their platform ("" for one stored before).
        Architecture: image.architecture ?? "",
        Os: image.os ?? "",
        RootFS: { Type: "layers", Layers: image.layers },
      });
    }
    println(this, JSON.stringify(docs, null, 4));
    return status;
  }),
  parameters: {
    flags: {},
    positional: imageRefs,
  },
  docs: { brief: "Display detailed information on one or more images" },
});

/** `image prune` */
export const imagePruneCommand = buildCommand<Record<never, never>, [], CliContext>({
  func: action(function (this: CliContext) {
    const lines = pruneImages(this.engine.images, this.engine.containers);
    for (const line of lines) println(this, line);
    println(this, `Total reclaimed: ${lines.length} objects`);
    return 0;
  }),
  parameters: { flags: {} },
  docs: { brief: "Remove unused images and layers" },
});

/** `commit CONTAINER [REPOSITORY[:TAG]]` */
export const commitCommand = buildCommand<Record<never, never>, [string, string?], CliContext>({
  func: action(
    async function (this: CliContext, _flags: Record<never, never>, ref: string, target?: string) {
      if (target !== undefined) parseReference(target);
      const { commitContainer } = await import("../image/commit.ts");
      const image = await commitContainer(
        this.engine.images,
        this.engine.containers.resolve(ref),
        target,
      );
      println(this, image.id);
      return 0;
    },
  ),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Container name or ID", parse: String, placeholder: "CONTAINER" },
        {
          brief: "New image reference",
          parse: String,
          placeholder: "REPOSITORY[:TAG]",
          optional: true,
        },
      ],
    },
  },
  docs: { brief: "Create a new image from a container's changes" },
});

/** `save -o FILE IMAGE...` */
export const saveCommand = buildCommand<{ output?: string }, string[], CliContext>({
  func: action(async function (this: CliContext, flags: { output?: string }, ...refs: string[]) {
    if (!flags.output) {
      throw new CliError("save needs -o FILE (writing an archive to a terminal is refused)");
    }
    const { saveImages } = await import("../image/archive.ts");
    await saveImages(this.engine.images, refs, flags.output);
    return 0;
  }),
  parameters: {
    flags: { output: { kind: "parsed", parse: String, optional: true, brief: "Write to a file" } },
    aliases: { o: "output" },
    positional: imageRefs,
  },
  docs: { brief: "Save images to a tar archive (Docker and OCI layouts)" },
});

/** `load -i FILE` */
export const loadCommand = buildCommand<{ input?: string }, [], CliContext>({
  func: action(async function (this: CliContext, flags: { input?: string }) {
    if (!flags.input) throw new CliError("load needs -i FILE");
    const { loadImages } = await import("../image/archive.ts");
    for (const line of await loadImages(this.engine.images, flags.input)) println(this, line);
    return 0;
  }),
  parameters: {
    flags: {
      input: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Read from a tar archive file",
      },
    },
    aliases: { i: "input" },
  },
  docs: { brief: "Load images from a tar archive (Docker archive or OCI layout)" },
});

/** `export -o FILE CONTAINER`: the container's filesystem as one flat tarball. */
export const exportCommand = buildCommand<{ output?: string }, [string], CliContext>({
  func: action(async function (this: CliContext, flags: { output?: string }, ref: string) {
    if (!flags.output) {
      throw new CliError("export needs -o FILE (writing an archive to a terminal is refused)");
    }
    const state = this.engine.containers.resolve(ref);
    const { packLayers } = await import("../image/layer_pack.ts");
    const { writeTar } = await import("../image/tar_writer.ts");
    const placed = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf"]);
    const entries = packLayers([state.rootfs.upperDir, ...state.rootfs.lowerDirs], {
      exclude: (rel, info) => placed.has(rel) && info.isFile && info.size === 0,
      topOwners: containerOwners(state.spec.userns),
    });
    Deno.writeFileSync(flags.output, writeTar(entries));
    return 0;
  }),
  parameters: {
    flags: { output: { kind: "parsed", parse: String, optional: true, brief: "Write to a file" } },
    aliases: { o: "output" },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Container name or ID", parse: String, placeholder: "CONTAINER" }],
    },
  },
  docs: { brief: "Export a container's filesystem as a tar archive" },
});
