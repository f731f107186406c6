/**
 * m-docker's own version, in a module of its own so that `version`, `info` and `--version`
 * read one value without importing the CLI's entry point.
 *
 * @module
 */

/** The version `--version`, `version` and `info` print. */
export const VERSION = "0.1.0";
