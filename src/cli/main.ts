/**
 * The CLI: global options, the application over the command table (routes.ts, which loads
 * only the command being run), and the mapping of every outcome to an exit code. Commands
 * live one per file beside this one. Its static imports are only what `--version` needs.
 *
 * @module
 */

import type { Application, ApplicationText, RouteMap } from "@stricli/core";
import { defaultRoots } from "../state/roots.ts";
import { escapeTrailingCommand, mayDetach, parseGlobalOptions } from "./argv.ts";
import {
  type CliContext,
  EXIT_COMMAND_ERROR,
  EXIT_ENGINE_ERROR,
  EXIT_STDOUT_CLOSED,
  failureExitCode,
  reportError,
  StdoutClosedError,
} from "./context.ts";
import { VERSION } from "../util/version.ts";

/** Stricli, imported once the arguments are more than `--version`. */
type Stricli = typeof import("@stricli/core");

/** The version `--version` prints (kept in src/util/version.ts for `version` and `info`). */
export { VERSION };

const documentation = {
  caseStyle: "convert-camel-to-kebab",
  useAliasInUsageLine: false,
  onlyRequiredInUsageLine: false,
  alwaysShowHelpAllFlag: false,
  disableAnsiColor: false,
} as const;

/**
 * Whether the last arguments stricli refused were too few or too many positionals (Docker:
 * exit 1), not a bad flag (Docker: 125). Stricli reports both as InvalidArgument; its text
 * hook is the one place that sees the error itself.
 */
let positionalsRefused = false;

/** The application over `routes`: the whole table, or only the command being run. */
function application(stricli: Stricli, routes: RouteMap<CliContext>): Application<CliContext> {
  const { text_en, UnexpectedPositionalError, UnsatisfiedPositionalError } = stricli;
  const text: ApplicationText = {
    ...text_en,
    exceptionWhileParsingArguments(exc, ansiColor) {
      positionalsRefused ||= exc instanceof UnexpectedPositionalError ||
        exc instanceof UnsatisfiedPositionalError;
      return text_en.exceptionWhileParsingArguments.call(this, exc, ansiColor);
    },
  };
  return stricli.buildApplication(
    routes,
    {
      name: "m-docker",
      scanner: { caseStyle: "allow-kebab-for-camel", allowArgumentEscapeSequence: true },
      documentation,
      // Shell completion (`m-docker completion`) offers -a beside --all, as Docker's does.
      completion: { includeAliases: true },
      localization: { text },
    },
    // Docker's -h (hostname) and -v (volume) belong to `run`, so --help and --version get no
    // single-letter aliases.
    {
      help: stricli.help({
        brief: "Print help information and exit",
        alias: false,
        defaultForRouteMap: true,
        formatting: documentation,
      }),
      version: stricli.version({
        brief: "Print version information and exit",
        alias: false,
        info: { currentVersion: VERSION },
      }),
    },
  );
}

const encoder = new TextEncoder();

/** Whether stdout's reader has gone: nothing more is written, every write throws. */
let stdoutClosed = false;

/**
 * Whether stricli has handed over to a command. Before that, stdout is stricli's own (help,
 * `--version`), which would report a failed write as its integration's crash.
 */
let commandChosen = false;

/** Writes all of `bytes` to `file`, as many writes as it takes. */
function writeAllSync(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
}

/**
 * Every command's stdout. A closed pipe (`| head -1`) throws StdoutClosedError, which ends
 * the command quietly (reportError), instead of Deno's "Broken pipe (os error 32)".
 */
function writeStdout(s: string): void {
  if (stdoutClosed) throw new StdoutClosedError();
  try {
    writeAllSync(Deno.stdout, encoder.encode(s));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    stdoutClosed = true;
    // Help and --version hold nothing that needs unwinding: end here, as SIGPIPE would.
    if (!commandChosen) Deno.exit(EXIT_STDOUT_CLOSED);
    throw new StdoutClosedError();
  }
}

/** Every command's stderr; if it is closed too, there is nowhere left to say anything. */
function writeStderr(s: string): void {
  try {
    writeAllSync(Deno.stderr, encoder.encode(s));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

/** Runs the CLI on `args` and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const stdio = {
    stdout: { write: writeStdout },
    stderr: { write: writeStderr },
    exitCode: undefined as number | string | null | undefined,
  };
  if (args.length === 1 && args[0] === "--version") {
    // What stricli would print, without loading it or anything else: the version is all
    // `--version` needs (no data root either, as Docker's never reaches its daemon).
    stdio.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // The rest of the CLI, loaded side by side; each command's own module comes later.
  const [stricli, routes, complete, { openEngine }] = await Promise.all([
    import("@stricli/core"),
    import("./routes.ts"),
    import("./complete.ts"),
    import("../engine.ts"),
  ]);
  let ctx: CliContext | undefined;
  let detach: typeof import("../container/detach.ts") | undefined;
  if (args[0] === complete.COMPLETE_COMMAND) {
    // The completion scripts' helper: candidates for the word under the cursor, never an error.
    try {
      const app = application(stricli, await routes.allRoutes());
      const trailing = await routes.allTrailing();
      for (
        const [value, brief] of await complete.completions(app, args.slice(1), trailing, stdio)
      ) {
        stdio.stdout.write(`${value}\t${brief}\n`);
      }
    } catch {
      // Nothing to propose; the shell falls back to file names.
    }
    return 0;
  }
  try {
    const { options, rest } = parseGlobalOptions(args);
    // Until stricli has found the command (opening the engine can fail), its name says.
    const early = failureExitCode(rest);
    ctx = { process: stdio, debug: options.debug, failureExitCode: early } as CliContext;
    if (options.debug) {
      // Loaded only when asked for: logtape pulls in node:util, which costs every start.
      const { configure, getConsoleSink, getLogger } = await import("@logtape/logtape");
      await configure({
        sinks: { console: getConsoleSink() },
        loggers: [
          { category: ["m-docker"], lowestLevel: "debug", sinks: ["console"] },
          // logtape's own notices ("loggers are configured") are not the user's business.
          { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
        ],
      });
      // The message goes in as a property: logtape reads "{...}" in a message as a placeholder.
      const { setDebugSink } = await import("../util/debug.ts");
      setDebugSink((category, message) =>
        getLogger(["m-docker", category]).debug("{message}", { message })
      );
    }
    const defaults = defaultRoots();
    const engine = openEngine({
      root: options.root ?? defaults.root,
      state: options.state ?? defaults.state,
    });
    const base: CliContext = {
      process: stdio,
      engine,
      debug: options.debug,
      failureExitCode: early,
    };
    ctx = base;
    // `container run|exec|create` has its command one word later.
    const words = rest[0] === "container" && routes.takesProgram(rest[1]) ? 2 : 1;
    const command = rest[words - 1];
    // `run -d`'s shim boots (a Deno start and its module load, the longest part of `run -d`)
    // while this process loads `run` and creates the container: spawned on a guess from the
    // words (mayDetach) before `run`'s flags are known; stricli still decides.
    if (command === "run" && mayDetach(rest.slice(words))) {
      detach = await import("../container/detach.ts");
      detach.prespawnShim(engine.containers.dir);
    }
    const argv = routes.takesProgram(command)
      ? [
        ...rest.slice(0, words),
        ...escapeTrailingCommand(rest.slice(words), await routes.trailingFlags(command)),
      ]
      : rest;
    // Only the command the arguments name is loaded (all of them for help and mistakes).
    const app = application(stricli, await routes.routesFor(rest));
    // Once stricli has found the command, its failures get that command's exit code.
    await stricli.run(app, argv, {
      ...base,
      // stricli's prefix starts with the application's name.
      forCommand: ({ prefix }) => {
        commandChosen = true;
        return (ctx = { ...base, failureExitCode: failureExitCode(prefix.slice(1)) });
      },
    });
  } catch (e) {
    return reportError(ctx ?? { process: stdio, debug: false } as unknown as CliContext, e);
  } finally {
    detach?.dropPrespawnedShim(); // not taken: a failed or foreground `run`
  }
  return exitCodeOf(Number(stdio.exitCode ?? 0), ctx?.failureExitCode, stricli.ExitCode);
}

/**
 * Stricli's own (negative) codes as Docker's CLI exits: a bad flag is 125 for every command
 * (cobra's flag errors are a StatusError with 125), an unknown command or a wrong number of
 * arguments is 1 (plain errors), anything else is the command's failure code.
 */
function exitCodeOf(
  code: number,
  failure: number | undefined,
  ExitCode: Stricli["ExitCode"],
): number {
  if (code >= 0) return code;
  if (code === ExitCode.UnknownCommand) return EXIT_COMMAND_ERROR;
  if (code === ExitCode.InvalidArgument) {
    return positionalsRefused ? EXIT_COMMAND_ERROR : EXIT_ENGINE_ERROR;
  }
  return failure ?? EXIT_ENGINE_ERROR;
}
