/**
 * Checkpoint and restore through CRIU, for real, in the cgroup v2 guest (scripts/vm-test):
 * a counting process created and started by m-docker-runc is dumped (and is gone), restored
 * from its images, and counts on from where it was, in its own cgroup, under the same ID.
 * Where `criu check` fails in the guest, the test asserts the one-line error instead.
 */
import assert from "node:assert/strict";
import { processStartTime } from "../../src/state/proc.ts";
import { waitFor } from "../integration/harness.ts";
import {
  count,
  countingBundle,
  criuCheck,
  type HeldRun,
  runtime,
  runtimeHeld,
} from "../integration/runtime_ckpt.ts";
import { v2Only } from "./guest.ts";

const check = v2Only.ignore ? null : criuCheck();

Deno.test({ name: "v2: checkpoint, then restore, of a counting process", ...v2Only }, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-ckpt-" });
  const root = `${dir}/state`;
  const id = "ckpt-v2";
  const { bundle, rootfs } = countingBundle(dir, id);
  const held: HeldRun[] = [];
  const rt = (args: string[]) => runtime(root, args, false);
  const cgroupDir = () =>
    `/sys/fs/cgroup${
      Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)![1].replace(/\/$/, "")
    }/m-docker-rt-ckpt/${id}`;
  try {
    const created = await runtimeHeld(root, ["create", "--bundle", bundle, id], false);
    held.push(created);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await rt(["start", id])).code, 0);
    await waitFor(() => (count(rootfs) ?? 0) >= 3, { what: "the counter to reach 3" });
    const before = JSON.parse((await rt(["state", id])).stdout);
    const ckpt = await rt([
      "checkpoint",
      "--image-path",
      `${dir}/images`,
      "--work-path",
      `${dir}/work`,
      id,
    ]);
    if (!check!.ok) {
      // CRIU cannot work on this kernel: one line naming what it said, and nothing changed.
      assert.equal(ckpt.code, 1);
      const last = check!.lastError!.replace(/^Error \([^)]*\):\s*/, "");
      assert.equal(
        ckpt.stderr,
        `m-docker-runc: checkpoint: CRIU cannot run on this kernel: ${last}\n`,
      );
      assert.equal(JSON.parse((await rt(["state", id])).stdout).status, "running");
      return;
    }
    assert.equal(ckpt.code, 0, `${ckpt.stderr}${logTail(`${dir}/work/dump.log`)}`);
    // Dumped and destroyed: no state, no process, no cgroup, and the counter stopped.
    const gone = await rt(["state", id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /container does not exist/);
    assert.equal(processStartTime(before.pid), null);
    assert.throws(() => Deno.statSync(cgroupDir()), Deno.errors.NotFound);
    const dumped = count(rootfs);
    assert.ok(dumped !== null && dumped >= 3, `counter at dump: ${dumped}`);

    const restored = await runtimeHeld(root, [
      "restore",
      "--detach",
      "--image-path",
      `${dir}/images`,
      "--work-path",
      `${dir}/work`,
      "--bundle",
      bundle,
      "--pid-file",
      `${dir}/pid`,
      id,
    ], false);
    held.push(restored);
    assert.equal(restored.code, 0, `${restored.stderr}${logTail(`${dir}/work/restore.log`)}`);
    const state = JSON.parse((await rt(["state", id])).stdout);
    assert.equal(state.status, "running");
    assert.equal(Number(Deno.readTextFileSync(`${dir}/pid`)), state.pid);
    assert.match(
      Deno.readTextFileSync(`/proc/${state.pid}/cgroup`),
      new RegExp(`^0::.*/m-docker-rt-ckpt/${id}$`, "m"),
    );
    // It counts on from its memory: a fresh start would write 0, 1, 2 first.
    await waitFor(() => count(rootfs) !== null && count(rootfs) !== dumped, {
      what: "the restored counter to move",
    });
    assert.ok(count(rootfs)! > dumped!, `counter went from ${dumped} to ${count(rootfs)}`);

    assert.equal((await rt(["kill", id, "KILL"])).code, 0);
    await waitFor(async () => JSON.parse((await rt(["state", id])).stdout).status === "stopped", {
      what: "the restored container to stop",
    });
    assert.equal((await rt(["delete", id])).code, 0);
    assert.equal((await rt(["state", id])).code, 1);
    assert.throws(() => Deno.statSync(cgroupDir()), Deno.errors.NotFound);
  } finally {
    await rt(["delete", "--force", id]);
    for (const h of held) await h.release();
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A CRIU log's error lines with the lines before each (as runc quotes them), for a failure. */
function logTail(path: string): string {
  try {
    const lines = Deno.readTextFileSync(path).split("\n");
    const keep = new Set<number>();
    lines.forEach((l, i) => {
      if (/Error/.test(l)) { for (let j = Math.max(0, i - 8); j <= i; j++) keep.add(j); }
    });
    return `\n--- ${path}:\n` + [...keep].sort((a, b) => a - b).map((i) => lines[i]).join("\n");
  } catch {
    return "";
  }
}
