/**
 * The commands whose cgroup files differ on v2, for real (scripts/vm-test): pause and unpause
 * through cgroup.freeze, update written to the live memory.max, pids.max and cpu.max, and
 * stats from memory.current and cpu.stat. On a host without a pure v2 hierarchy every test
 * is skipped.
 */
import assert from "node:assert/strict";
import { Sandbox, waitFor } from "../integration/harness.ts";
import { v2Only } from "./guest.ts";

const opts = v2Only;
const sb = new Sandbox();
if (opts.ignore) Deno.removeSync(sb.dir, { recursive: true }); // nothing will use it here

const cgroupDir = async (ref: string) => (await sb.inspect(ref)).Cgroup.Paths.unified as string;
const read = (path: string) => Deno.readTextFileSync(path).trim();

Deno.test({ name: "v2: pause freezes through cgroup.freeze; unpause thaws", ...opts }, async () => {
  const id = (await sb.ok(["run", "-d", "busybox", "sleep", "600"])).trim();
  try {
    const dir = await cgroupDir(id);
    await sb.ok(["pause", id]);
    assert.match(read(`${dir}/cgroup.events`), /^frozen 1$/m);
    assert.equal((await sb.inspect(id)).State.Status, "paused");
    assert.match(await sb.ok(["ps"]), /\(Paused\)/);
    await sb.ok(["unpause", id]);
    await waitFor(() => /^frozen 0$/m.test(read(`${dir}/cgroup.events`)), {
      what: "the cgroup to thaw",
    });
    assert.equal((await sb.inspect(id)).State.Status, "running");
  } finally {
    await sb.ok(["rm", "-f", id]);
  }
});

Deno.test({ name: "v2: update writes the live cgroup; stats reads it", ...opts }, async () => {
  const id = (await sb.ok([
    "run",
    "-d",
    "-m",
    "64m",
    "--memory-swap",
    "128m",
    "busybox",
    "sleep",
    "600",
  ])).trim();
  try {
    const dir = await cgroupDir(id);
    assert.equal(read(`${dir}/memory.max`), String(64 << 20));
    await sb.ok(["update", "-m", "96m", "--pids-limit", "33", "--cpus", "0.5", id]);
    assert.equal(read(`${dir}/memory.max`), String(96 << 20));
    assert.equal(read(`${dir}/pids.max`), "33");
    assert.equal(read(`${dir}/cpu.max`), "50000 100000");
    assert.equal((await sb.inspect(id)).HostConfig.Memory, 96 << 20);
    const stats = JSON.parse(
      (await sb.ok(["stats", "--no-stream", "--format", "json", id])).trim(),
    );
    assert.match(stats.MemUsage, / \/ 96MiB$/);
    assert.equal(stats.PIDs, "1");
  } finally {
    await sb.ok(["rm", "-f", id]);
  }
});

Deno.test({ name: "v2: lifecycle cleanup: nothing left behind", ...opts }, async () => {
  await sb.cleanup();
});
