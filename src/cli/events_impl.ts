/**
 * The body of `m-docker events` (see events.ts): prints past events from `--since`, then
 * follows the journal until `--until` passes (forever without it).
 *
 * @module
 */

import { type EngineEvent, eventLine, JournalFollower, readEvents } from "../state/events.ts";
import {
  eventMatches,
  formatEventLine,
  parseEventFilters,
  parseTimestamp,
} from "../state/event_query.ts";
import { action, type CliContext, println } from "./context.ts";
import { renderFormat } from "./format_lite.ts";

/** The flags of `events`. */
export interface EventsFlags {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
}

/** How often a follower looks at the journal. */
const POLL_MS = 100;

const key = (e: EngineEvent) => `${e.timeNano} ${e.Action} ${e.Actor.ID}`;

async function events(this: CliContext, flags: EventsFlags) {
  const stateDir = this.engine.containers.dir;
  const now = Date.now();
  const since = flags.since === undefined ? undefined : parseTimestamp(flags.since, now);
  const until = flags.until === undefined ? undefined : parseTimestamp(flags.until, now);
  const filters = parseEventFilters(flags.filter ?? []);
  const print = (e: EngineEvent) => {
    if (!eventMatches(e, filters)) return;
    const nano = BigInt(e.timeNano);
    if (since !== undefined && nano < since) return;
    if (until !== undefined && nano > until) return;
    const json = (v: unknown) => eventLine(v as EngineEvent); // timeNano as an exact integer
    println(
      this,
      flags.format ? renderFormat(flags.format, [e], {}, json)[0] : formatEventLine(e),
    );
  };
  const nowNano = () => BigInt(Date.now()) * 1_000_000n;
  // The follower starts before the past is read, so that nothing falls in between; what
  // both see is printed once.
  const follower = until === undefined || until > nowNano() ? new JournalFollower(stateDir) : null;
  const seen = new Set<string>();
  if (since !== undefined) {
    for (const e of readEvents(stateDir)) {
      seen.add(key(e));
      print(e);
    }
  }
  if (!follower) return 0;
  try {
    for (;;) {
      for (const e of follower.poll()) if (!seen.has(key(e))) print(e);
      if (until !== undefined && nowNano() > until) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    follower.close();
  }
  return 0;
}

/** The command's function, loaded by `events.ts`. */
export default action(events);
