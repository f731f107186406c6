/**
 * A Dockerfile's `RUN`: the command runs in a container of this engine made from the
 * stage's image so far (its env, user, working directory; the same isolation, cgroup and
 * networking as `m-docker run`), its output streamed to the build's progress, and its
 * read-write layer becomes the step's layer (the `commit` code's packing). The container is
 * removed whatever happens; so is the half-made layer of a failed step. Files the command
 * needs but must not leave in the layer (a `#!` heredoc's script) are written to a host
 * directory of the build's own and bound read-only into the container's /dev, a tmpfs that
 * no layer is made of, as BuildKit runs them from /dev/pipes.
 *
 * @module
 */

import { close, pipe, waitAsync } from "../../ffi/libc.ts";
import type { Engine } from "../engine.ts";
import { type ImageRecord, makeBuildScratch } from "../image/store.ts";
import type { RunRequest } from "../config/run_request.ts";
import type { NetworkSpec } from "../config/network.ts";
import type { BindMount, TmpfsMount } from "../config/container.ts";
import { createContainer } from "../container/create.ts";
import { destroyContainer } from "../container/cleanup.ts";
import { abandonInit, spawnInit, startContainer } from "../container/start.ts";
import { pump } from "../container/io.ts";
import type { ContainerState } from "../state/types.ts";

/** What one RUN executes. */
export interface RunStep {
  /** The final argv (a shell form already wrapped in the stage's SHELL). */
  argv: string[];
  /** Extra `KEY=value` entries (build args in scope), over the image's Env. */
  env: string[];
  /** `--network` of the build (or the step): none, host, or the default bridge. */
  network: NetworkSpec;
  /** Files bound read-only at `path` (under /dev) while the command runs, mode 0755. */
  files?: Array<{ path: string; data: string }>;
  /** `--mount`s as the container's bind mounts and tmpfs (see run_mounts.ts). */
  mounts?: BindMount[];
  tmpfs?: TmpfsMount[];
}

/** A RUN that exited non-zero: BuildKit's wording. */
export class RunStepError extends Error {
  override name = "RunStepError";
  constructor(readonly argv: string[], readonly exitCode: number) {
    super(
      `process "${argv.join(" ")}" did not complete successfully: exit code: ${exitCode}`,
    );
  }
}

/**
 * Runs `step` in a container of `image` and hands its state (exited, its upper directory
 * intact) to `keep` (which makes the layer), then removes the container. `output` receives
 * the command's stdout and stderr as they come.
 */
export async function runInContainer<T>(
  engine: Engine,
  image: ImageRecord,
  step: RunStep,
  output: (chunk: Uint8Array) => void,
  keep: (state: ContainerState) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  const { images } = engine;
  // `.build-` in the image store: swept if the build dies before it removes it.
  const filesDir = step.files?.length ? makeBuildScratch(images.dir, "run") : undefined;
  try {
    return await runWith(engine, image, step, output, keep, filesDir, signal);
  } finally {
    if (filesDir) Deno.removeSync(filesDir, { recursive: true });
  }
}

/** `runInContainer` once the step's files have a directory (`filesDir`) to be written to. */
async function runWith<T>(
  engine: Engine,
  image: ImageRecord,
  step: RunStep,
  output: (chunk: Uint8Array) => void,
  keep: (state: ContainerState) => Promise<T>,
  filesDir: string | undefined,
  signal?: AbortSignal,
): Promise<T> {
  const { roots, containers, images } = engine;
  const files = (step.files ?? []).map((f, i) => {
    const source = `${filesDir}/${i}`;
    Deno.writeTextFileSync(source, f.data, { mode: 0o755 });
    Deno.chmodSync(source, 0o755); // whatever the umask
    return { source, destination: f.path, readonly: true };
  });
  const request: RunRequest = {
    image: image.id,
    // The image's entrypoint does not apply to RUN (Docker runs the command alone).
    entrypoint: "",
    command: step.argv,
    env: step.env,
    mounts: [...(step.mounts ?? []), ...files],
    tmpfs: step.tmpfs,
    tty: false,
    interactive: false,
    detach: false,
    // Should the build die unseen (kill -9), the next command's reconcile removes it.
    autoRemove: true,
    limits: {},
    network: step.network,
    logConfig: { type: "none", config: {} },
  };
  const [outRead, outWrite] = pipe();
  let init;
  try {
    init = spawnInit(
      { stdin: "null", stdout: outWrite, stderr: outWrite },
      step.network.mode.kind === "host" ? { kind: "host" } : { kind: "new" },
    );
  } finally {
    close(outWrite);
  }
  let state: ContainerState;
  try {
    state = createContainer(roots, containers, images, image, request);
  } catch (e) {
    abandonInit(init);
    close(outRead);
    throw e;
  }
  try {
    // A build killed outright (kill -9) takes its running step with it.
    state.spec.parentDeathSignal = 9;
    try {
      containers.update(state.id, (s) => void (s.spec.parentDeathSignal = 9));
    } catch (e) {
      abandonInit(init); // the container itself goes in the finally below
      throw e;
    }
    const relayed = pump(outRead, output);
    let started;
    try {
      started = await startContainer(containers, state, init);
    } catch (e) {
      await relayed;
      throw e;
    }
    // Ctrl-C: the command is killed; the finally below removes its container.
    const kill = () => {
      try {
        Deno.kill(started.pid, "SIGKILL");
      } catch { /* exited already */ }
    };
    signal?.addEventListener("abort", kill);
    if (signal?.aborted) kill(); // aborted while it was starting
    const result = await waitAsync(started.pid).finally(() =>
      signal?.removeEventListener("abort", kill)
    );
    signal?.throwIfAborted();
    await relayed;
    if (result.exitCode !== 0) throw new RunStepError(step.argv, result.exitCode);
    // Its upper directory is read before the container goes (recording the exit would
    // remove it at once: build containers are --rm ones, for a build that dies unseen).
    return await keep(state);
  } finally {
    close(outRead);
    destroyContainer(containers, state.id, { anonymousVolumes: true });
  }
}
