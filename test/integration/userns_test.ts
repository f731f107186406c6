/**
 * User-namespace remapping (`--userns=remap`, `M_DOCKER_USERNS_REMAP=default`): container
 * root is the dockremap range of the subuid/subgid files (here the test's own files, never
 * the machine's /etc), the image's files are root's through idmapped layers, what the
 * container writes belongs to the range on the host, and root's capabilities are worth
 * nothing outside its user namespace, even with --privileged.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, processesRunning, Sandbox, sh, waitFor, WatchedChild } from "./harness.ts";

const sb = new Sandbox();
const BASE = 100000;
const files = `${sb.dir}/ids`;
const REMAP_ENV = {
  M_DOCKER_SUBUID_FILE: `${files}/subuid`,
  M_DOCKER_SUBGID_FILE: `${files}/subgid`,
};
if (asRoot.ignore === false) {
  Deno.mkdirSync(files, { recursive: true });
  // Other users' lines first: only dockremap's first entry counts.
  const text = `someone:200000:65536\ndockremap:${BASE}:65536\ndockremap:500000:65536\n`;
  Deno.writeTextFileSync(REMAP_ENV.M_DOCKER_SUBUID_FILE, text);
  Deno.writeTextFileSync(REMAP_ENV.M_DOCKER_SUBGID_FILE, text);
}

/** m-docker with the test's subuid/subgid files. */
const remapped = (args: string[], env: Record<string, string> = {}) =>
  sb.run(args, { env: { ...REMAP_ENV, ...env } });
const remappedOk = (args: string[], env: Record<string, string> = {}) =>
  sb.ok(args, { env: { ...REMAP_ENV, ...env } });

/** A host process's uid and gid lines from /proc. */
function hostIds(pid: number): { uid: number; gid: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return {
    uid: Number(status.match(/^Uid:\s+(\d+)/m)![1]),
    gid: Number(status.match(/^Gid:\s+(\d+)/m)![1]),
  };
}

Deno.test(
  { name: "container root is uid 0 inside and the dockremap range outside", ...asRoot },
  async () => {
    const out = await remappedOk([
      "run",
      "--rm",
      "--userns=remap",
      "busybox",
      "sh",
      "-c",
      "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g / /bin/busybox /etc/passwd",
    ]);
    const lines = out.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    assert.deepEqual(lines, [
      "0",
      "0",
      `0 ${BASE} 65536`,
      `0 ${BASE} 65536`,
      // The image's files (host root's on disk) are root's, seen through idmapped layers.
      "0:0",
      "0:0",
      "0:0",
    ]);
  },
);

Deno.test(
  { name: "what a remapped container creates belongs to the range on the host", ...asRoot },
  async () => {
    await remappedOk([
      "run",
      "--name",
      "writer",
      "--userns=remap",
      "busybox",
      "sh",
      "-c",
      "echo x > /made-by-root; mkdir /data; echo y > /data/f; chown 1000:1000 /data/f",
    ]);
    const upper = (await sb.inspect("writer")).GraphDriver.Data.UpperDir;
    const s = Deno.statSync(`${upper}/made-by-root`);
    assert.deepEqual([s.uid, s.gid], [BASE, BASE]);
    const t = Deno.statSync(`${upper}/data/f`);
    assert.deepEqual([t.uid, t.gid], [BASE + 1000, BASE + 1000]);
    await sb.ok(["rm", "writer"]);
  },
);

Deno.test(
  { name: "a host directory of host root's shows as nobody's and stays unwritable", ...asRoot },
  async () => {
    const vol = `${sb.dir}/vol`;
    Deno.mkdirSync(vol, { mode: 0o755 });
    Deno.writeTextFileSync(`${vol}/f`, "host\n");
    const r = await remapped([
      "run",
      "--rm",
      "--userns=remap",
      "-v",
      `${vol}:/vol`,
      "busybox",
      "sh",
      "-c",
      "stat -c %u:%g /vol /vol/f; cat /vol/f; touch /vol/new 2>&1; echo rc=$?",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [dir, file, content, touch, rc] = r.stdout.trim().split("\n");
    assert.deepEqual([dir, file, content], ["65534:65534", "65534:65534", "host"]);
    assert.match(touch, /Permission denied/);
    assert.equal(rc, "rc=1");
    assert.deepEqual([...Deno.readDirSync(vol)].map((e) => e.name), ["f"]);
  },
);

Deno.test(
  {
    name: "-d, exec and inspect: everything runs as the range, exec joins the namespace",
    ...asRoot,
  },
  async () => {
    const id = (await remappedOk([
      "run",
      "-d",
      "--userns=remap",
      "--read-only",
      "busybox",
      "sleep",
      "300",
    ])).trim();
    const info = await sb.inspect(id);
    assert.equal(info.HostConfig.UsernsMode, "remap");
    assert.deepEqual(hostIds(info.State.Pid), { uid: BASE, gid: BASE });
    const ns = Deno.readLinkSync(`/proc/${info.State.Pid}/ns/user`);
    assert.notEqual(ns, Deno.readLinkSync("/proc/self/ns/user"));
    // exec: the same user namespace, root there, Docker's default bounding set, the filter.
    const out = await sb.ok([
      "exec",
      id,
      "sh",
      "-c",
      "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; grep -E 'CapBnd|Seccomp:' /proc/self/status; touch /x 2>&1; true",
    ]);
    assert.deepEqual(out.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" ")), [
      "0",
      `0 ${BASE} 65536`,
      ns,
      "CapBnd: 00000000a80425fb",
      "Seccomp: 2",
      "touch: /x: Read-only file system",
    ]);
    // exec -u: the container's uid 1000 is the range's 1000 on the host.
    const child = sb.run(["exec", "-u", "1000:1000", id, "sleep", "41"]);
    await waitFor(() => processesRunning(["sleep", "41"]).length === 1, {
      what: "the exec'd sleep 41",
    });
    const [pid] = processesRunning(["sleep", "41"]);
    assert.deepEqual(hostIds(pid), { uid: BASE + 1000, gid: BASE + 1000 });
    assert.equal(Deno.readLinkSync(`/proc/${pid}/ns/user`), ns);
    Deno.kill(pid, "SIGKILL");
    await child;
    // A crash of the container's process is reconciled, and it starts remapped again.
    Deno.kill(info.State.Pid, "SIGKILL");
    await waitFor(async () => (await sb.inspect(id)).State.Status === "exited", {
      what: "the killed container to be exited",
    });
    await sb.ok(["start", id]);
    const again = await sb.inspect(id);
    assert.equal(again.State.Status, "running");
    assert.deepEqual(hostIds(again.State.Pid), { uid: BASE, gid: BASE });
    await sb.ok(["rm", "-f", id]);
  },
);

/** Runs m-docker with `args` under a pty made by `script`, `input` typed ahead. */
async function underTerminal(args: string[], input: string) {
  const line = [BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const t = new WatchedChild("script", ["-qefc", line, "/dev/null"], {
    env: { ...sb.env(), ...REMAP_ENV },
    stdin: true,
  });
  try {
    await t.send(input);
    const { code } = await t.exited({ timeoutMs: 30_000 });
    return { code, output: t.stdout };
  } finally {
    await t.close();
  }
}

Deno.test({ name: "run -it and exec -it in a remapped container", ...asRoot }, async () => {
  const r = await underTerminal(
    ["run", "--rm", "-it", "--userns=remap", "busybox", "sh"],
    "tty; cat /proc/self/uid_map; id -u\nexit 7\n",
  );
  assert.equal(r.code, 7, r.output);
  assert.match(r.output, /\/dev\/pts\/0\r*\n/);
  assert.match(r.output, new RegExp(`0\\s+${BASE}\\s+65536`));
  // Init's own boot prints nothing on the terminal (Deno's cache warnings, say).
  assert.doesNotMatch(r.output, /Failed to open|cache/);
  await remappedOk(["run", "-d", "--userns=remap", "--name", "tbox", "busybox", "sleep", "60"]);
  const e = await underTerminal(["exec", "-it", "tbox", "sh"], "tty; id -u\nexit 5\n");
  assert.equal(e.code, 5, e.output);
  assert.match(e.output, /\/dev\/pts\/\d+\r*\n/);
  assert.doesNotMatch(e.output, /job control turned off/);
  await sb.ok(["rm", "-f", "tbox"]);
});

Deno.test(
  {
    name: "--privileged and --cap-add SYS_ADMIN in a remapped container hold nothing on the host",
    ...asRoot,
  },
  async () => {
    // swappiness is one of the kernel's global settings; writing its own value back
    // changes nothing even where it is allowed (CAP_SYS_ADMIN may make /proc/sys writable
    // first). mknod needs the host's CAP_MKNOD. This kernel has no sysrq-trigger and no
    // module loading at all; where it has sysrq, writing it is tried too.
    const probe = "mount -o remount,rw /proc/sys 2>/dev/null; " +
      "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness && echo sysctl-written; " +
      "mknod /tmp/null c 1 3 && echo mknod-done; " +
      "[ -e /proc/sysrq-trigger ] && { echo > /proc/sysrq-trigger && echo sysrq-written; }; " +
      "grep CapEff /proc/self/status";
    const host = await remappedOk(["run", "--rm", "--privileged", "busybox", "sh", "-c", probe]);
    assert.match(host, /sysctl-written\nmknod-done\n/);
    for (const flags of [["--privileged"], ["--cap-add", "SYS_ADMIN", "--tmpfs", "/tmp"]]) {
      const r = await remapped([
        "run",
        "--rm",
        "--userns=remap",
        ...flags,
        "busybox",
        "sh",
        "-c",
        probe,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /written|mknod-done/, `${flags}: ${r.stdout}`);
      assert.match(r.stderr, /swappiness: Permission denied/);
      assert.match(r.stderr, /mknod: \/tmp\/null: Operation not permitted/);
      // ... although every capability of the container's own user namespace is there.
      if (flags[0] === "--privileged") assert.match(r.stdout, /CapEff:\s+000001ffffffffff/);
    }
  },
);

Deno.test(
  {
    name: "M_DOCKER_USERNS_REMAP=default makes remap the default; --userns=host opts out",
    ...asRoot,
  },
  async () => {
    const env = { M_DOCKER_USERNS_REMAP: "default" };
    const map = (out: string) => out.trim().split(/\s+/).join(" ");
    assert.equal(
      map(await remappedOk(["run", "--rm", "busybox", "cat", "/proc/self/uid_map"], env)),
      `0 ${BASE} 65536`,
    );
    assert.equal(
      map(
        await remappedOk(
          ["run", "--rm", "--userns=host", "busybox", "cat", "/proc/self/uid_map"],
          env,
        ),
      ),
      "0 0 4294967295",
    );
    const id = (await remappedOk(["run", "-d", "--userns=host", "busybox", "sleep", "60"])).trim();
    assert.equal((await sb.inspect(id)).HostConfig.UsernsMode, "host");
    await sb.ok(["rm", "-f", id]);
    const plain = (await remappedOk(["run", "-d", "busybox", "sleep", "60"])).trim();
    assert.equal((await sb.inspect(plain)).HostConfig.UsernsMode, "");
    await sb.ok(["rm", "-f", plain]);
  },
);

Deno.test(
  { name: "a bad --userns, a bad default or no range: 125, one line, nothing created", ...asRoot },
  async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; error: RegExp }> = [
      {
        args: ["--userns=private"],
        error: /invalid --userns "private": it must be "host" or "remap"/,
      },
      { args: ["--userns", "container:x"], error: /invalid --userns "container:x"/ },
      { args: [], env: { M_DOCKER_USERNS_REMAP: "dockremap" }, error: /M_DOCKER_USERNS_REMAP/ },
      {
        args: ["--userns=remap"],
        env: { M_DOCKER_SUBUID_FILE: `${files}/missing` },
        error: /needs a dockremap range in .*missing: add a line such as "dockremap:100000:65536"/,
      },
      {
        args: ["--userns=remap", "-d"],
        env: { M_DOCKER_SUBGID_FILE: REMAP_ENV.M_DOCKER_SUBUID_FILE.replace("subuid", "none") },
        error: /needs a dockremap range/,
      },
    ];
    for (const c of cases) {
      const before = sb.containerIds();
      const r = await remapped(["run", "--rm", ...c.args, "busybox", "true"], c.env);
      assert.equal(r.code, 125, `${c.args}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.error);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.deepEqual(sb.containerIds(), before);
    }
  },
);

Deno.test(
  {
    name: "a data root whose filesystem refuses idmapped mounts: a clear error, nothing left",
    ...asRoot,
  },
  async () => {
    // ramfs cannot be idmapped; the image is imported into it by this first run.
    const ram = `${sb.dir}/ramfs`;
    Deno.mkdirSync(ram);
    sh(["mount", "-t", "ramfs", "ramfs", ram]);
    try {
      const env = { M_DOCKER_ROOT: `${ram}/root` };
      const before = sb.containerIds();
      for (const detach of [[], ["-d"]]) {
        const r = await remapped(
          ["run", "--rm", ...detach, "--userns=remap", "busybox", "true"],
          env,
        );
        assert.equal(r.code, 125, r.stdout + r.stderr);
        assert.match(r.stderr, /remapping needs idmapped mounts of the image's layers/);
        assert.deepEqual(sb.containerIds(), before);
        assert.deepEqual([...Deno.readDirSync(`${ram}/root/containers`)], []);
      }
    } finally {
      sh(["umount", ram]);
    }
  },
);

Deno.test(
  {
    name: "a remapped container and its exec'd processes get --ulimit and --oom-score-adj",
    ...asRoot,
  },
  async () => {
    // Set on init by its parent (its own capabilities count only in its user namespace).
    const flags = ["--userns=remap", "--oom-score-adj", "450", "--ulimit", "nofile=300:400"];
    const script = "cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn";
    assert.equal(
      await remappedOk(["run", "--rm", ...flags, "busybox", "sh", "-c", script]),
      "450\n300\n400\n",
    );
    const id = (await remappedOk(["run", "-d", ...flags, "busybox", "sleep", "60"])).trim();
    try {
      assert.equal(await remappedOk(["exec", id, "sh", "-c", script]), "450\n300\n400\n");
    } finally {
      await remappedOk(["rm", "-f", id]);
    }
  },
);

Deno.test({ name: "userns: cleanup leaves nothing behind", ...asRoot }, async () => {
  await sb.cleanup();
});
