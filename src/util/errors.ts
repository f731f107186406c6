/**
 * Errors in what the user asked for: a bad flag value, an unknown name, a conflict. The CLI
 * reports them without a stack trace and exits 125, as Docker does.
 *
 * @module
 */

/**
 * An error in user input (a bad flag value, an impossible request): the CLI prints its
 * message alone and exits with code 125.
 *
 * @example
 * ```ts
 * throw new UsageError(`invalid memory size: "12xb"`);
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * An error that decides the process's exit code, as Docker's do: 125 when the engine
 * failed, 126 when the command cannot be invoked, 127 when it is not found.
 *
 * @example
 * ```ts
 * throw new ExitCodeError(`exec: "nope": executable file not found in $PATH`, 127);
 * ```
 */
export class ExitCodeError extends Error {
  override name = "ExitCodeError";
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}
