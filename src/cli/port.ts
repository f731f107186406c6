/**
 * `m-docker port CONTAINER [PRIVATE_PORT[/PROTO]]`, and the PORTS column of `ps`: published
 * ports as Docker prints them.
 *
 * @module
 */

import { buildCommand } from "@stricli/core";
import { resolveReconciled } from "../container/reconcile.ts";
import type { ContainerState } from "../state/types.ts";
import { containerNames } from "./names.ts";
import { action, type CliContext, CliError, println } from "./context.ts";

/**
 * `ps`'s PORTS: `0.0.0.0:8080->80/tcp, 53/udp` (published ports of a running container,
 * then exposed ones nothing publishes), as Docker shows them.
 */
export function portsColumn(c: ContainerState): string {
  const published = c.status === "running" ? c.networking?.ports ?? [] : [];
  const parts = published.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
  for (const key of c.spec.exposedPorts ?? []) {
    if (!published.some((p) => `${p.containerPort}/${p.protocol}` === key)) parts.push(key);
  }
  return parts.join(", ");
}

async function port(this: CliContext, _flags: Record<never, never>, ref: string, which?: string) {
  const c = await resolveReconciled(this.engine.containers, ref);
  const published = c.status === "running" ? c.networking?.ports ?? [] : [];
  if (which === undefined) {
    for (const p of published) {
      println(this, `${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}`);
    }
    return 0;
  }
  const [num, proto = "tcp"] = which.split("/");
  const matches = published.filter((p) => String(p.containerPort) === num && p.protocol === proto);
  if (matches.length === 0) {
    // Docker's CLI (29) finds this itself, and names the port as it was typed.
    throw new CliError(`no public port '${which}' published for ${ref}`);
  }
  for (const p of matches) println(this, `${p.hostIp}:${p.hostPort}`);
  await Promise.resolve();
  return 0;
}

/** The `port` command. */
export const portCommand = buildCommand<Record<never, never>, [string, string?], CliContext>({
  func: action(port),
  parameters: {
    flags: {},
    positional: {
      kind: "tuple",
      parameters: [
        {
          brief: "Container name or ID",
          parse: String,
          placeholder: "CONTAINER",
          proposeCompletions: containerNames,
        },
        {
          brief: "Private port, with /tcp or /udp",
          parse: String,
          placeholder: "PRIVATE_PORT[/PROTO]",
          optional: true,
        },
      ],
    },
  },
  docs: { brief: "List port mappings or a specific mapping for the container" },
});
