/**
 * The bodies of `info`, `version`, `system df` and `system prune` (see system.ts), printed
 * as Docker 20.10's CLI prints them.
 *
 * @module
 */

import { confirm } from "./prompt.ts";
import {
  diskUsage,
  type DiskUsageRow,
  goArch,
  systemInfo,
  systemPrune,
} from "../container/system.ts";
import { bytesSize, humanSize } from "../util/humanize.ts";
import { VERSION } from "../util/version.ts";
import { action, type CliContext, CliError, println } from "./context.ts";
import { PRUNE_FILTERS, pruneFilter } from "../container/prune.ts";
import { parseFilters } from "../util/filters.ts";
import { renderFormat, renderTemplate } from "./format_lite.ts";

/** `--format` alone. */
export interface FormatFlags {
  format?: string;
}

/** The flags of `system prune`. */
export interface PruneFlags {
  all?: boolean;
  force?: boolean;
  volumes?: boolean;
  filter?: string[];
}

/** Prints `obj` with `--format`: `json` or `{{json .}}`, or a template. */
function printFormatted(ctx: CliContext, format: string, obj: unknown): void {
  println(ctx, format === "json" ? JSON.stringify(obj) : renderTemplate(format, obj));
}

/** Docker's `Security Options` lines: `name=seccomp,profile=default` as a name and its keys. */
function securityLines(options: string[]): string[] {
  const out: string[] = [];
  for (const option of options) {
    const kv = Object.fromEntries(option.split(",").map((p) => p.split("=", 2)));
    out.push(`  ${kv.name}`);
    for (const [k, v] of Object.entries(kv)) {
      if (k !== "name") out.push(`   ${k[0].toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  return out;
}

/** `info`: Docker's sections and field names, with the fields that apply. */
export const info = action(async function (this: CliContext, flags: FormatFlags) {
  const i = await systemInfo(this.engine);
  if (flags.format !== undefined) {
    printFormatted(this, flags.format, {
      ...i,
      ClientInfo: { Debug: this.debug, Context: "default" },
    });
    return 0;
  }
  const lines = [
    "Client:",
    " Context:    default",
    ` Debug Mode: ${this.debug}`,
    "",
    "Server:",
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ...(i.DriverStatus as string[][]).map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Runtimes: ${Object.keys(i.Runtimes as object).join(" ")}`,
    ` Default Runtime: ${i.DefaultRuntime}`,
    " Security Options:",
    ...securityLines(i.SecurityOptions as string[]),
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${bytesSize(i.MemTotal as number)}`,
    ` Name: ${i.Name}`,
    ` Docker Root Dir: ${i.DockerRootDir}`,
    ` Debug Mode: ${this.debug}`,
    ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
  ];
  for (const line of lines) println(this, line);
  return 0;
});

/** `version`: Client and Server sections, labels padded as Docker's tabwriter does. */
export const version = action(function (this: CliContext, flags: FormatFlags) {
  const os = "linux", arch = goArch();
  const details = {
    DenoVersion: Deno.version.deno,
    Os: os,
    Arch: arch,
    KernelVersion: Deno.osRelease(),
    Experimental: "false",
  };
  const doc = {
    Client: {
      Platform: { Name: "m-docker" },
      Version: VERSION,
      DenoVersion: Deno.version.deno,
      Os: os,
      Arch: arch,
      Context: "default",
      Experimental: false,
    },
    // No daemon: the engine is this same executable.
    Server: {
      Platform: { Name: "m-docker" },
      Components: [{ Name: "Engine", Version: VERSION, Details: details }],
      Version: VERSION,
      DenoVersion: Deno.version.deno,
      Os: os,
      Arch: arch,
      KernelVersion: Deno.osRelease(),
    },
  };
  if (flags.format !== undefined) {
    printFormatted(this, flags.format, doc);
    return 0;
  }
  const row = (indent: string, label: string, value: string) =>
    `${`${indent}${label}:`.padEnd(20)}${value}`;
  const lines = [
    "Client:",
    row(" ", "Version", VERSION),
    row(" ", "Deno version", Deno.version.deno),
    row(" ", "OS/Arch", `${os}/${arch}`),
    row(" ", "Context", "default"),
    row(" ", "Experimental", "false"),
    "",
    "Server:",
    " Engine:",
    row("  ", "Version", VERSION),
    row("  ", "Deno version", Deno.version.deno),
    row("  ", "OS/Arch", `${os}/${arch}`),
    row("  ", "Kernel Version", Deno.osRelease()),
    row("  ", "Experimental", "false"),
  ];
  for (const line of lines) println(this, line);
  return 0;
});

/** docker/cli's RECLAIMABLE: the size, and its whole percentage of the total when any. */
function reclaimable(r: DiskUsageRow): string {
  const size = humanSize(r.Reclaimable, 4);
  return r.Size > 0 ? `${size} (${Math.floor((r.Reclaimable * 100) / r.Size)}%)` : size;
}

const DF_FORMAT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const DF_HEADERS = {
  Type: "TYPE",
  TotalCount: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
};

/** `system df`. */
export const df = action(async function (this: CliContext, flags: FormatFlags) {
  const rows = (await diskUsage(this.engine)).map((r) => ({
    Active: String(r.Active),
    Reclaimable: reclaimable(r),
    Size: humanSize(r.Size, 4),
    TotalCount: String(r.TotalCount),
    Type: r.Type,
  }));
  const format = flags.format === undefined || flags.format === "table" ? DF_FORMAT : flags.format;
  for (const line of renderFormat(format, rows, DF_HEADERS)) println(this, line);
  return 0;
});

/** Docker 20.10's confirmation for `system prune`. */
function pruneWarning(flags: PruneFlags): string {
  const items = [
    "all stopped containers",
    "all networks not used by at least one container",
    ...(flags.volumes ? ["all volumes not used by at least one container"] : []),
    flags.all
      ? "all images without at least one container associated to them"
      : "all dangling images",
    flags.all ? "all build cache" : "all dangling build cache",
  ];
  return `WARNING! This will remove:\n${items.map((i) => `  - ${i}`).join("\n")}\n\n` +
    "Are you sure you want to continue?";
}

/** `system prune [-a] [-f] [--volumes]`. */
export const prune = action(async function (this: CliContext, flags: PruneFlags) {
  const filters = parseFilters(flags.filter ?? []);
  // docker/cli's own check, before it asks (volume prune has no `until`).
  if (flags.volumes && filters.has("until")) {
    throw new CliError(`ERROR: The "until" filter is not supported with "--volumes"`);
  }
  if (!flags.force && !(await confirm(this, pruneWarning(flags)))) return 0;
  // The daemon's checks: the keys every prune takes (the containers' list, as Docker's
  // first call), then each kind's.
  const keep = pruneFilter(filters, PRUNE_FILTERS.container);
  const report = await systemPrune(this.engine, {
    allImages: flags.all ?? false,
    volumes: flags.volumes ?? false,
    keep,
  });
  const section = (title: string, lines: string[]) => {
    if (lines.length > 0) println(this, `${title}:\n${lines.join("\n")}\n`);
  };
  section("Deleted Containers", report.containers);
  section("Deleted Networks", report.networks);
  section("Deleted Volumes", report.volumes);
  section("Deleted Images", report.images);
  section("Deleted build cache objects", report.buildCache.map((k) => k.slice(0, 25)));
  println(this, `Total reclaimed space: ${humanSize(report.reclaimedBytes, 4)}`);
  return 0;
});
