/**
 * The commands that look at containers and the engine: events, stats, info, version,
 * system df and prune, cp and diff, against real containers. Docker's formats and messages
 * are recorded here as facts (from docker/cli and moby's source and documentation).
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";

const sb = new Sandbox();

/** Docker's event line: RFC3339NanoFixed time, type, action, ID, sorted attributes. */
const EVENT_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container (\S+) ([0-9a-f]{64}) \((.*)\)$/;

async function eventsOf(name: string, ...extra: string[]): Promise<string[]> {
  return (await sb.ok([
    "events",
    "--since",
    "0",
    "--until",
    "0s",
    "--filter",
    `container=${name}`,
    ...extra,
  ]))
    .trim().split("\n").filter((l) => l !== "");
}

Deno.test({
  name: "events: create, start, die with exitCode, destroy, in Docker's line format",
  ...asRoot,
}, async () => {
  const r = await sb.run(["run", "--rm", "--name", "ev-once", "busybox", "sh", "-c", "exit 3"]);
  assert.equal(r.code, 3);
  const lines = await eventsOf("ev-once");
  const parsed = lines.map((l) => {
    const m = l.match(EVENT_LINE);
    assert.ok(m, `not Docker's event line: ${l}`);
    return { action: m[2], id: m[3], attrs: m[4] };
  });
  assert.deepEqual(parsed.map((e) => e.action), ["create", "start", "die", "destroy"]);
  assert.equal(new Set(parsed.map((e) => e.id)).size, 1, "one container");
  assert.equal(parsed[0].attrs, "image=busybox, name=ev-once");
  assert.equal(parsed[2].attrs, "exitCode=3, image=busybox, name=ev-once");
  // Filters by event, and the JSON shape with an exact integer timeNano.
  const dies = await eventsOf("ev-once", "--filter", "event=die", "--format", "{{json .}}");
  assert.equal(dies.length, 1);
  assert.match(dies[0], /"timeNano":\d{19}\}$/);
  const e = JSON.parse(dies[0]);
  assert.equal(e.Type, "container");
  assert.equal(e.Action, "die");
  assert.equal(e.status, "die");
  assert.equal(e.from, "busybox");
  assert.equal(e.scope, "local");
  assert.deepEqual(e.Actor.Attributes, { exitCode: "3", image: "busybox", name: "ev-once" });
  assert.equal(
    (await sb.ok([
      "events",
      "--since",
      "0",
      "--until",
      "0s",
      "-f",
      "container=ev-once",
      "-f",
      "event=start",
      "--format",
      "{{.Action}} {{.Actor.Attributes.name}}",
    ])).trim(),
    "start ev-once",
  );
});

Deno.test({
  name:
    "events: stop is kill (15), kill (9), die, stop; rm -f of a running one is kill 9, die, destroy",
  ...asRoot,
}, async () => {
  // sleep as PID 1 ignores SIGTERM: stop has to kill it.
  await sb.ok(["run", "-d", "--name", "ev-stop", "busybox", "sleep", "60"]);
  await sb.ok(["stop", "-t", "1", "ev-stop"]);
  const stop = (await eventsOf("ev-stop")).map((l) => l.match(EVENT_LINE)![2]);
  assert.deepEqual(stop, ["create", "start", "kill", "kill", "die", "stop"]);
  const kills = await eventsOf("ev-stop", "--filter", "event=kill");
  assert.match(kills[0], /\(image=busybox, name=ev-stop, signal=15\)$/);
  assert.match(kills[1], /\(image=busybox, name=ev-stop, signal=9\)$/);
  assert.match((await eventsOf("ev-stop", "--filter", "event=die"))[0], /exitCode=137/);
  await sb.ok(["start", "ev-stop"]);
  await waitFor(async () => (await sb.inspect("ev-stop")).State.Running === true, {
    what: "ev-stop to run again",
  });
  await sb.ok(["kill", "-s", "USR1", "ev-stop"]);
  await sb.ok(["rm", "-f", "ev-stop"]);
  const after = (await eventsOf("ev-stop")).map((l) => l.match(EVENT_LINE)![2]).slice(6);
  assert.deepEqual(after, ["start", "kill", "kill", "die", "destroy"]);
  const kills2 = await eventsOf("ev-stop", "--filter", "event=kill");
  assert.match(kills2.at(-2)!, /signal=10\)$/);
  assert.match(kills2.at(-1)!, /signal=9\)$/);
  assert.match((await eventsOf("ev-stop", "--filter", "event=die")).at(-1)!, /exitCode=137/);
});

Deno.test({
  name: "events without --until follows the journal as containers come and go",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "--rm", "--name", "ev-before", "busybox", "true"]);
  const follower = new WatchedChild(BIN, [
    "events",
    "--since",
    "0",
    "--filter",
    "container=ev-before",
    "--filter",
    "container=ev-after",
    "--format",
    "{{.Actor.Attributes.name}} {{.Action}}",
  ], { env: sb.env() });
  try {
    // The past first: once it is printed, the follower is watching.
    await follower.expect("ev-before create\nev-before start\nev-before die\nev-before destroy\n");
    await sb.ok(["run", "--rm", "--name", "ev-after", "busybox", "true"]);
    await follower.expect("ev-after create\nev-after start\nev-after die\nev-after destroy\n");
    assert.equal(follower.stderr, "");
  } finally {
    await follower.close();
  }
});

Deno.test(
  { name: "events: Docker's errors for a bad filter or time, exit 1", ...asRoot },
  async () => {
    const bad = await sb.run(["events", "--until", "0s", "--filter", "colour=red"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid filter 'colour'/);
    const time = await sb.run(["events", "--since", "yesterday", "--until", "0s"]);
    assert.equal(time.code, 1);
    assert.match(time.stderr, /failed to parse value as time or duration: "yesterday"/);
  },
);

/** docker/cli's stats header. */
const STATS_HEADER =
  /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/;

Deno.test(
  { name: "stats --no-stream: Docker's columns from the container's cgroup", ...asRoot },
  async () => {
    const id =
      (await sb.ok(["run", "-d", "--name", "st-idle", "-m", "64m", "busybox", "sleep", "60"]))
        .trim();
    const out = (await sb.ok(["stats", "--no-stream", "st-idle"])).trimEnd().split("\n");
    assert.equal(out.length, 2);
    assert.match(out[0], STATS_HEADER);
    // sleep uses no CPU; its memory is under the 64MiB limit; --network none: no traffic.
    const row = out[1].split(/\s{2,}/);
    assert.equal(row[0], id.slice(0, 12));
    assert.equal(row[1], "st-idle");
    assert.match(row[2], /^\d+\.\d\d%$/);
    assert.match(row[3], /^\d+(\.\d+)?(B|KiB|MiB) \/ 64MiB$/);
    assert.match(row[4], /^\d+\.\d\d%$/);
    assert.equal(row[5], "0B / 0B");
    assert.match(row[6], /^\d+(\.\d+)?[kMG]?B \/ \d+(\.\d+)?[kMG]?B$/);
    assert.equal(row[7], "1");
    const json = JSON.parse(
      (await sb.ok(["stats", "--no-stream", "--no-trunc", "--format", "json", "st-idle"])).trim(),
    );
    assert.deepEqual(Object.keys(json), [
      "BlockIO",
      "CPUPerc",
      "Container",
      "ID",
      "MemPerc",
      "MemUsage",
      "Name",
      "NetIO",
      "PIDs",
    ]);
    assert.equal(json.ID, id);
    assert.equal(json.PIDs, "1");
    const custom =
      (await sb.ok(["stats", "--no-stream", "--format", "table {{.Name}}\t{{.PIDs}}", "st-idle"]))
        .trimEnd();
    assert.match(custom, /^NAME\s+PIDS\nst-idle\s+1$/);
  },
);

Deno.test({
  name: "stats: a busy container's CPU %, and -a shows a stopped one with Docker's zeros",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "-d", "--name", "st-busy", "busybox", "sh", "-c", "while :; do :; done"]);
  try {
    const json = JSON.parse(
      (await sb.ok(["stats", "--no-stream", "--format", "json", "st-busy"])).trim(),
    );
    assert.ok(parseFloat(json.CPUPerc) > 0, `a spinning shell uses CPU: ${json.CPUPerc}`);
  } finally {
    await sb.ok(["rm", "-f", "st-busy"]);
  }
  await sb.ok(["run", "--name", "st-done", "busybox", "true"]);
  const running = await sb.ok(["stats", "--no-stream"]);
  assert.ok(!running.includes("st-done"), "without -a only running containers");
  const all = await sb.ok([
    "stats",
    "--no-stream",
    "-a",
    "--format",
    "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}",
  ]);
  assert.ok(all.split("\n").includes("st-done 0.00% 0B / 0B 0B / 0B 0"), all);
  const missing = await sb.run(["stats", "--no-stream", "no-such"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: no-such/);
  assert.equal(missing.stdout, "");
});

Deno.test({ name: "stats streams: the screen is cleared and redrawn", ...asRoot }, async () => {
  const watch = new WatchedChild(BIN, ["stats", "st-idle"], { env: sb.env() });
  try {
    for (let i = 0; i < 2; i++) {
      // docker/cli's clear-screen and cursor-home before each redraw.
      const clear = "\x1b[2J\x1b[H".replace(/\[/g, "\\[");
      await watch.expect(new RegExp(`${clear}CONTAINER ID.*\n[0-9a-f]{12}\\s+st-idle\\s.*\n`));
    }
  } finally {
    await watch.close();
  }
});

Deno.test({ name: "info: Docker's fields that apply, and --format", ...asRoot }, async () => {
  const text = await sb.ok(["info"]);
  for (
    const re of [
      /^Client:\n Context: {4}default\n Debug Mode: false\n\nServer:\n/,
      /\n Containers: \d+\n {2}Running: \d+\n {2}Paused: \d+\n {2}Stopped: \d+\n Images: \d+\n/,
      /\n Storage Driver: overlay2\n/,
      /\n Cgroup Driver: cgroupfs\n Cgroup Version: [12]\n/,
      /\n Security Options:\n {2}seccomp\n {3}Profile: default\n/,
      /\n Kernel Version: \S+\n/,
      /\n OSType: linux\n Architecture: x86_64\n CPUs: \d+\n Total Memory: [\d.]+GiB\n/,
      new RegExp(`\\n Docker Root Dir: ${sb.root}\\n`),
    ]
  ) assert.match(text, re);
  const counts = JSON.parse(await sb.ok(["info", "--format", "{{json .}}"]));
  const ps = (await sb.ok(["ps", "-aq"])).trim().split("\n").filter((l) => l);
  assert.equal(counts.Containers, ps.length);
  assert.equal(
    counts.ContainersRunning + counts.ContainersPaused + counts.ContainersStopped,
    ps.length,
  );
  assert.equal(counts.Driver, "overlay2");
  assert.equal(
    (await sb.ok(["info", "--format", "{{.OSType}}/{{.Architecture}}"])).trim(),
    "linux/x86_64",
  );
});

Deno.test(
  { name: "version: Client and Server sections; --format reads them", ...asRoot },
  async () => {
    const version = (await sb.ok(["--version"])).trim();
    const text = await sb.ok(["version"]);
    assert.match(
      text,
      new RegExp(`^Client:\\n Version:           ${version.replaceAll(".", "\\.")}\\n`),
    );
    assert.ok(text.includes("\n OS/Arch:           linux/amd64\n"), text);
    assert.match(
      text,
      new RegExp(
        `\\nServer:\\n Engine:\\n  Version:          ${version.replaceAll(".", "\\.")}\\n`,
      ),
    );
    assert.equal((await sb.ok(["version", "--format", "{{.Server.Version}}"])).trim(), version);
    assert.equal(JSON.parse(await sb.ok(["version", "--format", "json"])).Client.Version, version);
  },
);

Deno.test({
  name: "system df: Docker's rows; a stopped container's layer is reclaimable",
  ...asRoot,
}, async () => {
  await sb.ok([
    "run",
    "--name",
    "df-writer",
    "busybox",
    "sh",
    "-c",
    "head -c 5000 /dev/zero > /blob",
  ]);
  const lines = (await sb.ok(["system", "df"])).trimEnd().split("\n");
  assert.match(lines[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)[0]), [
    "Images",
    "Containers",
    "Local Volumes",
    "Build Cache",
  ]);
  assert.match(lines[4], /^Build Cache\s+0\s+0\s+0B\s+0B$/);
  const rows = (await sb.ok(["system", "df", "--format", "json"])).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const containers = rows.find((r) => r.Type === "Containers");
  const ps = (await sb.ok(["ps", "-aq"])).trim().split("\n").filter((l) => l);
  assert.equal(containers.TotalCount, String(ps.length));
  // At least df-writer's 5000 bytes, all of them reclaimable once it stopped.
  assert.match(containers.Reclaimable, /^[\d.]+kB \(\d+%\)$/);
  await sb.ok(["rm", "df-writer"]);
});

Deno.test({
  name: "system prune: asks first; -f removes stopped containers, keeps running ones",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "--name", "pr-stopped", "busybox", "true"]);
  const declined = await sb.run(["system", "prune"], { stdin: "n\n" });
  assert.equal(declined.code, 0);
  assert.equal(
    declined.stdout,
    "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n" +
      "  - all dangling images\n  - all dangling build cache\n\nAre you sure you want to continue? [y/N] ",
  );
  assert.equal((await sb.inspect("pr-stopped")).Name, "/pr-stopped", "nothing removed");
  const stoppedId = (await sb.inspect("pr-stopped")).Id;
  const out = await sb.ok(["system", "prune", "-f"]);
  assert.match(out, /^Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: [\d.]+k?B\n$/);
  assert.ok(!(await sb.ok(["ps", "-a"])).includes("pr-stopped"));
  assert.ok(!(await sb.ok(["ps", "-a"])).includes("st-done"));
  assert.ok(out.includes(`\n${stoppedId}\n`), out);
  assert.equal((await sb.inspect("st-idle")).State.Running, true, "a running container stays");
});

/** A running container with a tree to copy and links that point out of it. */
async function copySource(name: string): Promise<string> {
  const id = (await sb.ok([
    "run",
    "-d",
    "--name",
    name,
    "busybox",
    "sh",
    "-c",
    "mkdir -p /data/sub && echo hello > /data/a && echo deep > /data/sub/b && " +
    "chown 1000:1000 /data/a && ln -s /etc /data/etc-abs && ln -s ../../../../../etc /data/etc-rel && " +
    "echo container-secret > /etc/only-here && touch /ready && sleep 60",
  ])).trim();
  await waitFor(async () => (await sb.run(["exec", name, "test", "-f", "/ready"])).code === 0, {
    what: `${name} to set up its files`,
  });
  return id;
}

Deno.test({
  name: "cp from a container: a file, a directory, dir/., a tar stream, -a and -L",
  ...asRoot,
}, async () => {
  await copySource("cp-src");
  const out = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-out-" });
  await sb.ok(["cp", "cp-src:/data/a", `${out}/a.txt`]);
  assert.equal(Deno.readTextFileSync(`${out}/a.txt`), "hello\n");
  assert.equal(Deno.statSync(`${out}/a.txt`).uid, 0, "the caller's owner without -a");
  await sb.ok(["cp", "-a", "cp-src:/data/a", `${out}/a-kept`]);
  assert.equal(Deno.statSync(`${out}/a-kept`).uid, 1000, "the container's owner with -a");
  // Into an existing directory: under the source's name.
  await sb.ok(["cp", "cp-src:/data", out]);
  assert.equal(Deno.readTextFileSync(`${out}/data/sub/b`), "deep\n");
  assert.equal(Deno.readLinkSync(`${out}/data/etc-abs`), "/etc", "links are copied as links");
  // To a new name, and dir/. (the contents).
  await sb.ok(["cp", "cp-src:/data", `${out}/renamed`]);
  assert.equal(Deno.readTextFileSync(`${out}/renamed/a`), "hello\n");
  Deno.mkdirSync(`${out}/into`);
  await sb.ok(["cp", "cp-src:/data/.", `${out}/into`]);
  assert.equal(Deno.readTextFileSync(`${out}/into/sub/b`), "deep\n");
  // The source's own link: copied as a link, or followed with -L (inside the container).
  await sb.ok(["cp", "cp-src:/data/etc-abs", `${out}/link`]);
  assert.ok(Deno.lstatSync(`${out}/link`).isSymlink);
  await sb.ok(["cp", "-L", "cp-src:/data/etc-abs/only-here", `${out}/followed`]);
  assert.equal(Deno.readTextFileSync(`${out}/followed`), "container-secret\n");
  // Links in the path resolve inside the container, whatever they say.
  await sb.ok(["cp", "cp-src:/data/etc-rel/only-here", `${out}/rel`]);
  assert.equal(Deno.readTextFileSync(`${out}/rel`), "container-secret\n");
  // A tar stream on stdout: the path's base name first, owners as in the container.
  const tar = new Deno.Command(BIN, {
    args: ["cp", "cp-src:/data", "-"],
    env: sb.env(),
    stdout: "piped",
  }).outputSync();
  assert.equal(tar.code, 0);
  Deno.mkdirSync(`${out}/untar`);
  Deno.writeFileSync(`${out}/data.tar`, tar.stdout);
  const listing = new TextDecoder().decode(
    new Deno.Command("tar", { args: ["-tvf", `${out}/data.tar`], stdout: "piped" }).outputSync()
      .stdout,
  );
  assert.match(listing, /1000\/1000\s+6 .* data\/a\n/);
  assert.match(listing, / data\/sub\/b\n/);
});

Deno.test({
  name: "cp into a container: files, directories, a tar stream; owners root unless -a",
  ...asRoot,
}, async () => {
  const src = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-in-" });
  Deno.mkdirSync(`${src}/tree/inner`, { recursive: true });
  Deno.writeTextFileSync(`${src}/tree/inner/f`, "from host\n");
  Deno.chownSync(`${src}/tree/inner/f`, 1234, 1234);
  await sb.ok(["cp", `${src}/tree`, "cp-src:/tmp/"]);
  assert.equal(await sb.ok(["exec", "cp-src", "cat", "/tmp/tree/inner/f"]), "from host\n");
  assert.equal(
    (await sb.ok(["exec", "cp-src", "stat", "-c", "%u:%g", "/tmp/tree/inner/f"])).trim(),
    "0:0",
  );
  await sb.ok(["cp", "-a", `${src}/tree/inner/f`, "cp-src:/tmp/kept"]);
  assert.equal(
    (await sb.ok(["exec", "cp-src", "stat", "-c", "%u:%g", "/tmp/kept"])).trim(),
    "1234:1234",
  );
  // Through a link that points at the host's /etc: it lands in the container's /etc.
  await sb.ok(["cp", `${src}/tree/inner/f`, "cp-src:/data/etc-abs/m-docker-cp-probe"]);
  assert.equal(await sb.ok(["exec", "cp-src", "cat", "/etc/m-docker-cp-probe"]), "from host\n");
  assert.throws(() => Deno.statSync("/etc/m-docker-cp-probe"), Deno.errors.NotFound);
  // A tar stream on stdin, extracted into a directory.
  const tar =
    new Deno.Command("tar", { args: ["-C", `${src}/tree`, "-c", "inner"], stdout: "piped" })
      .outputSync().stdout;
  const child = new Deno.Command(BIN, {
    args: ["cp", "-", "cp-src:/tmp"],
    env: sb.env(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(tar);
  await w.close();
  const done = await child.output();
  assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
  assert.equal(await sb.ok(["exec", "cp-src", "cat", "/tmp/inner/f"]), "from host\n");
  const notDir = await sb.run(["cp", "-", "cp-src:/data/a"], { stdin: "" });
  assert.equal(notDir.code, 1);
  assert.match(notDir.stderr, /destination "cp-src:\/data\/a" must be a directory/);
});

Deno.test({ name: "cp of a stopped container, both ways", ...asRoot }, async () => {
  await sb.ok(["run", "--name", "cp-stopped", "busybox", "sh", "-c", "echo left > /left"]);
  const out = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-stopped-" });
  await sb.ok(["cp", "cp-stopped:/left", out]);
  assert.equal(Deno.readTextFileSync(`${out}/left`), "left\n");
  Deno.writeTextFileSync(`${out}/put`, "put\n");
  await sb.ok(["cp", `${out}/put`, "cp-stopped:/etc/put"]);
  assert.deepEqual(sb.leftoverMounts(), [], "the overlay was mounted only in cp's own namespace");
  await sb.ok(["start", "-a", "cp-stopped"]).catch(() => {});
  await sb.ok(["cp", "cp-stopped:/etc/put", `${out}/back`]);
  assert.equal(Deno.readTextFileSync(`${out}/back`), "put\n");
  await sb.ok(["rm", "cp-stopped"]);
});

Deno.test({ name: "cp: Docker's errors, exit 1", ...asRoot }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [["cp", "cp-src:/nope", sb.dir], /No such container:path: cp-src:\/nope/],
    [["cp", "/etc/hostname", "/tmp/x"], /must specify at least one container source/],
    [["cp", "cp-src:/a", "cp-src:/b"], /copying between containers is not supported/],
    [["cp", "no-such:/a", sb.dir], /No such container: no-such/],
    [["cp", `${sb.dir}/no-such-file`, "cp-src:/tmp"], /no such file or directory/],
    [["cp", "cp-src:/data", `${sb.dir}/not-there/`], /no such directory/],
  ];
  Deno.writeTextFileSync(`${sb.dir}/a-file`, "x");
  cases.push([["cp", "cp-src:/data", `${sb.dir}/a-file`], /cannot copy directory/]);
  for (const [args, re] of cases) {
    const r = await sb.run(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

Deno.test(
  { name: "diff: A, C and D lines from the container's layer, as Docker's", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "df-changes",
      "busybox",
      "sh",
      "-c",
      "echo a > /newfile; rm /bin/ls; echo x >> /etc/passwd; mkdir /tmp/dd; touch /tmp/dd/f",
    ]);
    assert.equal(
      await sb.ok(["diff", "df-changes"]),
      "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /newfile\nC /tmp\nA /tmp/dd\nA /tmp/dd/f\n",
    );
    await sb.ok(["rm", "df-changes"]);
    await sb.ok(["run", "--name", "df-none", "busybox", "true"]);
    assert.equal(
      await sb.ok(["diff", "df-none"]),
      "",
      "the /etc mountpoints m-docker placed are not changes",
    );
    await sb.ok(["rm", "df-none"]);
    const missing = await sb.run(["diff", "no-such"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such container: no-such/);
  },
);

Deno.test({ name: "system prune -a removes images no container uses", ...asRoot }, async () => {
  await sb.ok(["rm", "-f", "cp-src", "st-idle"]);
  const out = await sb.ok(["system", "prune", "-a", "-f"]);
  const m = out.match(
    /Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:([0-9a-f]{64})\n/,
  );
  assert.ok(m, out);
  assert.throws(() => Deno.statSync(`${sb.root}/image/images/${m[1]}.json`), Deno.errors.NotFound);
  // The built-in image comes back on first use.
  assert.equal(await sb.ok(["run", "--rm", "busybox", "echo", "back"]), "back\n");
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
