/**
 * `m-docker run`: flags to a `RunRequest`, then create and start, in the foreground or
 * detached. Parsing and output only; the work is in src/container.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { createContainer } from "../container/create.ts";
import { destroyContainer } from "../container/cleanup.ts";
import { abandonShim, handOverToShim, spawnShim } from "../container/detach.ts";
import { ForegroundStdio, runForeground } from "../container/foreground.ts";
import { PROXIED_SIGNALS, SignalProxy } from "../container/signal_proxy.ts";
import { abandonInit, remappedInit, spawnInit } from "../container/start.ts";
import { containerFilter } from "../container/seccomp_filter.ts";
import type { RunRequest } from "../config/run_request.ts";
import type { StateStore } from "../state/store.ts";
import { type PullPolicy, resolveImage } from "../engine.ts";
import { parseCpus, parseCpuset, parseMemorySize } from "../util/units.ts";
import { listFlag, parseInteger, stringFlag } from "./params.ts";
import { imageNames } from "./names.ts";
import { action, type CliContext, println, requireTerminalStdin } from "./context.ts";
import { parseSignal } from "./signals.ts";
import type { RestartPolicy, SeccompChoice } from "../config/container.ts";
import { DEFAULT_CAPABILITIES } from "../rootfs/capabilities.ts";
import { UsageError } from "../util/errors.ts";
import {
  parseAddHost,
  parseDevice,
  parseExpose,
  parsePublish,
  parseRestartPolicy,
  requestEnv,
} from "./run_options.ts";
import { parseMount, parseVolume, parseVolumesFrom, sortMounts } from "./mount_options.ts";
import { DEFAULT_NETWORK, parseNetworkMode } from "../config/network.ts";
import { parseSysctl, parseTmpfs, parseUlimit } from "../config/confine.ts";
import { netnsPlanForMode } from "../container/network_spec.ts";
import { parseDeviceRule } from "../config/devices.ts";
import { parseUsernsMode } from "../config/userns.ts";
import { remapRanges } from "../container/userns.ts";
import { healthcheckFromFlags, type HealthFlags, healthFlags } from "./health_flags.ts";
import { requestLabels } from "./labels.ts";
import { logConfigFromFlags } from "../config/logging.ts";
import { discardUnsupportedLimits } from "../cgroups/support.ts";

/** `run`'s flags as parsed (`create` takes the same, less those about attaching). */
export interface RunFlags extends HealthFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  volume?: string[];
  mount?: string[];
  volumesFrom?: string[];
  workdir?: string;
  hostname?: string;
  entrypoint?: string;
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  oomKillDisable?: boolean;
  cpus?: { quotaUs: number; periodUs: number };
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  cgroupParent?: string;
  stopSignal?: number;
  stopTimeout?: number;
  init?: boolean;
  restart?: RestartPolicy;
  sigProxy: boolean;
  pull?: PullPolicy;
  /** `-q`: no pull output (Docker's "Suppress the pull output"). */
  quiet?: boolean;
  user?: string;
  userns?: string;
  network?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  ip?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  networkAlias?: string[];
  groupAdd?: string[];
  securityOpt?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  tmpfs?: string[];
  shmSize?: number;
  ulimit?: string[];
  oomScoreAdj?: number;
  sysctl?: string[];
  device?: string[];
  deviceCgroupRule?: string[];
  label?: string[];
  labelFile?: string[];
  logDriver?: string;
  logOpt?: string[];
}

const bool = { kind: "boolean", optional: true } as const;

/** The flags `run` takes; also used to find where the image name starts. */
export const runFlags = {
  detach: { ...bool, brief: "Run container in background and print container ID" },
  interactive: { ...bool, brief: "Keep STDIN open" },
  tty: { ...bool, brief: "Allocate a pseudo-TTY" },
  rm: { ...bool, brief: "Automatically remove the container when it exits" },
  name: { ...stringFlag, brief: "Assign a name to the container" },
  env: { ...listFlag, brief: "Set environment variables (KEY=VALUE, or KEY to copy it)" },
  envFile: { ...listFlag, brief: "Read in a file of environment variables" },
  volume: {
    ...listFlag,
    brief: "Bind mount a volume (HOST:CONTAINER[:MODE], NAME:CONTAINER[:MODE], CONTAINER)",
  },
  mount: {
    ...listFlag,
    brief: "Attach a filesystem mount (type=bind|volume|tmpfs,source=,target=,readonly,...)",
  },
  volumesFrom: { ...listFlag, brief: "Mount volumes from the specified container(s) (C[:ro|rw])" },
  workdir: { ...stringFlag, brief: "Working directory inside the container" },
  user: { ...stringFlag, brief: "Username or UID (format: <name|uid>[:<group|gid>])" },
  hostname: { ...stringFlag, brief: "Container host name" },
  userns: {
    ...stringFlag,
    brief:
      "User namespace: host, or remap (m-docker's: root is the dockremap range of /etc/subuid; M_DOCKER_USERNS_REMAP=default makes it the default)",
  },
  entrypoint: { ...stringFlag, brief: "Overwrite the default ENTRYPOINT of the image" },
  memory: {
    kind: "parsed",
    parse: parseMemorySize,
    optional: true,
    brief: "Memory limit (e.g. 256m, 1g)",
  },
  memorySwap: {
    kind: "parsed",
    parse: (s: string) => s.trim() === "-1" ? -1 : parseMemorySize(s),
    optional: true,
    brief: "Memory plus swap limit; -1 for unlimited swap",
  },
  memoryReservation: {
    kind: "parsed",
    parse: parseMemorySize,
    optional: true,
    brief: "Memory soft limit",
  },
  oomKillDisable: { ...bool, brief: "Disable OOM Killer (cgroup v1)" },
  cpus: {
    kind: "parsed",
    parse: (s: string) => parseCpus(s),
    optional: true,
    brief: "Number of CPUs",
  },
  cpuPeriod: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Limit CPU CFS (Completely Fair Scheduler) period",
  },
  cpuQuota: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Limit CPU CFS (Completely Fair Scheduler) quota",
  },
  cpuShares: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "CPU shares (relative weight)",
  },
  cpusetCpus: {
    kind: "parsed",
    parse: (s: string) => parseCpuset(s),
    optional: true,
    brief: "CPUs in which to allow execution (0-3, 0,1)",
  },
  pidsLimit: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Tune container pids limit (-1 for unlimited)",
  },
  blkioWeight: {
    kind: "parsed",
    parse: parseBlkioWeight,
    optional: true,
    brief: "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
  },
  cgroupParent: { ...stringFlag, brief: "Parent cgroup (relative: under m-docker's own cgroup)" },
  stopSignal: {
    kind: "parsed",
    parse: parseSignal,
    optional: true,
    brief: "Signal to stop the container",
  },
  stopTimeout: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Seconds to wait for the stop signal before SIGKILL",
  },
  init: {
    ...bool,
    brief: "Run an init inside the container that forwards signals and reaps processes",
  },
  pull: {
    kind: "enum",
    values: ["missing", "never", "always"],
    optional: true,
    brief: "Pull the image before running: missing (default), never, always",
  },
  quiet: { kind: "boolean", optional: true, brief: "Suppress the pull output" },
  sigProxy: {
    kind: "boolean",
    default: true,
    brief: "Proxy received signals to the process (--sig-proxy=false to turn off)",
  },
  restart: {
    kind: "parsed",
    parse: parseRestartPolicy,
    optional: true,
    brief: "Restart policy: no, on-failure[:max-retries], always (with -d)",
  },
  network: {
    ...stringFlag,
    brief: "Connect a container to a network (bridge, none, host, container:C)",
  },
  publish: {
    ...listFlag,
    brief: "Publish a container's port(s) to the host ([IP:][HOST:]PORT[/proto])",
  },
  publishAll: { ...bool, brief: "Publish all exposed ports to random ports" },
  expose: { ...listFlag, brief: "Expose a port or a range of ports" },
  ip: { ...stringFlag, brief: "IPv4 address (e.g., 172.30.100.104)" },
  dns: { ...listFlag, brief: "Set custom DNS servers" },
  dnsSearch: { ...listFlag, brief: "Set custom DNS search domains" },
  dnsOption: { ...listFlag, brief: "Set DNS options" },
  addHost: { ...listFlag, brief: "Add a custom host-to-IP mapping (host:ip)" },
  networkAlias: { ...listFlag, brief: "Add network-scoped alias for the container" },
  groupAdd: { ...listFlag, brief: "Add additional groups to join" },
  securityOpt: {
    ...listFlag,
    brief:
      "Security options: seccomp=unconfined, seccomp=PROFILE.json (Docker's format), no-new-privileges",
  },
  capAdd: { ...listFlag, brief: "Add Linux capabilities (NET_ADMIN, CAP_SYS_ADMIN, ALL)" },
  capDrop: { ...listFlag, brief: "Drop Linux capabilities (NET_RAW, ALL)" },
  privileged: { ...bool, brief: "Give extended privileges to this container" },
  readOnly: { ...bool, brief: "Mount the container's root filesystem as read only" },
  tmpfs: { ...listFlag, brief: "Mount a tmpfs directory (PATH[:OPTIONS])" },
  shmSize: {
    kind: "parsed",
    parse: parseMemorySize,
    optional: true,
    brief: "Size of /dev/shm (default 64m)",
  },
  ulimit: { ...listFlag, brief: "Ulimit options (NAME=SOFT[:HARD], -1 for unlimited)" },
  oomScoreAdj: {
    kind: "parsed",
    parse: parseInteger,
    optional: true,
    brief: "Tune host's OOM preferences (-1000 to 1000)",
  },
  sysctl: { ...listFlag, brief: "Sysctl options (KEY=VALUE, namespaced ones only)" },
  device: { ...listFlag, brief: "Add a host device to the container (HOST[:CONTAINER][:rwm])" },
  deviceCgroupRule: { ...listFlag, brief: "Add a rule to the cgroup allowed devices list" },
  ...healthFlags,
  label: { ...listFlag, brief: "Set meta data on a container" },
  labelFile: { ...listFlag, brief: "Read in a line delimited file of labels" },
  logDriver: { ...stringFlag, brief: "Logging driver for the container: json-file, local, none" },
  logOpt: {
    ...listFlag,
    brief: "Log driver options (max-size=10m, max-file=3, labels=, env=, tag=)",
  },
} as const;

/** Single-letter aliases, as Docker's. */
export const runAliases = {
  d: "detach",
  i: "interactive",
  t: "tty",
  e: "env",
  v: "volume",
  w: "workdir",
  u: "user",
  h: "hostname",
  m: "memory",
  c: "cpuShares",
  p: "publish",
  P: "publishAll",
  l: "label",
  q: "quiet",
} as const;

/**
 * `--cpus` as Docker's NanoCpus (0: `--cpus 0`), from the quota per period it was parsed to:
 * exact to 0.00001 CPU, the quota's own precision.
 */
export function nanoCpusOf(cpus: RunFlags["cpus"]): number | undefined {
  if (!cpus) return undefined;
  return cpus.periodUs ? Math.round(cpus.quotaUs * 1e9 / cpus.periodUs) : 0;
}

/** `--blkio-weight`: Docker's uint16, so no sign; the range is the daemon's check. */
export function parseBlkioWeight(s: string): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) > 65535) {
    throw new UsageError(
      `invalid argument "${s}" for "--blkio-weight" flag: strconv.ParseUint: parsing ` +
        `${JSON.stringify(s)}: ${/^\d+$/.test(s.trim()) ? "value out of range" : "invalid syntax"}`,
    );
  }
  return Number(s);
}

/** The request `run` and `create` make of their flags, image and command. */
export async function runRequestFrom(
  flags: RunFlags,
  image: string,
  command: string[],
): Promise<RunRequest> {
  // -v and --mount, in the order Docker applies them: -v first.
  const mounted = sortMounts([
    ...(flags.volume ?? []).map(parseVolume),
    ...(flags.mount ?? []).map(parseMount),
  ]);
  const request: RunRequest = {
    image,
    command,
    entrypoint: flags.entrypoint,
    name: flags.name,
    env: requestEnv(flags.envFile ?? [], flags.env ?? []),
    mounts: mounted.mounts,
    volumes: mounted.volumes,
    volumesFrom: (flags.volumesFrom ?? []).map(parseVolumesFrom),
    workdir: flags.workdir,
    user: flags.user,
    hostname: flags.hostname,
    tty: flags.tty ?? false,
    interactive: flags.interactive ?? false,
    detach: flags.detach ?? false,
    autoRemove: flags.rm ?? false,
    stopSignal: flags.stopSignal,
    stopTimeout: flags.stopTimeout,
    init: flags.init ?? false,
    restart: flags.restart,
    limits: {
      memoryBytes: flags.memory,
      memorySwapBytes: flags.memorySwap,
      memoryReservationBytes: flags.memoryReservation,
      oomKillDisable: flags.oomKillDisable,
      // --cpus is Docker's NanoCpus, applied as a quota per 100 ms; --cpu-quota and
      // --cpu-period are its CpuQuota and CpuPeriod (the two may not be mixed).
      nanoCpus: nanoCpusOf(flags.cpus),
      cpuQuotaUs: flags.cpuQuota,
      cpuPeriodUs: flags.cpuPeriod,
      cpuShares: flags.cpuShares,
      cpusetCpus: flags.cpusetCpus,
      pidsLimit: flags.pidsLimit,
      blkioWeight: flags.blkioWeight,
    },
    cgroupParent: flags.cgroupParent ?? (Deno.env.get("M_DOCKER_CGROUP_PARENT") || undefined),
    network: {
      // M_DOCKER_DEFAULT_NETWORK=none is dockerd's `--bridge=none`: no default bridge.
      mode: parseNetworkMode(
        flags.network ?? (Deno.env.get("M_DOCKER_DEFAULT_NETWORK") || DEFAULT_NETWORK),
      ),
      ports: (flags.publish ?? []).flatMap(parsePublish),
      ip: flags.ip,
      aliases: flags.networkAlias ?? [],
      dns: flags.dns ?? [],
      dnsSearch: flags.dnsSearch ?? [],
      dnsOptions: flags.dnsOption ?? [],
      extraHosts: (flags.addHost ?? []).map(parseAddHost),
    },
    groupAdd: flags.groupAdd,
    publishAll: flags.publishAll ?? false,
    expose: (flags.expose ?? []).flatMap(parseExpose),
    ...await parseSecurityOpts(flags.securityOpt ?? []),
    securityOpt: flags.securityOpt,
    capAdd: flags.capAdd,
    capDrop: flags.capDrop,
    privileged: flags.privileged ?? false,
    readonlyRootfs: flags.readOnly ?? false,
    tmpfs: [...(flags.tmpfs ?? []).map(parseTmpfs), ...mounted.tmpfs],
    shmSizeBytes: flags.shmSize,
    ulimits: (flags.ulimit ?? []).map(parseUlimit),
    oomScoreAdj: flags.oomScoreAdj,
    sysctls: Object.fromEntries((flags.sysctl ?? []).map(parseSysctl)),
    devices: (flags.device ?? []).map(parseDevice),
    deviceCgroupRules: (flags.deviceCgroupRule ?? []).map((r) => parseDeviceRule(r)),
    ...usernsRequest(flags.userns),
    healthcheck: healthcheckFromFlags(flags),
    labels: requestLabels(flags.labelFile ?? [], flags.label ?? []),
    logConfig: flags.logDriver !== undefined || flags.logOpt?.length
      ? logConfigFromFlags(flags.logDriver, flags.logOpt ?? [])
      : undefined,
  };
  return request;
}

async function run(this: CliContext, flags: RunFlags, image: string, ...command: string[]) {
  if (!flags.detach) requireTerminalStdin(flags.interactive ?? false, flags.tty ?? false);
  const request = await runRequestFrom(flags, image, command);
  const how: HowToRun = {
    pull: flags.pull ?? "missing",
    sigProxy: flags.sigProxy,
    quiet: flags.quiet ?? false,
  };
  return request.detach
    ? await runDetached(this, request, how)
    : await runAttached(this, request, how);
}

/**
 * `--userns` (or the environment's default): the mode as `inspect` shows it, and for remap
 * the host ranges, read now so that a missing range fails before anything is started.
 */
function usernsRequest(flag: string | undefined): Pick<RunRequest, "usernsMode" | "userns"> {
  const env = Deno.env.toObject();
  const { mode, explicit } = parseUsernsMode(flag, env.M_DOCKER_USERNS_REMAP);
  if (mode === "host") return { usernsMode: explicit ? "host" : undefined };
  return { usernsMode: "remap", userns: remapRanges(env) };
}

/**
 * `--security-opt`: seccomp and no-new-privileges. A profile file is read (and checked) now,
 * and its text kept in the container, as Docker does. `seccomp:` is Docker's old spelling.
 */
async function parseSecurityOpts(
  opts: string[],
): Promise<{ seccomp?: SeccompChoice; noNewPrivileges?: boolean }> {
  let choice: SeccompChoice | undefined;
  let noNewPrivileges: boolean | undefined;
  for (const opt of opts) {
    const nnp = /^no-new-privileges(?:[=:](.*))?$/s.exec(opt);
    if (nnp) {
      if (nnp[1] !== undefined && nnp[1] !== "true" && nnp[1] !== "false") {
        throw new UsageError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
      }
      noNewPrivileges = nnp[1] !== "false";
      continue;
    }
    const lsm = /^(apparmor|label)[=:]/.exec(opt);
    if (lsm) {
      const name = lsm[1] === "apparmor" ? "AppArmor" : "SELinux";
      throw new UsageError(
        `invalid --security-opt: ${JSON.stringify(opt)}: ${name} is not enabled on this host ` +
          "(m-docker supports neither AppArmor nor SELinux)",
      );
    }
    const m = /^seccomp[=:](.*)$/s.exec(opt);
    if (!m) {
      throw new UsageError(
        `invalid --security-opt: ${JSON.stringify(opt)} ` +
          "(supported: seccomp=, no-new-privileges)",
      );
    }
    if (m[1] === "unconfined") {
      choice = "unconfined";
      continue;
    }
    let text: string;
    try {
      text = Deno.readTextFileSync(m[1]);
    } catch (e) {
      throw new UsageError(`opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
    }
    choice = { profileJson: text };
    // Only a profile of the user's loads the compiler (Docker's default is compiled once, at
    // the first start, and cached: src/container/seccomp_filter.ts).
    const { validateSeccompChoice } = await import("../seccomp/container.ts");
    try {
      validateSeccompChoice(choice, DEFAULT_CAPABILITIES);
    } catch (e) {
      throw new UsageError(`invalid seccomp profile ${m[1]}: ${(e as Error).message}`);
    }
  }
  return { seccomp: choice, noNewPrivileges };
}

/** What the CLI does around the container: pull policy, signal proxying. */
interface HowToRun {
  pull: PullPolicy;
  sigProxy: boolean;
  /** `-q`: the pull says nothing ("Unable to find image" included, as Docker's). */
  quiet: boolean;
}

/**
 * Resolves the image and creates the container; if that fails, `abandon` stops what was
 * started early (init or the shim, spawned first so that their boot overlaps this work);
 * `quiet` (run/create -q) keeps the pull's lines off stderr.
 */
export async function createOrAbandon(
  ctx: CliContext,
  request: RunRequest,
  pull: PullPolicy,
  abandon: () => void,
  quiet = false,
) {
  const { roots, containers, images } = ctx.engine;
  // What the kernel cannot apply is dropped with Docker's warning, not refused.
  const supported = discardUnsupportedLimits(request.limits);
  request = { ...request, limits: supported.limits };
  try {
    const img = await resolveImage(
      ctx.engine,
      request.image,
      pull,
      quiet ? () => {} : (line) => ctx.process.stderr.write(`${line}\n`),
    );
    const state = createContainer(roots, containers, images, img, request);
    for (const w of [...supported.warnings, ...limitWarnings(request, state.cgroup.layout)]) {
      ctx.process.stderr.write(`WARNING: ${w}\n`);
    }
    return state;
  } catch (e) {
    abandon();
    throw e;
  }
}

/** Docker's warnings for limits that are accepted but may not do what was meant. */
function limitWarnings(request: RunRequest, layout: string): string[] {
  const l = request.limits;
  if (!l.oomKillDisable) return [];
  // v2 has no switch for it; with no limit the OOM killer that acts is the host's.
  if (layout === "v2") {
    return ["Your kernel does not support OomKillDisable. OomKillDisable discarded."];
  }
  if (!l.memoryBytes) {
    return [
      "Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.",
    ];
  }
  return [];
}

/** Runs `fn`; if it fails, removes the container: a failed run leaves nothing behind. */
async function removeOnFailure<T>(
  store: StateStore,
  id: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    // The volumes made for it alone go with it; named ones stay, as Docker's.
    destroyContainer(store, id, { anonymousVolumes: true });
    throw e;
  }
}

async function runAttached(ctx: CliContext, request: RunRequest, how: HowToRun): Promise<number> {
  const store = ctx.engine.containers;
  // Signals from here on go to the container once it runs, not to this process.
  using signals = new SignalProxy(how.sigProxy ? PROXIED_SIGNALS : []);
  // Init boots (a Deno start) while the container is being created.
  const stdio = new ForegroundStdio({
    ...request,
    logged: (request.logConfig?.type ?? "json-file") !== "none",
  });
  let init;
  try {
    init = spawnInit(
      stdio.plan,
      netnsPlanForMode(store, request.network!.mode),
      undefined,
      remappedInit(ctx.engine.roots.root, request.userns),
    );
  } finally {
    stdio.spawned();
  }
  const state = await createOrAbandon(ctx, request, how.pull, () => {
    stdio.close();
    abandonInit(init);
  }, how.quiet);
  return await removeOnFailure(
    store,
    state.id,
    () => runForeground(store, state, init, signals, stdio),
  );
}

async function runDetached(ctx: CliContext, request: RunRequest, how: HowToRun): Promise<number> {
  const store = ctx.engine.containers;
  // The shim boots, and spawns init, while the container is being created.
  const shim = spawnShim(
    store,
    request.tty,
    netnsPlanForMode(store, request.network!.mode),
    remappedInit(ctx.engine.roots.root, request.userns),
  );
  const state = await createOrAbandon(
    ctx,
    request,
    how.pull,
    () => abandonShim(shim),
    how.quiet,
  );
  await removeOnFailure(store, state.id, async () => {
    // Compiled here, kept in the container's directory: the shim, which lives as long as the
    // container, then never loads the profile or its compiler.
    await containerFilter(state);
    return await handOverToShim(store, state, shim);
  });
  println(ctx, state.id);
  return 0;
}

/** The `run` command. */
export const runCommand = buildCommand<RunFlags, [string, ...string[]], CliContext>({
  func: action(run),
  parameters: {
    flags: runFlags,
    aliases: runAliases,
    positional: {
      kind: "array",
      parameter: {
        brief: "IMAGE [COMMAND] [ARG...]",
        parse: String,
        placeholder: "IMAGE",
        proposeCompletions: imageNames,
      },
      minimum: 1,
    },
  },
  docs: { brief: "Create and run a new container from an image" },
});
