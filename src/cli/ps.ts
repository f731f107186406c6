/**
 * `m-docker ps`: Docker's columns, its filters, `-n`/`-l`/`-s`, and `--format` with Go
 * templates over Docker's fields (`ID`, `Image`, `Command`, `CreatedAt`, `RunningFor`,
 * `Ports`, `State`, `Status`, `Size`, `Names`, `Labels`, `Label`, `Mounts`, `Networks`...).
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { reconciledEntries } from "../container/reconcile.ts";
import { networkSpecOf } from "../container/network_spec.ts";
import {
  type ContainerFacts,
  filterContainers,
  imageWithDescendants,
} from "../container/list_filters.ts";
import { directorySize } from "../image/store.ts";
import { type ContainerEntry, isDead } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { parseFilters } from "../util/filters.ts";
import { createdAgo, humanSize, statusText } from "../util/humanize.ts";
import { ellipsis, formatCommand, truncateId } from "../util/table.ts";
import { action, type CliContext } from "./context.ts";
import { goTime } from "../util/go_time.ts";
import { DOCKER_TABLE, tabwrite } from "../util/tabwriter.ts";
import { parseInteger } from "./params.ts";
import { portsColumn } from "./port.ts";
import { healthLabel } from "../config/health.ts";
import { PS_HEADERS } from "./ps_headers.ts";

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  format?: string;
  filter?: string[];
  last?: number;
  latest?: boolean;
  size?: boolean;
}

export { PS_HEADERS };

function statusOf(c: ContainerEntry, now: number): string {
  if (isDead(c)) return "Dead";
  return statusText({
    status: c.status,
    startedAt: c.startedAt ? Date.parse(c.startedAt) : undefined,
    finishedAt: c.finishedAt ? Date.parse(c.finishedAt) : undefined,
    exitCode: c.exitCode,
    health: c.health ? healthLabel(c.health.status) : undefined,
    paused: c.paused,
  }, now);
}

/** The networks a container is on, by name (and ID while it runs). */
function networksOf(c: ContainerState): Array<{ name: string; id: string }> {
  const net = networkSpecOf(c.spec);
  const names = net.mode.kind === "bridge"
    ? [net.mode.network]
    : net.mode.kind === "container"
    ? []
    : [net.mode.kind];
  names.push(...(net.extraNetworks ?? []).map((j) => j.network));
  const attached = c.networking?.attachments ?? [];
  return names.map((name) => ({
    name,
    id: attached.find((a) => a.networkName === name)?.networkId ?? "",
  }));
}

/** What the filters see of a container. */
interface Listed extends ContainerFacts {
  entry: ContainerEntry;
}

function factsOf(c: ContainerEntry): Listed {
  if (isDead(c)) {
    return {
      entry: c,
      id: c.id,
      name: c.name,
      state: "dead",
      exitCode: 0,
      started: false,
      labels: {},
      imageId: "",
      mounts: [],
      networks: [],
      published: [],
      exposed: [],
      health: "none",
    };
  }
  const ports = c.status === "running" ? c.networking?.ports ?? [] : [];
  return {
    entry: c,
    id: c.id,
    name: c.name,
    state: c.paused && c.status === "running" ? "paused" : c.status,
    exitCode: c.exitCode ?? 0,
    started: c.startedAt !== undefined,
    labels: c.spec.labels ?? {},
    imageId: c.spec.imageId,
    mounts: c.spec.mounts.map((m) => ({
      name: m.volume?.name ?? m.source,
      destination: m.destination,
    })),
    networks: networksOf(c),
    published: ports.map((p) => `${p.hostPort}/${p.protocol}`),
    exposed: [
      ...ports.map((p) => `${p.containerPort}/${p.protocol}`),
      ...(c.spec.exposedPorts ?? []),
    ],
    health: c.health?.status ?? "none",
  };
}

function sizeOf(dir: string): number {
  try {
    return directorySize(dir);
  } catch {
    return 0; // no upper layer (yet, or any more)
  }
}

/**
 * docker/cli's ContainerContext for one container: its fields as methods, so that only
 * what a template uses is worked out (Size walks the container's upper layer). ps_format.ts
 * wraps them as a Go struct for `--format`; the default table calls them directly.
 */
export function containerFields(
  ctx: CliContext,
  c: ContainerEntry,
  trunc: boolean,
  withSize: boolean,
  now: number,
) {
  const live = isDead(c) ? undefined : c;
  const labels = live?.spec.labels ?? {};
  return {
    Command: () => live ? formatCommand(live.spec.args, !trunc) : '""',
    CreatedAt: () => goTime(new Date(c.createdAt)),
    HealthStatus: () => "",
    ID: () => trunc ? truncateId(c.id) : c.id,
    Image: () => live ? live.spec.image || "<no image>" : "<no image>",
    Label: (name: unknown) => labels[String(name)] ?? "",
    Labels: () => Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(","),
    LocalVolumes: () => "0",
    Mounts: () =>
      (live?.spec.mounts ?? []).map((m) => trunc ? ellipsis(m.source, 15) : m.source).join(","),
    Names: () => c.name,
    Networks: () => live ? networksOf(live).map((n) => n.name).join(",") : "",
    Platform: () => null,
    Ports: () => live ? portsColumn(live) : "",
    RunningFor: () => createdAgo(now - Date.parse(c.createdAt)),
    Size: () => {
      if (!live || !withSize) return "0B";
      const rw = sizeOf(live.rootfs.upperDir);
      const image = ctx.engine.images.find(live.spec.imageId)?.size ?? 0;
      return `${humanSize(rw)} (virtual ${humanSize(rw + image)})`;
    },
    State: () => isDead(c) ? "dead" : c.paused && c.status === "running" ? "paused" : c.status,
    Status: () => statusOf(c, now),
  };
}

/** The fields' methods, as `containerFields` returns them. */
export type ContainerFields = ReturnType<typeof containerFields>;

async function ps(this: CliContext, flags: PsFlags) {
  const filters = parseFilters(flags.filter ?? []);
  const custom = flags.format !== undefined && flags.format !== "" && flags.format !== "table";
  if (custom && flags.quiet) {
    this.process.stderr.write(
      "WARNING: Ignoring custom format, because both --format and --quiet are set.\n",
    );
  }
  // Templates (and their engine) only for a custom --format; Docker checks it before listing.
  const formats = custom && !flags.quiet ? await import("./ps_format.ts") : undefined;
  const withSize = (flags.size ?? false) || (formats?.checkFormat(flags.format!) ?? false);
  const store = this.engine.containers;
  const now = Date.now();
  // Dead containers (unusable state) are listed with -a, so that they can be seen and removed.
  const entries = (await reconciledEntries(store))
    .reverse() // newest first, as Docker
    .map(factsOf);
  const limit = flags.latest && (flags.last ?? -1) === -1 ? 1 : flags.last ?? -1;
  const resolve = (ref: string) => {
    try {
      const id = store.resolveEntry(ref).id;
      return entries.find((e) => e.id === id);
    } catch {
      return undefined;
    }
  };
  const images = this.engine.images;
  const imagesOf = (ref: string) => {
    const image = images.find(ref);
    return image ? imageWithDescendants(image.id, images.list()) : [];
  };
  const listed = filterContainers(
    entries,
    filters,
    { all: flags.all ?? false, limit },
    resolve,
    imagesOf,
  ).map((f) => f.entry);
  const trunc = !flags.noTrunc;
  if (flags.quiet) {
    this.process.stdout.write(listed.map((c) => `${trunc ? truncateId(c.id) : c.id}\n`).join(""));
    return 0;
  }
  const fields = listed.map((c) => containerFields(this, c, trunc, withSize, now));
  if (formats) {
    this.process.stdout.write(formats.renderPs(flags.format!, fields));
    return 0;
  }
  this.process.stdout.write(defaultTable(fields, withSize));
  return 0;
}

/**
 * docker/cli's defaultContainerTableFormat, `table {{.ID}}\t{{.Image}}\t{{.Command}}\t
 * {{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}` (SIZE last with -s), written out
 * without the template engine: what it would print, for a fraction of the start-up (a unit
 * test compares the two).
 */
export function defaultTable(fields: readonly ContainerFields[], withSize: boolean): string {
  const columns: Array<keyof ContainerFields & keyof typeof PS_HEADERS> = [
    "ID",
    "Image",
    "Command",
    "RunningFor",
    "Status",
    "Ports",
    "Names",
    ...(withSize ? ["Size" as const] : []),
  ];
  const header = columns.map((c) => PS_HEADERS[c]).join("\t");
  const rows = fields.map((f) => columns.map((c) => (f[c] as () => string)()).join("\t") + "\n");
  return tabwrite(`${header}\n${rows.join("")}`, DOCKER_TABLE);
}

/** The `ps` command. */
export const psCommand = buildCommand<PsFlags, [], CliContext>({
  func: action(ps),
  parameters: {
    flags: {
      all: {
        kind: "boolean",
        optional: true,
        brief: "Show all containers (default shows just running)",
      },
      filter: {
        kind: "parsed",
        parse: String,
        optional: true,
        variadic: true,
        brief: "Filter output based on conditions provided",
      },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a custom template ('table', 'json' or a Go template)",
      },
      last: {
        kind: "parsed",
        parse: parseInteger,
        optional: true,
        brief: "Show n last created containers (includes all states)",
      },
      latest: {
        kind: "boolean",
        optional: true,
        brief: "Show the latest created container (includes all states)",
      },
      noTrunc: { kind: "boolean", optional: true, brief: "Don't truncate output" },
      quiet: { kind: "boolean", optional: true, brief: "Only display container IDs" },
      size: { kind: "boolean", optional: true, brief: "Display total file sizes" },
    },
    aliases: { a: "all", f: "filter", n: "last", l: "latest", q: "quiet", s: "size" },
  },
  docs: { brief: "List containers" },
});
