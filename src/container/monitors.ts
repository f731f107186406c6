/**
 * What a container's monitor (`run`'s CLI, the shim) runs beside a started container when it
 * asks for it: the embedded DNS server (user networks) and health checks (`--health-cmd`).
 * Their code is imported only then, so that a container with neither does not load it.
 *
 * @module
 */

import { probeCommand } from "../config/health.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";

/** Something running beside the container until the monitor stops it. */
export interface SideService {
  stop(): Promise<void>;
}

/** Starts serving a started container's embedded DNS socket, if it has one. */
export async function serveDnsIfAny(
  started: { dnsSocket?: number },
  state: ContainerState,
): Promise<SideService | undefined> {
  if (started.dnsSocket === undefined) return undefined;
  const { serveEmbeddedDns } = await import("./dns_server.ts");
  return serveEmbeddedDns(started, state);
}

/** Starts health checks of a container that has just started, if it has a healthcheck. */
export async function startHealthIfAny(
  store: StateStore,
  state: ContainerState,
): Promise<SideService | null> {
  if (!probeCommand(state.spec.healthcheck, state.spec.shell) || !state.startedAt) return null;
  const { HealthMonitor } = await import("./health.ts");
  return HealthMonitor.start(store, state);
}
