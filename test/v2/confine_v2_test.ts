/**
 * Confinement on a pure cgroup v2 kernel (scripts/vm-test): what the container sees of its
 * cgroup, Docker's status values, the limits only v2 spells its own way, and the escape
 * attempts whose defence differs between versions (/sys/fs/cgroup, devices). On a host
 * without a pure v2 hierarchy every test is skipped.
 */
import assert from "node:assert/strict";
import { Sandbox } from "../integration/harness.ts";
import { v2Only } from "./guest.ts";

const opts = v2Only;
const sb = new Sandbox();
if (opts.ignore) Deno.removeSync(sb.dir, { recursive: true }); // nothing will use it here

async function shIn(flags: string[], script: string): Promise<string> {
  return await sb.ok(["run", "--rm", ...flags, "busybox", "sh", "-c", script]);
}

Deno.test(
  { name: "v2: /sys/fs/cgroup is the container's own cgroup, read-only", ...opts },
  async () => {
    const out = await shIn(
      ["-m", "64m", "--memory-reservation", "32m", "--pids-limit", "55"],
      "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low /sys/fs/cgroup/pids.max; " +
        "cat /proc/self/cgroup; mkdir /sys/fs/cgroup/x 2>&1; echo $?",
    );
    const [max, low, pids, own, ...rest] = out.trim().split("\n");
    assert.equal(max, String(64 << 20));
    assert.equal(low, String(32 << 20));
    assert.equal(pids, "55");
    assert.equal(own, "0::/"); // the cgroup namespace's root is the container's cgroup
    assert.match(rest.join("\n"), /Read-only file system\n1$/);
  },
);

Deno.test({ name: "v2: Docker's status values (CapEff, CapBnd, Seccomp)", ...opts }, async () => {
  const status = await sb.ok(["run", "--rm", "busybox", "cat", "/proc/self/status"]);
  assert.match(status, /^CapEff:\s*00000000a80425fb$/m);
  assert.match(status, /^CapBnd:\s*00000000a80425fb$/m);
  assert.match(status, /^Seccomp:\s*2$/m);
});

Deno.test(
  { name: "v2: --oom-kill-disable is discarded with Docker's warning", ...opts },
  async () => {
    const r = await sb.run(["run", "--rm", "-m", "64m", "--oom-kill-disable", "busybox", "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.\n",
    );
  },
);

Deno.test({ name: "v2: escape attempts through the cgroup are denied", ...opts }, async () => {
  const out = await shIn(
    [],
    "echo $$ > /sys/fs/cgroup/cgroup.procs 2>/dev/null && echo procs=ok || echo procs=denied; " +
      "echo max > /sys/fs/cgroup/memory.max 2>/dev/null && echo limit=ok || echo limit=denied; " +
      "mount -t cgroup2 none /tmp 2>/dev/null && echo mount=ok || echo mount=denied",
  );
  assert.equal(out, "procs=denied\nlimit=denied\nmount=denied\n");
});

Deno.test({ name: "v2: cleanup: nothing left behind", ...opts }, async () => {
  await sb.cleanup();
});
