/**
 * `m-docker-runc checkpoint` where CRIU cannot work: on these hosts `criu check` fails (the
 * vDSO), so a checkpoint exits 1 with one line naming CRIU's last error, and the container
 * keeps running and can be deleted with nothing left. A missing criu binary is named too.
 * The runtime runs in the cgroup jail with a temporary --root and a relative cgroupsPath.
 * (The real checkpoint and restore are test/v2/checkpoint_v2_test.ts, in the guest.)
 */
import assert from "node:assert/strict";
import { asRoot, cgroupParentDirs, waitFor } from "./harness.ts";
import { processStartTime } from "../../src/state/proc.ts";
import {
  count,
  countingBundle,
  criuCheck,
  type HeldRun,
  runtime,
  runtimeHeld,
} from "./runtime_ckpt.ts";

const check = asRoot.ignore ? null : criuCheck();

/** A started counting container in a temporary root; `fn` gets its ID and directories. */
async function withCounter(
  id: string,
  fn: (ctx: { root: string; dir: string; rootfs: string }) => Promise<void>,
): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-ckpt-" });
  const root = `${dir}/state`;
  const { bundle, rootfs } = countingBundle(dir, id);
  let held: HeldRun | undefined;
  try {
    held = await runtimeHeld(root, ["create", "--bundle", bundle, id], true);
    assert.equal(held.code, 0, held.stderr);
    assert.equal((await runtime(root, ["start", id], true)).code, 0);
    await waitFor(() => (count(rootfs) ?? 0) >= 1, { what: "the counter to start" });
    await fn({ root, dir, rootfs });
  } finally {
    await runtime(root, ["delete", "--force", id], true);
    await held?.release();
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "runtime checkpoint: CRIU's failing check is one line; the container runs on",
  ...asRoot,
  ignore: asRoot.ignore || check === null || check.ok || check.lastError === null,
}, async () => {
  const id = "ckpt-host";
  await withCounter(id, async ({ root, dir, rootfs }) => {
    const pid = JSON.parse((await runtime(root, ["state", id], true)).stdout).pid;
    const out = await runtime(root, ["checkpoint", "--image-path", `${dir}/images`, id], true);
    assert.equal(out.code, 1);
    const last = check!.lastError!.replace(/^Error \([^)]*\):\s*/, "");
    assert.equal(
      out.stderr,
      `m-docker-runc: checkpoint: CRIU cannot run on this kernel: ${last}\n`,
    );
    // restore asks CRIU first too, and makes nothing when it cannot run.
    const back = await runtime(root, [
      "restore",
      "--image-path",
      `${dir}/images`,
      "--bundle",
      `${dir}/bundle`,
      `${id}-restored`,
    ], true);
    assert.equal(back.code, 1);
    assert.equal(back.stderr, `m-docker-runc: restore: CRIU cannot run on this kernel: ${last}\n`);
    assert.throws(() => Deno.statSync(`${root}/${id}-restored`), Deno.errors.NotFound);
    // Nothing was dumped or stopped: the same init counts on.
    const state = JSON.parse((await runtime(root, ["state", id], true)).stdout);
    assert.equal(state.status, "running");
    assert.equal(state.pid, pid);
    const n = count(rootfs);
    await waitFor(() => count(rootfs) !== null && count(rootfs) !== n, {
      what: "the counter to move on after the failed checkpoint",
    });
    assert.equal((await runtime(root, ["delete", "--force", id], true)).code, 0);
    // Dead: gone, or a zombie until whichever subreaper inherited it reaps it.
    await waitFor(() => processStartTime(pid) === null || isZombie(pid), { what: "init to die" });
    assert.equal((await runtime(root, ["state", id], true)).code, 1);
    assert.deepEqual([...Deno.readDirSync(root)], []);
    for (const d of cgroupParentDirs(`m-docker-rt-ckpt/${id}`)) {
      assert.throws(() => Deno.statSync(d), Deno.errors.NotFound, `${d} left behind`);
    }
  });
});

Deno.test(
  { name: "runtime checkpoint and restore: a missing criu is named", ...asRoot },
  async () => {
    const id = "ckpt-nocriu";
    await withCounter(id, async ({ root, dir }) => {
      const noCriu = ["--criu", `${dir}/no-such-criu`];
      const out = await runtime(root, [...noCriu, "checkpoint", id], true);
      assert.equal(out.code, 1);
      assert.equal(
        out.stderr,
        "m-docker-runc: checkpoint: criu is not installed (apt-get install criu)\n",
      );
      const back = await runtime(root, [...noCriu, "restore", "--bundle", dir, "other"], true);
      assert.equal(back.code, 1);
      assert.equal(
        back.stderr,
        "m-docker-runc: restore: criu is not installed (apt-get install criu)\n",
      );
      assert.equal(JSON.parse((await runtime(root, ["state", id], true)).stdout).status, "running");
    });
  },
);

function isZombie(pid: number): boolean {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat[stat.lastIndexOf(")") + 2] === "Z";
}
