/**
 * Creating a container (seed 001's `Create`): claim an ID and a name, make its directories
 * and generated /etc files, create its cgroup with the limits, and record it as `created`.
 * Either all of that happens, or nothing is left behind.
 *
 * @module
 */

import { resolveDevices } from "./devices.ts";
import { deviceRulesFor } from "../config/devices.ts";
import { availableCpus } from "../cgroups/cpus.ts";
import { newCgroupManager } from "../cgroups/manager.ts";
import type { ImageRecord, ImageStore } from "../image/store.ts";
import { containerDir, etcFiles, networkDir, type Roots } from "../state/roots.ts";
import { hostId, type UsernsRemap } from "../config/userns.ts";
import type { ContainerSpec } from "../config/container.ts";
import { InvalidConfigError } from "../config/errors.ts";
import { NetworkStore, NoSuchNetworkError } from "../network/store.ts";
import { writeNetworkEtcFiles } from "./network_table.ts";
import type { StateStore } from "../state/store.ts";
import { type ContainerState, STATE_VERSION } from "../state/types.ts";
import { newContainerId, randomContainerName } from "../util/names.ts";
import { UsageError } from "../util/errors.ts";
import { type RunRequest, validateRunRequest } from "../config/run_request.ts";
import { buildSpec, HOST_INIT_BINARY } from "./spec.ts";
import { removeContainerFiles } from "./cleanup.ts";
import { createMissingBindSources } from "./bind_sources.ts";
import { secureJoin } from "../rootfs/secure_join.ts";
import { debug } from "../util/debug.ts";
import { lstatOrNull } from "../util/fs.ts";
import { VolumeStore } from "../volume/store.ts";
import { ensureVolumes, planVolumes, removeVolumesQuietly, seedVolumes } from "./volumes.ts";
import { recordContainerEvent } from "../state/events.ts";

/** The name is taken by another container. */
export class NameConflictError extends UsageError {
  constructor(name: string, id: string) {
    super(
      `Conflict. The container name "/${name}" is already in use by container "${id}". ` +
        "You have to remove (or rename) that container to be able to reuse that name.",
    );
  }
}

/** Host resolver config for a container with no network of its own: loopback entries dropped. */
function resolvConf(): string {
  let host = "";
  try {
    host = Deno.readTextFileSync("/etc/resolv.conf");
  } catch {
    // No resolver config on the host: the container gets an empty one.
  }
  return host.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join("\n");
}

function writeEtcFiles(dir: string, hostname: string): void {
  const files = etcFiles(dir);
  Deno.writeTextFileSync(files.hostname, `${hostname}\n`);
  Deno.writeTextFileSync(
    files.hosts,
    `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n` +
      `127.0.1.1\t${hostname}\n`,
  );
  Deno.writeTextFileSync(files.resolvConf, resolvConf());
}

/**
 * Creates empty /etc/hostname, /etc/hosts and /etc/resolv.conf in the container's upper
 * layer when the image has none, so that init has files to mount over without writing
 * through the overlay (a copy-up costs init ~1 ms each; here it runs while init boots).
 * Only when the image's /etc is a plain directory: an image whose /etc is a symlink is left
 * for init, which resolves it safely inside the root.
 */
function prepareEtcMountpoints(rootfs: ContainerState["rootfs"]): void {
  const etcLayer = rootfs.lowerDirs.find((l) => lstatOrNull(`${l}/etc`) !== null);
  if (etcLayer && !lstatOrNull(`${etcLayer}/etc`)!.isDirectory) return;
  for (const name of ["hostname", "hosts", "resolv.conf"]) {
    if (rootfs.lowerDirs.some((l) => lstatOrNull(`${l}/etc/${name}`) !== null)) continue;
    Deno.mkdirSync(`${rootfs.upperDir}/etc`, { recursive: true, mode: 0o755 });
    Deno.writeFileSync(`${rootfs.upperDir}/etc/${name}`, new Uint8Array(), { mode: 0o644 });
  }
}

/**
 * A remapped container's own files belong to its root, as Docker chowns them: the upper and
 * work directories (the overlay's root directory and what create put in it take the upper
 * dir's owners) and the /etc files it may write. The image's layers stay as they are: they
 * are seen through idmapped mounts.
 */
function chownForRemap(state: ContainerState, remap: UsernsRemap): void {
  const uid = hostId(remap.uid, 0), gid = hostId(remap.gid, 0);
  const tree = (path: string) => {
    Deno.chownSync(path, uid, gid);
    if (!Deno.lstatSync(path).isDirectory) return;
    for (const e of Deno.readDirSync(path)) tree(`${path}/${e.name}`);
  };
  tree(state.rootfs.upperDir);
  Deno.chownSync(state.rootfs.workDir, uid, gid);
  for (const f of Object.values(etcFiles(state.containerDir))) Deno.chownSync(f, uid, gid);
}

/** A user network must exist when the container is created, as Docker checks. */
function checkNetworkExists(roots: Roots, spec: ContainerSpec): void {
  const mode = spec.network?.mode;
  if (mode?.kind !== "bridge") return;
  try {
    NetworkStore.find(new NetworkStore(networkDir(roots)).read(), mode.network);
  } catch (e) {
    if (e instanceof NoSuchNetworkError) {
      throw new InvalidConfigError("network.mode", `network ${mode.network} not found`);
    }
    throw e;
  }
}

/** `--mount type=bind` sources must exist (Docker's check; `-v` creates missing ones). */
function checkMountSources(mounts: ContainerSpec["mounts"]): void {
  for (const m of mounts) {
    if (!m.viaMount || m.volume) continue;
    if (lstatOrNull(m.source) === null) {
      throw new InvalidConfigError(
        "mounts",
        `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
      );
    }
  }
}

/** The host's init binary for `--init`, or null when it is not installed. */
function hostInitBinary(): string | null {
  try {
    Deno.statSync(HOST_INIT_BINARY);
    return HOST_INIT_BINARY;
  } catch {
    return null;
  }
}

/**
 * Creates a container from an image. Throws `InvalidConfigError` for a bad request and
 * `NameConflictError` for a taken name, with nothing created; any other failure also
 * removes whatever was already made.
 */
export function createContainer(
  roots: Roots,
  store: StateStore,
  images: ImageStore,
  image: ImageRecord,
  request: RunRequest,
): ContainerState {
  // The host's CPUs are read only when a cpuset asks for some.
  validateRunRequest(request, {
    cpus: request.limits.cpusetCpus === undefined
      ? undefined
      : availableCpus({ parent: request.cgroupParent }),
  });
  for (const layer of image.layers) {
    if (!images.hasLayer(layer)) throw new Error(`image ${image.id}: layer ${layer} is missing`);
  }
  const id = newContainerId();
  const lowerDirs = image.layers.map((l) => images.ensureLayerLink(l)).reverse();
  const spec = buildSpec(request, image, {
    id,
    readImageFile: (path) => readImageFile(lowerDirs, path),
    initBinary: request.init ? hostInitBinary() : null,
    hostHostname: Deno.hostname(),
  });
  if (request.devices?.length) spec.devices = resolveDevices(request.devices);
  const volumes = new VolumeStore(roots.root);
  const plan = planVolumes(store, volumes, request, image);
  spec.mounts.push(...plan.from, ...plan.planned.map((p) => p.mount));
  checkMountSources(spec.mounts);
  createMissingBindSources(spec.mounts);
  const dir = containerDir(roots, id);
  checkNetworkExists(roots, spec);
  // Only computes paths (a bad parent throws here, before anything exists): they go in the
  // first record, so that whatever is made after can be found and removed.
  const cgroup = newCgroupManager({ id, parent: spec.cgroupParent });
  const state: ContainerState = {
    version: STATE_VERSION,
    id,
    name: "",
    spec,
    status: "created",
    createdAt: new Date().toISOString(),
    rootfs: {
      lowerDirs,
      upperDir: `${dir}/upper`,
      workDir: `${dir}/work`,
      mountPoint: `${dir}/merged`,
    },
    containerDir: dir,
    logPath: `${dir}/${id}-json.log`,
    cgroup: { layout: cgroup.layout, paths: cgroup.paths },
    networkDir: networkDir(roots),
  };
  // Claim the name under the store lock so two concurrent runs cannot both take it. The
  // container's own lock is held until it is complete, so that an `rm` racing this create
  // waits and then removes all of it.
  let created: string[] = [];
  const lock = store.withLock(null, () => {
    const all = store.entries();
    if (request.name) {
      const holder = all.find((c) => c.name === request.name);
      if (holder) throw new NameConflictError(request.name, holder.id);
      state.name = request.name;
    } else {
      const taken = new Set(all.map((c) => c.name));
      do state.name = randomContainerName(); while (taken.has(state.name));
    }
    // Under the store lock: `volume rm` cannot take a volume between here and the record.
    created = ensureVolumes(volumes, plan.planned, spec.userns);
    try {
      return store.create(state);
    } catch (e) {
      removeVolumesQuietly(volumes, created);
      throw e;
    }
  });
  try {
    for (const d of [state.rootfs.upperDir, state.rootfs.workDir, state.rootfs.mountPoint]) {
      Deno.mkdirSync(d, { recursive: true, mode: 0o755 });
    }
    writeEtcFiles(dir, spec.hostname);
    writeNetworkEtcFiles(state);
    prepareEtcMountpoints(state.rootfs);
    seedVolumes(volumes, plan.planned, lowerDirs, spec.userns);
    if (spec.userns) chownForRemap(state, spec.userns);
    cgroup.create(spec.limits, deviceRulesFor(spec));
    debug("create", () => `${id} (${state.name}): cgroup ${JSON.stringify(cgroup.paths)}`);
    recordContainerEvent(store.dir, state, "create");
    return state;
  } catch (e) {
    removeContainerFiles(store, state);
    // Only what this create made: a volume that existed before stays, whatever happened.
    removeVolumesQuietly(volumes, created);
    throw e;
  } finally {
    lock.release();
  }
}

/**
 * Reads a file of an image as the container will see it: from the top-most layer that has
 * it, unless a whiteout there hides it. Never follows a symlink out of a layer.
 */
function readImageFile(lowerDirs: string[], path: string): string {
  for (const layer of lowerDirs) {
    const full = secureJoin(layer, path);
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(full);
    } catch {
      continue;
    }
    if (info.isCharDevice) break; // an overlay whiteout: deleted in this layer
    return Deno.readTextFileSync(full);
  }
  throw new Deno.errors.NotFound(path);
}
