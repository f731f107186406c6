/**
 * Argument handling stricli cannot do for us: global options before the command, and
 * Docker's rule that `run`'s own flags stop at the image name, so that in
 * `run busybox ls -l` the `-l` belongs to `ls`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Options that apply to every command, given before it: `--root`, `--state`, `--debug`. */
export interface GlobalOptions {
  root?: string;
  state?: string;
  debug: boolean;
}

/** Splits leading global options off `args`. */
export function parseGlobalOptions(args: string[]): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = { debug: false };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    const m = /^--(root|state)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? args[++i];
      if (value === undefined || value === "") {
        throw new UsageError(`flag needs an argument: --${m[1]}`);
      }
      options[m[1] as "root" | "state"] = value;
    } else if (a === "--debug" || a === "-D") {
      options.debug = true;
    } else {
      break;
    }
  }
  return { options, rest: args.slice(i) };
}

/**
 * Inserts `--` before the first positional argument of a command whose trailing arguments
 * are another program's (run, exec). `valueFlags` are the long names (kebab-case) and
 * single-letter aliases that take a value. `--flag=` (an empty value, which stricli does not
 * read as a value) becomes `--flag ""`, as Docker reads it.
 */
export function escapeTrailingCommand(input: string[], valueFlags: Set<string>): string[] {
  const args = [...input];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return args;
    if (!a.startsWith("-") || a === "-") return [...args.slice(0, i), "--", ...args.slice(i)];
    if (a.startsWith("--")) {
      if (a.endsWith("=") && valueFlags.has(a.slice(2, -1))) {
        args.splice(i, 1, a.slice(0, -1), "");
        i++;
      } else if (!a.includes("=") && valueFlags.has(a.slice(2))) i++;
    } else {
      // A batch of short flags such as -it or -dm: a value flag takes the rest or the next arg.
      for (let j = 1; j < a.length; j++) {
        if (valueFlags.has(a[j])) {
          if (j === a.length - 1) i++;
          break;
        }
      }
    }
  }
  return args;
}

/** kebab-case for a camelCase flag name, as stricli's allow-kebab-for-camel accepts it. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * A guess, before `run`'s flags are loaded, at whether `run`'s arguments ask for `-d`: a
 * `-d`, `--detach` (`=true`) or a batch of short flags holding `d` among its flags. The
 * scan ends at the first word that is neither a flag nor one that may be a flag's value
 * (the word after a flag). Either mistake is harmless: the guess only lets a shim boot early
 * (stricli still decides), and an unused one exits at our exit.
 */
export function mayDetach(args: readonly string[]): boolean {
  let afterFlag = false;
  for (const a of args) {
    if (a === "--") return false;
    if (!a.startsWith("-") || a === "-") {
      if (!afterFlag) return false;
      afterFlag = false;
      continue;
    }
    if (a === "--detach" || a === "--detach=true" || /^-[a-zA-Z]*d[a-zA-Z]*$/.test(a)) {
      return true;
    }
    afterFlag = !a.includes("=");
  }
  return false;
}
