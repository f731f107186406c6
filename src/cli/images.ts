/**
 * `images`.
 *
 * @module
 */

import { containerOwners } from "../config/userns.ts";
import { buildCommand } from "@stricli/core";
import { ensureBuiltinImage } from "../image/builtin.ts";
import { createdAgo, humanSize } from "../util/humanize.ts";
import { parseFilters } from "../util/filters.ts";
import { goStruct } from "../util/go_values.ts";
import { filterImages } from "../image/filters.ts";
import { goTime } from "../util/go_time.ts";
import { DOCKER_TABLE, tabwrite } from "../util/tabwriter.ts";
import { imageRefs, pruneFlags } from "./params.ts";
import { action, type CliContext, CliError, println, reportError } from "./context.ts";
import { removeImage } from "../image/remove.ts";
import { confirm } from "./prompt.ts";
import { PRUNE_FILTERS, pruneFilter } from "../container/prune.ts";
import { parseReference } from "../image/reference.ts";
import { UsageError } from "../util/errors.ts";

function splitReference(ref: string): [string, string] {
  const i = ref.lastIndexOf(":");
  return i > ref.lastIndexOf("/") ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, "latest"];
}

interface ImagesFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  digests?: boolean;
  format?: string;
  filter?: string[];
}

/** Column names of `images`' fields (docker/cli's newImageContext). */
export const IMAGE_HEADERS: Record<string, string> = {
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  Containers: "CONTAINERS",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
};

/** The digest of `repo` among an image's RepoDigests (`busybox@sha256:...`), or `<none>`. */
function digestFor(repoDigests: readonly string[], repo: string): string {
  for (const d of repoDigests) {
    const at = d.lastIndexOf("@");
    if (d.slice(0, at) === repo) return d.slice(at + 1);
  }
  return "<none>";
}

/** One row of `images` (docker/cli's imageContext): each column's method. */
export type ImageFields = Record<
  "Repository" | "Tag" | "Digest" | "ID" | "CreatedSince" | "Size",
  () => string
>;

/**
 * docker/cli's defaultImageTableFormat, `table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t
 * {{.CreatedSince}}\t{{.Size}}` (DIGEST after TAG with --digests), written out without the
 * template engine: what it would print, for a fraction of the start-up (a unit test
 * compares the two).
 */
export function defaultImagesTable(rows: readonly ImageFields[], digests: boolean): string {
  const columns: Array<keyof ImageFields> = [
    "Repository",
    "Tag",
    ...(digests ? ["Digest" as const] : []),
    "ID",
    "CreatedSince",
    "Size",
  ];
  const header = columns.map((c) => IMAGE_HEADERS[c]).join("\t");
  const lines = rows.map((r) => columns.map((c) => r[c]()).join("\t") + "\n");
  return tabwrite(`${header}\n${lines.join("")}`, DOCKER_TABLE);
}

/** `images [-q] [--no-trunc] [--digests] [--filter F] [--format F] [REPOSITORY[:TAG]]` */
export const imagesCommand = buildCommand<ImagesFlags, [string?], CliContext>({
  func: action(async function (this: CliContext, flags: ImagesFlags, match?: string) {
    await ensureBuiltinImage(this.engine.images);
    const filters = parseFilters(flags.filter ?? []);
    if (match !== undefined) filters.set("reference", [...(filters.get("reference") ?? []), match]);
    const now = Date.now();
    const images = this.engine.images.list().map((i) => ({
      ...i,
      labels: i.config.Labels ?? {},
    }));
    const listed = filterImages(images, filters, (ref) => {
      const found = this.engine.images.find(ref);
      return found ? images.find((i) => i.id === found.id) : undefined;
    }, now);
    const trunc = !flags.noTrunc;
    // Docker's imageContext, one per reference (one <none> row for an untagged image).
    const contexts = listed.flatMap(({ image, tags }) =>
      (tags.length > 0 ? tags.map(splitReference) : [["<none>", "<none>"]]).map(([repo, tag]) =>
        goStruct("*formatter.imageContext", {
          Containers: () => "N/A",
          CreatedAt: () => goTime(new Date(image.created)),
          CreatedSince: () => createdAgo(now - Date.parse(image.created)),
          Digest: () => digestFor(image.repoDigests ?? [], repo),
          ID: () => trunc ? image.id.replace("sha256:", "").slice(0, 12) : image.id,
          Repository: () => repo,
          SharedSize: () => "N/A",
          Size: () => humanSize(image.size),
          Tag: () => tag,
          UniqueSize: () => "N/A",
        })
      )
    );
    const format = flags.format ?? "";
    if (flags.quiet && (format === "" || format === "table")) {
      const ids = new Set(contexts.map((c) => c.ID()));
      for (const id of ids) println(this, id);
      return 0;
    }
    if (format !== "" && format !== "table") {
      // Templates (and their engine) only for a custom --format.
      const { isTableFormat, renderList } = await import("./format.ts");
      let custom = format;
      if (isTableFormat(custom) && flags.digests && !custom.includes("{{.Digest}}")) {
        custom += "\t{{.Digest}}";
      }
      this.process.stdout.write(renderList(custom, contexts, IMAGE_HEADERS));
      return 0;
    }
    this.process.stdout.write(defaultImagesTable(contexts, flags.digests ?? false));
    return 0;
  }),
  parameters: {
    flags: {
      all: { kind: "boolean", optional: true, brief: "Show all images" },
      digests: { kind: "boolean", optional: true, brief: "Show digests" },
      filter: {
        kind: "parsed",
        parse: String,
        optional: true,
        variadic: true,
        brief: "Filter output based on conditions provided",
      },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a custom template ('table', 'json' or a Go template)",
      },
      noTrunc: { kind: "boolean", optional: true, brief: "Don't truncate output" },
      quiet: { kind: "boolean", optional: true, brief: "Only show image IDs" },
    },
    aliases: { a: "all", f: "filter", q: "quiet" },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Repository, with an optional tag",
        parse: String,
        placeholder: "REPOSITORY[:TAG]",
        optional: true,
      }],
    },
  },
  docs: { brief: "List images" },
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

/** `image inspect IMAGE...` (in image_inspect.ts, with the document `inspect` shares). */
export { imageInspectCommand } from "./image_inspect.ts";

/** `image prune [--filter F]` */
export const imagePruneCommand = buildCommand<ImagePruneFlags, [], CliContext>({
  func: action(async function (this: CliContext, flags: ImagePruneFlags) {
    const warning = flags.all
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.";
    // Declining is not an error for Docker: it prints nothing more and exits 0.
    if (!flags.force && !(await confirm(this, `${warning}\nAre you sure you want to continue?`))) {
      return 0;
    }
    // The daemon checks the filters once the user has said yes, as Docker's.
    const filters = parseFilters(flags.filter ?? []);
    const keep = pruneFilter(filters, PRUNE_FILTERS.image);
    // dangling=false is Docker's spelling of -a.
    const all = flags.all || filters.get("dangling")?.includes("false") === true;
    const { pruneUnusedImages } = await import("../container/system.ts");
    const { lines, bytes } = pruneUnusedImages(this.engine, { all, keep });
    if (lines.length > 0) println(this, ["Deleted Images:", ...lines, ""].join("\n"));
    println(this, `Total reclaimed space: ${humanSize(bytes, 4)}`);
    return 0;
  }),
  parameters: {
    flags: {
      all: {
        kind: "boolean",
        optional: true,
        brief: "Remove all unused images, not just dangling ones",
      },
      ...pruneFlags('Provide filter values (e.g. "until=<timestamp>")').flags,
    },
    aliases: { a: "all", f: "force" },
  },
  docs: { brief: "Remove unused images" },
});

interface ImagePruneFlags {
  all?: boolean;
  force?: boolean;
  filter?: string[];
}

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
