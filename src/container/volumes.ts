/**
 * Volumes and the containers that use them: which volumes a new container mounts (its
 * `-v`/`--mount` volumes, `--volumes-from`, the image's VOLUMEs), creating them on first use
 * and seeding empty ones from the image (Docker's copy-up); whether a volume is in use; and
 * removing a container's anonymous volumes with it (`rm -v`, `--rm`).
 *
 * A volume is in use while any container's spec mounts it, whatever that container's state.
 * Every question and change about that is asked under the container store's lock, which
 * `create` also holds while it records a new container: so a volume cannot be removed
 * between a container choosing it and the container being recorded.
 *
 * @module
 */

import { type BindMount, INIT_PATH, type VolumeMountRequest } from "../config/container.ts";
import type { RunRequest } from "../config/run_request.ts";
import { InvalidConfigError } from "../config/errors.ts";
import { hostId, type UsernsRemap } from "../config/userns.ts";
import type { ImageRecord } from "../image/store.ts";
import { isDead, type StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { debug } from "../util/debug.ts";
import { ExitCodeError } from "../util/errors.ts";
import { copyImageContent } from "../volume/copy_up.ts";
import {
  ANONYMOUS_LABEL,
  NoSuchVolumeError,
  randomVolumeName,
  type Volume,
  VolumeStore,
} from "../volume/store.ts";

/** A volume a new container will mount, and how to create it if it does not exist. */
export interface PlannedVolume {
  /** The mount as it goes in the spec (`source` the volume's data directory). */
  mount: BindMount;
  labels: Record<string, string> | null;
  options: Record<string, string> | null;
  /** Seed it from the image when it is empty. */
  copy: boolean;
}

/** The volume is mounted by containers: Docker's `remove NAME: volume is in use - [IDs]`. */
export class VolumeInUseError extends ExitCodeError {
  override name = "VolumeInUseError";
  constructor(volume: string, ids: string[]) {
    super(`remove ${volume}: volume is in use - [${ids.join(", ")}]`, 1);
  }
}

/** Docker's check: two mounts at one destination. */
function duplicate(destination: string): InvalidConfigError {
  return new InvalidConfigError("mounts", `Duplicate mount point: ${destination}`);
}

/**
 * The mounts a container gets besides the request's binds: other containers' mounts
 * (`--volumes-from`), its volumes, and anonymous volumes for the image's VOLUMEs that
 * nothing else covers. Checks that no two of the user's mounts share a destination.
 */
export function planVolumes(
  store: StateStore,
  volumes: VolumeStore,
  request: RunRequest,
  image: ImageRecord,
): { from: BindMount[]; planned: PlannedVolume[] } {
  const taken = new Set<string>();
  for (const m of [...request.mounts, ...(request.volumes ?? [])]) {
    if (taken.has(m.destination)) throw duplicate(m.destination);
    taken.add(m.destination);
  }
  const planned: PlannedVolume[] = (request.volumes ?? []).map((v) => planned1(volumes, v));
  const from: BindMount[] = [];
  for (const vf of request.volumesFrom ?? []) {
    const source = store.resolve(vf.container);
    for (const m of source.spec.mounts) {
      if (m.destination === INIT_PATH || taken.has(m.destination)) continue;
      taken.add(m.destination);
      const copy: BindMount = { ...m, readonly: vf.mode ? vf.mode === "ro" : m.readonly };
      delete copy.viaMount;
      if (vf.mode) copy.mode = vf.mode;
      from.push(copy);
    }
  }
  for (const t of request.tmpfs ?? []) taken.add(t.destination);
  for (const path of Object.keys(image.config.Volumes ?? {})) {
    const destination = `/${path.split("/").filter((p) => p !== "").join("/")}`;
    if (destination === "/" || taken.has(destination)) continue;
    taken.add(destination);
    planned.push(planned1(volumes, { destination, readonly: false }, true));
  }
  return { from, planned };
}

function planned1(volumes: VolumeStore, v: VolumeMountRequest, fromImage = false): PlannedVolume {
  const anonymous = v.name === undefined;
  const name = v.name ?? randomVolumeName();
  const mount: BindMount = {
    source: volumes.mountpoint(name),
    destination: v.destination,
    readonly: v.readonly,
    volume: anonymous ? { name, anonymous: true } : { name },
  };
  if (v.mode !== undefined) mount.mode = v.mode;
  if (v.viaMount) mount.viaMount = true;
  if (fromImage) mount.mode = "";
  return {
    mount,
    labels: anonymous ? { [ANONYMOUS_LABEL]: "", ...v.labels } : v.labels ?? null,
    options: v.options ?? null,
    copy: !v.noCopy,
  };
}

/**
 * Creates the planned volumes that do not exist yet; returns the names it created. Call
 * holding the container store's lock, and record the container before releasing it.
 */
export function ensureVolumes(
  volumes: VolumeStore,
  planned: readonly PlannedVolume[],
  remap?: UsernsRemap,
): string[] {
  const created: string[] = [];
  try {
    for (const p of planned) {
      const name = p.mount.volume!.name;
      const made = volumes.ensure(name, { labels: p.labels, options: p.options });
      const opts = Object.keys(made.volume.Options ?? {}).filter((k) => made.volume.Options![k]);
      if (opts.length > 0) {
        if (made.created) created.push(name);
        // Docker's local driver would mount a device or filesystem here; m-docker does not.
        throw new InvalidConfigError(
          "volumes",
          `volume ${name} has driver options (${opts.join(", ")}): m-docker's local driver ` +
            "does not mount devices or filesystems; use a volume without --opt",
        );
      }
      if (!made.created) continue;
      created.push(name);
      // A remapped container's root owns the volumes it makes, as Docker's do.
      if (remap) Deno.chownSync(made.volume.Mountpoint, hostId(remap.uid, 0), hostId(remap.gid, 0));
    }
  } catch (e) {
    removeVolumesQuietly(volumes, created);
    throw e;
  }
  return created;
}

/** Removes volumes this process created, after a failure: what is already gone is fine. */
export function removeVolumesQuietly(volumes: VolumeStore, names: readonly string[]): void {
  for (const name of names) {
    try {
      volumes.remove(name);
    } catch (e) {
      debug("volumes", `removing ${name} after a failure: ${(e as Error).message}`);
    }
  }
}

/**
 * Docker's copy-up: each planned volume that is empty now gets the image's content at its
 * destination. `lowerDirs` are the image's layers, top first.
 */
export function seedVolumes(
  volumes: VolumeStore,
  planned: readonly PlannedVolume[],
  lowerDirs: readonly string[],
  remap?: UsernsRemap,
): void {
  for (const p of planned) {
    const name = p.mount.volume!.name;
    if (!p.copy || !volumes.isEmpty(name)) continue;
    const shift = remap ? { uid: hostId(remap.uid, 0), gid: hostId(remap.gid, 0) } : undefined;
    const copied = copyImageContent(lowerDirs, p.mount.destination, p.mount.source, shift);
    debug(
      "volumes",
      `${name}: ${copied ? "seeded from" : "nothing in"} the image at ${p.mount.destination}`,
    );
  }
}

/** The containers (IDs) whose spec mounts volume `volume` of `volumes`. */
export function volumeUsers(store: StateStore, volumes: VolumeStore, volume: string): string[] {
  const mountpoint = volumes.mountpoint(volume);
  return store.entries().filter((c) =>
    !isDead(c) && c.spec.mounts.some((m) => m.volume?.name === volume && m.source === mountpoint)
  ).map((c) => c.id);
}

/**
 * Removes a volume unless a container uses it (`VolumeInUseError`, exit 1); `NoSuchVolumeError`
 * when there is none.
 */
export function removeVolume(store: StateStore, volumes: VolumeStore, name: string): void {
  store.withLock(null, () => {
    volumes.get(name);
    const users = volumeUsers(store, volumes, name);
    if (users.length > 0) throw new VolumeInUseError(name, users);
    volumes.remove(name);
  });
}

/** `volume prune`: removes the unused volumes (anonymous ones only unless `all`). */
export function pruneVolumes(
  store: StateStore,
  volumes: VolumeStore,
  all: boolean,
  keep: (volume: { labels?: Record<string, string> | null }) => boolean = () => true,
): Array<{ name: string; bytes: number }> {
  return store.withLock(null, () => {
    const used = usedVolumeNames(store, volumes);
    const removed: Array<{ name: string; bytes: number }> = [];
    for (const v of volumes.list()) {
      if (used.has(v.Name) || !keep({ labels: v.Labels })) continue;
      if (!all && !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
      const bytes = volumes.size(v.Name);
      volumes.remove(v.Name);
      removed.push({ name: v.Name, bytes });
    }
    return removed;
  });
}

/** The names of the volumes of `volumes` that some container mounts. */
export function usedVolumeNames(store: StateStore, volumes: VolumeStore): Set<string> {
  const used = new Set<string>();
  for (const c of store.entries()) {
    if (isDead(c)) continue;
    for (const m of c.spec.mounts) {
      if (m.volume && m.source === volumes.mountpoint(m.volume.name)) used.add(m.volume.name);
    }
  }
  return used;
}

/** How many containers mount each volume (`volume ls`'s dangling filter, `system df`). */
export function listVolumes(
  store: StateStore,
  volumes: VolumeStore,
): Array<Volume & { inUse: boolean }> {
  const used = usedVolumeNames(store, volumes);
  return volumes.list().map((v) => ({ ...v, inUse: used.has(v.Name) }));
}

/**
 * Removes the anonymous volumes of a container that is gone now, except those another
 * container still mounts (`--volumes-from`), as Docker's `rm -v` does. Takes the store
 * lock: call holding no container's lock.
 */
export function removeAnonymousVolumes(store: StateStore, state: ContainerState): void {
  const anonymous = state.spec.mounts.filter((m) => m.volume?.anonymous);
  if (anonymous.length === 0) return;
  store.withLock(null, () => {
    for (const m of anonymous) {
      const volumes = VolumeStore.ofMountpoint(m.source);
      const name = m.volume!.name;
      if (volumeUsers(store, volumes, name).some((id) => id !== state.id)) continue;
      try {
        volumes.remove(name);
      } catch (e) {
        if (!(e instanceof NoSuchVolumeError)) throw e;
      }
    }
  });
}
