/**
 * `exec`: a process that joins a running container's namespaces and cgroup, with the
 * container's environment and working directory unless told otherwise.
 */
import assert from "node:assert/strict";
import { asRoot, processesRunning, Sandbox, waitFor } from "./harness.ts";

/** Host PIDs of the processes (exec'd by these tests) whose command line is `sleep SECONDS`. */
const sleepers = (seconds: string) => processesRunning(["sleep", seconds]);

const sb = new Sandbox();
let id = "";

Deno.test(
  { name: "exec joins the container's namespaces, root and cgroup", ...asRoot },
  async () => {
    id = (await sb.ok([
      "run",
      "-d",
      "--name",
      "target",
      "-e",
      "FROM_RUN=1",
      "-w",
      "/srv",
      "--pids-limit",
      "50",
      "busybox",
      "sh",
      "-c",
      "echo made-by-run > /tmp/marker; exec sleep 60",
    ])).trim();
    await waitFor(
      async () =>
        (await sb.run(["exec", "target", "cat", "/tmp/marker"])).stdout === "made-by-run\n",
      {
        what: "the marker run wrote",
      },
    );
    // PID namespace: the container's PID 1 is visible as 1, and the exec'd process is not 1.
    assert.equal(await sb.ok(["exec", "target", "cat", "/proc/1/comm"]), "sleep\n");
    assert.notEqual(await sb.ok(["exec", "target", "sh", "-c", "echo $$"]), "1\n");
    assert.equal(await sb.ok(["exec", "target", "hostname"]), `${id.slice(0, 12)}\n`);
    assert.equal(await sb.ok(["exec", "target", "ls", "/sys/class/net"]), "lo\n");
    // The container's cgroup namespace, which the child joins by itself.
    const pid1 = (await sb.inspect("target")).State.Pid;
    assert.equal(
      (await sb.ok(["exec", "target", "readlink", "/proc/self/ns/cgroup"])).trim(),
      Deno.readLinkSync(`/proc/${pid1}/ns/cgroup`),
    );
    // The same cgroup as the container's PID 1, in every hierarchy (on v1 the exec'd child
    // joins each by itself).
    const inspected = JSON.parse(await sb.ok(["inspect", "target"]))[0];
    const dirs = Object.values(inspected.Cgroup.Paths) as string[];
    assert.ok(dirs.length > 0);
    const child = sb.run(["exec", "target", "sleep", "31"]);
    await waitFor(() => sleepers("31").length === 1, { what: "the exec'd sleep 31" });
    for (const dir of dirs) {
      const procs = Deno.readTextFileSync(`${dir}/cgroup.procs`).trim().split("\n");
      assert.ok(procs.includes(String(sleepers("31")[0])), `${dir} lacks the exec'd process`);
    }
    for (const pid of sleepers("31")) Deno.kill(pid, "SIGKILL");
    await child;
    assert.equal(
      await sb.ok(["exec", "target", "grep", "CapBnd", "/proc/self/status"]),
      "CapBnd:\t00000000a80425fb\n",
    );
    // No descriptor of the CLI leaks in: 0-2, and 3 is ls's own.
    assert.equal(await sb.ok(["exec", "target", "ls", "/proc/self/fd"]), "0\n1\n2\n3\n");
  },
);

Deno.test(
  { name: "exec uses the container's env and workdir; -e, -w and -u override", ...asRoot },
  async () => {
    const env = await sb.ok(["exec", "target", "env"]);
    assert.match(env, /^FROM_RUN=1$/m);
    assert.match(env, /^PATH=\/usr\/local\/sbin:/m);
    assert.equal(await sb.ok(["exec", "target", "pwd"]), "/srv\n");
    assert.equal(await sb.ok(["exec", "-w", "/tmp", "target", "pwd"]), "/tmp\n");
    assert.equal(
      await sb.ok([
        "exec",
        "-e",
        "FROM_RUN=2",
        "-e",
        "NEW=x",
        "target",
        "sh",
        "-c",
        "echo $FROM_RUN$NEW",
      ]),
      "2x\n",
    );
    assert.equal(
      await sb.ok(["exec", "-u", "nobody", "target", "id"]),
      "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n",
    );
    assert.equal(await sb.ok(["exec", "-u", "1234:5678", "target", "id", "-u"]), "1234\n");
    const bad = await sb.run(["exec", "-u", "nosuchuser", "target", "id"]);
    assert.equal(bad.code, 126);
    assert.match(bad.stderr, /unable to find user nosuchuser/);
  },
);

Deno.test({ name: "exec exit codes: the command's, 126, 127", ...asRoot }, async () => {
  assert.equal((await sb.run(["exec", "target", "sh", "-c", "exit 3"])).code, 3);
  const notFound = await sb.run(["exec", "target", "no-such-command"]);
  assert.equal(notFound.code, 127);
  assert.match(notFound.stderr, /executable file not found/);
  assert.equal((await sb.run(["exec", "target", "/etc/passwd"])).code, 126);
  assert.equal((await sb.run(["exec", "-w", "/no/such/dir", "target", "true"])).code, 126);
});

Deno.test({ name: "exec -i streams stdin; without -i stdin is empty", ...asRoot }, async () => {
  assert.equal(
    (await sb.run(["exec", "-i", "target", "cat"], { stdin: "piped in\n" })).stdout,
    "piped in\n",
  );
  assert.equal((await sb.run(["exec", "target", "cat"], { stdin: "ignored\n" })).stdout, "");
});

Deno.test(
  { name: "exec -d returns at once and its process outlives the command", ...asRoot },
  async () => {
    // The detached process waits for /tmp/go, which only the test makes, after exec -d
    // has returned.
    const r = await sb.run([
      "exec",
      "-d",
      "target",
      "sh",
      "-c",
      "until [ -e /tmp/go ]; do sleep 0.05; done; echo done > /tmp/detached",
    ]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.notEqual(
      (await sb.run(["exec", "target", "cat", "/tmp/detached"])).code,
      0,
      "not yet written",
    );
    await sb.ok(["exec", "target", "touch", "/tmp/go"]);
    await waitFor(
      async () => (await sb.run(["exec", "target", "cat", "/tmp/detached"])).stdout === "done\n",
      { what: "the detached process to write /tmp/detached" },
    );
  },
);

Deno.test(
  { name: "exec into a stopped or unknown container: exit 1, as Docker's", ...asRoot },
  async () => {
    await sb.ok(["run", "--name", "stopped", "busybox", "true"]);
    const r = await sb.run(["exec", "stopped", "true"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not running/);
    const unknown = await sb.run(["exec", "nope", "true"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No such container: nope/);
    const noCmd = await sb.run(["exec", "target"]);
    assert.equal(noCmd.code, 1);
    await sb.ok(["rm", "stopped"]);
  },
);

Deno.test(
  { name: "top lists the container's processes with host and container PIDs", ...asRoot },
  async () => {
    const child = sb.run(["exec", "target", "sleep", "32"]);
    let out = "";
    await waitFor(async () => (out = await sb.ok(["top", "target"])).includes("sleep 32"), {
      what: "top to list the exec'd sleep 32",
    });
    for (const pid of sleepers("32")) Deno.kill(pid, "SIGKILL");
    await child;
    const lines = out.trim().split("\n");
    assert.match(lines[0], /^UID\s+PID\s+PPID\s+CONTAINER PID\s+CMD$/);
    const first = lines[1].split(/\s+/);
    assert.equal(first[3], "1");
    assert.equal(first[4], "sleep");
    const inspected = JSON.parse(await sb.ok(["inspect", "target"]))[0];
    assert.equal(Number(first[1]), inspected.State.Pid);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
