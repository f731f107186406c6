/**
 * The command table, as loaders: each command's module is imported only when that command
 * runs. `routesFor` builds a route map holding just the command the arguments name (with the
 * aliases that lead to it, which its help lists), so that `ps` loads ps.ts and what it
 * imports, not every command's world; `--help`, an unknown command and shell completion get
 * the whole table, built in the same order as before, so their text is unchanged.
 *
 * The specifiers are literal so that the bundler splits the program at them. The launcher
 * (scripts/build) sets DENO_UNSTABLE_LAZY_DYNAMIC_IMPORTS: without it Deno fetches every
 * module the bundle names in a dynamic import at start-up, used or not (every process, the
 * shim and init too, opened all of the bundle's files), which is why Stricli's lazy `loader`
 * measured slower before.
 *
 * @module
 */

import { buildRouteMap, type Command, type RouteMap } from "@stricli/core";
import { kebab } from "./argv.ts";
import type { CliContext } from "./context.ts";

/** What a route leads to: one command or a route map of them. */
type Target = Command<CliContext> | RouteMap<CliContext>;

/** A route's loader: imports the module that defines it. */
type Load = () => Promise<Target>;

const run: Load = async () => (await import("./run.ts")).runCommand;
const create: Load = async () => (await import("./create.ts")).createCommand;
const rename: Load = async () => (await import("./manage.ts")).renameCommand;
const pause: Load = async () => (await import("./manage.ts")).pauseCommand;
const unpause: Load = async () => (await import("./manage.ts")).unpauseCommand;
const update: Load = async () => (await import("./manage.ts")).updateCommand;
const containerPrune: Load = async () => (await import("./manage.ts")).containerPruneCommand;
const exec: Load = async () => (await import("./exec.ts")).execCommand;
const attach: Load = async () => (await import("./attach.ts")).attachCommand;
const ps: Load = async () => (await import("./ps.ts")).psCommand;
const logs: Load = async () => (await import("./logs.ts")).logsCommand;
const start: Load = async () => (await import("./start.ts")).startCommand;
const restart: Load = async () => (await import("./start.ts")).restartCommand;
const stop: Load = async () => (await import("./lifecycle.ts")).stopCommand;
const kill: Load = async () => (await import("./lifecycle.ts")).killCommand;
const rm: Load = async () => (await import("./lifecycle.ts")).rmCommand;
const wait: Load = async () => (await import("./lifecycle.ts")).waitCommand;
const inspect: Load = async () => (await import("./inspect.ts")).inspectCommand;
const top: Load = async () => (await import("./top.ts")).topCommand;
const port: Load = async () => (await import("./port.ts")).portCommand;
const images: Load = async () => (await import("./images.ts")).imagesCommand;
const tag: Load = async () => (await import("./images.ts")).tagCommand;
const commit: Load = async () => (await import("./images.ts")).commitCommand;
const save: Load = async () => (await import("./images.ts")).saveCommand;
const exportImage: Load = async () => (await import("./images.ts")).exportCommand;
const load: Load = async () => (await import("./images.ts")).loadCommand;
const rmi: Load = async () => (await import("./images.ts")).rmiCommand;
const importImage: Load = async () => (await import("./import.ts")).importCommand;
const history: Load = async () => (await import("./history.ts")).historyCommand;

/** `m-docker image ...`: images.ts's commands load as one group, with history and push. */
const image: Load = async () => {
  const m = await import("./images.ts");
  return buildRouteMap({
    routes: {
      ls: m.imagesCommand,
      inspect: m.imageInspectCommand,
      prune: m.imagePruneCommand,
      rm: m.rmiCommand,
      history: (await import("./history.ts")).historyCommand,
      push: (await import("./push.ts")).pushCommand,
    },
    docs: { brief: "Manage images" },
  });
};

/** `m-docker container ...`: Docker's management-command spellings of the same commands. */
const CONTAINER: Record<string, Load> = {
  ls: ps,
  inspect,
  rm,
  start,
  stop,
  kill,
  restart,
  logs,
  exec,
  run,
  create,
  rename,
  pause,
  unpause,
  update,
  top,
  port,
  wait,
  attach,
  commit,
  export: exportImage,
  prune: containerPrune,
};

const CONTAINER_ALIASES: Record<string, string> = { ps: "ls", list: "ls" };
const CONTAINER_DOCS = { brief: "Manage containers" };

/** The marker for the one group whose commands come from many modules. */
const CONTAINER_GROUP = "container";

/** The top-level routes, in `--help`'s order. */
const ROOT: Record<string, Load | typeof CONTAINER_GROUP> & { completion: Load } = {
  run,
  create,
  rename,
  pause,
  unpause,
  update,
  container: CONTAINER_GROUP,
  exec,
  attach,
  ps,
  logs,
  start,
  restart,
  stop,
  kill,
  rm,
  inspect,
  wait,
  top,
  port,
  network: async () => (await import("./network.ts")).networkRoutes,
  volume: async () => (await import("./volume.ts")).volumeRoutes,
  images,
  pull: async () => (await import("./pull.ts")).pullCommand,
  push: async () => (await import("./push.ts")).pushCommand,
  login: async () => (await import("./login.ts")).loginCommand,
  logout: async () => (await import("./login.ts")).logoutCommand,
  tag,
  commit,
  save,
  export: exportImage,
  load,
  rmi,
  history,
  image,
  import: importImage,
  completion: async () => (await import("./completion.ts")).completionCommand,
  events: async () => (await import("./events.ts")).eventsCommand,
  stats: async () => (await import("./stats.ts")).statsCommand,
  info: async () => (await import("./system.ts")).infoCommand,
  version: async () => (await import("./system.ts")).versionCommand,
  system: async () => (await import("./system.ts")).systemRoutes,
  cp: async () => (await import("./cp.ts")).cpCommand,
  build: async () => (await import("./build.ts")).buildImageCommand,
  builder: async () => (await import("./build.ts")).builderRoutes,
  diff: async () => (await import("./diff.ts")).diffCommand,
};

const ROOT_DOCS = { brief: "m-docker: a Docker-style container engine in one executable" };

/** Flags that take a value, by long (kebab) name and by alias: where flags end. */
function valueFlags(
  flags: Record<string, { kind: string }>,
  aliases: Record<string, string>,
): Set<string> {
  return new Set([
    ...Object.entries(flags).filter(([, f]) => f.kind !== "boolean").map(([n]) => kebab(n)),
    ...Object.entries(aliases).filter(([, n]) => flags[n].kind !== "boolean").map(([a]) => a),
  ]);
}

/** The commands whose trailing arguments belong to the container's program: their value flags. */
const TRAILING: Record<string, () => Promise<Set<string>>> = {
  run: async () => {
    const m = await import("./run.ts");
    return valueFlags(m.runFlags, m.runAliases);
  },
  exec: async () => {
    const m = await import("./exec.ts");
    return valueFlags(m.execFlags, m.execAliases);
  },
  create: async () => {
    const m = await import("./create.ts");
    return valueFlags(m.createFlags, m.createAliases);
  },
};

/** Whether `name` names one of the commands whose trailing arguments are a program's. */
export function takesProgram(name: string | undefined): boolean {
  return name !== undefined && Object.hasOwn(TRAILING, name);
}

/** The value flags of `run`, `exec` and `create` (loads all three: for completion). */
export async function allTrailing(): Promise<Record<string, Set<string>>> {
  const entries = await Promise.all(
    Object.entries(TRAILING).map(async ([name, flags]) => [name, await flags()] as const),
  );
  return Object.fromEntries(entries);
}

/** The value flags of `name`, which takesProgram accepted. */
export function trailingFlags(name: string): Promise<Set<string>> {
  return TRAILING[name]();
}

/** Loads every route of `table`, keeping its order. */
async function loadAll(table: Record<string, Load>): Promise<Record<string, Target>> {
  const entries = await Promise.all(
    Object.entries(table).map(async ([name, loadRoute]) => [name, await loadRoute()] as const),
  );
  return Object.fromEntries(entries);
}

/** The `container` route map with `routes` and the aliases that lead to them. */
function containerMap(routes: Record<string, Target>): RouteMap<CliContext> {
  const aliases = Object.fromEntries(
    Object.entries(CONTAINER_ALIASES).filter(([, to]) => Object.hasOwn(routes, to)),
  );
  return buildRouteMap({ routes, aliases, docs: CONTAINER_DOCS });
}

/** The whole command table: for `--help`, an unknown command, and completion. */
export async function allRoutes(): Promise<RouteMap<CliContext>> {
  const containerRoutes = containerMap(await loadAll(CONTAINER));
  const routes = await Promise.all(
    Object.entries(ROOT).map(async ([name, route]) =>
      [name, route === CONTAINER_GROUP ? containerRoutes : await route()] as const
    ),
  );
  return buildRouteMap({ routes: Object.fromEntries(routes), docs: ROOT_DOCS });
}

/**
 * The route map for `words` (the arguments after the global options): only the command they
 * name (`ps`, `container ls`, `container ps`, `network ...`) when they name one, else the whole
 * table, so that help and the unknown-command error (with its suggestions) are as before.
 */
export async function routesFor(words: readonly string[]): Promise<RouteMap<CliContext>> {
  const [first, second] = words;
  if (words.length === 1 && first === "--version") {
    // Stricli answers the flag at the root without reaching a route, but a route map needs
    // one: the smallest module's will do.
    return buildRouteMap({ routes: { completion: await ROOT.completion() }, docs: ROOT_DOCS });
  }
  if (first === undefined || !Object.hasOwn(ROOT, first)) return await allRoutes();
  const route = ROOT[first];
  if (route !== CONTAINER_GROUP) {
    return buildRouteMap({ routes: { [first]: await route() }, docs: ROOT_DOCS });
  }
  const sub = second !== undefined && Object.hasOwn(CONTAINER_ALIASES, second)
    ? CONTAINER_ALIASES[second]
    : second;
  if (sub === undefined || !Object.hasOwn(CONTAINER, sub)) return await allRoutes();
  const container = containerMap({ [sub]: await CONTAINER[sub]() });
  return buildRouteMap({ routes: { container }, docs: ROOT_DOCS });
}
