/**
 * Argument and flag shapes that several commands share, so that they read and document
 * the same everywhere.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { containerNames, imageNames } from "./names.ts";

/** Parses a whole number flag value, rejecting junk such as `12x`. */
export function parseInteger(s: string): number {
  if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`invalid integer value: "${s}"`);
  return Number(s);
}

/** One or more containers, by name or ID. */
export const containerRefs = {
  kind: "array",
  parameter: {
    brief: "Container name or ID",
    parse: String,
    placeholder: "CONTAINER",
    proposeCompletions: containerNames,
  },
  minimum: 1,
} as const;

/** One or more images, by reference or ID. */
export const imageRefs = {
  kind: "array",
  parameter: {
    brief: "Image reference or ID",
    parse: String,
    placeholder: "IMAGE",
    proposeCompletions: imageNames,
  },
  minimum: 1,
} as const;

/** `-t SECONDS` of `stop` and `restart`. */
export const stopTimeFlags = {
  flags: {
    time: {
      kind: "parsed",
      parse: parseInteger,
      optional: true,
      brief: "Seconds to wait before killing the container",
    },
  },
  aliases: { t: "time" },
} as const;

/** An optional string flag (`--format`, `--workdir`...); spread it and add the brief. */
export const stringFlag = { kind: "parsed", parse: String, optional: true } as const;

/** An optional string flag that may be given again and again (`--filter`, `--env`...). */
export const listFlag = { ...stringFlag, variadic: true } as const;

/** `-f/--force` and `--filter` of every prune command, with the filter's brief. */
export function pruneFlags(filterBrief: string) {
  return {
    flags: {
      force: { kind: "boolean", optional: true, brief: "Do not prompt for confirmation" },
      filter: { ...listFlag, brief: filterBrief },
    },
    aliases: { f: "force" },
  } as const;
}

/** `-f/--format` of the inspect commands, Docker's brief. */
export const inspectFormatFlags = {
  flags: {
    format: {
      ...stringFlag,
      brief: "Format output using a custom template ('json' or a Go template)",
    },
  },
  aliases: { f: "format" },
} as const;
