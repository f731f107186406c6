/**
 * Docker's confirmation prompt for the prune commands: the warning and ` [y/N] ` on stdout,
 * then one line of stdin; only `y` or `yes` goes on. End of input is a no.
 *
 * @module
 */

import type { CliContext } from "./context.ts";

/** Asks `message` (without the ` [y/N] `); true when the answer is yes. */
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.process.stdout.write(`${message} [y/N] `);
  const buf = new Uint8Array(1);
  let line = "";
  while (!line.includes("\n") && (await Deno.stdin.read(buf)) === 1) {
    line += String.fromCharCode(buf[0]);
  }
  const answer = line.trim().toLowerCase();
  return answer === "y" || answer === "yes";
}
