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
