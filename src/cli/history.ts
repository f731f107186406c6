/**
 * `m-docker history [--no-trunc] [--format T] [--quiet|-q] [--human=false] IMAGE`, with
 * docker/cli's columns and its historyContext's fields.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { ensureBuiltinImage } from "../image/builtin.ts";
import { historyRows } from "../image/history.ts";
import { normalizeReference } from "../image/store.ts";
import { createdAgo, humanSize } from "../util/humanize.ts";
import { goStruct } from "../util/go_template.ts";
import { UsageError } from "../util/errors.ts";
import { renderList } from "./format.ts";
import { imageNames } from "./names.ts";
import { action, type CliContext } from "./context.ts";

interface HistoryFlags {
  noTrunc?: boolean;
  quiet?: boolean;
  human: boolean;
  format?: string;
}

/** Column names of `history`'s fields (docker/cli's newHistoryContext). */
const HISTORY_HEADERS: Record<string, string> = {
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
};

/** docker/cli's defaultHistoryTableFormat. */
const TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/** Go's time.RFC3339 of a time, to the second (the history's times are Unix seconds). */
function rfc3339(created: string): string {
  const t = Date.parse(created);
  return Number.isNaN(t)
    ? "0001-01-01T00:00:00Z"
    : new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
}

/** docker/cli's stringutils.Ellipsis: at most `max` characters, the last one `…`. */
function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

async function history(this: CliContext, flags: HistoryFlags, ref: string) {
  await ensureBuiltinImage(this.engine.images);
  const image = this.engine.images.find(ref);
  // dockerd names the reference with its tag (`No such image: nope:latest`).
  if (!image) throw new UsageError(`No such image: ${normalizeReference(ref)}`);
  const trunc = !flags.noTrunc;
  const now = Date.now();
  const rows = historyRows(this.engine.images, image).map((h) =>
    goStruct("*formatter.historyContext", {
      ID: () => trunc && h.id.startsWith("sha256:") ? h.id.slice(7, 19) : h.id,
      CreatedSince: () =>
        !flags.human ? rfc3339(h.created) : Number.isNaN(Date.parse(h.created))
          ? "N/A" // an entry without a time
          : createdAgo(now - Date.parse(h.created)),
      CreatedAt: () => rfc3339(h.created),
      CreatedBy: () => {
        const by = h.createdBy.replaceAll("\t", " ");
        return trunc ? ellipsis(by, 45) : by;
      },
      Size: () => flags.human ? humanSize(h.size) : String(h.size),
      Comment: () => h.comment,
    })
  );
  const format = flags.quiet
    ? "{{.ID}}"
    : !flags.format || flags.format === "table"
    ? TABLE
    : flags.format;
  this.process.stdout.write(renderList(format, rows, HISTORY_HEADERS));
  return 0;
}

/** The `history` command. */
export const historyCommand = buildCommand<HistoryFlags, [string], CliContext>({
  func: action(history),
  parameters: {
    flags: {
      noTrunc: { kind: "boolean", optional: true, brief: "Don't truncate output" },
      quiet: { kind: "boolean", optional: true, brief: "Only show image IDs" },
      human: {
        kind: "boolean",
        default: true,
        brief: "Print sizes and dates in human readable format (--human=false for raw)",
      },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a Go template",
      },
    },
    aliases: { q: "quiet", H: "human" },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Image name or ID",
        parse: String,
        placeholder: "IMAGE",
        proposeCompletions: imageNames,
      }],
    },
  },
  docs: { brief: "Show the history of an image" },
});
