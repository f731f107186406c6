/**
 * The one error the config layer's validators throw: plain data that is not acceptable.
 * `field` names what was wrong in the config's own terms (`limits.memoryBytes`), so that each
 * front end (the Docker-style CLI, the OCI runtime) can say it in its own words.
 *
 * @module
 */

/**
 * A config value that the engine will not accept.
 *
 * @example
 * ```ts
 * throw new InvalidConfigError("limits.memoryBytes", "Minimum memory limit allowed is 6MB");
 * ```
 */
export class InvalidConfigError extends Error {
  override name = "InvalidConfigError";
  constructor(readonly field: string, message: string) {
    super(message);
  }
}
