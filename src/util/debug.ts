/**
 * Debug logging for the library, at no cost when it is off: `debug()` does nothing until a
 * front end installs a sink (the CLI does so for `--debug`, with logtape behind it). The
 * library never imports a logging framework, so no process pays for loading one.
 *
 * @module
 */

type Sink = (category: string, message: string) => void;

let sink: Sink | null = null;

/**
 * Sends the library's debug messages to `s` from now on (null turns them off).
 *
 * @example
 * ```ts
 * setDebugSink((category, message) => console.error(`[${category}] ${message}`));
 * ```
 */
export function setDebugSink(s: Sink | null): void {
  sink = s;
}

/**
 * Logs a debug message under `category` ("create", "start", "image", ...). Pass a function
 * when the message costs something to build: it is called only when debugging is on.
 *
 * @example
 * ```ts
 * debug("start", () => `init ${pid} joined ${JSON.stringify(paths)}`);
 * ```
 */
export function debug(category: string, message: string | (() => string)): void {
  if (sink) sink(category, typeof message === "function" ? message() : message);
}
