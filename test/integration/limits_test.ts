/**
 * Resource limits: written to the container's cgroup before the command runs, and
 * enforced: an OOM kill gives 137 and OOMKilled, a fork bomb is contained, CPU is capped.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();

interface Inspected {
  State: { OOMKilled: boolean; ExitCode: number; Status: string; Pid: number };
  HostConfig: { NanoCpus: number };
  Cgroup: { Layout: string; Paths: Record<string, string> };
}

const inspect = (ref: string) => sb.inspect(ref);

/** Reads a cgroup file of a running container, by controller. */
function cgroupFile(c: Inspected, controller: string, file: string): string {
  const dir =
    Object.entries(c.Cgroup.Paths).find(([k]) => k.split(",").includes(controller))?.[1] ??
      c.Cgroup.Paths["unified"];
  return Deno.readTextFileSync(`${dir}/${file}`).trim();
}

Deno.test(
  { name: "limits are written to the cgroup and visible from inside", ...asRoot },
  async () => {
    const id = (await sb.ok([
      "run",
      "-d",
      "--name",
      "limited",
      "-m",
      "64m",
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
    ])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const c = await inspect("limited");
    if (c.Cgroup.Layout === "v2") {
      assert.equal(cgroupFile(c, "memory", "memory.max"), String(64 * 1024 * 1024));
      assert.equal(cgroupFile(c, "cpu", "cpu.max"), "50000 100000");
      assert.equal(cgroupFile(c, "pids", "pids.max"), "50");
    } else {
      assert.equal(cgroupFile(c, "memory", "memory.limit_in_bytes"), String(64 * 1024 * 1024));
      assert.equal(cgroupFile(c, "cpu", "cpu.cfs_quota_us"), "50000");
      assert.equal(cgroupFile(c, "cpu", "cpu.cfs_period_us"), "100000");
      assert.equal(cgroupFile(c, "cpu", "cpu.shares"), "512");
      assert.equal(cgroupFile(c, "pids", "pids.max"), "50");
      // The container sees its own cgroup as the root of its cgroup namespace.
      const inside = await sb.ok([
        "run",
        "--rm",
        "-m",
        "64m",
        "busybox",
        "cat",
        "/proc/self/cgroup",
      ]);
      assert.match(inside, /memory:\/\n/);
    }
    assert.equal(cgroupFile(c, "cpuset", "cpuset.cpus"), "0");
    // In every hierarchy (on v1 the first process joins each by itself).
    for (const dir of Object.values(c.Cgroup.Paths) as string[]) {
      const procs = Deno.readTextFileSync(`${dir}/cgroup.procs`).trim().split("\n").map(Number);
      assert.ok(procs.includes(c.State.Pid), `the container's PID 1 is in ${dir}`);
    }
    await sb.ok(["rm", "-f", "limited"]);
  },
);

Deno.test({ name: "memory limit: an OOM kill gives 137 and OOMKilled", ...asRoot }, async () => {
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
  assert.equal(c.State.ExitCode, 137);
  assert.match(await sb.ok(["ps", "-a"]), /Exited \(137\)/);
  await sb.ok(["rm", "oom"]);
});

Deno.test({ name: "pids limit: a fork bomb is contained", ...asRoot }, async () => {
  const r = await sb.run([
    "run",
    "--rm",
    "--pids-limit",
    "20",
    "busybox",
    "sh",
    "-c",
    // A child shell tries to start 100 sleepers (it dies at the first failed fork); then
    // the outer shell counts processes with builtins only, since it cannot fork either.
    "sh -c 'i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done' 2>/dev/null; " +
    "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const count = Number(r.stdout.trim());
  assert.ok(count <= 20 && count >= 5, `processes at the peak: ${count}`);
});

Deno.test({
  name: "CPU quota: a busy loop under --cpus 0.2 gets about a fifth of a CPU",
  ...asRoot,
}, async () => {
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
  const c = await inspect("spin");
  // Measured in the kernel's own CFS periods (100 ms each), not by the test's clock: in
  // every period the loop wants the whole CPU and gets its 20 ms quota, then is throttled.
  const stat = (): Record<string, number> => {
    const lines = cgroupFile(c, "cpu", "cpu.stat").split("\n");
    return Object.fromEntries(lines.map((l) => l.split(" ")).map(([k, v]) => [k, Number(v)]));
  };
  const usedNs = () =>
    c.Cgroup.Layout === "v2"
      ? stat().usage_usec * 1000
      : Number(cgroupFile(c, "cpuacct", "cpuacct.usage"));
  await waitFor(() => stat().nr_throttled >= 10, {
    what: "the busy loop to be throttled in 10 periods",
    detail: () => JSON.stringify(stat()),
  });
  const used = usedNs();
  const periods = stat().nr_periods;
  await sb.ok(["rm", "-f", "spin"]);
  const perPeriodMs = used / periods / 1e6;
  assert.ok(perPeriodMs < 35, `CPU used per 100 ms period: ${perPeriodMs.toFixed(1)} ms`);
  assert.ok(perPeriodMs > 5, `CPU used per 100 ms period: ${perPeriodMs.toFixed(1)} ms`);
});

Deno.test({ name: "--cpus 0 means no CPU limit, as in Docker", ...asRoot }, async () => {
  const r = await sb.run(["run", "--name", "nocpu", "--cpus", "0", "busybox", "true"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await inspect("nocpu")).HostConfig.NanoCpus, 0);
  await sb.ok(["rm", "nocpu"]);
  // And the running container's CPU is not capped.
  await sb.ok(["run", "-d", "--name", "nocpu", "--cpus", "0", "busybox", "sleep", "60"]);
  const c = await inspect("nocpu");
  if (c.Cgroup.Layout === "v2") assert.match(cgroupFile(c, "cpu", "cpu.max"), /^max /);
  else assert.equal(cgroupFile(c, "cpu", "cpu.cfs_quota_us"), "-1");
  await sb.ok(["rm", "-f", "nocpu"]);
});

Deno.test({
  name: "a cpuset the host lacks is refused up front, with Docker's message",
  ...asRoot,
}, async () => {
  const r = await sb.run(["run", "--cpuset-cpus", "99", "busybox", "true"]);
  assert.equal(r.code, 125, r.stderr);
  const m = /Requested CPUs are not available - requested 99, available: ([0-9,-]+)\n/.exec(
    r.stderr,
  );
  assert.ok(m, r.stderr);
  assert.ok(!m[1].split(",").some((p) => /^(\d+-)?99$/.test(p)), m[1]);
  assert.deepEqual(sb.containerIds(), [], "nothing was created");
  assert.deepEqual(sb.leftoverCgroups(), []);
  // What the host has is accepted.
  const first = m[1].split(/[,-]/)[0];
  const ok = await sb.run(["run", "--rm", "--cpuset-cpus", first, "busybox", "true"]);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
