/**
 * Filesystem confinement and process limits in real containers: /sys/fs/cgroup shows only
 * the container's own cgroup, read-only; --read-only, --tmpfs and --shm-size; --ulimit,
 * --oom-score-adj and --sysctl (only in the container's own namespaces).
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** Runs `sh -c script` in a busybox container with `flags`; returns its stdout. */
async function shIn(flags: string[], script: string): Promise<string> {
  return await sb.ok(["run", "--rm", ...flags, "busybox", "sh", "-c", script]);
}

const hybrid = Deno.readTextFileSync("/proc/self/mountinfo").includes(" /sys/fs/cgroup/memory ");

Deno.test(
  { name: "/sys/fs/cgroup: the container's own cgroup, read-only", ...asRoot },
  async () => {
    if (hybrid) {
      const out = await shIn(
        ["-m", "64m", "--pids-limit", "77"],
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; " +
          "cat /proc/self/cgroup | grep memory; ls /sys/fs/cgroup",
      );
      const [mem, pids, ownLine, ...dirs] = out.trim().split("\n");
      assert.equal(mem, "67108864");
      assert.equal(pids, "77");
      // The cgroup namespace: the container's cgroup is its root.
      assert.match(ownLine, /:memory:\/$/);
      assert.ok(dirs.includes("memory") && dirs.includes("systemd"), out);
      assert.ok(!dirs.includes("unified"), out);
    } else {
      const out = await shIn(["-m", "64m"], "cat /sys/fs/cgroup/memory.max");
      assert.equal(out.trim(), "67108864");
    }
    const writes = await sb.run([
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "mkdir /sys/fs/cgroup/x; echo $?; touch /sys/fs/cgroup/f; echo $?; " +
      "mkdir /sys/fs/cgroup/memory/sub 2>&1; echo $?; grep ' /sys/fs/cgroup' /proc/mounts",
    ]);
    assert.equal(writes.code, 0, writes.stderr);
    const lines = writes.stdout.trim().split("\n");
    assert.equal(lines[0], "1");
    assert.equal(lines[1], "1");
    assert.match(writes.stdout, /Read-only file system/);
    const mounts = lines.filter((l) => l.includes(" /sys/fs/cgroup"));
    assert.ok(mounts.length > 0);
    for (const m of mounts) assert.match(m, / ro,/, m);
  },
);

Deno.test(
  {
    name: "--read-only: the root is read-only, /dev, /dev/shm, /etc files stay writable",
    ...asRoot,
  },
  async () => {
    const out = await shIn(
      ["--read-only"],
      "touch /x 2>/dev/null; echo root=$?; touch /tmp/x 2>/dev/null; echo tmp=$?; " +
        "touch /dev/x; echo dev=$?; touch /dev/shm/x; echo shm=$?; " +
        "echo h >> /etc/hostname; echo hostname=$?; echo 1.2.3.4 x >> /etc/hosts; echo hosts=$?",
    );
    assert.equal(out, "root=1\ntmp=1\ndev=0\nshm=0\nhostname=0\nhosts=0\n");
    const rw = await shIn([], "touch /x; echo root=$?");
    assert.equal(rw, "root=0\n");
  },
);

Deno.test(
  { name: "--tmpfs: Docker's defaults (noexec, nosuid, 64m), options, repeatable", ...asRoot },
  async () => {
    const out = await shIn(
      ["--read-only", "--tmpfs", "/tmp", "--tmpfs", "/run:size=1m,mode=1777,exec"],
      "touch /tmp/x; echo tmp=$?; grep -E ' /(tmp|run) ' /proc/mounts; stat -c %a /run; " +
        "df -k /tmp /run | tail -2 | awk '{print $2}'",
    );
    const lines = out.trim().split("\n");
    assert.equal(lines[0], "tmp=0");
    const tmp = lines.find((l) => l.includes(" /tmp "))!;
    const run = lines.find((l) => l.includes(" /run "))!;
    assert.match(tmp, /^tmpfs \/tmp tmpfs rw,nosuid,noexec/);
    assert.match(run, /^tmpfs \/run tmpfs rw,nosuid[ ,](?!.*noexec)/);
    assert.equal(lines.at(-3), "1777");
    assert.deepEqual(lines.slice(-2), ["65536", "1024"]);
    const bad = await sb.run(["run", "--rm", "--tmpfs", "relative", "busybox", "true"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /mount path must be absolute/);
  },
);

Deno.test({ name: "--shm-size sets /dev/shm's size; 64m by default", ...asRoot }, async () => {
  const script = "df -k /dev/shm | tail -1 | awk '{print $2}'";
  assert.equal(await shIn(["--shm-size", "8m"], script), "8192\n");
  assert.equal(await shIn([], script), "65536\n");
});

Deno.test({ name: "--ulimit sets soft and hard limits before exec", ...asRoot }, async () => {
  const out = await shIn(
    ["--ulimit", "nofile=100:200", "--ulimit", "nproc=50", "--ulimit", "stack=-1"],
    "ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -s; ulimit -Hs",
  );
  assert.equal(out, "100\n200\n50\n50\nunlimited\nunlimited\n");
  for (
    const [arg, message] of [
      ["bogus=1", /invalid ulimit type: bogus/],
      ["nofile=2:1", /soft limit must be less than or equal to hard limit: 2 > 1/],
      ["nofile", /invalid ulimit argument: nofile/],
    ]
  ) {
    const r = await sb.run(["run", "--rm", "--ulimit", arg as string, "busybox", "true"]);
    assert.equal(r.code, 125, arg as string);
    assert.match(r.stderr, message as RegExp);
  }
});

Deno.test({ name: "--oom-score-adj is written before exec", ...asRoot }, async () => {
  assert.equal(await shIn(["--oom-score-adj", "500"], "cat /proc/self/oom_score_adj"), "500\n");
  const r = await sb.run(["run", "--rm", "--oom-score-adj", "1001", "busybox", "true"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /range for oom score adj is \[-1000, 1000\]/);
});

Deno.test(
  { name: "exec'd processes get the container's ulimits and oom_score_adj", ...asRoot },
  async () => {
    const id = (await sb.ok([
      "run",
      "-d",
      "--ulimit",
      "nofile=300:400",
      "--oom-score-adj",
      "321",
      "busybox",
      "sleep",
      "60",
    ])).trim();
    try {
      const out = await sb.ok([
        "exec",
        id,
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj",
      ]);
      assert.equal(out, "300\n400\n321\n");
    } finally {
      await sb.ok(["rm", "-f", id]);
    }
  },
);

Deno.test(
  { name: "--memory-reservation and --oom-kill-disable: checked, shown, warned", ...asRoot },
  async () => {
    const r = await sb.run([
      "run",
      "-d",
      "-m",
      "64m",
      "--memory-reservation",
      "32m",
      "--oom-kill-disable",
      "busybox",
      "sleep",
      "60",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    try {
      const h = (await sb.inspect(id)).HostConfig;
      assert.equal(h.MemoryReservation, 32 * 1024 * 1024);
      assert.equal(h.OomKillDisable, true);
      if (hybrid) {
        assert.equal(r.stderr, "");
        const out = await sb.ok([
          "exec",
          id,
          "cat",
          "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
          "/sys/fs/cgroup/memory/memory.oom_control",
        ]);
        assert.match(out, /^33554432\noom_kill_disable 1\n/);
      }
    } finally {
      await sb.ok(["rm", "-f", id]);
    }
    const noLimit = await sb.run(["run", "--rm", "--oom-kill-disable", "busybox", "true"]);
    assert.equal(noLimit.code, 0);
    assert.match(
      noLimit.stderr,
      /^WARNING: Disabling the OOM killer on containers without setting a '-m\/--memory' limit may be dangerous\.\n$/,
    );
    for (
      const [flags, message] of [
        [
          ["-m", "16m", "--memory-reservation", "32m"],
          /Minimum memory limit can not be less than memory reservation limit/,
        ],
        [["--memory-reservation", "1m"], /Minimum memory reservation allowed is 6MB/],
        [["--memory-reservation", "12xb"], /invalid/i],
      ] as Array<[string[], RegExp]>
    ) {
      const bad = await sb.run(["run", "--rm", ...flags, "busybox", "true"]);
      assert.equal(bad.code, 125, flags.join(" "));
      assert.match(bad.stderr, message);
    }
  },
);

Deno.test(
  { name: "--sysctl: namespaced keys in the container's namespaces only", ...asRoot },
  async () => {
    const hostMsgmax = Deno.readTextFileSync("/proc/sys/kernel/msgmax").trim();
    const hostPing = Deno.readTextFileSync("/proc/sys/net/ipv4/ping_group_range").trim();
    const want = hostMsgmax === "12345" ? "12346" : "12345";
    const out = await shIn(
      ["--sysctl", `kernel.msgmax=${want}`, "--sysctl", "net.ipv4.ping_group_range=7 8"],
      "cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ping_group_range",
    );
    assert.equal(out.replace(/\t/g, " "), `${want}\n7 8\n`);
    // The host's own values did not move.
    assert.equal(Deno.readTextFileSync("/proc/sys/kernel/msgmax").trim(), hostMsgmax);
    assert.equal(Deno.readTextFileSync("/proc/sys/net/ipv4/ping_group_range").trim(), hostPing);
    const notNamespaced = await sb.run([
      "run",
      "--rm",
      "--sysctl",
      "kernel.hostname=x",
      "busybox",
      "true",
    ]);
    assert.equal(notNamespaced.code, 125);
    assert.match(notNamespaced.stderr, /sysctl 'kernel.hostname=x' is not whitelisted/);
    const hostNet = await sb.run([
      "run",
      "--rm",
      "--network",
      "host",
      "--sysctl",
      "net.ipv4.ip_forward=1",
      "busybox",
      "true",
    ]);
    assert.equal(hostNet.code, 125);
    assert.match(hostNet.stderr, /not allowed in host network namespace/);
  },
);

Deno.test(
  { name: "the data root: 0710, containers/ and layers 0700, logs 0640", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "busybox", "echo", "hi"])).trim();
    const mode = (p: string) => Deno.statSync(p).mode! & 0o7777;
    try {
      assert.equal(mode(sb.root), 0o710);
      assert.equal(mode(`${sb.root}/containers`), 0o700);
      assert.equal(mode(`${sb.root}/image/layers`), 0o700);
      assert.equal(mode(`${sb.root}/containers/${id}/${id}-json.log`), 0o640);
    } finally {
      await sb.run(["rm", "-f", id]);
    }
  },
);

Deno.test(
  { name: "a data root its group or others can write is refused", ...asRoot },
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-" });
    try {
      Deno.chmodSync(dir, 0o777);
      const r = await sb.run(["ps", "-a"], { env: { M_DOCKER_ROOT: dir } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /data root .* is writable by its group or others \(mode 0777\)/);
      Deno.chmodSync(dir, 0o775);
      assert.equal((await sb.run(["ps", "-a"], { env: { M_DOCKER_ROOT: dir } })).code, 1);
      Deno.chmodSync(dir, 0o755);
      await sb.ok(["ps", "-a"], { env: { M_DOCKER_ROOT: dir } });
      // An existing root keeps its mode; containers/ is made 0700.
      assert.equal(Deno.statSync(dir).mode! & 0o7777, 0o755);
      assert.equal(Deno.statSync(`${dir}/containers`).mode! & 0o7777, 0o700);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test(
  { name: "inspect shows the confinement flags in HostConfig, as Docker does", ...asRoot },
  async () => {
    const id = (await sb.ok([
      "run",
      "-d",
      "--read-only",
      "--tmpfs",
      "/tmp:size=8m",
      "--shm-size",
      "32m",
      "--ulimit",
      "nofile=100:200",
      "--oom-score-adj",
      "100",
      "busybox",
      "sleep",
      "30",
    ])).trim();
    const h = (await sb.inspect(id)).HostConfig;
    assert.equal(h.ReadonlyRootfs, true);
    assert.match(h.Tmpfs["/tmp"], /size=8m/);
    assert.equal(h.ShmSize, 32 * 1024 * 1024);
    assert.deepEqual(h.Ulimits, [{ Name: "nofile", Soft: 100, Hard: 200 }]);
    assert.equal(h.OomScoreAdj, 100);
    await sb.ok(["rm", "-f", id]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
