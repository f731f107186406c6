/**
 * `m-docker network create|ls|inspect|rm|prune|connect|disconnect`, with Docker's columns,
 * JSON and exit codes (1 for every error: these are not `run`).
 *
 * @module
 */

import { inspectFormatFlags, listFlag, pruneFlags } from "./params.ts";
import { buildCommand, buildRouteMap } from "@stricli/core";
import { createNetwork, pruneNetworks, removeNetwork } from "../container/networks.ts";
import { networkDocument, readNetworks } from "../container/network_table.ts";
import { connectRunning, disconnectRunning } from "../container/network.ts";
import { networkSpecOf } from "../container/network_spec.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { NetworkStore } from "../network/store.ts";
import { PRUNE_FILTERS, pruneFilter } from "../container/prune.ts";
import { parseFilters } from "../util/filters.ts";
import { networkDir } from "../state/roots.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { goStruct } from "../util/go_template.ts";
import { goTime, renderList } from "./format.ts";
import { printInspect } from "./inspect_print.ts";
import { cliMessage } from "./limit_errors.ts";
import { action, type CliContext, println, reportError } from "./context.ts";

function store(ctx: CliContext): NetworkStore {
  return new NetworkStore(networkDir(ctx.engine.roots));
}

function parseLabel(s: string): [string, string] {
  const i = s.indexOf("=");
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

/** Column names of `network ls`' fields (docker/cli's network formatter). */
const NETWORK_HEADERS: Record<string, string> = {
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  CreatedAt: "CREATED AT",
};

const names = {
  kind: "array",
  parameter: { brief: "Network name or ID", parse: String, placeholder: "NETWORK" },
  minimum: 1,
} as const;

const createCommand = buildCommand<
  { subnet?: string; gateway?: string; internal?: boolean; label?: string[]; driver?: string },
  [string],
  CliContext
>({
  func: action(function (flags, name: string) {
    if (flags.driver && flags.driver !== "bridge") {
      throw new UsageError(`network driver ${flags.driver} is not supported: use bridge`);
    }
    const net = createNetwork(store(this), {
      name,
      subnet: flags.subnet,
      gateway: flags.gateway,
      internal: flags.internal ?? false,
      labels: Object.fromEntries((flags.label ?? []).map(parseLabel)),
    });
    println(this, net.id);
  }),
  parameters: {
    flags: {
      driver: { kind: "parsed", parse: String, optional: true, brief: "Driver (bridge)" },
      subnet: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Subnet in CIDR format that represents a network segment",
      },
      gateway: { kind: "parsed", parse: String, optional: true, brief: "IPv4 Gateway" },
      internal: { kind: "boolean", optional: true, brief: "Restrict external access" },
      label: { ...listFlag, brief: "Set metadata on a network" },
    },
    aliases: { d: "driver" },
    positional: {
      kind: "tuple",
      parameters: [{ brief: "Network name", parse: String, placeholder: "NETWORK" }],
    },
  },
  docs: { brief: "Create a network" },
});

const lsCommand = buildCommand<
  { quiet?: boolean; noTrunc?: boolean; format?: string },
  [],
  CliContext
>({
  func: action(function (flags) {
    const db = readNetworks(store(this));
    const rows = db.networks.map((n) =>
      goStruct("*formatter.networkContext", {
        CreatedAt: () => goTime(new Date(n.created)),
        Driver: () => n.driver,
        ID: () => flags.noTrunc ? n.id : n.id.slice(0, 12),
        IPv6: () => "false",
        Internal: () => String(n.internal),
        Label: (k: unknown) => n.labels[String(k)] ?? "",
        Labels: () => Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).sort().join(","),
        Name: () => n.name,
        Scope: () => "local",
      })
    );
    // No format, or "table": docker/cli's default network table.
    const format = flags.format && flags.format !== "table"
      ? flags.format
      : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
    if (flags.quiet) {
      for (const r of rows) println(this, r.ID());
    } else {
      this.process.stdout.write(renderList(format, rows, NETWORK_HEADERS));
    }
  }),
  parameters: {
    flags: {
      quiet: { kind: "boolean", optional: true, brief: "Only display network IDs" },
      noTrunc: { kind: "boolean", optional: true, brief: "Do not truncate the output" },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Format output using a custom template ('table', 'json' or a Go template)",
      },
    },
    aliases: { q: "quiet" },
  },
  docs: { brief: "List networks" },
});

const inspectCommand = buildCommand<{ format?: string }, string[], CliContext>({
  func: action(function (flags, ...refs: string[]) {
    const db = readNetworks(store(this));
    const docs: Record<string, unknown>[] = [];
    const errors: string[] = [];
    for (const ref of refs) {
      try {
        docs.push(networkDocument(db, NetworkStore.find(db, ref)));
      } catch (e) {
        errors.push(`Error: ${cliMessage(e)}`);
      }
    }
    return printInspect(this, docs, errors, flags.format);
  }),
  parameters: {
    ...inspectFormatFlags,
    positional: names,
  },
  docs: { brief: "Display detailed information on one or more networks" },
});

const rmCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: action(async function (_flags, ...refs: string[]) {
    let failed = false;
    for (const ref of refs) {
      try {
        await removeNetwork(store(this), ref);
        println(this, ref);
      } catch (e) {
        reportError(this, e);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  }),
  parameters: { flags: {}, positional: names },
  docs: { brief: "Remove one or more networks" },
});

const pruneCommand = buildCommand<{ force?: boolean; filter?: string[] }, [], CliContext>({
  func: action(async function (flags) {
    const keep = pruneFilter(parseFilters(flags.filter ?? []), PRUNE_FILTERS.network);
    const removed = await pruneNetworks(store(this), keep);
    if (removed.length > 0) println(this, `Deleted Networks:\n${removed.join("\n")}`);
  }),
  parameters: pruneFlags('Provide filter values (e.g. "until=<timestamp>")'),
  docs: { brief: "Remove all unused networks" },
});

const connectCommand = buildCommand<
  { ip?: string; alias?: string[] },
  [string, string],
  CliContext
>({
  func: action(async function (flags, network: string, ref: string) {
    const containers = this.engine.containers;
    const c = await resolveReconciled(containers, ref);
    const db = readNetworks(store(this));
    const net = NetworkStore.find(db, network);
    const spec = networkSpecOf(c.spec);
    if (spec.mode.kind !== "bridge") {
      throw new ExitCodeError(
        `container sharing network namespace with another container or host cannot be connected to any other network`,
        1,
      );
    }
    const joined = [spec.mode.network, ...(spec.extraNetworks ?? []).map((j) => j.network)];
    if (joined.some((n) => n === net.name || n === net.id)) {
      throw new ExitCodeError(
        `endpoint with name ${c.name} already exists in network ${net.name}`,
        1,
      );
    }
    const join = { network: net.name, aliases: flags.alias ?? [], ip: flags.ip };
    if (c.status === "running") await connectRunning(containers, c, join);
    containers.update(c.id, (s) => {
      const n = networkSpecOf(s.spec);
      s.spec.network = { ...n, extraNetworks: [...(n.extraNetworks ?? []), join] };
    });
  }),
  parameters: {
    flags: {
      ip: { kind: "parsed", parse: String, optional: true, brief: "IPv4 address" },
      alias: { ...listFlag, brief: "Add network-scoped alias for the container" },
    },
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Network", parse: String, placeholder: "NETWORK" },
        { brief: "Container", parse: String, placeholder: "CONTAINER" },
      ],
    },
  },
  docs: { brief: "Connect a container to a network" },
});

const disconnectCommand = buildCommand<{ force?: boolean }, [string, string], CliContext>({
  func: action(async function (_flags, network: string, ref: string) {
    const containers = this.engine.containers;
    const c = await resolveReconciled(containers, ref);
    const net = NetworkStore.find(readNetworks(store(this)), network);
    const spec = networkSpecOf(c.spec);
    if (spec.mode.kind === "bridge" && spec.mode.network === net.name) {
      throw new ExitCodeError(
        `container ${c.name} is on ${net.name} as its first network: m-docker cannot disconnect it from that one`,
        1,
      );
    }
    if (!(spec.extraNetworks ?? []).some((j) => j.network === net.name)) {
      throw new ExitCodeError(`container ${c.id} is not connected to network ${net.name}`, 1);
    }
    if (c.status === "running") disconnectRunning(c, net.id);
    containers.update(c.id, (s) => {
      const n = networkSpecOf(s.spec);
      s.spec.network = {
        ...n,
        extraNetworks: (n.extraNetworks ?? []).filter((j) => j.network !== net.name),
      };
      if (s.networking) {
        s.networking.attachments = s.networking.attachments.filter((a) => a.networkId !== net.id);
      }
    });
  }),
  parameters: {
    flags: { force: { kind: "boolean", optional: true, brief: "Force the disconnection" } },
    aliases: { f: "force" },
    positional: {
      kind: "tuple",
      parameters: [
        { brief: "Network", parse: String, placeholder: "NETWORK" },
        { brief: "Container", parse: String, placeholder: "CONTAINER" },
      ],
    },
  },
  docs: { brief: "Disconnect a container from a network" },
});

/** The `network` command group. */
export const networkRoutes = buildRouteMap({
  routes: {
    create: createCommand,
    ls: lsCommand,
    list: lsCommand,
    inspect: inspectCommand,
    rm: rmCommand,
    remove: rmCommand,
    prune: pruneCommand,
    connect: connectCommand,
    disconnect: disconnectCommand,
  },
  docs: { brief: "Manage networks" },
});
