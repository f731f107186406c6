/**
 * What every CLI command receives, and the one place that turns errors into Docker's exit
 * codes and messages. The rule is Docker's CLI's, decided per command (not per call site):
 * `run` and `create` exit 125 when they fail before the container's command runs; every
 * other command exits 1 on an error. An error that carries its own code (126, 127, a
 * container's exit status) keeps it.
 *
 * @module
 */

import type { CommandContext } from "@stricli/core";
import type { Engine } from "../engine.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { cliMessage } from "./limit_errors.ts";

/** The context stricli hands to each command. */
export interface CliContext extends CommandContext {
  readonly engine: Engine;
  readonly debug: boolean;
  /**
   * The exit code of a failure of this command: 125 for `run`/`create`, 1 for every other
   * (see `failureExitCode`). Absent before a command is chosen: 125.
   */
  readonly failureExitCode?: number;
  readonly process: {
    stdout: { write(s: string): void };
    stderr: { write(s: string): void };
    exitCode?: number | string | null;
  };
}

/** Exit code of `run`/`create` failing before the container's command runs (Docker's). */
export const EXIT_ENGINE_ERROR = 125;

/** Exit code of every other command's errors (Docker's CLI: any error without a status). */
export const EXIT_COMMAND_ERROR = 1;

/** The commands whose failures are Docker's 125 (`container run` and `container create` too). */
const ENGINE_ERROR_COMMANDS = new Set(["run", "create"]);

/**
 * The failure exit code of the command at `path`, the command line's words from the command
 * on (`["run", ...]`, `["container", "create", ...]`, `["network", "create", ...]`).
 */
export function failureExitCode(path: readonly string[]): number {
  const command = path[0] === "container" ? path[1] : path[0];
  return ENGINE_ERROR_COMMANDS.has(command ?? "") ? EXIT_ENGINE_ERROR : EXIT_COMMAND_ERROR;
}

/**
 * An error the CLI itself finds (not the engine, Docker's daemon): printed as its message
 * alone, as Docker's CLI prints `no public port '80/tcp' published for web`.
 */
export class CliError extends ExitCodeError {
  override name = "CliError";
  constructor(message: string, exitCode = EXIT_COMMAND_ERROR) {
    super(message, exitCode);
  }
}

/**
 * Docker's words around an error's message. Errors of the CLI itself are bare; otherwise
 * `run`/`create` say `m-docker: ` first (Docker's `docker: `), followed, for what Docker's
 * daemon would have refused (a name in use, a missing device, a program not found), by
 * `Error response from daemon: `; their flag errors (UsageError: a bad value, a bad image
 * reference, as docker/cli's own parse refuses them) stay `m-docker: <msg>`. The other
 * commands print what Docker prints for an error the daemon returned, `Error response from
 * daemon: No such container: x` (m-docker's engine is in-process, but scripts and people
 * match that line).
 */
function errorLine(ctx: CliContext, e: unknown): string {
  const message = cliMessage(e);
  if (e instanceof CliError) return message;
  if ((ctx.failureExitCode ?? EXIT_ENGINE_ERROR) === EXIT_ENGINE_ERROR) {
    return e instanceof UsageError
      ? `m-docker: ${message}`
      : `m-docker: Error response from daemon: ${message}`;
  }
  return `Error response from daemon: ${message}`;
}

/**
 * Docker's CheckTty: `-i` with `-t` needs a terminal on stdin (not a pipe or a file). Checked
 * before anything is created; exit 1, as Docker's CLI, `run` included.
 */
export function requireTerminalStdin(interactive: boolean, tty: boolean): void {
  // docker/cli 29.7 words it "cannot attach stdin to a TTY-enabled container because stdin
  // is not a terminal"; this is the line every earlier Docker printed.
  if (interactive && tty && !Deno.stdin.isTerminal()) {
    throw new CliError("the input device is not a TTY");
  }
}

/**
 * The exit code of a command whose stdout was closed under it (`m-docker ps -q | head -1`):
 * 128 + SIGPIPE, what the shell reports for Docker's CLI and any C program killed by the
 * write. Deno ignores SIGPIPE, so the write fails with EPIPE instead.
 */
export const EXIT_STDOUT_CLOSED = 141;

/**
 * Thrown by the CLI's stdout once its reader has gone: it unwinds the command (its
 * `finally` blocks run, a pull cleans up its half-unpacked layer) and ends it quietly.
 */
export class StdoutClosedError extends Error {
  override name = "StdoutClosedError";
  constructor() {
    super("stdout is closed");
  }
}

/**
 * Prints an error as Docker does and returns the command's exit code for it: the code the
 * error carries (126, 127, ...) unless it is the engine's 125, which only `run` and
 * `create` keep; anything else is the command's failure code. A closed stdout is no error
 * to print: the command just ends.
 */
export function reportError(ctx: CliContext, e: unknown): number {
  if (e instanceof StdoutClosedError) return EXIT_STDOUT_CLOSED;
  ctx.process.stderr.write(`${errorLine(ctx, e)}\n`);
  if (ctx.debug && e instanceof Error && e.stack) ctx.process.stderr.write(`${e.stack}\n`);
  const failure = ctx.failureExitCode ?? EXIT_ENGINE_ERROR;
  if (e instanceof ExitCodeError && e.exitCode !== EXIT_ENGINE_ERROR) return e.exitCode;
  return failure;
}

/**
 * Wraps a command body: its return value is the exit code, and anything it throws is
 * reported with the command's code (`reportError`) instead of reaching stricli.
 */
export function action<F, A extends unknown[]>(
  body: (this: CliContext, flags: F, ...args: A) => Promise<number | void> | number | void,
) {
  return async function (this: CliContext, flags: F, ...args: A): Promise<void> {
    try {
      this.process.exitCode = (await body.call(this, flags, ...args)) ?? 0;
    } catch (e) {
      this.process.exitCode = reportError(this, e);
    }
  };
}

/** Writes a line to stdout. */
export function println(ctx: CliContext, line = ""): void {
  ctx.process.stdout.write(line + "\n");
}
