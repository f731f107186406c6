/**
 * The engine as a whole, for `info`, `system df` and `system prune`: how many containers
 * and images there are and in what state, the host facts Docker's `info` shows, what the
 * data root holds and how much of it is reclaimable, and removing what nothing uses.
 *
 * @module
 */

import { VolumeStore } from "../volume/store.ts";
import { listVolumes, pruneVolumes } from "./volumes.ts";
import type { Engine } from "../engine.ts";
import { detectCgroupLayout } from "../cgroups/detect.ts";
import { countCpuList, parseMemTotal } from "../cgroups/stats.ts";
import { directorySize } from "../image/store.ts";
import { removeImage } from "../image/remove.ts";
import { pruneImages } from "../image/remove.ts";
import { BuildCache } from "../build/cache.ts";
import { NetworkStore } from "../network/store.ts";
import { networkDir } from "../state/roots.ts";
import { type ContainerEntry, isDead } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { isRunning, reconcile, reconciledEntries } from "./reconcile.ts";
import { pruneNetworks } from "./networks.ts";
import { type PruneKeep, subjectOf } from "./prune.ts";
import { removeContainer } from "./remove.ts";
import { VERSION } from "../util/version.ts";

/** True when the container counts as paused (the freezer helper records it). */
function isPaused(c: ContainerEntry): boolean {
  return !isDead(c) && (c as ContainerState & { paused?: boolean }).paused === true;
}

/** Counts of containers by state, as Docker's `info`. */
export interface ContainerCounts {
  containers: number;
  running: number;
  paused: number;
  stopped: number;
}

/** The containers, reconciled, with their counts. */
export async function containerCounts(engine: Engine): Promise<ContainerCounts> {
  const store = engine.containers;
  const all = await reconciledEntries(store);
  const paused = all.filter(isPaused).length;
  const running = all.filter((c) => !isDead(c) && isRunning(c)).length - paused;
  return { containers: all.length, running, paused, stopped: all.length - running - paused };
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** `PRETTY_NAME` of /etc/os-release, as Docker's "Operating System". */
export function operatingSystem(osRelease = readText("/etc/os-release")): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m ? m[1].trim().replace(/^"(.*)"$/, "$1") : "Linux";
}

/** Go's GOARCH for Deno's architecture name (Docker prints `OS/Arch: linux/amd64`). */
export function goArch(arch: string = Deno.build.arch): string {
  return arch === "x86_64" ? "amd64" : arch === "aarch64" ? "arm64" : arch;
}

/**
 * Docker's `info` document (`docker info --format '{{json .}}'`), with the fields that apply
 * to a daemonless engine.
 */
export async function systemInfo(engine: Engine): Promise<Record<string, unknown>> {
  const counts = await containerCounts(engine);
  let layout = "v1";
  try {
    layout = detectCgroupLayout("/sys/fs/cgroup", readText("/proc/self/mountinfo"));
  } catch { /* no cgroups mounted: reported as v1 */ }
  const online = countCpuList(readText("/sys/devices/system/cpu/online"));
  const securityOptions = ["name=seccomp,profile=default", "name=cgroupns"];
  if (Deno.env.get("M_DOCKER_USERNS_REMAP")) securityOptions.push("name=userns");
  return {
    ID: "",
    Containers: counts.containers,
    ContainersRunning: counts.running,
    ContainersPaused: counts.paused,
    ContainersStopped: counts.stopped,
    Images: engine.images.list().length,
    Driver: "overlay2",
    DriverStatus: [["Backing Filesystem", backingFilesystem(engine.roots.root)]],
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    // Docker reports the hybrid layout as version 1: its controllers are v1's.
    CgroupVersion: layout === "v2" ? "2" : "1",
    KernelVersion: Deno.osRelease(),
    OperatingSystem: operatingSystem(),
    OSType: "linux",
    Architecture: Deno.build.arch,
    NCPU: online > 0 ? online : navigator.hardwareConcurrency,
    MemTotal: parseMemTotal(readText("/proc/meminfo")),
    DockerRootDir: engine.roots.root,
    Name: Deno.hostname(),
    ServerVersion: VERSION,
    SecurityOptions: securityOptions,
    Runtimes: { "m-docker": { path: "m-docker" } },
    DefaultRuntime: "m-docker",
    LiveRestoreEnabled: false,
  };
}

/** The filesystem type under `path` (Docker's "Backing Filesystem"), from /proc/self/mountinfo. */
export function backingFilesystem(
  path: string,
  mountinfo = readText("/proc/self/mountinfo"),
): string {
  let best = "", type = "unknown";
  for (const line of mountinfo.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    const mountPoint = f[4]?.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (!mountPoint) continue;
    const inside = path === mountPoint ||
      path.startsWith(mountPoint === "/" ? "/" : `${mountPoint}/`);
    if (inside && mountPoint.length >= best.length) {
      best = mountPoint;
      type = f[sep + 1] === "ext4" ? "extfs" : f[sep + 1];
    }
  }
  return type;
}

function sizeOf(dir: string): number {
  try {
    return directorySize(dir);
  } catch {
    return 0;
  }
}

/** One row of `system df`. */
export interface DiskUsageRow {
  Type: "Images" | "Containers" | "Local Volumes" | "Build Cache";
  TotalCount: number;
  Active: number;
  Size: number;
  Reclaimable: number;
}

/**
 * What `system df` reports: images (active when a container uses them; reclaimable is what
 * no container uses), containers' writable layers (reclaimable when not running), volumes
 * (reclaimable when no container mounts them) and build cache (m-docker has none).
 */
export async function diskUsage(engine: Engine): Promise<DiskUsageRow[]> {
  const store = engine.containers;
  const containers: ContainerState[] = [];
  for (const c of store.list()) {
    const now = await reconcile(store, c); // one after another: each may take locks
    if (now) containers.push(now);
  }
  const used = new Set(containers.map((c) => c.spec.imageId));
  const images = engine.images.list();
  const imageSize = images.reduce((a, i) => a + i.size, 0);
  const usedSize = images.filter((i) => used.has(i.id)).reduce((a, i) => a + i.size, 0);
  const sizes = containers.map((c) => ({ c, size: sizeOf(c.rootfs.upperDir) }));
  const active = sizes.filter(({ c }) => isRunning(c));
  const containerSize = sizes.reduce((a, s) => a + s.size, 0);
  return [
    {
      Type: "Images",
      TotalCount: images.length,
      Active: images.filter((i) => used.has(i.id)).length,
      Size: imageSize,
      Reclaimable: imageSize - usedSize,
    },
    {
      Type: "Containers",
      TotalCount: containers.length,
      Active: active.length,
      Size: containerSize,
      Reclaimable: containerSize - active.reduce((a, s) => a + s.size, 0),
    },
    volumeUsage(engine),
    { Type: "Build Cache", TotalCount: 0, Active: 0, Size: 0, Reclaimable: 0 },
  ];
}

/** The `Local Volumes` row: every volume, those mounted by a container active. */
function volumeUsage(engine: Engine): DiskUsageRow {
  const volumes = new VolumeStore(engine.roots.root);
  const listed = listVolumes(engine.containers, volumes).map((v) => ({
    inUse: v.inUse,
    size: volumes.size(v.Name),
  }));
  const size = listed.reduce((a, v) => a + v.size, 0);
  return {
    Type: "Local Volumes",
    TotalCount: listed.length,
    Active: listed.filter((v) => v.inUse).length,
    Size: size,
    Reclaimable: listed.filter((v) => !v.inUse).reduce((a, v) => a + v.size, 0),
  };
}

/** What `system prune` removes. */
export interface PruneOptions {
  /** Every image no container uses, not only untagged ones (`-a`). */
  allImages: boolean;
  /** Unused anonymous volumes too (`--volumes`), as Docker's since 23.0. */
  volumes: boolean;
  /** `--filter`'s `label`, `label!` and `until`, for every kind (see prune.ts). */
  keep?: PruneKeep;
}

/** What `system prune` removed, in Docker's words, and the bytes it freed. */
export interface PruneReport {
  containers: string[];
  networks: string[];
  volumes: string[];
  /** `untagged: REF` and `deleted: sha256:...` lines. */
  images: string[];
  /** The build cache's entries removed (Docker's "Deleted build cache objects"). */
  buildCache: string[];
  reclaimedBytes: number;
}

/** Removes stopped containers (dead ones too): their IDs and the bytes their layers held. */
export async function pruneContainers(
  engine: Engine,
  keep: PruneKeep = () => true,
): Promise<{ ids: string[]; bytes: number }> {
  const store = engine.containers;
  const ids: string[] = [];
  let bytes = 0;
  for (const entry of store.entries()) {
    const c = isDead(entry) ? entry : await reconcile(store, entry);
    if (c === null || (!isDead(c) && (isRunning(c) || isPaused(c)))) continue;
    if (!keep(isDead(c) ? { created: c.createdAt } : subjectOf(c))) continue;
    const size = isDead(c) ? 0 : sizeOf(c.rootfs.upperDir);
    await removeContainer(store, c, false);
    ids.push(c.id);
    bytes += size;
  }
  return { ids, bytes };
}

/**
 * `system prune`: stopped containers, then networks no container uses, then dangling
 * images (every unused one with `allImages`) and the layers they alone held.
 */
export async function systemPrune(engine: Engine, opts: PruneOptions): Promise<PruneReport> {
  const keep = opts.keep ?? (() => true);
  const { ids, bytes } = await pruneContainers(engine, keep);
  const networks = await pruneNetworks(new NetworkStore(networkDir(engine.roots)), keep);
  const { lines: images, bytes: imageBytes } = pruneUnusedImages(engine, {
    all: opts.allImages,
    keep,
  });
  const volumes = opts.volumes
    ? pruneVolumes(engine.containers, new VolumeStore(engine.roots.root), false, keep)
    : [];
  const volumeBytes = volumes.reduce((a, v) => a + v.bytes, 0);
  // The cache's entries go too; the images they named went with the images above.
  const buildCache = new BuildCache(engine.roots.root).prune();
  return {
    containers: ids,
    networks,
    volumes: volumes.map((v) => v.name),
    images,
    buildCache,
    reclaimedBytes: bytes + imageBytes + volumeBytes,
  };
}

/**
 * `image prune` (and system prune's images): the dangling images no container uses, or with
 * `all` every image no container uses, that `keep` (the filters) keeps; then the layers they
 * alone held. Returns Docker's report lines (`untagged: REF`, `deleted: sha256:...`) and
 * the bytes freed.
 */
export function pruneUnusedImages(
  engine: Engine,
  opts: { all: boolean; keep?: PruneOptions["keep"] },
): { lines: string[]; bytes: number } {
  const keep = opts.keep ?? (() => true);
  const before = new Map(engine.images.list().map((i) => [i.id, i.size]));
  const lines: string[] = [];
  if (opts.all) {
    const used = new Set(engine.containers.list().map((c) => c.spec.imageId));
    for (const image of engine.images.list()) {
      if (used.has(image.id)) continue;
      if (!keep({ created: image.created, labels: image.config.Labels ?? {} })) continue;
      for (const line of removeImage(engine.images, engine.containers, image.id, false)) {
        lines.push(dockerPruneLine(line));
      }
    }
  } else {
    lines.push(...pruneImages(engine.images, engine.containers, keep).map(dockerPruneLine));
  }
  const after = new Set(engine.images.list().map((i) => i.id));
  let bytes = 0;
  for (const [id, size] of before) if (!after.has(id)) bytes += size;
  return { lines, bytes };
}

/** `rmi`'s `Deleted: X` is `deleted: X` in a prune report, as Docker's. */
function dockerPruneLine(line: string): string {
  return line.replace(/^Untagged: /, "untagged: ").replace(/^Deleted: /, "deleted: ");
}
