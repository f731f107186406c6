/**
 * Errors in what the user asked for: a bad flag value, an unknown name, a conflict. The CLI
 * reports them without a stack trace and exits 125, as Docker does.
 *
 * @module
 */

/**
 * An error in user input.
 *
 * @example
 * ```ts
 * throw new UsageError(`invalid memory size: "12xb"`);
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}
