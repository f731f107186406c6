/**
 * What every CLI command receives, and the one place that turns errors into Docker's exit
 * codes and messages: 125 when m-docker itself failed, or the code the error carries.
 *
 * @module
 */

import type { CommandContext } from "@stricli/core";
import type { Engine } from "../engine.ts";
import { ExitCodeError } from "../util/errors.ts";
import { cliMessage } from "./limit_errors.ts";

/** The context stricli hands to each command. */
export interface CliContext extends CommandContext {
  readonly engine: Engine;
  readonly debug: boolean;
  readonly process: {
    stdout: { write(s: string): void };
    stderr: { write(s: string): void };
    exitCode?: number | string | null;
  };
}

/** Exit code for errors of m-docker itself, as Docker uses it. */
export const EXIT_ENGINE_ERROR = 125;

/** Prints an error as `m-docker: message` and returns its exit code. */
export function reportError(ctx: CliContext, e: unknown): number {
  ctx.process.stderr.write(`m-docker: ${cliMessage(e)}\n`);
  if (ctx.debug && e instanceof Error && e.stack) ctx.process.stderr.write(`${e.stack}\n`);
  return e instanceof ExitCodeError ? e.exitCode : EXIT_ENGINE_ERROR;
}

/**
 * Wraps a command body: its return value is the exit code, and anything it throws is
 * reported with the right code instead of reaching stricli. `errorExitCode` fixes the code
 * of every failure (Docker's commands other than `run` and `create` exit 1).
 */
export function action<F, A extends unknown[]>(
  body: (this: CliContext, flags: F, ...args: A) => Promise<number | void> | number | void,
  opts: { errorExitCode?: number } = {},
) {
  return async function (this: CliContext, flags: F, ...args: A): Promise<void> {
    try {
      this.process.exitCode = (await body.call(this, flags, ...args)) ?? 0;
    } catch (e) {
      const code = reportError(this, e);
      this.process.exitCode = opts.errorExitCode ?? code;
    }
  };
}

/** Writes a line to stdout. */
export function println(ctx: CliContext, line = ""): void {
  ctx.process.stdout.write(line + "\n");
}
