/**
 * The log files on disk as Docker keeps them: rotated files gzipped with `compress`
 * (moby loggerutils/logfile.go: `NAME.N.gz`, the current file plain, the gzip header's Extra
 * `{"lastTime":...}`), the `local` driver's framed protobuf, and `mode=non-blocking`.
 */
import assert from "node:assert/strict";
import { type LogQuery, parseLogLines, readContainerLog } from "../../src/container/logs.ts";
import {
  JsonLogWriter,
  LocalLogWriter,
  type LogEntry,
  type LogFormat,
  logFormatOf,
  openContainerLog,
  rotatedFiles,
} from "../../src/container/log_writer.ts";
import { compressRotated, gunzipFile, gzipLastTime } from "../../src/container/log_gzip.ts";
import { decodeFrames } from "../../src/container/log_proto.ts";
import { parseLogTime } from "../../src/util/docker_time.ts";
import { ChangeWaiter } from "../../src/container/log_watch.ts";
import type { ContainerState } from "../../src/state/types.ts";
import { logFilePath } from "../../src/container/log_writer.ts";

const enc = new TextEncoder();

function withDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-logfiles-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

async function readAll(
  path: string,
  query: LogQuery = { tail: Infinity },
  format: LogFormat = "json-file",
): Promise<LogEntry[]> {
  const got: LogEntry[] = [];
  await readContainerLog(path, query, (es) => got.push(...es), undefined, format);
  return got;
}

const logs = (es: LogEntry[]) => es.map((e) => e.log);
const names = (path: string) => rotatedFiles(path).map((p) => p.slice(path.length));

Deno.test(
  "compress: rotated files become NAME.N.gz, the current one stays plain, logs reads them all",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    // ~80 bytes an entry: two in each file, as without compression.
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 4, compress: true } });
    for (let i = 1; i <= 7; i++) {
      w.write("stdout", enc.encode(`line ${i}\n`));
      await w.idle(); // each compression ends before the next rotation is due
    }
    await w.close();
    assert.deepEqual(names(path), [".3.gz", ".2.gz", ".1.gz"]);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "c-json.log",
      "c-json.log.1.gz",
      "c-json.log.2.gz",
      "c-json.log.3.gz",
    ]);
    const inGz = async (n: number) =>
      logs(
        parseLogLines(new TextDecoder().decode(await gunzipFile(Deno.openSync(`${path}.${n}.gz`))))
          .entries,
      );
    assert.deepEqual(await inGz(3), ["line 1\n", "line 2\n"]);
    assert.deepEqual(await inGz(1), ["line 5\n", "line 6\n"]);
    assert.deepEqual(logs(parseLogLines(Deno.readTextFileSync(path)).entries), ["line 7\n"]);
    // Docker's header: the time of the file's last entry, as Go marshals a time.Time.
    const head = Deno.readFileSync(`${path}.1.gz`).subarray(0, 200);
    const meta = JSON.parse(new TextDecoder().decode(head.subarray(12, 12 + head[10])));
    assert.match(meta.lastTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    const last = parseLogTime(
      parseLogLines(
        new TextDecoder().decode(await gunzipFile(Deno.openSync(`${path}.1.gz`))),
      ).entries[1].time,
    );
    assert.equal(gzipLastTime(head), last);
    // A real gzip: gunzip(1) reads it.
    const gunzip = await new Deno.Command("gunzip", { args: ["-c", `${path}.2.gz`] }).output();
    assert.equal(gunzip.code, 0);
    assert.deepEqual(logs(parseLogLines(new TextDecoder().decode(gunzip.stdout)).entries), [
      "line 3\n",
      "line 4\n",
    ]);
    const all = Array.from({ length: 7 }, (_, i) => `line ${i + 1}\n`);
    assert.deepEqual(logs(await readAll(path)), all);
    assert.deepEqual(logs(await readAll(path, { tail: 4 })), all.slice(3));
    // --since after a gzipped file's lastTime skips it; the entries shown are the same.
    assert.deepEqual(logs(await readAll(path, { tail: Infinity, since: last! + 1n })), [
      "line 7\n",
    ]);
  }),
);

Deno.test(
  "compress: rotations while compressions run put each .gz where its file moved; nothing lost",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 50, compress: true } });
    const all: string[] = [];
    for (let i = 1; i <= 60; i++) {
      all.push(`line ${i}\n`);
      w.write("stdout", enc.encode(all[all.length - 1]));
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 0)); // let compressions run
    }
    await w.close();
    // Two entries a file, as without compression: no rotation waited for a compression.
    assert.deepEqual(names(path), Array.from({ length: 29 }, (_, i) => `.${29 - i}.gz`));
    assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".tmp")), []);
    assert.deepEqual(logs(await readAll(path)), all);
    // With fewer files kept, compressions of files rotated out meanwhile leave nothing.
    const small = `${dir}/small.log`;
    const v = new JsonLogWriter(small, { rotation: { maxSize: 100, maxFiles: 3, compress: true } });
    for (const l of all) v.write("stdout", enc.encode(l));
    await v.close();
    assert.deepEqual(names(small), [".2.gz", ".1.gz"]);
    assert.deepEqual(logs(await readAll(small)), all.slice(-6));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("small")).sort(),
      ["small.log", "small.log.1.gz", "small.log.2.gz"],
    );
  }),
);

Deno.test(
  "a rotated file being gzipped is read once: the plain one while both are there (Docker's order)",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const line = (s: string) =>
      JSON.stringify({ log: `${s}\n`, stream: "stdout", time: "2024-01-01T00:00:00.000000000Z" }) +
      "\n";
    Deno.writeTextFileSync(`${path}.2`, line("two"));
    await compressRotated(`${path}.2`, null);
    Deno.writeTextFileSync(`${path}.1`, line("one"));
    Deno.copyFileSync(`${path}.1`, `${dir}/keep`);
    await compressRotated(`${path}.1`, null);
    Deno.renameSync(`${dir}/keep`, `${path}.1`); // as between the rename and the unlink
    Deno.writeTextFileSync(`${path}.1.gz.tmp`, "half a gzip");
    Deno.writeTextFileSync(path, line("now"));
    assert.deepEqual(names(path), [".2.gz", ".1"]);
    assert.deepEqual(logs(await readAll(path)), ["two\n", "one\n", "now\n"]);
  }),
);

Deno.test(
  "local: Docker's framed protobuf on disk, read back with --tail, --since and --details",
  withDir(async (dir) => {
    const path = `${dir}/container.log`;
    const w = new LocalLogWriter(path, { attrs: { tag: "web" } });
    w.write("stdout", enc.encode("hello\nwor"));
    w.write("stderr", enc.encode("oops\n"));
    w.write("stdout", enc.encode("ld\n\nlast"));
    await w.close();
    const bytes = Deno.readFileSync(path);
    const len = new DataView(bytes.buffer).getUint32(0);
    // Starts with the first message's length, which it repeats after the message.
    assert.equal(new DataView(bytes.buffer).getUint32(4 + len), len);
    const { entries, used, damaged } = decodeFrames(bytes);
    assert.deepEqual([used, damaged], [bytes.length, false]);
    assert.deepEqual(entries.map((e) => [e.source, new TextDecoder().decode(e.line), e.partial]), [
      ["stdout", "hello", false],
      ["stderr", "oops", false],
      ["stdout", "world", false],
      ["stdout", "", false],
      ["stdout", "last", true],
    ]);
    assert.deepEqual(entries[0].attrs, [["tag", "web"]]);
    const got = await readAll(path, { tail: Infinity }, "local");
    assert.deepEqual(logs(got), ["hello\n", "oops\n", "world\n", "\n", "last"]);
    assert.deepEqual(got.map((e) => e.stream), ["stdout", "stderr", "stdout", "stdout", "stdout"]);
    assert.deepEqual(got[0].attrs, { tag: "web" });
    assert.match(got[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.deepEqual(logs(await readAll(path, { tail: 2 }, "local")), ["\n", "last"]);
    assert.deepEqual(await readAll(path, { tail: 0 }, "local"), []);
    const since = parseLogTime(got[2].time)!;
    assert.deepEqual(logs(await readAll(path, { tail: Infinity, since }, "local")), [
      "world\n",
      "\n",
      "last",
    ]);
    // A torn last frame (being written) is left out, by tail as by a full read.
    Deno.writeFileSync(path, bytes.subarray(0, 7), { append: true });
    assert.deepEqual(logs(await readAll(path, { tail: 1 }, "local")), ["last"]);
    assert.equal((await readAll(path, { tail: Infinity }, "local")).length, 5);
  }),
);

Deno.test(
  "local: rotation with compression (Docker's local defaults gzip), read across the files",
  withDir(async (dir) => {
    const path = `${dir}/container.log`;
    const w = new LocalLogWriter(path, { rotation: { maxSize: 60, maxFiles: 3, compress: true } });
    for (let i = 1; i <= 9; i++) {
      w.write("stdout", enc.encode(`entry ${i}\n`));
      await w.idle();
    }
    await w.close();
    assert.deepEqual(names(path), [".2.gz", ".1.gz"]);
    const got = logs(await readAll(path, { tail: Infinity }, "local"));
    const first = Number(got[0].split(" ")[1]);
    assert.ok(first > 1, "the oldest were dropped");
    assert.deepEqual(got, Array.from({ length: 10 - first }, (_, i) => `entry ${first + i}\n`));
    assert.deepEqual(logs(await readAll(path, { tail: 3 }, "local")), got.slice(-3));
  }),
);

for (const format of ["json-file", "local"] as const) {
  Deno.test(
    `following a ${format} log across gzipped rotations shows every entry once, in order`,
    withDir(async (dir) => {
      const path = `${dir}/log`;
      const opts = { rotation: { maxSize: 150, maxFiles: 20, compress: true } };
      const w = format === "local" ? new LocalLogWriter(path, opts) : new JsonLogWriter(path, opts);
      const all = Array.from({ length: 40 }, (_, i) => `n ${i}\n`);
      w.write("stdout", enc.encode(all[0]));
      let stop = false;
      const got: string[] = [];
      const reader = readContainerLog(
        path,
        { tail: Infinity },
        (es) => got.push(...logs(es)),
        { running: () => !stop, intervalMs: 1, watch: [dir] },
        format,
      );
      for (const l of all.slice(1)) {
        w.write("stdout", enc.encode(l));
        if (l.endsWith("3\n")) await w.idle(); // sometimes several rotations between looks
        await new Promise((r) => setTimeout(r, 0));
      }
      await w.close();
      stop = true;
      await reader;
      assert.ok(rotatedFiles(path).some((p) => p.endsWith(".gz")));
      assert.deepEqual(got, all);
    }),
  );
}

Deno.test(
  "mode=non-blocking: the same entries as blocking, written by the drain",
  withDir(async (dir) => {
    for (const format of ["json-file", "local"] as const) {
      const path = `${dir}/${format}.log`;
      const opts = { nonBlocking: { maxBufferSize: 1e6 }, rotation: { maxSize: 500, maxFiles: 9 } };
      const w = format === "local" ? new LocalLogWriter(path, opts) : new JsonLogWriter(path, opts);
      const all = Array.from({ length: 50 }, (_, i) => `line ${i}\n`);
      for (const l of all) w.write(l.includes("7") ? "stderr" : "stdout", enc.encode(l));
      await w.close();
      assert.equal(w.dropped, 0);
      assert.ok(rotatedFiles(path).length >= 2);
      const got = await readAll(path, { tail: Infinity }, format);
      assert.deepEqual(logs(got), all);
      assert.deepEqual(
        got.map((e) => e.stream),
        all.map((l) => l.includes("7") ? "stderr" : "stdout"),
      );
    }
  }),
);

Deno.test(
  "mode=non-blocking: a full buffer drops entries and counts them, the writer never waits",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    // A 1-byte bound holds one entry at a time; the drain runs only once the caller yields.
    const w = new JsonLogWriter(path, { nonBlocking: { maxBufferSize: 1 } });
    for (let i = 0; i < 50; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    assert.equal(w.dropped, 49);
    await w.idle();
    w.write("stdout", enc.encode("after\n"));
    await w.close();
    assert.deepEqual(logs(await readAll(path)), ["line 0\n", "after\n"]);
    assert.equal(w.dropped, 49);
  }),
);

Deno.test(
  "ChangeWaiter: a change under a watched directory ends the wait (inotify), not the poll",
  withDir(async (dir) => {
    const w = new ChangeWaiter([dir]);
    try {
      assert.equal(w.watching, true);
      let woken = false;
      // The fallback poll is an hour: only the event can end this wait.
      const waiting = w.wait(3_600_000).then(() => woken = true);
      await waitFor(async () => {
        Deno.writeTextFileSync(`${dir}/log`, "x\n", { append: true });
        await Promise.race([waiting, new Promise((r) => setTimeout(r, 20))]);
        return woken;
      }, "the watcher to see the write");
    } finally {
      w.close();
    }
    // Without directories it is a plain poll.
    const poll = new ChangeWaiter();
    assert.equal(poll.watching, false);
    await poll.wait(0);
  }),
);

/** Polls `ok` until it holds, failing after ten seconds. */
async function waitFor(ok: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
  }
}

Deno.test(
  "a local log written in json-file lines (before Docker's format) is still read and written so",
  withDir(async (dir) => {
    const state = {
      id: "c1",
      name: "old",
      containerDir: dir,
      logPath: `${dir}/c1-json.log`,
      spec: { image: "busybox", env: [], logConfig: { type: "local", config: {} } },
    } as unknown as ContainerState;
    Deno.mkdirSync(`${dir}/local-logs`);
    const path = `${dir}/local-logs/container.log`;
    assert.equal(logFormatOf(state), "local"); // nothing written yet: Docker's format
    const old = new JsonLogWriter(path);
    old.write("stdout", enc.encode("before\n"));
    await old.close();
    assert.equal(logFormatOf(state), "json-file");
    const w = openContainerLog(state)!;
    w.write("stdout", enc.encode("after\n"));
    await w.close();
    assert.deepEqual(logs(await readAll(path, { tail: Infinity }, logFormatOf(state))), [
      "before\n",
      "after\n",
    ]);
    Deno.removeSync(path);
    const fresh = openContainerLog(state)!;
    fresh.write("stdout", enc.encode("new\n"));
    await fresh.close();
    assert.equal(logFormatOf(state), "local");
    assert.equal(Deno.readFileSync(path)[0], 0);
  }),
);

Deno.test(
  "local: a line longer than 16 KiB is logged as partial entries (Docker's copier) and read whole",
  withDir(async (dir) => {
    const path = `${dir}/container.log`;
    const w = new LocalLogWriter(path);
    const long = "x".repeat(40 * 1024);
    // In pieces, so the unfinished line passes 16 KiB before its newline comes.
    w.write("stdout", enc.encode(long.slice(0, 20_000)));
    w.write("stdout", enc.encode(long.slice(20_000) + "\nshort\n"));
    await w.close();
    const { entries } = decodeFrames(Deno.readFileSync(path));
    assert.deepEqual(entries.map((e) => [e.line.length, e.partial]), [
      [16384, true],
      [16384, true],
      [40 * 1024 - 2 * 16384, false],
      [5, false],
    ]);
    assert.deepEqual(
      logs(await readAll(path, { tail: Infinity }, "local")).join(""),
      `${long}\nshort\n`,
    );
  }),
);

Deno.test(
  "a log taken over (existing) continues the file, and is not made again once it is gone",
  withDir(async (dir) => {
    for (const type of ["json-file", "local"]) {
      const state = {
        id: "c2",
        name: "taken",
        containerDir: `${dir}/${type}`,
        logPath: `${dir}/${type}/c2-json.log`,
        spec: { image: "busybox", env: [], logConfig: { type, config: {} } },
      } as unknown as ContainerState;
      Deno.mkdirSync(state.containerDir);
      const first = openContainerLog(state)!; // the shim's
      first.write("stdout", enc.encode("one\n"));
      await first.close();
      const path = logFilePath(state)!;
      const taken = openContainerLog(state, { existing: true })!; // its monitor's
      taken.write("stdout", enc.encode("two\n"));
      await taken.close();
      assert.deepEqual(logs(await readAll(path, { tail: Infinity }, logFormatOf(state))), [
        "one\n",
        "two\n",
      ]);
      // The container was removed in between: nothing is made in its place.
      Deno.removeSync(state.containerDir, { recursive: true });
      assert.throws(() => openContainerLog(state, { existing: true }), Deno.errors.NotFound);
      assert.throws(() => Deno.statSync(state.containerDir), Deno.errors.NotFound, type);
    }
  }),
);
