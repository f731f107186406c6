/**
 * `inspect CONTAINER...`: a JSON array shaped like Docker's, so scripts written for
 * `docker inspect` find State, Config, HostConfig and Mounts where they expect them.
 *
 * @module
 */

import { formatDeviceRule } from "../config/devices.ts";
import { DEFAULT_LOG_CONFIG } from "../config/logging.ts";
import { buildCommand } from "@stricli/core";
import { reconcile } from "../container/reconcile.ts";
import { SIGNALS } from "../../ffi/libc.ts";
import type { ContainerState, NetworkAttachment } from "../state/types.ts";
import type { ContainerSpec } from "../config/container.ts";
import type { NetworkMode, PortMapping } from "../config/network.ts";
import { networkSpecOf, portsDocument } from "../container/network_spec.ts";
import { type DeadContainer, isDead, NoSuchContainerError } from "../state/store.ts";
import { containerRefs, inspectFormatFlags, stringFlag } from "./params.ts";
import { compact, type HealthState } from "../config/health.ts";
import { action, type CliContext } from "./context.ts";
import { printInspect } from "./inspect_print.ts";
import { imageDocument } from "./image_inspect.ts";
import { ExitCodeError } from "../util/errors.ts";
import { networkDir } from "../state/roots.ts";

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
      Status: c.paused && c.status === "running" ? "paused" : c.status,
      Running: c.status === "running",
      Paused: c.paused ?? false,
      Restarting: false,
      OOMKilled: c.oomKilled ?? false,
      Dead: false,
      Pid: c.status === "running" ? c.pid ?? 0 : 0,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? "",
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
      ...(c.health ? { Health: healthDocument(c.health) } : {}),
    },
    Image: s.imageId,
    Name: `/${c.name}`,
    RestartCount: c.restartCount ?? 0,
    Driver: "overlay2",
    Platform: "linux",
    // Docker shows the path for json-file only (`local`'s file is not an API).
    LogPath: (s.logConfig ?? DEFAULT_LOG_CONFIG).type === "json-file" ? c.logPath : "",
    HostConfig: {
      // Docker's null without binds (the CLI's nil slice), as ExtraHosts below.
      Binds: nullIfEmpty(bindsOf(s.mounts)),
      AutoRemove: s.autoRemove,
      Memory: l.memoryBytes ?? 0,
      MemorySwap: l.memorySwapBytes ?? 0,
      MemoryReservation: l.memoryReservationBytes ?? 0,
      OomKillDisable: l.oomKillDisable ?? false,
      NanoCpus: l.nanoCpus ?? 0,
      CpuPeriod: l.cpuPeriodUs ?? 0,
      CpuQuota: l.cpuQuotaUs ?? 0,
      BlkioWeight: l.blkioWeight ?? 0,
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
      ExtraHosts: nullIfEmpty(net.extraHosts.map((h) => `${h.name}:${h.address}`)),
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
      LogConfig: {
        Type: (s.logConfig ?? DEFAULT_LOG_CONFIG).type,
        Config: (s.logConfig ?? DEFAULT_LOG_CONFIG).config,
      },
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
      // Docker's: the anonymous volumes' paths (`-v /path`, the image's VOLUMEs), else null.
      Volumes: s.mounts.some((m) => m.volume?.anonymous)
        ? Object.fromEntries(
          s.mounts.filter((m) => m.volume?.anonymous).map((m) => [m.destination, {}]),
        )
        : null,
      ...(s.healthcheck ? { Healthcheck: compact(s.healthcheck) } : {}),
    },
    Mounts: s.mounts.map(mountDocument),
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

/** A list, or null when it is empty: a nil Go slice, as Docker's JSON writes it. */
function nullIfEmpty<T>(list: T[]): T[] | null {
  return list.length > 0 ? list : null;
}

/**
 * HostConfig.Binds: the `-v` binds and named volumes as Docker keeps them (`SRC:DST[:MODE]`);
 * anonymous volumes, `--mount`s and `--volumes-from` mounts are not binds.
 */
function bindsOf(mounts: ContainerSpec["mounts"]): string[] {
  return mounts.filter((m) => !m.viaMount && !m.volume?.anonymous).map((m) => {
    const mode = m.mode ?? (m.readonly ? "ro" : "");
    return `${m.volume ? m.volume.name : m.source}:${m.destination}${mode ? `:${mode}` : ""}`;
  });
}

/** One entry of inspect's Mounts, as Docker's MountPoint: a bind or a volume. */
function mountDocument(m: ContainerSpec["mounts"][number]): Record<string, unknown> {
  if (m.volume) {
    return {
      Type: "volume",
      Name: m.volume.name,
      Source: m.source,
      Destination: m.destination,
      Driver: "local",
      Mode: m.mode ?? "",
      RW: !m.readonly,
      Propagation: "",
    };
  }
  return {
    Type: "bind",
    Source: m.source,
    Destination: m.destination,
    // Docker's Mode is what `-v` said after its second colon; a --mount has none.
    Mode: m.mode ?? (m.readonly && !m.viaMount ? "ro" : ""),
    RW: !m.readonly,
    Propagation: m.propagation ?? "rprivate",
  };
}

/** Docker's State.Health: Status, FailingStreak, and the last results as Log. */
function healthDocument(h: HealthState): Record<string, unknown> {
  return {
    Status: h.status,
    FailingStreak: h.failingStreak,
    Log: h.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })),
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

/** The object a name stands for, as `docker inspect` looks: container, image, network. */
async function findObject(
  ctx: CliContext,
  ref: string,
  type?: string,
): Promise<Record<string, unknown> | null> {
  const store = ctx.engine.containers;
  if (type === undefined || type === "container") {
    try {
      const c = store.resolveEntry(ref);
      const current = isDead(c) ? c : await reconcile(store, c);
      if (current) return isDead(current) ? inspectDeadDocument(current) : inspectDocument(current);
    } catch (e) {
      if (!(e instanceof NoSuchContainerError)) throw e;
    }
  }
  if (type === undefined || type === "image") {
    const image = ctx.engine.images.find(ref);
    if (image) return imageDocument(ctx, image);
  }
  if (type === undefined || type === "network") {
    // The table's code only for a name that is no container or image.
    const { networkDocument, readNetworks } = await import("../container/network_table.ts");
    const { NetworkStore } = await import("../network/store.ts");
    try {
      const db = readNetworks(new NetworkStore(networkDir(ctx.engine.roots)));
      return networkDocument(db, NetworkStore.find(db, ref));
    } catch {
      // not a network either
    }
  }
  return null;
}

interface InspectFlags {
  format?: string;
  size?: boolean;
  type?: string;
}

const INSPECT_TYPES = ["container", "image", "network"];

/** The `inspect` command: containers, images or networks by name or ID. */
export const inspectCommand = buildCommand<InspectFlags, string[], CliContext>({
  func: action(async function (this: CliContext, flags: InspectFlags, ...refs: string[]) {
    if (flags.type !== undefined && !INSPECT_TYPES.includes(flags.type)) {
      throw new ExitCodeError(`"${flags.type}" is not a valid value for --type`, 1);
    }
    const docs: Record<string, unknown>[] = [];
    const errors: string[] = [];
    for (const ref of refs) {
      const doc = await findObject(this, ref, flags.type);
      if (doc) docs.push(doc);
      else errors.push(`error: no such object: ${ref}`);
    }
    return printInspect(this, docs, errors, flags.format);
  }),
  parameters: {
    flags: {
      ...inspectFormatFlags.flags,
      size: { kind: "boolean", optional: true, brief: "Display total file sizes" },
      type: {
        ...stringFlag,
        brief: "Only inspect objects of the given type (container, image, network)",
      },
    },
    aliases: { f: "format", s: "size" },
    positional: containerRefs,
  },
  docs: { brief: "Display detailed information on one or more containers, images or networks" },
});
