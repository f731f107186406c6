/**
 * `commit`: a container's read-write layer becomes a new layer on top of its image's, with
 * the container's command, environment and working directory as the new image's config.
 *
 * @module
 */

import type { ContainerState } from "../state/types.ts";
import { UsageError } from "../util/errors.ts";
import { applyLayer } from "./layer_apply.ts";
import { packDirectory } from "./layer_pack.ts";
import { containerOwners } from "../config/userns.ts";
import { type ImageRecord, type ImageRunConfig, type ImageStore, sha256 } from "./store.ts";
import { writeTar } from "./tar_writer.ts";
import { imageHistory } from "./history.ts";

/** Mountpoints m-docker created in the upper layer: not the user's changes. */
const PLACED = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf"]);

/** Environment that the runtime sets per container, not part of an image. */
const RUNTIME_ENV = /^(HOSTNAME|TERM)=/;

/** Commits `state` as a new image, tagged `reference` if given. */
export async function commitContainer(
  images: ImageStore,
  state: ContainerState,
  reference?: string,
): Promise<ImageRecord> {
  const base = images.readImage(state.spec.imageId);
  if (!base) throw new UsageError(`the image of container ${state.name} is gone: cannot commit`);
  const tar = writeTar(packDirectory(state.rootfs.upperDir, {
    exclude: (rel, info) => PLACED.has(rel) && info.isFile && info.size === 0,
    topOwners: containerOwners(state.spec.userns),
  }));
  const diffId = await sha256(tar);
  await images.addLayer(diffId, async (dir) => {
    await applyLayer(new Blob([tar]).stream(), dir, "overlay");
  });
  const s = state.spec;
  const config: ImageRunConfig = {
    Env: s.env.filter((e) => !RUNTIME_ENV.test(e)),
    Cmd: s.args,
    WorkingDir: s.cwd,
    User: s.uid === 0 && s.gid === 0 ? undefined : `${s.uid}:${s.gid}`,
  };
  const layers = [...base.layers, diffId];
  const created = new Date().toISOString();
  const image: ImageRecord = {
    id: await sha256(JSON.stringify({ config, rootfs: { diff_ids: layers }, created })),
    layers,
    config,
    created,
    size: base.size + tar.length,
    // dockerd's commit: the base's history and an entry for the container's command.
    history: [...imageHistory(images, base), { created, created_by: s.args.join(" ") }],
    parent: base.id,
  };
  images.addImage(image, reference);
  return image;
}
