/**
 * The cgroup v2 path, for real: run by scripts/vm-test inside a guest booted with
 * `cgroup_no_v1=all`. On a host without a pure v2 hierarchy every test is skipped.
 */
import assert from "node:assert/strict";
import { eventually, Sandbox } from "../integration/harness.ts";
import { v2Only } from "./guest.ts";
import { cgroupDeviceProgramIds } from "../../ffi/bpf.ts";

const opts = v2Only;
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

/** A block device of the guest (`loop0` once guest-init loads `loop`): name, major, minor. */
function guestBlockDevice(): [string, number, number] {
  for (const e of Deno.readDirSync("/sys/block")) {
    const [major, minor] = read(`/sys/block/${e.name}/dev`).split(":").map(Number);
    return [e.name, major, minor];
  }
  throw new Error("the guest has no block device in /sys/block (is the loop module loaded?)");
}

/** Runs shell snippets in one default container; returns name -> "ok" or the error text. */
async function tryInContainer(tries: Record<string, string>): Promise<Record<string, string>> {
  const script = Object.entries(tries).map(([name, cmd]) =>
    `if out=$( (${cmd}) 2>&1); then echo "${name}=ok"; else echo "${name}=$out"; fi`
  ).join("\n");
  const out = await sb.ok(["run", "--rm", "busybox", "sh", "-c", script]);
  return Object.fromEntries(
    out.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

Deno.test(
  { name: "v2: the device allow-list is enforced by the BPF program", ...opts },
  async () => {
    const [blk, major, minor] = guestBlockDevice();
    const r = await tryInContainer({
      kmsg: "mknod /tmp/kmsg c 1 11 && head -c1 /tmp/kmsg",
      // A read of kmsg is refused without CAP_SYSLOG anyway (Debian's dmesg_restrict); a
      // write-only open skips that check, so only the device program can refuse it.
      "kmsg write": "mknod /tmp/kmsgw c 1 11 && echo m-docker-device-test > /tmp/kmsgw",
      null: "echo x > /dev/null && cat /dev/null",
      zero: "[ $(head -c 4 /dev/zero | wc -c) = 4 ]",
      block: `mknod /tmp/blk b ${major} ${minor} && head -c1 /tmp/blk`,
      "block write": `mknod /tmp/blkw b ${major} ${minor} && echo x > /tmp/blkw`,
    });
    assert.match(r.kmsg, /Operation not permitted/, `kmsg: ${r.kmsg}`);
    assert.match(r["kmsg write"], /Operation not permitted/, `kmsg write: ${r["kmsg write"]}`);
    assert.equal(r.null, "ok");
    assert.equal(r.zero, "ok");
    assert.match(r.block, /Operation not permitted/, `${blk} (${major}:${minor}): ${r.block}`);
    assert.match(r["block write"], /Operation not permitted/, r["block write"]);
    // In the guest itself the same nodes open: the denials above are the container's program.
    Deno.openSync(`/dev/${blk}`, { read: true }).close();
    Deno.openSync("/dev/kmsg", { write: true }).close();
  },
);

Deno.test({
  name: "v2: one device program per container, replaced on restart, gone with the cgroup",
  ...opts,
}, async () => {
  await sb.ok(["run", "-d", "--name", "devs", "busybox", "sleep", "60"]);
  const c = await inspect("devs");
  const dir = c.Cgroup.Paths.unified;
  const first = cgroupDeviceProgramIds(dir);
  assert.equal(first.length, 1, `programs on ${dir}: ${first}`);
  // No process of ours keeps a program fd open: the attachment alone holds the program.
  const state = JSON.parse(Deno.readTextFileSync(`${sb.state}/${c.Id}/state.json`));
  const bpfFds = (pid: number) =>
    [...Deno.readDirSync(`/proc/${pid}/fd`)].filter((e) => {
      try {
        return Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`).includes("bpf");
      } catch {
        return false;
      }
    }).length;
  assert.equal(bpfFds(state.monitorPid), 0, "the shim holds no bpf fd");
  await sb.ok(["restart", "-t", "0", "devs"]);
  const again = (await inspect("devs")).Cgroup.Paths.unified;
  const second = cgroupDeviceProgramIds(again);
  assert.equal(second.length, 1, `programs after restart: ${second}`);
  assert.notDeepEqual(second, first, "a new program on the new cgroup");
  await sb.ok(["rm", "-f", "devs"]);
  assert.throws(() => Deno.statSync(again), Deno.errors.NotFound);
  // A foreground container's cgroup goes as soon as it exits, program and all.
  await sb.ok(["run", "--name", "once", "busybox", "true"]);
  const once = (await inspect("once")).Cgroup.Paths.unified;
  assert.throws(() => Deno.statSync(once), Deno.errors.NotFound, "no leaked attachment keeps it");
  await sb.ok(["rm", "once"]);
});

Deno.test({ name: "v2: cleanup: no cgroup, state, mount or process left", ...opts }, async () => {
  await sb.cleanup();
});
