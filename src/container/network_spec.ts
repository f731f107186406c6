/**
 * What a container's recorded spec says about its network, as plain data: its mode, where
 * its namespace comes from, whether it resolves through the embedded DNS server, its ports
 * as inspect shows them. `ps`, `inspect`, `run --network none` and the like need only this,
 * not the code that wires networks (network.ts).
 *
 * @module
 */

import type { ContainerSpec } from "../config/container.ts";
import { InvalidConfigError } from "../config/errors.ts";
import type { NetnsPlan } from "../config/init.ts";
import { defaultNetworkSpec, type NetworkMode, type NetworkSpec } from "../config/network.ts";
import { isProcessAlive } from "../state/proc.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerNetworking } from "../state/types.ts";

/** The network spec of a container; containers from before networking had only `lo`. */
export function networkSpecOf(spec: ContainerSpec): NetworkSpec {
  return spec.network ?? { ...defaultNetworkSpec(), mode: { kind: "none" } };
}

/**
 * Where the container's network namespace comes from, for `spawnInit`. `container:` needs
 * the other container running: its namespace is joined through its PID 1.
 */
export function netnsPlanFor(store: StateStore, spec: ContainerSpec): NetnsPlan {
  return netnsPlanForMode(store, networkSpecOf(spec).mode);
}

/** `netnsPlanFor` for a mode given before the container exists (`run`). */
export function netnsPlanForMode(store: StateStore, mode: NetworkMode): NetnsPlan {
  if (mode.kind === "host") return { kind: "host" };
  if (mode.kind !== "container") return { kind: "new" };
  const other = store.resolve(mode.container);
  if (other.status !== "running" || !isProcessAlive(other.pid, other.pidStartTime)) {
    throw new InvalidConfigError(
      "network.mode",
      `cannot join network namespace of a non running container: ${mode.container}`,
    );
  }
  return { kind: "join", path: `/proc/${other.pid}/ns/net` };
}

/** True when the container joins networks whose addresses and veths m-docker wires. */
export function wiresNetwork(spec: NetworkSpec): boolean {
  return spec.mode.kind === "bridge";
}

/** Containers on a user network resolve through the embedded DNS server, as Docker's. */
export function usesEmbeddedDns(spec: NetworkSpec): boolean {
  return spec.mode.kind === "bridge" && spec.mode.network !== "bridge";
}

/** `Ports` as Docker's inspect shows them: `"80/tcp": [{HostIp, HostPort}]`. */
export function portsDocument(
  networking: ContainerNetworking | undefined,
  exposed: string[] = [],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of exposed) out[key] = null;
  for (const p of networking?.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}
