/**
 * The cgroup v2 path, for real: run by scripts/vm-test inside a guest booted with
 * `cgroup_no_v1=all`. On a host without a pure v2 hierarchy every test is skipped.
 */
import assert from "node:assert/strict";
import { asRoot, eventually, Sandbox } from "../integration/harness.ts";

function isPureV2(): boolean {
  try {
    return Deno.readTextFileSync("/proc/self/mounts").split("\n")
      .some((l) => l.split(" ")[1] === "/sys/fs/cgroup" && l.split(" ")[2] === "cgroup2");
  } catch {
    return false;
  }
}

const opts = { ...asRoot, ignore: asRoot.ignore || !isPureV2() };
const sb = new Sandbox();
if (opts.ignore) Deno.removeSync(sb.dir, { recursive: true }); // nothing will use it here

interface Inspected {
  Id: string;
  State: { OOMKilled: boolean; ExitCode: number; Status: string; Pid: number };
  Cgroup: { Layout: string; Paths: Record<string, string> };
}

const inspect = (ref: string) => sb.inspect(ref);

const read = (path: string) => Deno.readTextFileSync(path).trim();

Deno.test(
  { name: "v2: the cgroup is created with controllers enabled in every ancestor", ...opts },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "limited",
      "-m",
      "64m",
      "--memory-swap",
      "96m",
      "--cpus",
      "0.5",
      "--cpu-shares",
      "512",
      "--cpuset-cpus",
      "0",
      "--pids-limit",
      "50",
      "busybox",
      "sleep",
      "60",
    ]);
    const c = await inspect("limited");
    assert.equal(c.Cgroup.Layout, "v2");
    const dir = c.Cgroup.Paths.unified;
    assert.equal(dir, `/sys/fs/cgroup/${sb.cgroupParent}/m-docker-${c.Id}`);
    for (const ancestor of ["/sys/fs/cgroup", `/sys/fs/cgroup/${sb.cgroupParent}`]) {
      const enabled = read(`${ancestor}/cgroup.subtree_control`).split(" ");
      for (const controller of ["cpu", "cpuset", "memory", "pids"]) {
        assert.ok(enabled.includes(controller), `${controller} in ${ancestor}: ${enabled}`);
      }
    }
    assert.equal(read(`${dir}/memory.max`), String(64 * 1024 * 1024));
    assert.equal(read(`${dir}/memory.swap.max`), String(32 * 1024 * 1024));
    assert.equal(read(`${dir}/cpu.max`), "50000 100000");
    assert.equal(read(`${dir}/cpu.weight`), "20"); // runc's conversion of 512 shares
    assert.equal(read(`${dir}/cpuset.cpus`), "0");
    assert.equal(read(`${dir}/pids.max`), "50");
    assert.ok(read(`${dir}/cgroup.procs`).split("\n").map(Number).includes(c.State.Pid));
    // Inside, the container sees its own cgroup as the root of its cgroup namespace.
    assert.equal(await sb.ok(["exec", "limited", "cat", "/proc/self/cgroup"]), "0::/\n");
    await sb.ok(["rm", "-f", "limited"]);
    assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
  },
);

Deno.test({ name: "v2: an OOM kill gives 137 and OOMKilled", ...opts }, async () => {
  const r = await sb.run([
    "run",
    "--name",
    "oom",
    "-m",
    "32m",
    "--memory-swap",
    "32m",
    "busybox",
    "sh",
    "-c",
    "x=$(head -c 100m /dev/zero | tr '\\0' a); echo survived",
  ]);
  assert.equal(r.code, 137, r.stderr);
  const c = await inspect("oom");
  assert.equal(c.State.OOMKilled, true);
  await sb.ok(["rm", "oom"]);
});

Deno.test({ name: "v2: a fork bomb is contained by --pids-limit", ...opts }, async () => {
  const r = await sb.run([
    "run",
    "--rm",
    "--pids-limit",
    "10",
    "busybox",
    "sh",
    "-c",
    "sh -c 'i=0; while [ $i -lt 50 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/null; " +
    "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const count = Number(r.stdout.trim());
  assert.ok(count <= 10 && count >= 3, `processes at the peak: ${count}`);
});

Deno.test({ name: "v2: CPU quota caps a busy loop", ...opts }, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "spin",
    "--cpus",
    "0.2",
    "busybox",
    "sh",
    "-c",
    "while :; do :; done",
  ]);
  const dir = (await inspect("spin")).Cgroup.Paths.unified;
  const usage = () => Number(/^usage_usec (\d+)$/m.exec(read(`${dir}/cpu.stat`))![1]) / 1e6;
  const before = usage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const used = (usage() - before) / ((performance.now() - t0) / 1000);
  await sb.ok(["rm", "-f", "spin"]);
  assert.ok(used < 0.35 && used > 0.02, `CPU used per second: ${used.toFixed(2)}`);
});

Deno.test({ name: "v2: run -d, logs, stop with SIGKILL fallback, rm", ...opts }, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "stubborn",
    "busybox",
    "sh",
    "-c",
    "trap '' TERM; echo ready; while :; do sleep 1; done",
  ]);
  await eventually(
    async () => (await sb.run(["logs", "stubborn"])).stdout === "ready\n",
    20_000,
    "logs",
  );
  await sb.ok(["stop", "-t", "1", "stubborn"]);
  const c = await inspect("stubborn");
  assert.equal(c.State.ExitCode, 137);
  await sb.ok(["rm", "stubborn"]);
});

Deno.test({ name: "v2: kill -9 of the shim, then ps and rm -f clean up", ...opts }, async () => {
  const id = (await sb.ok(["run", "-d", "--name", "orphan", "busybox", "sleep", "60"])).trim();
  const state = JSON.parse(Deno.readTextFileSync(`${sb.state}/${id}/state.json`));
  Deno.kill(state.monitorPid, "SIGKILL");
  assert.match(await sb.ok(["ps"]), /Up .* orphan/);
  await sb.ok(["rm", "-f", "orphan"]);
  assert.deepEqual(sb.containerIds(), []);
});

Deno.test({ name: "v2: cleanup: no cgroup, state, mount or process left", ...opts }, async () => {
  await sb.cleanup();
});
