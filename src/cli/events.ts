/**
 * `m-docker events [--since T] [--until T] [--filter K=V]... [--format F]`: the engine's
 * event journal, as Docker's `events` prints it. Without `--until` it follows the journal
 * until interrupted. The work is in `events_impl.ts`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import impl from "./events_impl.ts";
import type { CliContext } from "./context.ts";
import type { EventsFlags } from "./events_impl.ts";

/** The `events` command. */
export const eventsCommand = buildCommand<EventsFlags, [], CliContext>({
  func: impl,
  parameters: {
    flags: {
      filter: {
        kind: "parsed",
        parse: String,
        variadic: true,
        optional: true,
        brief: "Filter output based on conditions provided",
      },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a template ('json' for one JSON object per line)",
      },
      since: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Show all events created since timestamp",
      },
      until: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Stream events until this timestamp",
      },
    },
    aliases: { f: "filter" },
  },
  docs: { brief: "Get real time events from the server" },
});
