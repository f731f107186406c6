/**
 * How to start "this program again, in role X" (seed 002, after moby's pkg/reexec), in each
 * of the ways m-docker can be running: as a `deno compile` binary, as the bundled program
 * run by the pinned Deno, or from source. This module is the only place that knows.
 *
 * @module
 */

/** The re-exec roles. Not CLI commands: they never appear in `--help`. */
export const ROLE = {
  init: "m-docker-role:init",
  shim: "m-docker-role:shim",
  /**
   * What a shim becomes (execve, same pid) once its container runs: it only watches it
   * (src/roles/monitor.ts).
   */
  monitor: "m-docker-role:monitor",
  /** One healthcheck probe: an exec into the container (src/roles/health.ts). */
  health: "m-docker-role:health",
} as const;

/** A program and its full argv, ready for `spawn`. */
export interface SelfCommand {
  path: string;
  args: string[];
}

/**
 * The command line that runs this same program in `role` with `roleArgs`.
 *
 * @example
 * ```ts
 * const { path, args } = selfCommand(ROLE.shim, [stateDir, "notty"]); // the shim's own argv
 * ```
 */
export function selfCommand(role: string, roleArgs: readonly string[] = []): SelfCommand {
  const exe = Deno.execPath();
  const main = Deno.mainModule;
  const isDeno = /(^|\/)deno$/.test(exe);
  if (!isDeno || !main.startsWith("file:")) {
    // A compiled binary: it is the program.
    return { path: exe, args: [exe, role, ...roleArgs] };
  }
  const mainPath = decodeURIComponent(new URL(main).pathname);
  const fromSource = mainPath.endsWith(".ts");
  const flags = ["run", "-A", "--quiet", "--no-prompt"];
  if (fromSource) {
    flags.push(`--config=${mainPath.slice(0, mainPath.lastIndexOf("/"))}/deno.json`);
  } else {
    flags.push("--no-config", "--no-lock");
  }
  return { path: exe, args: [exe, ...flags, mainPath, role, ...roleArgs] };
}
