/**
 * Signal names as users type them: `KILL`, `SIGKILL` or `9`.
 *
 * @module
 */

import { SIGNALS } from "../../ffi/libc.ts";
import { UsageError } from "../util/errors.ts";

/** Parses a signal given as `KILL`, `SIGKILL` or `9`. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = s.toUpperCase();
    const n = SIGNALS[upper] ?? SIGNALS[`SIG${upper}`];
    if (n) return n;
  }
  throw new UsageError(`invalid signal: ${s}`);
}
