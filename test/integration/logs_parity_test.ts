/**
 * `logs` as Docker's: every container has a log (foreground ones too), `--since`, `--until`,
 * `--details`, `-t`, `--tail`, `-f` that ends with the container, and `--log-driver
 * json-file|local|none` with `--log-opt max-size=,max-file=` rotation read across files.
 *
 * The expected texts are Docker's, from moby's source: the messages of daemon/logger
 * (factory.go, jsonfilelog, local, logger.go's ErrReadLogsNotSupported), the client's
 * `invalid value for "since"` and GetTimestamp, and daemon/server/httputils/logstream for
 * the `-t` and `--details` prefixes.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, WatchedChild } from "./harness.ts";

const sb = new Sandbox();

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z $/;

Deno.test(
  { name: "a foreground container's output streams apart and is in its json-file log", ...asRoot },
  async () => {
    const r = await sb.run([
      "run",
      "--name",
      "fg",
      "busybox",
      "sh",
      "-c",
      "echo out; echo err >&2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    const logs = await sb.run(["logs", "fg"]);
    assert.deepEqual([logs.code, logs.stdout, logs.stderr], [0, "out\n", "err\n"]);
    const c = await sb.inspect("fg");
    assert.deepEqual(c.HostConfig.LogConfig, { Type: "json-file", Config: {} });
    assert.equal(c.LogPath, `${sb.root}/containers/${c.Id}/${c.Id}-json.log`);
    const lines = Deno.readTextFileSync(c.LogPath).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.stream, l.log]).sort(), [
      ["stderr", "err\n"],
      ["stdout", "out\n"],
    ]);
    await sb.ok(["rm", "fg"]);
  },
);

Deno.test(
  { name: "a foreground -t container's log is its terminal's output, on stdout", ...asRoot },
  async () => {
    const r = await sb.run(["run", "-t", "--name", "fgt", "busybox", "sh", "-c", "echo hi >&2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hi\r\n");
    const logs = await sb.run(["logs", "fgt"]);
    assert.deepEqual([logs.stdout, logs.stderr], ["hi\r\n", ""]);
    await sb.ok(["rm", "fgt"]);
  },
);

Deno.test(
  { name: "start -a appends to the same log, as a restarted Docker container does", ...asRoot },
  async () => {
    await sb.ok(["run", "--name", "again", "busybox", "echo", "hi"]);
    assert.equal(await sb.ok(["start", "-a", "again"]), "hi\n");
    assert.equal(await sb.ok(["logs", "again"]), "hi\nhi\n");
    await sb.ok(["rm", "again"]);
  },
);

/** A foreground `run -i` whose container echoes each line it reads, for paced output. */
function echoer(name: string, extra: string[] = []): WatchedChild {
  return new WatchedChild(BIN, [
    "run",
    "-i",
    "--name",
    name,
    ...extra,
    "busybox",
    "sh",
    "-c",
    'echo ready; while read l; do [ "$l" = end ] && exit 0; echo "$l"; done',
  ], { env: sb.env(), stdin: true });
}

Deno.test(
  { name: "logs -f of a foreground container follows it and ends when it exits", ...asRoot },
  async () => {
    const cli = echoer("live");
    let follower: WatchedChild | undefined;
    try {
      await cli.expect("ready\n");
      follower = new WatchedChild(BIN, ["logs", "-f", "live"], { env: sb.env() });
      await follower.expect("ready\n");
      await cli.send("one\n");
      await follower.expect("one\n");
      await cli.send("end\n");
      assert.equal((await cli.exited()).code, 0);
      assert.equal((await follower.exited()).code, 0);
      assert.equal(follower.stdout, "ready\none\n");
    } finally {
      await follower?.close();
      await cli.close();
    }
    await sb.ok(["rm", "live"]);
  },
);

Deno.test(
  { name: "logs --since and --until take RFC 3339, Unix times and durations", ...asRoot },
  async () => {
    // Each line is seen on the CLI's stdout (so logged) before the next is sent: every entry
    // has a time of its own.
    const cli = echoer("timed");
    try {
      await cli.expect("ready\n");
      for (const l of ["a", "b", "c"]) {
        await cli.send(`${l}\n`);
        await cli.expect(`${l}\n`);
      }
      await cli.send("end\n");
      assert.equal((await cli.exited()).code, 0);
    } finally {
      await cli.close();
    }
    const stamped = (await sb.ok(["logs", "-t", "timed"])).trim().split("\n");
    assert.equal(stamped.length, 4);
    for (const l of stamped) assert.match(l.slice(0, 31), STAMP);
    const tb = stamped[2].slice(0, 30); // the time of "b"
    assert.equal(await sb.ok(["logs", "--since", tb, "timed"]), "b\nc\n");
    assert.equal(await sb.ok(["logs", "--until", tb, "timed"]), "ready\na\nb\n");
    assert.equal(await sb.ok(["logs", "--since", tb, "--until", tb, "timed"]), "b\n");
    // The same instant as a Unix timestamp with nine decimals.
    const ms = Date.parse(tb.slice(0, 23) + "Z");
    const unix = `${Math.floor(ms / 1000)}.${tb.slice(20, 29)}`;
    assert.equal(await sb.ok(["logs", "--since", unix, "timed"]), "b\nc\n");
    // Durations count back from now: an hour ago is before all of it, an hour on after it.
    assert.equal(await sb.ok(["logs", "--since", "1h", "timed"]), "ready\na\nb\nc\n");
    assert.equal(await sb.ok(["logs", "--since", "-1h", "timed"]), "");
    assert.equal(await sb.ok(["logs", "--until", "1h", "timed"]), "");
    assert.equal(await sb.ok(["logs", "--tail", "2", "--since", "1h", "timed"]), "b\nc\n");
    const bad = await sb.run(["logs", "--since", "yesterday", "timed"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.match(
      bad.stderr,
      /invalid value for "since": failed to parse value as time or duration: "yesterday"\n$/,
    );
    const badUntil = await sb.run(["logs", "--until", "2024-13-01", "timed"]);
    assert.equal(badUntil.code, 1);
    assert.match(badUntil.stderr, /invalid value for "until": parsing time "2024-13-01"/);
    await sb.ok(["rm", "timed"]);
  },
);

Deno.test(
  { name: "logs --details shows the --log-opt attributes, -t goes before them", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "detailed",
      "-e",
      "FOO=a b",
      "-e",
      "BAR=x&y",
      "--log-opt",
      "env=FOO,BAR,NOPE",
      "--log-opt",
      "tag={{.Name}}",
      "busybox",
      "echo",
      "hi",
    ]);
    // Keys sorted, values URL-escaped (Go's url.QueryEscape), then a space, then the line.
    assert.equal(
      await sb.ok(["logs", "--details", "detailed"]),
      "BAR=x%26y,FOO=a+b,tag=detailed hi\n",
    );
    const both = await sb.ok(["logs", "-t", "--details", "detailed"]);
    assert.match(both.slice(0, 31), STAMP);
    assert.equal(both.slice(31), "BAR=x%26y,FOO=a+b,tag=detailed hi\n");
    assert.equal(await sb.ok(["logs", "detailed"]), "hi\n");
    assert.deepEqual((await sb.inspect("detailed")).HostConfig.LogConfig, {
      Type: "json-file",
      Config: { env: "FOO,BAR,NOPE", tag: "{{.Name}}" },
    });
    await sb.ok(["run", "--name", "plain", "busybox", "echo", "hi"]);
    // No attributes: Docker still puts the space.
    assert.equal(await sb.ok(["logs", "--details", "plain"]), " hi\n");
    await sb.ok(["rm", "detailed", "plain"]);
  },
);

/** The log files of a container on disk, oldest first, and their entries' lines. */
function logFiles(path: string): { name: string; size: number; lines: string[] }[] {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(path.lastIndexOf("/") + 1);
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.name === base || e.name.startsWith(`${base}.`))
    .map((e) => e.name)
    .sort((a, b) =>
      (Number(b.slice(base.length + 1)) || 0) - (Number(a.slice(base.length + 1)) || 0)
    )
    .map((name) => {
      const text = Deno.readTextFileSync(`${dir}/${name}`);
      return {
        name: name.slice(base.length) || "(current)",
        size: text.length,
        lines: text.trim().split("\n").map((l) => JSON.parse(l).log.trim()),
      };
    });
}

for (const detach of [false, true]) {
  Deno.test(
    {
      name: `--log-opt max-size=1k,max-file=3 rotates${
        detach ? " (run -d)" : ""
      } and logs reads across the files`,
      ...asRoot,
    },
    async () => {
      const name = detach ? "rot-d" : "rot";
      const args = ["run", ...(detach ? ["-d"] : []), "--name", name, "--log-opt", "max-size=1k"];
      await sb.ok([...args, "--log-opt", "max-file=3", "busybox", "seq", "1", "300"]);
      if (detach) await sb.ok(["wait", name]);
      const c = await sb.inspect(name);
      const files = logFiles(c.LogPath);
      // Three files, oldest first: .2, .1, the current one; each full file passed 1000 bytes
      // by at most the entry that filled it (Docker checks before each entry).
      assert.deepEqual(files.map((f) => f.name), [".2", ".1", "(current)"]);
      for (const f of files.slice(0, 2)) assert.ok(f.size >= 1000 && f.size < 1100, `${f.size}`);
      const kept = files.flatMap((f) => f.lines);
      const first = Number(kept[0]);
      assert.ok(first > 1, "the oldest lines were dropped");
      const expected = Array.from({ length: 301 - first }, (_, i) => `${first + i}`);
      assert.deepEqual(kept, expected, "in order, nothing lost between files");
      assert.equal(await sb.ok(["logs", name]), expected.join("\n") + "\n");
      // A tail longer than the current file reaches into the rotated ones.
      const n = files[2].lines.length + 3;
      assert.equal(
        await sb.ok(["logs", "--tail", `${n}`, name]),
        expected.slice(-n).join("\n") + "\n",
      );
      await sb.ok(["rm", name]);
    },
  );
}

Deno.test(
  { name: "--log-driver local: logs works, LogPath is empty as in Docker", ...asRoot },
  async () => {
    await sb.ok(["run", "--name", "loc", "--log-driver", "local", "busybox", "echo", "local hi"]);
    assert.equal(await sb.ok(["logs", "loc"]), "local hi\n");
    const c = await sb.inspect("loc");
    assert.deepEqual(c.HostConfig.LogConfig, { Type: "local", Config: {} });
    assert.equal(c.LogPath, "");
    Deno.statSync(`${sb.root}/containers/${c.Id}/local-logs/container.log`);
    await sb.ok(["rm", "loc"]);
  },
);

Deno.test(
  { name: "--log-driver none: output still streams, logs says it cannot read (exit 1)", ...asRoot },
  async () => {
    const r = await sb.run([
      "run",
      "--name",
      "quiet",
      "--log-driver",
      "none",
      "busybox",
      "sh",
      "-c",
      "echo o; echo e >&2",
    ]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "o\n", "e\n"]);
    const logs = await sb.run(["logs", "quiet"]);
    assert.equal(logs.code, 1);
    assert.equal(logs.stdout, "");
    assert.match(logs.stderr, /configured logging driver does not support reading\n$/);
    const c = await sb.inspect("quiet");
    assert.deepEqual(c.HostConfig.LogConfig, { Type: "none", Config: {} });
    assert.equal(c.LogPath, "");
    await sb.ok(["run", "-d", "--name", "quiet-d", "--log-driver", "none", "busybox", "echo", "x"]);
    await sb.ok(["wait", "quiet-d"]);
    assert.equal((await sb.run(["logs", "quiet-d"])).code, 1);
    await sb.ok(["rm", "quiet", "quiet-d"]);
  },
);

Deno.test(
  { name: "an unknown driver or a bad option fails run with 125 and Docker's message", ...asRoot },
  async () => {
    const cases: [string[], string][] = [
      [["--log-driver", "syslog"], "logger: no log driver named 'syslog' is registered"],
      [["--log-opt", "foo=1"], "unknown log opt 'foo' for json-file log driver"],
      [
        ["--log-driver", "local", "--log-opt", "foo=1"],
        "unknown log opt 'foo' for log driver local",
      ],
      [["--log-opt", "max-size=abc"], "invalid size: 'abc'"],
      [["--log-opt", "max-size=0"], "max-size must be a positive number"],
      [["--log-opt", "max-file=0"], "max-file cannot be less than 1"],
      [
        ["--log-driver", "none", "--log-opt", "max-size=1m"],
        "invalid logging opts for driver none",
      ],
    ];
    for (const [flags, message] of cases) {
      for (const detach of [[], ["-d"]]) {
        const r = await sb.run(["run", ...detach, ...flags, "busybox", "true"]);
        assert.equal(r.code, 125, `${flags.join(" ")}: ${r.stderr}`);
        assert.equal(r.stdout, "");
        assert.ok(r.stderr.includes(message), `${flags.join(" ")}: ${r.stderr}`);
      }
    }
    assert.deepEqual(sb.containerIds(), [], "nothing was created");
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
