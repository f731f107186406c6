/**
 * `inspect CONTAINER...`: a JSON array shaped like Docker's, so scripts written for
 * `docker inspect` find State, Config, HostConfig and Mounts where they expect them.
 *
 * @module
 */

import { formatDeviceRule } from "../config/devices.ts";
import { buildCommand } from "@stricli/core";
import { reconcile } from "../container/reconcile.ts";
import { SIGNALS } from "../../ffi/libc.ts";
import type { ContainerState, NetworkAttachment } from "../state/types.ts";
import type { NetworkMode, PortMapping } from "../config/network.ts";
import { networkSpecOf, portsDocument } from "../container/network.ts";
import { type DeadContainer, isDead, NoSuchContainerError } from "../state/store.ts";
import { containerRefs } from "./params.ts";
import { action, type CliContext, CliError, reportError } from "./context.ts";

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Docker's inspect document for one container. */
export function inspectDocument(c: ContainerState): Record<string, unknown> {
  const s = c.spec;
  const l = s.limits;
  const net = networkSpecOf(s);
  return {
    Id: c.id,
    Created: c.createdAt,
    Path: s.args[0],
    Args: s.args.slice(1),
    State: {
      Status: c.status,
      Running: c.status === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: c.oomKilled ?? false,
      Dead: false,
      Pid: c.status === "running" ? c.pid ?? 0 : 0,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? "",
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
    },
    Image: s.imageId,
    Name: `/${c.name}`,
    LogPath: c.logPath,
    HostConfig: {
      Binds: s.mounts.map((m) => `${m.source}:${m.destination}${m.readonly ? ":ro" : ""}`),
      AutoRemove: s.autoRemove,
      Memory: l.memoryBytes ?? 0,
      MemorySwap: l.memorySwapBytes ?? 0,
      MemoryReservation: l.memoryReservationBytes ?? 0,
      OomKillDisable: l.oomKillDisable ?? false,
      NanoCpus: l.cpuQuotaUs && l.cpuPeriodUs
        ? Math.round((l.cpuQuotaUs / l.cpuPeriodUs) * 1e9)
        : 0,
      CpuShares: l.cpuShares ?? 0,
      CpusetCpus: l.cpusetCpus ?? "",
      PidsLimit: l.pidsLimit ?? null,
      CgroupParent: s.cgroupParent ?? "",
      NetworkMode: networkModeName(net.mode),
      PortBindings: portBindings(net.ports),
      PublishAllPorts: false,
      Dns: net.dns,
      DnsSearch: net.dnsSearch,
      DnsOptions: net.dnsOptions,
      ExtraHosts: net.extraHosts.map((h) => `${h.name}:${h.address}`),
      // Docker's null when not given; the flags as typed.
      CapAdd: s.capAdd ?? null,
      CapDrop: s.capDrop ?? null,
      Privileged: s.privileged ?? false,
      SecurityOpt: s.securityOpt ?? null,
      GroupAdd: s.groupAdd ?? null,
      ReadonlyRootfs: s.readonlyRootfs ?? false,
      Tmpfs: s.tmpfs
        ? Object.fromEntries(s.tmpfs.map((t) => [t.destination, t.options.join(",")]))
        : null,
      ShmSize: s.shmSizeBytes ?? 64 * 1024 * 1024,
      Ulimits: s.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) ?? null,
      OomScoreAdj: s.oomScoreAdj ?? 0,
      Sysctls: s.sysctls ?? null,
      Devices: s.devices?.map((d) => ({
        PathOnHost: d.hostPath,
        PathInContainer: d.path,
        CgroupPermissions: d.access,
      })) ?? [],
      DeviceCgroupRules: s.deviceCgroupRules?.map(formatDeviceRule) ?? null,
      // Docker's "" unless --userns was given; m-docker's remapping shows as "remap".
      UsernsMode: s.usernsMode ?? "",
    },
    Config: {
      Hostname: s.hostname,
      Tty: s.tty,
      OpenStdin: s.interactive,
      Env: s.env,
      Cmd: s.args,
      Image: s.image,
      WorkingDir: s.cwd,
      User: s.uid === 0 && s.gid === 0 ? "" : `${s.uid}:${s.gid}`,
      StopSignal: Object.entries(SIGNALS).find(([, n]) => n === s.stopSignal)?.[0] ??
        String(s.stopSignal),
      StopTimeout: s.stopTimeout,
      Labels: s.labels ?? {},
      ExposedPorts: Object.fromEntries((s.exposedPorts ?? []).map((p) => [p, {}])),
    },
    Mounts: s.mounts.map((m) => ({
      Type: "bind",
      Source: m.source,
      Destination: m.destination,
      Mode: m.readonly ? "ro" : "",
      RW: !m.readonly,
      Propagation: "rprivate",
    })),
    GraphDriver: {
      Name: "overlay",
      Data: {
        LowerDir: c.rootfs.lowerDirs.join(":"),
        UpperDir: c.rootfs.upperDir,
        WorkDir: c.rootfs.workDir,
        MergedDir: c.rootfs.mountPoint,
      },
    },
    NetworkSettings: networkSettings(c),
    Cgroup: { Layout: c.cgroup.layout, Paths: c.cgroup.paths },
  };
}

/** `--network` as Docker writes it in HostConfig.NetworkMode. */
function networkModeName(mode: NetworkMode): string {
  switch (mode.kind) {
    case "bridge":
      return mode.network;
    case "container":
      return `container:${mode.container}`;
    default:
      return mode.kind;
  }
}

/** HostConfig.PortBindings: what was asked, `"80/tcp": [{HostIp: "", HostPort: "8080"}]`. */
function portBindings(ports: PortMapping[]): Record<string, Array<Record<string, string>>> {
  const out: Record<string, Array<Record<string, string>>> = {};
  for (const p of ports) {
    (out[`${p.containerPort}/${p.protocol}`] ??= []).push({
      HostIp: p.hostIp ?? "",
      HostPort: p.hostPort === 0 ? "" : String(p.hostPort),
    });
  }
  return out;
}

/**
 * NetworkSettings as Docker shows them: the address on the default `bridge` network at the
 * top level (empty elsewhere), every network under Networks, and the published Ports.
 */
function networkSettings(c: ContainerState): Record<string, unknown> {
  const net = networkSpecOf(c.spec);
  const attachments = c.networking?.attachments ?? [];
  const onBridge = attachments.find((a) => a.networkName === "bridge");
  const networks: Record<string, unknown> = {};
  const endpoint = (a?: NetworkAttachment) => ({
    IPAMConfig: net.ip ? { IPv4Address: net.ip } : null,
    Links: null,
    Aliases: a?.aliases.length ? a.aliases : null,
    NetworkID: a?.networkId ?? "",
    EndpointID: "",
    Gateway: a?.gateway ?? "",
    IPAddress: a?.ip ?? "",
    IPPrefixLen: a?.prefixLen ?? 0,
    MacAddress: a?.mac ?? "",
  });
  if (net.mode.kind === "bridge") {
    const a = attachments.find((x) => x.networkName === (net.mode as { network: string }).network);
    networks[net.mode.network] = endpoint(a);
  } else if (net.mode.kind !== "container") {
    networks[net.mode.kind] = endpoint();
  }
  return {
    Bridge: "",
    SandboxID: "",
    HairpinMode: false,
    Ports: c.status === "running" ? portsDocument(c.networking, c.spec.exposedPorts) : {},
    IPAddress: onBridge?.ip ?? "",
    IPPrefixLen: onBridge?.prefixLen ?? 0,
    Gateway: onBridge?.gateway ?? "",
    MacAddress: onBridge?.mac ?? "",
    Networks: networks,
  };
}

/**
 * Docker's inspect document for a dead container: what is known without its state (ID,
 * name, creation time, what it owns) and, in State.Error, why it is dead.
 */
export function inspectDeadDocument(c: DeadContainer): Record<string, unknown> {
  return {
    Id: c.id,
    Created: c.createdAt,
    State: {
      Status: "dead",
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: true,
      Pid: 0,
      ExitCode: 0,
      Error: c.error,
      StartedAt: ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    Name: c.name === "" ? "" : `/${c.name}`,
    LogPath: c.resources?.logPath ?? "",
    GraphDriver: c.resources
      ? { Name: "overlay", Data: { MergedDir: c.resources.mountPoint } }
      : undefined,
    Cgroup: c.resources
      ? { Layout: c.resources.cgroup.layout, Paths: c.resources.cgroup.paths }
      : undefined,
  };
}

/** The `inspect` command. */
export const inspectCommand = buildCommand<Record<never, never>, string[], CliContext>({
  func: action(async function (this: CliContext, _flags: Record<never, never>, ...refs: string[]) {
    const store = this.engine.containers;
    const docs: Record<string, unknown>[] = [];
    let status = 0;
    for (const ref of refs) {
      try {
        const c = store.resolveEntry(ref);
        const current = isDead(c) ? c : reconcile(store, c);
        if (!current) throw new NoSuchContainerError(ref); // an --rm container, removed now
        docs.push(isDead(current) ? inspectDeadDocument(current) : inspectDocument(current));
      } catch (e) {
        // Docker's `inspect` looks for any kind of object, and says so (docker/cli 29).
        const unknown = e instanceof NoSuchContainerError;
        status = reportError(this, unknown ? new CliError(`error: no such object: ${ref}`) : e);
      }
    }
    this.process.stdout.write(JSON.stringify(docs, null, 4) + "\n");
    await Promise.resolve();
    return status;
  }),
  parameters: {
    flags: {},
    positional: containerRefs,
  },
  docs: { brief: "Display detailed information on one or more containers" },
});
