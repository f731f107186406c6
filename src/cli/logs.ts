/**
 * `m-docker logs [-f] [--tail N] [-t] [--since T] [--until T] [--details] CONTAINER`:
 * replays the container's log (its rotated files too), and with `-f` follows it until the
 * container stops. The output is Docker's: `-t` puts the entry's time first (RFC 3339, nine
 * decimals), `--details` puts its attributes (`k=v,k2=v2`, URL-escaped) before the line.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { readContainerLog } from "../container/logs.ts";
import { type LogEntry, logFilePath, logFormatOf } from "../container/log_writer.ts";
import { isRunning, reconcile } from "../container/reconcile.ts";
import { ExitCodeError } from "../util/errors.ts";
import { containerNames } from "./names.ts";
import { formatNanoFixed, parseDockerTime, parseLogTime } from "../util/docker_time.ts";
import { action, type CliContext } from "./context.ts";

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  details?: boolean;
}

function parseTail(s: string | undefined): number {
  if (s === undefined || s === "all") return Infinity;
  if (!/^\d+$/.test(s)) throw new ExitCodeError(`invalid value for --tail: "${s}"`, 1);
  return Number(s);
}

/** `--since`/`--until` with Docker's message for a bad value. */
function parseWindow(flag: "since" | "until", value: string | undefined): bigint | undefined {
  // Docker's daemon ignores `--until 0`.
  if (value === undefined || value === "" || (flag === "until" && value === "0")) {
    return undefined;
  }
  try {
    return parseDockerTime(value);
  } catch (e) {
    throw new ExitCodeError(`invalid value for "${flag}": ${(e as Error).message}`, 1);
  }
}

/** Go's `url.QueryEscape`, which Docker applies to each attribute of `--details`. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

function details(e: LogEntry): string {
  const attrs = Object.entries(e.attrs ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return attrs.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(",") + " ";
}

function timestamp(e: LogEntry): string {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(e.time)) return e.time;
  const ns = parseLogTime(e.time);
  return ns === null ? e.time : formatNanoFixed(ns);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function logs(this: CliContext, flags: LogsFlags, ref: string) {
  const tail = parseTail(flags.tail);
  const since = parseWindow("since", flags.since);
  const until = parseWindow("until", flags.until);
  const store = this.engine.containers;
  const state = store.resolve(ref);
  const path = logFilePath(state);
  if (path === null) {
    throw new ExitCodeError("configured logging driver does not support reading", 1);
  }
  // A detached container's shim writes its log from the start: a started one without a log
  // lost it (deleted by hand, or a disk problem), which must not look like silence. (A
  // foreground one may predate foreground logs.)
  if (state.spec.detach && state.startedAt && !exists(path)) {
    throw new ExitCodeError(
      `the log of container ${state.id.slice(0, 12)} is gone: ${path} does not exist`,
      1,
    );
  }
  // With a tty there is only one stream, as in Docker (stdout).
  const tty = state.spec.tty;
  const emit = (entries: LogEntry[]) => {
    let text = "";
    let stream: "stdout" | "stderr" = "stdout";
    const flush = () => {
      if (text) (stream === "stderr" ? this.process.stderr : this.process.stdout).write(text);
      text = "";
    };
    for (const e of entries) {
      const s = tty ? "stdout" : e.stream;
      if (s !== stream) {
        flush();
        stream = s;
      }
      text += (flags.timestamps ? `${timestamp(e)} ` : "") + (flags.details ? details(e) : "") +
        e.log;
    }
    flush();
  };
  const running = async () => {
    const current = store.read(state.id);
    const now = current && await reconcile(store, current);
    return now !== null && isRunning(now);
  };
  await readContainerLog(
    path,
    { tail, since, until },
    emit,
    // Woken by inotify on the container's directory (its log, its state); the poll is only a
    // fallback should no event come.
    flags.follow && await running()
      ? {
        running,
        intervalMs: 1000,
        watch: [state.containerDir, store.containerStateDir(state.id)],
      }
      : undefined,
    logFormatOf(state),
  );
  return 0;
}

/** The `logs` command. */
export const logsCommand = buildCommand<LogsFlags, [string], CliContext>({
  func: action(logs),
  parameters: {
    flags: {
      details: { kind: "boolean", optional: true, brief: "Show extra details provided to logs" },
      follow: { kind: "boolean", optional: true, brief: "Follow log output" },
      since: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
      tail: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: 'Number of lines to show from the end of the logs (default "all")',
      },
      timestamps: { kind: "boolean", optional: true, brief: "Show timestamps" },
      until: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief:
          'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      },
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
