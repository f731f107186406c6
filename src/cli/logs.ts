/**
 * `m-docker logs [-f] [--tail N] [-t] CONTAINER`: replays the json-file log, and with `-f`
 * follows it until the container stops.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { type LogEntry, parseLogLines } from "../container/logs.ts";
import { isRunning, reconcile } from "../container/reconcile.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { containerNames } from "./names.ts";
import { action, type CliContext } from "./context.ts";

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
}

function parseTail(s: string | undefined): number {
  if (s === undefined || s === "all") return Infinity;
  if (!/^\d+$/.test(s)) throw new UsageError(`invalid value for --tail: "${s}"`);
  return Number(s);
}

async function logs(this: CliContext, flags: LogsFlags, ref: string) {
  const tail = parseTail(flags.tail);
  const store = this.engine.containers;
  const state = store.resolve(ref);
  const out = (e: LogEntry) => {
    const line = flags.timestamps ? `${e.time} ${e.log}` : e.log;
    (e.stream === "stderr" ? this.process.stderr : this.process.stdout).write(line);
  };
  let file: Deno.FsFile;
  try {
    file = await Deno.open(state.logPath, { read: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    // A detached container's shim writes its log from the start: a started one without a
    // log lost it (deleted by hand, or a disk problem), which must not look like silence.
    if (state.spec.detach && state.startedAt) {
      throw new ExitCodeError(
        `the log of container ${state.id.slice(0, 12)} is gone: ${state.logPath} does not exist`,
        1,
      );
    }
    if (!flags.follow) return 0;
    file = await Deno.open("/dev/null");
  }
  try {
    const decoder = new TextDecoder();
    let rest = "";
    const readAvailable = async (): Promise<LogEntry[]> => {
      const buf = new Uint8Array(65536);
      let text = rest;
      for (;;) {
        const n = await file.read(buf);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
      }
      const parsed = parseLogLines(text);
      rest = parsed.rest;
      return parsed.entries;
    };
    const first = await readAvailable();
    first.slice(tail === Infinity ? 0 : Math.max(0, first.length - tail)).forEach(out);
    if (!flags.follow) return 0;
    for (;;) {
      const current = store.read(state.id);
      const now = current && reconcile(store, current);
      const running = now !== null && isRunning(now);
      (await readAvailable()).forEach(out);
      if (!running) {
        (await readAvailable()).forEach(out);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    file.close();
  }
}

/** The `logs` command. */
export const logsCommand = buildCommand<LogsFlags, [string], CliContext>({
  func: action(logs),
  parameters: {
    flags: {
      follow: { kind: "boolean", optional: true, brief: "Follow log output" },
      tail: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Number of lines to show from the end",
      },
      timestamps: { kind: "boolean", optional: true, brief: "Show timestamps" },
    },
    aliases: { f: "follow", t: "timestamps", n: "tail" },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Container name or ID",
        parse: String,
        placeholder: "CONTAINER",
        proposeCompletions: containerNames,
      }],
    },
  },
  docs: { brief: "Fetch the logs of a container" },
});
