/**
 * `run -d` and the lifecycle commands: the shim, logs, stop, kill, rm, wait, inspect, ps,
 * concurrency, and crash safety when the shim is killed.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, pidsWhere, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();

const inspect = (ref: string) => sb.inspect(ref);

/** Waits until a container's log is `text` (so its traps are set, when it says so). */
function logged(name: string, text: string): Promise<void> {
  return waitFor(async () => (await sb.run(["logs", name])).stdout === text, {
    what: `${JSON.stringify(text)} in the log of ${name}`,
  });
}

function shimPid(id: string): number {
  const state = JSON.parse(Deno.readTextFileSync(`${sb.state}/${id}/state.json`));
  return state.monitorPid;
}

/** True once `pid` has exited (a zombie counts: it runs no more). */
function exited(pid: number): boolean {
  try {
    return /\) [ZX]/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return true;
  }
}

Deno.test(
  { name: "run -d prints the full ID and returns with the container running", ...asRoot },
  async () => {
    const id = (await sb.ok([
      "run",
      "-d",
      "--name",
      "web",
      "busybox",
      "sh",
      "-c",
      "echo out; echo err >&2; sleep 60",
    ])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const c = await inspect("web");
    assert.equal(c.State.Status, "running");
    assert.equal(c.State.Running, true);
    assert.ok(c.State.Pid > 0);
    assert.equal(c.Id, id);
    assert.equal(c.Name, "/web");
    // The shim is its own session leader, detached from any terminal.
    const stat = Deno.readTextFileSync(`/proc/${shimPid(id)}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    assert.equal(Number(fields[3]), shimPid(id), "shim is a session leader");
    assert.equal(Number(fields[4]), 0, "shim has no controlling terminal");
    const ps = await sb.ok(["ps"]);
    assert.match(ps, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
    assert.match(
      ps,
      new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo out; ec…"\\s+.*Up .*web`),
    );
    const full = await sb.ok(["ps", "--no-trunc"]);
    assert.match(
      full,
      new RegExp(`${id}\\s+busybox\\s+"sh -c 'echo out; echo err >&2; sleep 60'"`),
    );
    await logged("web", "out\n");
    const logs = await sb.run(["logs", "web"]);
    assert.equal(logs.stderr, "err\n");
    const stamped = await sb.run(["logs", "-t", "web"]);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\n$/);
  },
);

/** Fields 3 onwards of /proc/PID/stat (field 4, the parent, is at index 1). */
function statFields(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

const cmdline = (pid: number) => Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");

Deno.test(
  {
    name: "run -d: the shim becomes the monitor role, same pid, and logs/attach/restart/wait work",
    ...asRoot,
  },
  async () => {
    const id = (await sb.ok([
      "run",
      "-d",
      "--name",
      "watched",
      "--restart",
      "on-failure:1",
      "busybox",
      "sh",
      "-c",
      "echo start; while [ ! -e /go ]; do sleep 0.05; done; echo after; exit 3",
    ])).trim();
    const monitor = shimPid(id);
    // The execve happens after `run -d` returns.
    await waitFor(() => cmdline(monitor).includes("m-docker-role:monitor"), {
      what: "the shim to become the monitor",
      detail: () => cmdline(monitor).join(" "),
    });
    assert.ok(!cmdline(monitor).includes("m-docker-role:shim"));
    const state = JSON.parse(Deno.readTextFileSync(`${sb.state}/${id}/state.json`));
    // execve keeps the start time, so the recorded identity of the monitor still holds.
    assert.equal(Number(statFields(monitor)[19]), state.monitorStartTime);
    const first = (await inspect("watched")).State.Pid;
    assert.equal(Number(statFields(first)[1]), monitor, "the container is the monitor's child");
    await logged("watched", "start\n");
    // attach through the monitor: it sees the output the container writes from now on. The
    // client is connected once the monitor holds one more socket (the log line above was
    // written by the monitor, so its attach socket already listens).
    const sockets = () =>
      [...Deno.readDirSync(`/proc/${monitor}/fd`)].filter((e) => {
        try {
          return Deno.readLinkSync(`/proc/${monitor}/fd/${e.name}`).startsWith("socket:");
        } catch {
          return false;
        }
      }).length;
    const before = sockets();
    const attach = new Deno.Command(BIN, {
      args: ["attach", "watched"],
      env: sb.env(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const attached = attach.output();
    await waitFor(() => sockets() > before, { what: "attach to connect to the monitor" });
    await sb.ok(["exec", "watched", "touch", "/go"]);
    const out = await attached;
    assert.match(new TextDecoder().decode(out.stdout), /after\n/);
    // The restart policy restarts it from the monitor (its start code imported then), and
    // the second run (the file is still there) exits at once: on-failure:1 ends there.
    await waitFor(
      async () => {
        const c = await inspect("watched");
        return c.RestartCount === 1 && c.State.Status === "exited";
      },
      { what: "one restart, then the exit" },
    );
    assert.equal((await sb.ok(["wait", "watched"])).trim(), "3");
    assert.equal((await sb.run(["logs", "watched"])).stdout, "start\nafter\nstart\nafter\n");
    await waitFor(() => {
      try {
        return !cmdline(monitor).includes("m-docker-role:monitor");
      } catch {
        return true;
      }
    }, { what: "the monitor to exit" });
    await sb.ok(["rm", "watched"]);
  },
);

Deno.test({
  name: "ID prefix and name both resolve; unknown and ambiguous refs are errors",
  ...asRoot,
}, async () => {
  const id = (await inspect("web")).Id as string;
  assert.equal((await inspect(id.slice(0, 5))).Id, id);
  // Docker: `[]` on stdout, the error on stderr, exit 1 (125 is for run/create only).
  const missing = await sb.run(["inspect", "no-such-container"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "[]\n");
  assert.match(missing.stderr, /^error: no such object: no-such-container$/m);
});

Deno.test({ name: "duplicate names are refused, leaving nothing behind", ...asRoot }, async () => {
  const before = sb.containerIds().length;
  const r = await sb.run(["run", "-d", "--name", "web", "busybox", "true"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Conflict\. The container name "\/web" is already in use/);
  assert.equal(sb.containerIds().length, before);
});

Deno.test({ name: "rm refuses a running container; rm -f removes it", ...asRoot }, async () => {
  const r = await sb.run(["rm", "web"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^Error response from daemon: cannot remove container "web": container is running: stop the container before removing or force remove$/m,
  );
  const pid = (await inspect("web")).State.Pid;
  assert.equal(await sb.ok(["rm", "-f", "web"]), "web\n");
  assert.throws(() => Deno.statSync(`/proc/${pid}`));
  assert.equal((await sb.run(["inspect", "web"])).code, 1);
});

Deno.test({
  name: "stop: SIGTERM first, SIGKILL after the timeout for a process that ignores it",
  ...asRoot,
}, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "stubborn",
    "busybox",
    "sh",
    "-c",
    // It notes SIGTERM and carries on: only the SIGKILL after the timeout ends it.
    "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done",
  ]);
  await logged("stubborn", "ready\n");
  assert.equal(await sb.ok(["stop", "-t", "2", "stubborn"]), "stubborn\n");
  const c = await inspect("stubborn");
  assert.equal(c.State.Status, "exited");
  assert.equal(c.State.ExitCode, 137);
  assert.equal(await sb.ok(["logs", "stubborn"]), "ready\ngot TERM\n", "SIGTERM came first");
  assert.match(await sb.ok(["ps", "-a"]), /Exited \(137\) .* ago\s+stubborn/);
  // A polite process stops at SIGTERM with its own code.
  await sb.ok([
    "run",
    "-d",
    "--name",
    "polite",
    "busybox",
    "sh",
    "-c",
    "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done",
  ]);
  await logged("polite", "ready\n");
  await sb.ok(["stop", "polite"]);
  assert.equal((await inspect("polite")).State.ExitCode, 7);
  await sb.ok(["rm", "stubborn", "polite"]);
});

Deno.test({ name: "kill -s and wait report the signal's exit code", ...asRoot }, async () => {
  await sb.ok(["run", "-d", "--name", "killme", "busybox", "sleep", "60"]);
  const waiting = sb.run(["wait", "killme"]);
  await sb.ok(["kill", "-s", "KILL", "killme"]);
  const w = await waiting;
  assert.equal(w.stdout, "137\n");
  const again = await sb.run(["kill", "killme"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not running/);
  await sb.ok(["rm", "killme"]);
});

Deno.test(
  { name: "logs -f follows until the container exits; --tail limits", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "counter",
      "busybox",
      "sh",
      "-c",
      "for i in 1 2 3 4 5; do echo $i; sleep 0.1; done",
    ]);
    const followed = await sb.run(["logs", "-f", "counter"]);
    assert.equal(followed.stdout, "1\n2\n3\n4\n5\n");
    assert.equal(await sb.ok(["logs", "--tail", "2", "counter"]), "4\n5\n");
    assert.equal((await inspect("counter")).State.ExitCode, 0);
    await sb.ok(["rm", "counter"]);
  },
);

Deno.test(
  { name: "wait reports the exit code of a --rm container it saw go", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.5; exit 3"]))
      .trim();
    assert.equal(await sb.ok(["wait", id]), "3\n");
    await waitFor(() => !sb.containerIds().includes(id), { what: "auto-removal" });
  },
);

Deno.test({ name: "run -d --rm removes the container when it exits", ...asRoot }, async () => {
  const id = (await sb.ok(["run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.2"])).trim();
  await waitFor(() => !sb.containerIds().includes(id), { what: "auto-removal" });
});

Deno.test(
  { name: "an --rm container that dies unseen is removed by the next ps", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "--rm", "--name", "lost-rm", "busybox", "sleep", "60"]))
      .trim();
    const pid = (await inspect(id)).State.Pid;
    const shim = shimPid(id);
    Deno.kill(shim, "SIGKILL");
    await waitFor(() => exited(shim), { what: "the shim's death" });
    Deno.kill(pid, "SIGKILL");
    await waitFor(() => exited(pid), { what: "the container's death" });
    // Nobody saw it die: this ps is the one that records it, and removes it as --rm asks.
    assert.doesNotMatch(await sb.ok(["ps", "-a"]), /lost-rm/);
    assert.ok(!sb.containerIds().includes(id), "its state is gone");
    assert.deepEqual(sb.leftoverCgroups().filter((d) => d.includes(id)), [], "its cgroup too");
    // Its name is free again.
    assert.equal(
      await sb.ok(["run", "--rm", "--name", "lost-rm", "busybox", "echo", "ok"]),
      "ok\n",
    );
  },
);

Deno.test({ name: "20 concurrent run -d all start, with unique names", ...asRoot }, async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, () => sb.run(["run", "-d", "busybox", "sleep", "60"])),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const ids = results.map((r) => r.stdout.trim());
  assert.equal(new Set(ids).size, 20);
  const json = (await sb.ok(["ps", "--format", "json"])).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(json.length, 20);
  assert.equal(new Set(json.map((c) => c.Names)).size, 20);
  assert.ok(json.every((c) => c.State === "running"));
  assert.equal((await sb.ok(["ps", "-q"])).trim().split("\n").length, 20);
  await sb.ok(["rm", "-f", ...ids]);
  assert.equal(await sb.ok(["ps", "-aq"]), "");
});

Deno.test(
  { name: "kill -9 of the shim: ps tells the truth and rm -f cleans up", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "--name", "orphan", "busybox", "sleep", "60"])).trim();
    const pid = (await inspect("orphan")).State.Pid;
    Deno.kill(shimPid(id), "SIGKILL");
    await waitFor(
      () => {
        try {
          return !Deno.readTextFileSync(`/proc/${shimPid(id)}/stat`).includes(") S");
        } catch {
          return true;
        }
      },
      { what: "the shim's death" },
    );
    // The container itself lives on, and ps says so.
    assert.match(await sb.ok(["ps"]), /Up .* orphan/);
    // Then it dies with nobody to record it: ps reports it exited.
    Deno.kill(pid, "SIGKILL");
    await waitFor(
      async () => /Exited \(255\).*orphan/.test(await sb.ok(["ps", "-a"])),
      { what: "ps to report the orphan exited" },
    );
    await sb.ok(["rm", "-f", "orphan"]);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test(
  { name: "kill -9 of a foreground CLI: the container is still managed", ...asRoot },
  async () => {
    const child = new Deno.Command(BIN, {
      args: ["run", "--name", "fg", "busybox", "sleep", "60"],
      env: sb.env(),
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(async () => /Up .* fg/.test((await sb.run(["ps"])).stdout), {
      what: "fg running",
    });
    child.kill("SIGKILL");
    await child.status;
    assert.match(await sb.ok(["ps"]), /Up .* fg/);
    await sb.ok(["rm", "-f", "fg"]);
  },
);

Deno.test(
  {
    name:
      "run -d with a wrong flag: the shim spawned ahead of the parse is gone when run returns; a later -d is the command's",
    ...asRoot,
  },
  async () => {
    const shims = () =>
      pidsWhere((argv) => argv.includes("m-docker-role:shim") && argv.includes(sb.state));
    const before = sb.containerIds();
    const r = await sb.run(["--debug", "run", "-d", "--no-such-flag", "busybox", "true"]);
    assert.equal(r.code, 125);
    // Killed and reaped before the command returned: nothing of it outlives the command.
    const said = r.stdout + r.stderr; // --debug's lines go where logtape's console sink puts them
    const pid = /shim (\d+), spawned ahead, was not taken/.exec(said)?.[1];
    assert.ok(pid, said);
    assert.ok(!shims().includes(Number(pid)), `shim ${pid} outlived the command`);
    assert.deepEqual(sb.containerIds(), before);
    // The guess decides nothing: a -d after the image is the command's, run in the foreground.
    assert.equal(await sb.ok(["run", "--rm", "busybox", "echo", "-d"]), "-d\n");
    assert.deepEqual(shims(), []);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
