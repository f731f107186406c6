/**
 * The log files of real containers, as Docker keeps them:
 *
 * - `--log-opt compress=true` gzips each rotated file (`NAME.1.gz`, ...; the current file
 *   stays plain; moby daemon/logger/loggerutils/logfile.go), and `logs` reads across them.
 * - `--log-driver local` writes moby's framed protobuf (a big-endian uint32 length, a
 *   `LogEntry`, the length again; daemon/logger/local), under `local-logs/container.log`,
 *   with Docker's defaults: 20 MiB files, 5 of them, compressed.
 * - `--log-opt mode=non-blocking` logs through a bounded buffer (daemon/logger/ring.go).
 * - `logs -f` ends when the container exits.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";
import { decodeFrames } from "../../src/container/log_proto.ts";

const sb = new Sandbox();

/** The names of a log's files next to it (`""` for the current one), newest first. */
function logNames(path: string): string[] {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(path.lastIndexOf("/") + 1);
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.name.startsWith(base))
    .map((e) => e.name.slice(base.length))
    .sort((a, b) => (parseInt(a.slice(1)) || 0) - (parseInt(b.slice(1)) || 0));
}

/** The numbers `first`..`last`, one a line. */
function seq(first: number, last: number): string {
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}\n`).join("");
}

for (const detach of [false, true]) {
  Deno.test(
    {
      name: `compress=true gzips the rotated files${detach ? " (run -d)" : ""}; logs reads all`,
      ...asRoot,
    },
    async () => {
      const name = detach ? "gz-d" : "gz";
      await sb.ok([
        "run",
        ...(detach ? ["-d"] : []),
        "--name",
        name,
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=4",
        "--log-opt",
        "compress=true",
        "busybox",
        "seq",
        "1",
        "400",
      ]);
      if (detach) await sb.ok(["wait", name]);
      const c = await sb.inspect(name);
      assert.deepEqual(c.HostConfig.LogConfig.Config.compress, "true");
      // The shim's last compression may still run after `wait`: it ends with the `.gz`.
      await waitFor(() => logNames(c.LogPath).every((n) => n === "" || n.endsWith(".gz")), {
        what: "the rotated files to be gzipped",
        detail: () => logNames(c.LogPath).join(" "),
      });
      const names = logNames(c.LogPath);
      assert.equal(names[0], "", "the current file stays plain");
      assert.ok(names.length >= 3, names.join(" "));
      assert.deepEqual(names.slice(1), names.slice(1).map((_, i) => `.${i + 1}.gz`));
      // Each is a real gzip of json-file lines.
      const gunzip = await new Deno.Command("gunzip", { args: ["-c", `${c.LogPath}.1.gz`] })
        .output();
      assert.equal(gunzip.code, 0);
      const first = JSON.parse(new TextDecoder().decode(gunzip.stdout).split("\n")[0]);
      assert.equal(first.stream, "stdout");
      // All lines kept, in order, ending with the last; the oldest were dropped.
      const out = await sb.ok(["logs", name]);
      const from = parseInt(out);
      assert.ok(from > 1, "max-file=4 dropped the oldest");
      assert.equal(out, seq(from, 400));
      assert.equal(await sb.ok(["logs", "--tail", "20", name]), seq(381, 400));
      await sb.ok(["rm", name]);
    },
  );
}

Deno.test(
  { name: "--log-driver local writes Docker's framed protobuf; logs reads it", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "pb",
      "--log-driver",
      "local",
      "busybox",
      "sh",
      "-c",
      "echo first; echo oops >&2; printf 'no newline'",
    ]);
    const c = await sb.inspect("pb");
    assert.deepEqual(c.HostConfig.LogConfig, { Type: "local", Config: {} });
    const bytes = Deno.readFileSync(`${sb.root}/containers/${c.Id}/local-logs/container.log`);
    const dv = new DataView(bytes.buffer);
    const len = dv.getUint32(0);
    // The first message: 0a 06 and the source (stdout or stderr, whichever pipe was read
    // first), 10 and the time_nano varint, 1a and the line's length and bytes.
    const source = new TextDecoder().decode(bytes.subarray(6, 12));
    assert.deepEqual([bytes[4], bytes[5], bytes[12]], [0x0a, 6, 0x10]);
    const line = source === "stdout" ? "first" : "oops";
    assert.deepEqual(
      [...bytes.subarray(4 + len - line.length - 2, 4 + len)],
      [0x1a, line.length, ...new TextEncoder().encode(line)],
    );
    assert.equal(dv.getUint32(4 + len), len, "the length again after the message");
    const { entries, used } = decodeFrames(bytes);
    assert.equal(used, bytes.length);
    assert.deepEqual(
      entries.map((e) => [e.source, new TextDecoder().decode(e.line), e.partial]).sort(),
      [["stderr", "oops", false], ["stdout", "first", false], ["stdout", "no newline", true]],
    );
    const logs = await sb.run(["logs", "pb"]);
    assert.deepEqual([logs.code, logs.stderr], [0, "oops\n"]);
    assert.equal(logs.stdout, "first\nno newline");
    assert.equal(await sb.ok(["logs", "--tail", "1", "pb"]), "no newline");
    const stamped = await sb.ok(["logs", "-t", "pb"]);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z first\n/);
    assert.equal(await sb.ok(["logs", "--since", stamped.slice(0, 30), "pb"]), "first\nno newline");
    await sb.ok(["rm", "pb"]);
  },
);

Deno.test(
  { name: "--log-driver local rotates and gzips by default (max-file=3), read across", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "pbrot",
      "--log-driver",
      "local",
      "--log-opt",
      "max-size=1k",
      "--log-opt",
      "max-file=3",
      "busybox",
      "seq",
      "1",
      "500",
    ]);
    const c = await sb.inspect("pbrot");
    const path = `${sb.root}/containers/${c.Id}/local-logs/container.log`;
    assert.deepEqual(logNames(path), ["", ".1.gz", ".2.gz"]);
    const out = await sb.ok(["logs", "pbrot"]);
    const from = parseInt(out);
    assert.ok(from > 1);
    assert.equal(out, seq(from, 500));
    assert.equal(await sb.ok(["logs", "-n", "5", "pbrot"]), seq(496, 500));
    // Docker's message for a local driver with one file and compression (its default).
    const one = await sb.run([
      "run",
      "--log-driver",
      "local",
      "--log-opt",
      "max-file=1",
      "busybox",
      "true",
    ]);
    assert.equal(one.code, 125);
    assert.match(one.stderr, /compression cannot be enabled when max file count is 1/);
    await sb.ok(["rm", "pbrot"]);
  },
);

for (const detach of [false, true]) {
  Deno.test(
    {
      name: `mode=non-blocking logs the same output${detach ? " (run -d)" : ""}`,
      ...asRoot,
    },
    async () => {
      const name = detach ? "nb-d" : "nb";
      const r = await sb.run([
        "run",
        ...(detach ? ["-d"] : []),
        "--name",
        name,
        "--log-opt",
        "mode=non-blocking",
        "--log-opt",
        "max-buffer-size=4m",
        "busybox",
        "sh",
        "-c",
        "seq 1 3000; echo err >&2",
      ]);
      assert.equal(r.code, 0, r.stderr);
      if (detach) await sb.ok(["wait", name]);
      else assert.equal(r.stdout, seq(1, 3000));
      // A buffer far larger than the output: nothing dropped, all of it in order.
      const logs = await sb.run(["logs", name]);
      assert.deepEqual([logs.stdout, logs.stderr], [seq(1, 3000), "err\n"]);
      assert.deepEqual((await sb.inspect(name)).HostConfig.LogConfig.Config, {
        mode: "non-blocking",
        "max-buffer-size": "4m",
      });
      await sb.ok(["rm", name]);
    },
  );
}

for (const driver of ["json-file", "local"]) {
  Deno.test(
    { name: `logs -f (${driver}) follows a running container and ends when it exits`, ...asRoot },
    async () => {
      const name = `follow-${driver}`;
      const cli = new WatchedChild(BIN, [
        "run",
        "-i",
        "--name",
        name,
        "--log-driver",
        driver,
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        // More than the output fills: no file is dropped before the follower reads it.
        "max-file=30",
        "--log-opt",
        "compress=true",
        "busybox",
        "sh",
        "-c",
        'echo ready; while read l; do [ "$l" = end ] && exit 0; seq "$l"; done',
      ], { env: sb.env(), stdin: true });
      let follower: WatchedChild | undefined;
      try {
        await cli.expect("ready\n");
        follower = new WatchedChild(BIN, ["logs", "-f", name], { env: sb.env() });
        await follower.expect("ready\n");
        await cli.send("3\n");
        await follower.expect("1\n2\n3\n");
        // Enough to rotate (and gzip) a file or two under the follower.
        await cli.send("300\n");
        await cli.expect(seq(1, 300));
        await follower.expect(seq(1, 300));
        await cli.send("end\n");
        assert.equal((await cli.exited()).code, 0);
        assert.equal((await follower.exited()).code, 0);
        assert.equal(follower.stdout, "ready\n" + seq(1, 3) + seq(1, 300));
      } finally {
        await follower?.close();
        await cli.close();
      }
      await sb.ok(["rm", name]);
    },
  );
}

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
