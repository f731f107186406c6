/**
 * `m-docker exec [-i] [-t] [-d] [-e K=V]... [-w DIR] [-u USER] CONTAINER CMD [ARG...]`.
 *
 * @module
 */

import { stringFlag } from "./params.ts";
import { buildCommand } from "@stricli/core";
import { execInContainer } from "../container/exec.ts";
import { attach } from "../container/terminal.ts";
import { SignalProxy } from "../container/signal_proxy.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { UsageError } from "../util/errors.ts";
import { containerNames } from "./names.ts";
import { action, type CliContext, CliError, requireTerminalStdin } from "./context.ts";

interface ExecFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
}

const bool = { kind: "boolean", optional: true } as const;

/** The flags `exec` takes; also used to find where the container name starts. */
export const execFlags = {
  detach: { ...bool, brief: "Detached mode: run command in the background" },
  interactive: { ...bool, brief: "Keep STDIN open" },
  tty: { ...bool, brief: "Allocate a pseudo-TTY" },
  env: { ...stringFlag, variadic: true, brief: "Set environment variables" },
  workdir: { ...stringFlag, brief: "Working directory inside the container" },
  user: { ...stringFlag, brief: "Username or UID (format: <name|uid>[:<group|gid>])" },
} as const;

/** Single-letter aliases, as Docker's. */
export const execAliases = {
  d: "detach",
  i: "interactive",
  t: "tty",
  e: "env",
  w: "workdir",
  u: "user",
} as const;

async function exec(this: CliContext, flags: ExecFlags, ref: string, ...args: string[]) {
  if (args.length === 0) {
    throw new CliError(`exec requires a command: m-docker exec ${ref} CMD [ARG...]`);
  }
  if (!flags.detach) requireTerminalStdin(flags.interactive ?? false, flags.tty ?? false);
  if (flags.workdir !== undefined && !flags.workdir.startsWith("/")) {
    throw new UsageError(
      `the working directory '${flags.workdir}' is invalid, it needs to be an absolute path`,
    );
  }
  using signals = new SignalProxy();
  const store = this.engine.containers;
  const state = await resolveReconciled(store, ref);
  const proc = await execInContainer(state, {
    args,
    env: flags.env ?? [],
    cwd: flags.workdir,
    user: flags.user,
    tty: flags.tty ?? false,
    interactive: flags.interactive ?? false,
    detach: flags.detach ?? false,
  });
  if (flags.detach) return 0;
  return (await attach(proc, flags.interactive ?? false, signals)).exitCode;
}

/** The `exec` command. */
export const execCommand = buildCommand<ExecFlags, [string, ...string[]], CliContext>({
  func: action(exec),
  parameters: {
    flags: execFlags,
    aliases: execAliases,
    positional: {
      kind: "array",
      parameter: {
        brief: "CONTAINER COMMAND [ARG...]",
        parse: String,
        placeholder: "CONTAINER",
        proposeCompletions: containerNames,
      },
      minimum: 1,
    },
  },
  docs: { brief: "Execute a command in a running container" },
});
