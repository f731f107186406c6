/**
 * `m-docker ps`: Docker's columns, or one JSON object per line with `--format json`.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { reconcile } from "../container/reconcile.ts";
import { type ContainerEntry, isDead } from "../state/store.ts";
import { createdAgo, statusText } from "../util/humanize.ts";
import { formatCommand, formatTable, truncateId } from "../util/table.ts";
import { UsageError } from "../util/errors.ts";
import { action, type CliContext, println } from "./context.ts";
import { portsColumn } from "./port.ts";
import { healthLabel } from "../config/health.ts";

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  format?: string;
}

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

async function ps(this: CliContext, flags: PsFlags) {
  if (flags.format !== undefined && flags.format !== "json" && flags.format !== "table") {
    throw new UsageError(`unsupported format "${flags.format}": use json or table`);
  }
  const store = this.engine.containers;
  const now = Date.now();
  // Dead containers (unusable state) are listed with -a, so that they can be seen and removed.
  const containers = store.entries().map((c) => isDead(c) ? c : reconcile(store, c))
    .filter((c): c is ContainerEntry => c !== null && (flags.all || c.status === "running"))
    .reverse(); // newest first, as Docker
  const id = (c: ContainerEntry) => flags.noTrunc ? c.id : truncateId(c.id);
  const image = (c: ContainerEntry) => isDead(c) ? "" : c.spec.image;
  const command = (c: ContainerEntry) =>
    isDead(c) ? "" : formatCommand(c.spec.args, flags.noTrunc ?? false);
  if (flags.quiet) {
    for (const c of containers) println(this, id(c));
    return 0;
  }
  if (flags.format === "json") {
    for (const c of containers) {
      println(
        this,
        JSON.stringify({
          Command: command(c),
          CreatedAt: c.createdAt,
          ID: id(c),
          Image: image(c),
          Names: c.name,
          Ports: isDead(c) ? "" : portsColumn(c),
          RunningFor: createdAgo(now - Date.parse(c.createdAt)),
          State: !isDead(c) && c.paused && c.status === "running" ? "paused" : c.status,
          Status: statusOf(c, now),
        }),
      );
    }
    return 0;
  }
  const rows = containers.map((c) => [
    id(c),
    image(c),
    command(c),
    createdAgo(now - Date.parse(c.createdAt)),
    statusOf(c, now),
    isDead(c) ? "" : portsColumn(c),
    c.name,
  ]);
  this.process.stdout.write(
    formatTable(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], rows) +
      "\n",
  );
  await Promise.resolve();
  return 0;
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
      quiet: { kind: "boolean", optional: true, brief: "Only display container IDs" },
      noTrunc: { kind: "boolean", optional: true, brief: "Don't truncate output" },
      format: {
        kind: "parsed",
        parse: String,
        optional: true,
        brief: "Output format: table or json",
      },
    },
    aliases: { a: "all", q: "quiet" },
  },
  docs: { brief: "List containers" },
});
