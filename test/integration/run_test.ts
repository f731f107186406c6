/**
 * `run` in the foreground: isolation, filesystem, environment, volumes and exit codes, on
 * real namespaces, overlay mounts and cgroups.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();
const run = (...args: string[]) => sb.run(["run", "--rm", "busybox", ...args]);
const out = async (...args: string[]) => {
  const r = await run(...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

Deno.test({ name: "the command runs as PID 1 of its own PID namespace", ...asRoot }, async () => {
  assert.equal(await out("sh", "-c", "echo $$"), "1\n");
  const ps = await out("ps", "-o", "pid,comm");
  assert.deepEqual(ps.trim().split("\n").slice(1).map((l) => l.trim()), ["1 ps"]);
});

Deno.test({
  name: "no init process ran in the PID namespace before the command: its first child is PID 2",
  ...asRoot,
}, async () => {
  // A direct start (src/container/start.ts) clones the command as PID 1; an init process (a
  // Deno, with its threads) would have used up the next PIDs before it exec'd.
  assert.equal(await out("sh", "-c", 'sh -c "echo \\$\\$"; true'), "2\n");
  const detached = (await sb.ok(["run", "-d", "busybox", "sh", "-c", 'sh -c "echo \\$\\$"; true']))
    .trim();
  assert.equal((await sb.ok(["wait", detached])).trim(), "0");
  assert.equal(await sb.ok(["logs", detached]), "2\n");
  await sb.ok(["rm", detached]);
});

Deno.test({
  name:
    "M_DOCKER_INIT_PROCESS=1 starts through the init role: the same confinement, an init ran first",
  ...asRoot,
}, async () => {
  const script =
    'sh -c "echo \\$\\$"; grep -E "^(CapBnd|Seccomp):" /proc/self/status; hostname; pwd';
  const viaInit = await sb.run(["run", "--rm", "-w", "/tmp", "busybox", "sh", "-c", script], {
    env: { M_DOCKER_INIT_PROCESS: "1" },
  });
  assert.equal(viaInit.code, 0, viaInit.stderr);
  const direct = await sb.ok(["run", "--rm", "-w", "/tmp", "busybox", "sh", "-c", script]);
  const [pid, ...rest] = viaInit.stdout.trim().split("\n");
  const [directPid, ...directRest] = direct.trim().split("\n");
  assert.equal(directPid, "2");
  assert.ok(Number(pid) > 2, `init's threads took PIDs before the command: ${pid}`);
  // Hostnames differ (one per container); everything else is the same.
  assert.deepEqual([rest[0], rest[1], rest[3]], [directRest[0], directRest[1], directRest[3]]);
  assert.match(rest[1], /^Seccomp:\s+2$/);
  assert.equal(rest[3], "/tmp");
});

Deno.test({ name: "arguments with spaces and quotes arrive unchanged", ...asRoot }, async () => {
  const args = ["a  b", "c'd", 'e"f', "", "$HOME", "-l", "--rm"];
  const printed = await out("sh", "-c", 'for a in "$@"; do echo "[$a]"; done', "sh", ...args);
  assert.equal(printed, args.map((a) => `[${a}]\n`).join(""));
});

Deno.test(
  { name: "hostname: the short ID by default, --hostname otherwise", ...asRoot },
  async () => {
    assert.match(await out("hostname"), /^[0-9a-f]{12}\n$/);
    assert.equal(
      await sb.ok(["run", "--rm", "--hostname", "web1", "busybox", "hostname"]),
      "web1\n",
    );
    const etc = await sb.ok([
      "run",
      "--rm",
      "-h",
      "web2",
      "busybox",
      "cat",
      "/etc/hostname",
      "/etc/hosts",
    ]);
    assert.match(etc, /^web2\n/);
    assert.match(etc, /127\.0\.0\.1\s+localhost/);
  },
);

Deno.test({ name: "the network namespace has only lo, and it is up", ...asRoot }, async () => {
  assert.equal(await out("ls", "/sys/class/net"), "lo\n");
  assert.match(await out("ip", "link", "show", "lo"), /<LOOPBACK,UP,LOWER_UP>/);
  assert.match(await out("ping", "-c", "1", "-W", "1", "127.0.0.1"), /1 packets received/);
});

Deno.test({
  name: "the mount table: overlay root, proc, read-only sys, dev, pts, shm, mqueue",
  ...asRoot,
}, async () => {
  const mounts = (await out("cat", "/proc/mounts")).trim().split("\n").map((l) => l.split(" "));
  const at = (p: string) => mounts.find((m) => m[1] === p);
  assert.equal(at("/")?.[2], "overlay");
  assert.equal(at("/proc")?.[2], "proc");
  assert.equal(at("/sys")?.[2], "sysfs");
  assert.match(at("/sys")![3], /^ro,/);
  assert.equal(at("/dev")?.[2], "tmpfs");
  assert.equal(at("/dev/pts")?.[2], "devpts");
  assert.equal(at("/dev/shm")?.[2], "tmpfs");
  assert.equal(at("/dev/mqueue")?.[2], "mqueue");
  // Nothing of the host's own mounts is visible.
  assert.ok(!mounts.some((m) => m[1].startsWith("/work") || m[1].startsWith("/tmp/m-docker")));
  // runc's masked and read-only kernel paths.
  assert.equal(await out("cat", "/proc/keys", "/proc/timer_list"), "");
  assert.equal(await out("ls", "-A", "/sys/firmware"), "");
  assert.notEqual((await run("sh", "-c", "echo 1 > /proc/sys/kernel/domainname")).code, 0);
});

Deno.test(
  { name: "/dev holds the standard nodes and nothing of the host's", ...asRoot },
  async () => {
    const names = (await out("ls", "-A", "/dev")).trim().split("\n").sort();
    assert.deepEqual(names, [
      "core",
      "fd",
      "full",
      "mqueue",
      "null",
      "ptmx",
      "pts",
      "random",
      "shm",
      "stderr",
      "stdin",
      "stdout",
      "tty",
      "urandom",
      "zero",
    ]);
    assert.equal(
      await out("sh", "-c", "echo gone > /dev/null && head -c 4 /dev/zero | wc -c"),
      "4\n",
    );
    assert.notEqual((await run("sh", "-c", "echo x > /dev/full")).code, 0);
  },
);

Deno.test(
  { name: "environment: defaults, -e, -e KEY from the caller, --env-file", ...asRoot },
  async () => {
    const envFile = `${sb.dir}/env.list`;
    Deno.writeTextFileSync(envFile, "# comment\nFROM_FILE=yes\nOVERRIDE=file\n");
    const r = await sb.run(
      [
        "run",
        "--rm",
        "-e",
        "A=1",
        "-e",
        "SPACED=a b",
        "-e",
        "PASSED",
        "--env-file",
        envFile,
        "-e",
        "OVERRIDE=cli",
        "busybox",
        "env",
      ],
      { env: { PASSED: "from-caller" } },
    );
    assert.equal(r.code, 0, r.stderr);
    const env = r.stdout.trim().split("\n").sort();
    for (
      const want of [
        "A=1",
        "SPACED=a b",
        "PASSED=from-caller",
        "FROM_FILE=yes",
        "OVERRIDE=cli",
        "HOME=/root",
      ]
    ) {
      assert.ok(env.includes(want), `missing ${want} in ${env}`);
    }
    assert.ok(env.some((e) => e.startsWith("PATH=/usr/local/sbin:")));
    assert.ok(env.some((e) => /^HOSTNAME=[0-9a-f]{12}$/.test(e)));
    assert.ok(
      !env.some((e) => e.startsWith("M_DOCKER_")),
      "the host's environment must not leak in",
    );
  },
);

Deno.test({ name: "-u runs the command as a user of the image", ...asRoot }, async () => {
  assert.equal(
    await sb.ok(["run", "--rm", "-u", "nobody", "busybox", "id"]),
    "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n",
  );
  assert.equal(
    await sb.ok(["run", "--rm", "-u", "1000:1001", "busybox", "sh", "-c", "id -u; id -g"]),
    "1000\n1001\n",
  );
  const bad = await sb.run(["run", "--rm", "-u", "nosuchuser", "busybox", "id"]);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /unable to find user nosuchuser/);
  // A user without root's capabilities cannot undo the container's limits.
  assert.notEqual(
    (await sb.run(["run", "--rm", "-u", "nobody", "busybox", "hostname", "x"])).code,
    0,
  );
});

Deno.test({ name: "-w sets (and creates) the working directory", ...asRoot }, async () => {
  assert.equal(await sb.ok(["run", "--rm", "-w", "/srv/app", "busybox", "pwd"]), "/srv/app\n");
  const r = await sb.run(["run", "--rm", "-w", "relative", "busybox", "pwd"]);
  assert.equal(r.code, 125);
});

Deno.test({ name: "volumes: read-write and read-only bind mounts", ...asRoot }, async () => {
  const host = `${sb.dir}/vol`;
  Deno.mkdirSync(host);
  Deno.writeTextFileSync(`${host}/from-host`, "hi\n");
  assert.equal(
    await sb.ok([
      "run",
      "--rm",
      "-v",
      `${host}:/data`,
      "busybox",
      "sh",
      "-c",
      "cat /data/from-host; echo c > /data/from-ctr",
    ]),
    "hi\n",
  );
  assert.equal(Deno.readTextFileSync(`${host}/from-ctr`), "c\n");
  const ro = await sb.run([
    "run",
    "--rm",
    "-v",
    `${host}:/data:ro`,
    "busybox",
    "sh",
    "-c",
    "echo x > /data/ro",
  ]);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  // A missing host directory is created, as Docker does.
  assert.equal(
    (await sb.run(["run", "--rm", "-v", `${sb.dir}/new/dir:/x`, "busybox", "true"])).code,
    0,
  );
  assert.ok(Deno.statSync(`${sb.dir}/new/dir`).isDirectory);
});

Deno.test(
  { name: "the rootfs is copy-on-write: changes stay in the container", ...asRoot },
  async () => {
    assert.equal((await run("sh", "-c", "rm /bin/ls && echo x > /etc/passwd")).code, 0);
    assert.equal(await out("sh", "-c", "test -e /bin/ls && head -c 5 /etc/passwd"), "root:");
  },
);

Deno.test(
  { name: "exit codes: the command's own, 126, 127, and 128+N for a signal", ...asRoot },
  async () => {
    assert.equal((await run("sh", "-c", "exit 3")).code, 3);
    assert.equal((await run("true")).code, 0);
    const notFound = await run("no-such-command");
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /executable file not found in \$PATH/);
    assert.equal((await run("/no/such/path")).code, 127);
    const notExec = await run("/etc/passwd");
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /permission denied/);
    assert.equal((await run("/etc")).code, 126);
    // A child killed by a signal: the shell reports 128+N, and so does m-docker for PID 1.
    assert.equal((await run("sh", "-c", "sh -c 'kill -USR1 $$'; exit $?")).code, 138);
  },
);

Deno.test({ name: "stdin: closed without -i, streamed with -i", ...asRoot }, async () => {
  assert.equal(
    (await sb.run(["run", "--rm", "-i", "busybox", "cat"], { stdin: "hi\n" })).stdout,
    "hi\n",
  );
  assert.equal((await sb.run(["run", "--rm", "busybox", "cat"], { stdin: "hi\n" })).stdout, "");
});

Deno.test(
  { name: "no descriptor of the runtime leaks into the container", ...asRoot },
  async () => {
    // 0-2 are stdio and 3 is ls's own handle on the directory it lists.
    assert.equal(await out("ls", "/proc/self/fd"), "0\n1\n2\n3\n");
  },
);

Deno.test({ name: "capabilities are Docker's default set", ...asRoot }, async () => {
  const status = await out("grep", "CapBnd", "/proc/self/status");
  assert.equal(status.trim(), "CapBnd:\t00000000a80425fb");
});

Deno.test({
  name: "--rm leaves no container behind; without it the container stays exited",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "--rm", "busybox", "true"]);
  assert.deepEqual(sb.containerIds(), []);
  await sb.ok(["run", "--name", "kept", "busybox", "true"]);
  assert.match(await sb.ok(["ps", "-a"]), /Exited \(0\).*kept/);
  await sb.ok(["rm", "kept"]);
  assert.deepEqual(sb.containerIds(), []);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
