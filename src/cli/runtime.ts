/**
 * The OCI runtime personality: runc's command line (`m-docker runtime ...`, or the
 * `m-docker-runc` link), so that containerd, podman and buildah can use m-docker as their
 * runtime. Global flags come before the command, as with runc (urfave/cli): `--root`,
 * `--log`, `--log-format text|json`, `--debug`, `--systemd-cgroup` (refused), `--rootless`.
 * Errors go to stderr and, with `--log`, to that file as runc writes them (containerd's shim
 * reads the last error from there). Only flag reading and printing here: the operations are
 * src/runtime/.
 *
 * @module
 */

import { RuntimeStore } from "../runtime/store.ts";
import type { CliContext } from "./context.ts";

/** Where the runtime writes: the CLI's stdout and stderr. */
type CliIo = CliContext["process"];

/** One command's flags: whether each takes a value (`multi`: may repeat), its aliases. */
type FlagTable = Record<string, { value: boolean; multi?: boolean; alias?: string[] }>;

const CREATE_FLAGS: FlagTable = {
  bundle: { value: true, alias: ["b"] },
  "pid-file": { value: true },
  "console-socket": { value: true },
  "no-pivot": { value: false },
  "no-new-keyring": { value: false },
  "preserve-fds": { value: true },
};

const COMMANDS: Record<string, FlagTable> = {
  create: CREATE_FLAGS,
  run: { ...CREATE_FLAGS, detach: { value: false, alias: ["d"] }, keep: { value: false } },
  start: {},
  exec: {
    process: { value: true, alias: ["p"] },
    detach: { value: false, alias: ["d"] },
    "pid-file": { value: true },
    "console-socket": { value: true },
    tty: { value: false, alias: ["t"] },
    cwd: { value: true },
    env: { value: true, multi: true, alias: ["e"] },
    user: { value: true, alias: ["u"] },
    cap: { value: true, multi: true, alias: ["c"] },
    "no-new-privs": { value: false },
    "preserve-fds": { value: true },
    "additional-gids": { value: true, multi: true, alias: ["g"] },
    "process-label": { value: true },
    apparmor: { value: true },
    cgroup: { value: true, multi: true },
  },
  state: {},
  kill: { all: { value: false, alias: ["a"] } },
  delete: { force: { value: false, alias: ["f"] } },
  ps: { format: { value: true, alias: ["f"] } },
  list: { format: { value: true, alias: ["f"] }, quiet: { value: false, alias: ["q"] } },
  pause: {},
  resume: {},
  spec: { bundle: { value: true, alias: ["b"] }, rootless: { value: false } },
  checkpoint: {
    "image-path": { value: true },
    "work-path": { value: true },
    "leave-running": { value: false },
    "tcp-established": { value: false },
    "file-locks": { value: false },
    "shell-job": { value: false },
  },
  restore: {
    "image-path": { value: true },
    "work-path": { value: true },
    bundle: { value: true, alias: ["b"] },
    detach: { value: false, alias: ["d"] },
    "pid-file": { value: true },
    "tcp-established": { value: false },
    "file-locks": { value: false },
    "shell-job": { value: false },
  },
  features: {},
  update: {
    resources: { value: true, alias: ["r"] },
    memory: { value: true },
    "memory-swap": { value: true },
    "memory-reservation": { value: true },
    "cpu-share": { value: true, alias: ["cpu-shares"] },
    "cpu-quota": { value: true },
    "cpu-period": { value: true },
    "cpuset-cpus": { value: true },
    "cpuset-mems": { value: true },
    "pids-limit": { value: true },
    "blkio-weight": { value: true },
  },
  events: { stats: { value: false }, interval: { value: true } },
};

const GLOBAL_FLAGS: FlagTable = {
  root: { value: true },
  log: { value: true },
  "log-format": { value: true },
  debug: { value: false },
  "systemd-cgroup": { value: false },
  rootless: { value: true },
  criu: { value: true },
  help: { value: false, alias: ["h"] },
  version: { value: false, alias: ["v"] },
};

/** A command line that runc would refuse. */
class RuntimeUsageError extends Error {}

interface Parsed {
  flags: Map<string, string | true | string[]>;
  rest: string[];
}

/**
 * Reads flags from the front of `args` (Go style: `--name value`, `--name=value`, `-n`; a
 * boolean may be `--name=false`) until the first word that is not a flag, or `--`.
 */
function parseFlags(args: string[], table: FlagTable, what: string): Parsed {
  const flags = new Map<string, string | true | string[]>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const word = eq < 0 ? body : body.slice(0, eq);
    const name = Object.keys(table).find((n) => n === word || table[n].alias?.includes(word));
    if (!name) throw new RuntimeUsageError(`flag provided but not defined: -${word} (${what})`);
    if (!table[name].value) {
      if (eq >= 0 && body.slice(eq + 1) === "false") flags.delete(name);
      else flags.set(name, true);
      continue;
    }
    const value = eq >= 0 ? body.slice(eq + 1) : args[++i];
    if (value === undefined) throw new RuntimeUsageError(`flag needs an argument: -${word}`);
    if (table[name].multi) flags.set(name, [...list(flags, name), value]);
    else flags.set(name, value);
  }
  return { flags, rest: args.slice(i) };
}

type Flags = Parsed["flags"];

function text(flags: Flags, name: string): string | undefined {
  const v = flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function list(flags: Flags, name: string): string[] {
  const v = flags.get(name);
  return Array.isArray(v) ? v : [];
}

/** The ID argument (and only it, unless `more` are allowed). */
function idOf(rest: string[], command: string, more = 0): string {
  if (rest.length === 0) throw new RuntimeUsageError(`"${command}" requires a container id`);
  if (rest.length > 1 + more) {
    throw new RuntimeUsageError(`"${command}" takes ${more ? "at most two" : "one"} argument(s)`);
  }
  return rest[0];
}

/** Writes runc's log line (text or JSON) for an error. */
function logError(path: string | undefined, format: string, message: string): void {
  if (!path) return;
  const time = new Date().toISOString();
  const line = format === "json"
    ? JSON.stringify({ level: "error", msg: message, time })
    : `time="${time}" level=error msg=${JSON.stringify(message)}`;
  try {
    Deno.writeTextFileSync(path, line + "\n", { append: true, create: true });
  } catch { /* stderr still has it */ }
}

/** Runs `m-docker runtime ARGS...`; returns the exit code. */
export async function runtimeMain(args: string[], io: CliIo): Promise<number> {
  let global: Parsed;
  try {
    global = parseFlags(args, GLOBAL_FLAGS, "global");
  } catch (e) {
    io.stderr.write(`m-docker-runc: ${(e as Error).message}\n`);
    return 1;
  }
  const log = text(global.flags, "log");
  const logFormat = text(global.flags, "log-format") ?? "text";
  const fail = (message: string, code = 1) => {
    logError(log, logFormat, message);
    io.stderr.write(`m-docker-runc: ${message}\n`);
    return code;
  };
  if (logFormat !== "text" && logFormat !== "json") {
    return fail(`invalid log-format: ${logFormat}`);
  }
  if (global.flags.has("version")) {
    const { VERSION } = await import("../util/version.ts");
    const { OCI_VERSION } = await import("../runtime/lifecycle.ts");
    io.stdout.write(`m-docker-runc version ${VERSION}\nspec: ${OCI_VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = global.rest;
  if (!command || global.flags.has("help")) {
    io.stdout.write(
      `usage: m-docker-runc [global options] command [options] [arguments]\n` +
        `commands: ${Object.keys(COMMANDS).join(", ")}\n`,
    );
    return command || global.flags.has("help") ? 0 : 1;
  }
  if (global.flags.has("systemd-cgroup")) {
    return fail("--systemd-cgroup is not supported: m-docker manages cgroupfs paths only");
  }
  const rootless = text(global.flags, "rootless");
  if (rootless !== undefined && rootless !== "false" && rootless !== "auto") {
    return fail("rootless containers are not supported by this runtime yet");
  }
  const table = COMMANDS[command];
  if (!table) {
    return fail(`No help topic for '${command}'`);
  }
  const store = new RuntimeStore(text(global.flags, "root"));
  try {
    const { flags, rest: words } = parseFlags(rest, table, command);
    return await dispatch(command, flags, words, store, io, text(global.flags, "criu"));
  } catch (e) {
    return fail((e as Error).message);
  }
}

async function dispatch(
  command: string,
  flags: Flags,
  words: string[],
  store: RuntimeStore,
  io: CliIo,
  criu?: string,
): Promise<number> {
  const life = await import("../runtime/lifecycle.ts");
  const print = (v: unknown) => io.stdout.write(JSON.stringify(v, null, 2) + "\n");
  switch (command) {
    case "create":
    case "run": {
      const id = idOf(words, command);
      const preserve = Number(text(flags, "preserve-fds") ?? "0");
      if (!Number.isInteger(preserve) || preserve < 0) {
        throw new RuntimeUsageError(`invalid --preserve-fds: ${text(flags, "preserve-fds")}`);
      }
      const opts = {
        preserveFds: preserve,
        bundle: text(flags, "bundle") ?? ".",
        pidFile: text(flags, "pid-file"),
        consoleSocket: text(flags, "console-socket"),
      };
      const { createContainer } = await import("../runtime/create.ts");
      await createContainer(store, id, opts);
      if (command === "create") return 0;
      await life.startContainer(store, id);
      if (flags.has("detach")) return 0;
      const code = await life.waitForExit(store, id);
      if (!flags.has("keep")) await life.deleteContainer(store, id, true);
      return code;
    }
    case "start":
      await life.startContainer(store, idOf(words, command));
      return 0;
    case "exec": {
      if (words.length === 0) throw new RuntimeUsageError(`"exec" requires a container id`);
      if (Number(text(flags, "preserve-fds") ?? "0") > 0) {
        throw new Error("--preserve-fds is not supported by this runtime yet");
      }
      if (list(flags, "additional-gids").length || text(flags, "apparmor")) {
        throw new Error("--additional-gids and --apparmor are not supported by this runtime yet");
      }
      const { execProcess } = await import("../runtime/exec.ts");
      return await execProcess(store, words[0], {
        processFile: text(flags, "process"),
        args: words.slice(1),
        env: list(flags, "env"),
        cwd: text(flags, "cwd"),
        user: text(flags, "user"),
        caps: list(flags, "cap"),
        tty: flags.has("tty"),
        detach: flags.has("detach"),
        pidFile: text(flags, "pid-file"),
        consoleSocket: text(flags, "console-socket"),
      });
    }
    case "state":
      print(life.containerState(store, idOf(words, command)));
      return 0;
    case "kill": {
      const id = idOf(words, command, 1);
      const { parseSignal } = await import("./signals.ts");
      await life.killContainer(store, id, parseSignal(words[1] ?? "SIGTERM"), flags.has("all"));
      return 0;
    }
    case "delete":
      await life.deleteContainer(store, idOf(words, command), flags.has("force"));
      return 0;
    case "pause":
    case "resume":
      await life.setPaused(store, idOf(words, command), command === "pause");
      return 0;
    case "ps": {
      const pids = await life.containerPids(store, idOf(words, command));
      if (text(flags, "format") === "json") io.stdout.write(JSON.stringify(pids) + "\n");
      else io.stdout.write(["PID", ...pids.map(String)].join("\n") + "\n");
      return 0;
    }
    case "list": {
      const all = life.listContainers(store);
      if (flags.has("quiet")) io.stdout.write(all.map((s) => s.id + "\n").join(""));
      else if (text(flags, "format") === "json") io.stdout.write(JSON.stringify(all) + "\n");
      else {
        const rows = [
          ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
          ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
        ];
        const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
        for (const r of rows) {
          io.stdout.write(r.map((v, c) => v.padEnd(widths[c])).join("   ").trimEnd() + "\n");
        }
      }
      return 0;
    }
    case "checkpoint":
    case "restore": {
      const { checkpointContainer, restoreContainer } = await import("../runtime/checkpoint.ts");
      const common = {
        imagePath: text(flags, "image-path"),
        workPath: text(flags, "work-path"),
        tcpEstablished: flags.has("tcp-established"),
        fileLocks: flags.has("file-locks"),
        shellJob: flags.has("shell-job"),
        criu,
      };
      const id = idOf(words, command);
      if (command === "checkpoint") {
        await checkpointContainer(store, id, {
          ...common,
          leaveRunning: flags.has("leave-running"),
        });
        return 0;
      }
      const code = await restoreContainer(store, id, {
        ...common,
        bundle: text(flags, "bundle") ?? ".",
        detach: flags.has("detach"),
        pidFile: text(flags, "pid-file"),
      });
      return code ?? 0;
    }
    case "spec": {
      const { defaultOciSpec } = await import("../config/oci_spec.ts");
      const path = `${text(flags, "bundle") ?? "."}/config.json`;
      try {
        Deno.statSync(path);
        throw new Error(`File ${path} exists. Remove it first`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      Deno.writeTextFileSync(path, JSON.stringify(defaultOciSpec(), null, "\t") + "\n");
      return 0;
    }
    case "update": {
      const id = idOf(words, command);
      const up = await import("../runtime/update.ts");
      const file = text(flags, "resources");
      let base;
      if (file !== undefined) {
        const { parseOciResources } = await import("../config/oci_spec.ts");
        const json = file === "-"
          ? await new Response(Deno.stdin.readable).text()
          : Deno.readTextFileSync(file);
        base = parseOciResources(json, file === "-" ? "stdin" : file);
      }
      const options = {
        memory: text(flags, "memory"),
        memorySwap: text(flags, "memory-swap"),
        memoryReservation: text(flags, "memory-reservation"),
        cpuShares: text(flags, "cpu-share"),
        cpuQuota: text(flags, "cpu-quota"),
        cpuPeriod: text(flags, "cpu-period"),
        cpusetCpus: text(flags, "cpuset-cpus"),
        cpusetMems: text(flags, "cpuset-mems"),
        pidsLimit: text(flags, "pids-limit"),
        blkioWeight: text(flags, "blkio-weight"),
      };
      const change = up.resourcesToChange(up.resourcesFromOptions(options, base));
      up.updateContainerResources(store, id, change);
      return 0;
    }
    case "events": {
      const id = idOf(words, command);
      const { parseGoDuration } = await import("../util/duration.ts");
      const interval = parseGoDuration(text(flags, "interval") ?? "5s") / 1e6;
      const { containerEvents } = await import("../runtime/events.ts");
      await containerEvents(store, id, {
        statsOnly: flags.has("stats"),
        intervalMs: interval,
        emit: (line) => io.stdout.write(line + "\n"),
      });
      return 0;
    }
    case "features": {
      const { ociFeatures } = await import("../config/oci_spec.ts");
      print(ociFeatures());
      return 0;
    }
  }
  throw new RuntimeUsageError(`unknown command ${command}`);
}
