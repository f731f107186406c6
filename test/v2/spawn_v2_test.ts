/**
 * Where a container's processes start on v2, for real (scripts/vm-test): the first process
 * of a direct start and an exec'd one are cloned into the container's cgroup (clone3 with
 * CLONE_INTO_CGROUP, ffi/nsclone.ts), and m-docker itself never joins it. On a host without a
 * pure v2 hierarchy every test is skipped.
 */
import assert from "node:assert/strict";
import { processesRunning, Sandbox, waitFor } from "../integration/harness.ts";
import { v2Only } from "./guest.ts";

const opts = v2Only;
const sb = new Sandbox();
if (opts.ignore) Deno.removeSync(sb.dir, { recursive: true }); // nothing will use it here

/** The cgroup v2 line of /proc/PID/cgroup, read from the host side: `0::/path`. */
const cgroupOf = (pid: number) =>
  Deno.readTextFileSync(`/proc/${pid}/cgroup`).match(/^0::.*$/m)?.[0];

/** Host PIDs of the processes whose command line is `sleep SECONDS`. */
const sleepers = (seconds: string) => processesRunning(["sleep", seconds]);

Deno.test(
  { name: "v2: the first process and an exec'd one start in the container's cgroup", ...opts },
  async () => {
    const id = (await sb.ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    try {
      const c = await sb.inspect(id);
      const dir = c.Cgroup.Paths.unified as string;
      const want = `0::${dir.slice("/sys/fs/cgroup".length)}`;
      assert.equal(cgroupOf(c.State.Pid), want);
      // Nothing else: m-docker (the CLI, the monitor) was never moved in.
      const procs = () => Deno.readTextFileSync(`${dir}/cgroup.procs`).trim().split("\n");
      assert.deepEqual(procs(), [String(c.State.Pid)]);
      assert.equal(await sb.ok(["exec", id, "echo", "hi"]), "hi\n");
      const child = sb.run(["exec", id, "sleep", "37"]);
      try {
        await waitFor(() => sleepers("37").length === 1, { what: "the exec'd sleep 37" });
        const exec = sleepers("37")[0];
        assert.equal(cgroupOf(exec), want);
        assert.deepEqual(procs().sort(), [String(c.State.Pid), String(exec)].sort());
      } finally {
        for (const pid of sleepers("37")) Deno.kill(pid, "SIGKILL");
        await child;
      }
    } finally {
      await sb.ok(["rm", "-f", id]);
    }
    // A foreground run, end to end.
    assert.equal(await sb.ok(["run", "--rm", "busybox", "sh", "-c", "echo ok"]), "ok\n");
  },
);

/** Remounts /sys/fs/cgroup with `options` (the guest's own mount: a VM of the test's). */
async function remountCgroup(options: string) {
  const r = await new Deno.Command("mount", { args: ["-o", `remount${options}`, "/sys/fs/cgroup"] })
    .output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

Deno.test(
  { name: "v2 with nsdelegate (as systemd mounts it): exec still starts in the cgroup", ...opts },
  async () => {
    // nsdelegate makes a cgroup namespace a delegation boundary: a move (clone3's into a
    // cgroup too) needs the mover to see both cgroups from its namespace, which a thread in
    // the container's cgroup namespace does not.
    await remountCgroup(",nsdelegate");
    try {
      assert.match(
        Deno.readTextFileSync("/proc/self/mounts"),
        / \/sys\/fs\/cgroup cgroup2 \S*nsdelegate/,
      );
      const id = (await sb.ok(["run", "-d", "busybox", "sleep", "600"])).trim();
      try {
        const c = await sb.inspect(id);
        const want = `0::${(c.Cgroup.Paths.unified as string).slice("/sys/fs/cgroup".length)}`;
        assert.equal(cgroupOf(c.State.Pid), want);
        // The exec'd process is in the container's cgroup namespace too: its root is "/".
        assert.equal(await sb.ok(["exec", id, "cat", "/proc/self/cgroup"]), "0::/\n");
        const child = sb.run(["exec", id, "sleep", "38"]);
        try {
          await waitFor(() => sleepers("38").length === 1, { what: "the exec'd sleep 38" });
          assert.equal(cgroupOf(sleepers("38")[0]), want);
        } finally {
          for (const pid of sleepers("38")) Deno.kill(pid, "SIGKILL");
          await child;
        }
      } finally {
        await sb.ok(["rm", "-f", id]);
      }
    } finally {
      await remountCgroup("");
    }
  },
);

Deno.test({ name: "v2: spawn cleanup: nothing left behind", ...opts }, async () => {
  await sb.cleanup();
});
