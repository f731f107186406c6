/**
 * `m-docker network create|ls|inspect|rm|prune|connect|disconnect`, with Docker's columns,
 * JSON and exit codes (1 for every error: these are not `run`).
 *
 * @module
 */

import { buildCommand, buildRouteMap } from "@stricli/core";
import {
  createNetwork,
  networkDocument,
  pruneNetworks,
  readNetworks,
  removeNetwork,
} from "../container/networks.ts";
import { connectRunning, disconnectRunning, networkSpecOf } from "../container/network.ts";
import { resolveReconciled } from "../container/reconcile.ts";
import { NetworkStore } from "../network/store.ts";
import { networkDir } from "../state/roots.ts";
import { ExitCodeError, UsageError } from "../util/errors.ts";
import { formatTable } from "../util/table.ts";
import { action, type CliContext, println, reportError } from "./context.ts";

/** Like `action`, but every failure exits 1, as Docker's network commands do. */
function networkAction<F, A extends unknown[]>(
  body: (this: CliContext, flags: F, ...args: A) => Promise<number | void> | number | void,
) {
  return action(body, { errorExitCode: 1 });
}

function store(ctx: CliContext): NetworkStore {
  return new NetworkStore(networkDir(ctx.engine.roots));
}

function parseLabel(s: string): [string, string] {
  const i = s.indexOf("=");
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

/** A small `--format`: `{{.Field}}` and `{{json .}}`, `table` for a header; `json` alone. */
function formatRow(template: string, row: Record<string, string>): string {
  if (template === "json") return JSON.stringify(row);
  return template.replace(/^table\s+/, "").replace(/\\t/g, "\t").replace(
    /\{\{\s*(json\s+\.|\.(\w+))\s*\}\}/g,
    (_, all, field) => all.startsWith("json") ? JSON.stringify(row) : row[field] ?? "",
  );
}

const list = { kind: "parsed", parse: String, optional: true, variadic: true } as const;
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
  func: networkAction(function (flags, name: string) {
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
      label: { ...list, brief: "Set metadata on a network" },
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
  func: networkAction(function (flags) {
    const db = readNetworks(store(this));
    const rows = db.networks.map((n) => ({
      ID: flags.noTrunc ? n.id : n.id.slice(0, 12),
      Name: n.name,
      Driver: n.driver,
      Scope: "local",
      IPv6: "false",
      Internal: String(n.internal),
      CreatedAt: n.created,
      Labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(","),
    }));
    if (flags.quiet) {
      for (const r of rows) println(this, r.ID);
    } else if (flags.format) {
      for (const r of rows) println(this, formatRow(flags.format, r));
    } else {
      println(
        this,
        formatTable(
          ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
          rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope]),
        ),
      );
    }
  }),
  parameters: {
    flags: {
      quiet: { kind: "boolean", optional: true, brief: "Only display network IDs" },
      noTrunc: { kind: "boolean", optional: true, brief: "Do not truncate the output" },
      format: { kind: "parsed", parse: String, optional: true, brief: "Format the output" },
    },
    aliases: { q: "quiet" },
  },
  docs: { brief: "List networks" },
});

const inspectCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: networkAction(function (_flags, ...refs: string[]) {
    const db = readNetworks(store(this));
    const docs: unknown[] = [];
    let failed = false;
    for (const ref of refs) {
      try {
        docs.push(networkDocument(db, NetworkStore.find(db, ref)));
      } catch (e) {
        reportError(this, e);
        failed = true;
      }
    }
    println(this, JSON.stringify(docs, null, 4));
    return failed ? 1 : 0;
  }),
  parameters: { flags: {}, positional: names },
  docs: { brief: "Display detailed information on one or more networks" },
});

const rmCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: networkAction(async function (_flags, ...refs: string[]) {
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

const pruneCommand = buildCommand<{ force?: boolean }, [], CliContext>({
  func: networkAction(async function () {
    const removed = await pruneNetworks(store(this));
    if (removed.length > 0) println(this, `Deleted Networks:\n${removed.join("\n")}`);
  }),
  parameters: {
    flags: { force: { kind: "boolean", optional: true, brief: "Do not prompt for confirmation" } },
    aliases: { f: "force" },
  },
  docs: { brief: "Remove all unused networks" },
});

const connectCommand = buildCommand<
  { ip?: string; alias?: string[] },
  [string, string],
  CliContext
>({
  func: networkAction(async function (flags, network: string, ref: string) {
    const containers = this.engine.containers;
    const c = resolveReconciled(containers, ref);
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
      alias: { ...list, brief: "Add network-scoped alias for the container" },
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
  func: networkAction(function (_flags, network: string, ref: string) {
    const containers = this.engine.containers;
    const c = resolveReconciled(containers, ref);
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
