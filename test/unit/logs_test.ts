import assert from "node:assert/strict";
import {
  LogFilter,
  type LogQuery,
  parseLogLines,
  readContainerLog,
} from "../../src/container/logs.ts";
import { JsonLogWriter, type LogEntry, rotatedFiles } from "../../src/container/log_writer.ts";

const enc = new TextEncoder();

function withDir(fn: (dir: string) => Promise<void> | void) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-logs-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

async function readAll(path: string, query: LogQuery = { tail: Infinity }): Promise<LogEntry[]> {
  const got: LogEntry[] = [];
  await readContainerLog(path, query, (es) => got.push(...es));
  return got;
}

Deno.test(
  "JsonLogWriter writes one Docker json-file line per output line, per stream",
  withDir(async (dir) => {
    const w = new JsonLogWriter(`${dir}/log`);
    w.write("stdout", enc.encode("hel"));
    w.write("stderr", enc.encode("oops\n"));
    w.write("stdout", enc.encode("lo\nwor"));
    await w.close();
    const { entries, rest } = parseLogLines(Deno.readTextFileSync(`${dir}/log`));
    assert.equal(rest, "");
    assert.deepEqual(entries.map((e) => [e.stream, e.log]), [
      ["stderr", "oops\n"],
      ["stdout", "hello\n"],
      ["stdout", "wor"],
    ]);
    assert.match(entries[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  }),
);

Deno.test(
  "JsonLogWriter escapes what JSON must, keeps a character split across chunks whole",
  withDir(async (dir) => {
    const w = new JsonLogWriter(`${dir}/log`);
    const euro = enc.encode("€"); // three bytes
    w.write("stdout", new Uint8Array([...enc.encode('a "q" \\ \t\x01'), euro[0]]));
    w.write("stdout", new Uint8Array([...euro.subarray(1), 0x0a]));
    w.write("stdout", enc.encode("plain\n\nlast\n"));
    await w.close();
    const text = Deno.readTextFileSync(`${dir}/log`);
    // Docker's field order: log, stream, time.
    assert.match(
      text.split("\n")[0],
      /^\{"log":"a \\"q\\" \\\\ \\t\\u0001€\\n","stream":"stdout","time":"/,
    );
    assert.deepEqual(parseLogLines(text).entries.map((e) => e.log), [
      'a "q" \\ \t\x01€\n',
      "plain\n",
      "\n",
      "last\n",
    ]);
  }),
);

Deno.test(
  "JsonLogWriter puts the attributes, keys sorted, between stream and time (Docker's order)",
  withDir(async (dir) => {
    const w = new JsonLogWriter(`${dir}/log`, { attrs: { z: "1", a: "x y" } });
    w.write("stderr", enc.encode("e\n"));
    await w.close();
    const line = Deno.readTextFileSync(`${dir}/log`);
    assert.match(line, /^\{"log":"e\\n","stream":"stderr","attrs":\{"a":"x y","z":"1"\},"time":"/);
  }),
);

Deno.test(
  "JsonLogWriter rotates as Docker does: checked before each entry, .1 newest, oldest dropped",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    // Each entry is ~80 bytes: max-size 100 puts two entries in each file.
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 3 } });
    for (let i = 1; i <= 7; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    await w.close();
    assert.deepEqual(rotatedFiles(path), [`${path}.2`, `${path}.1`]);
    const lines = (p: string) => parseLogLines(Deno.readTextFileSync(p)).entries.map((e) => e.log);
    assert.deepEqual(lines(`${path}.2`), ["line 3\n", "line 4\n"]);
    assert.deepEqual(lines(`${path}.1`), ["line 5\n", "line 6\n"]);
    assert.deepEqual(lines(path), ["line 7\n"]);
    // The reader goes oldest first, across files; --tail counts across them too.
    assert.deepEqual((await readAll(path)).map((e) => e.log), [
      "line 3\n",
      "line 4\n",
      "line 5\n",
      "line 6\n",
      "line 7\n",
    ]);
    assert.deepEqual((await readAll(path, { tail: 4 })).map((e) => e.log), [
      "line 4\n",
      "line 5\n",
      "line 6\n",
      "line 7\n",
    ]);
    assert.deepEqual(await readAll(path, { tail: 0 }), []);
  }),
);

Deno.test(
  "JsonLogWriter with max-file=1 starts the file again when it is full",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 1 } });
    for (let i = 1; i <= 5; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    await w.close();
    assert.deepEqual(rotatedFiles(path), []);
    assert.deepEqual((await readAll(path)).map((e) => e.log), ["line 5\n"]);
  }),
);

Deno.test(
  "JsonLogWriter rotates within one chunk, one entry at a time",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 10 } });
    w.write("stdout", enc.encode("a\nb\nc\nd\ne\n"));
    await w.close();
    assert.equal(rotatedFiles(path).length, 2);
    assert.deepEqual((await readAll(path)).map((e) => e.log), ["a\n", "b\n", "c\n", "d\n", "e\n"]);
  }),
);

Deno.test(
  "rotatedFiles orders by number, not by name (.10 is older than .9)",
  withDir((dir) => {
    const path = `${dir}/x-json.log`;
    for (const n of [1, 2, 9, 10]) Deno.writeTextFileSync(`${path}.${n}`, "");
    Deno.writeTextFileSync(`${path}.gz`, "");
    Deno.writeTextFileSync(`${dir}/other-json.log.1`, "");
    assert.deepEqual(rotatedFiles(path), [`${path}.10`, `${path}.9`, `${path}.2`, `${path}.1`]);
  }),
);

Deno.test("parseLogLines holds back a torn last line and skips damaged ones", () => {
  const { entries, rest } = parseLogLines(
    '{"log":"a\\n","stream":"stdout","time":"t"}\nnot json\n{"lo',
  );
  assert.equal(entries.length, 1);
  assert.equal(rest, '{"lo');
});

Deno.test(
  "readContainerLog leaves a torn last entry out of tail and all alike, and reads no file as empty",
  withDir(async (dir) => {
    const path = `${dir}/log`;
    Deno.writeTextFileSync(
      path,
      '{"log":"a\\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}\n{"log":"b',
    );
    assert.deepEqual((await readAll(path)).map((e) => e.log), ["a\n"]);
    assert.deepEqual((await readAll(path, { tail: 5 })).map((e) => e.log), ["a\n"]);
    assert.deepEqual(await readAll(`${dir}/missing`), []);
  }),
);

function entry(time: string, log = time): LogEntry {
  return { log, stream: "stdout", time };
}

Deno.test("LogFilter: since keeps from the first entry at or after it, until stops at the first after it", () => {
  const t = (s: number) => `2024-01-01T00:00:0${s}.000000000Z`;
  const ns = (s: number) => BigInt(Date.UTC(2024, 0, 1, 0, 0, s)) * 1_000_000n;
  // Docker's forwarder: once past `since`, an entry whose clock went back is still kept.
  const f = new LogFilter({ tail: Infinity, since: ns(2), until: ns(5) });
  assert.deepEqual(
    f.apply([entry(t(1)), entry(t(2)), entry(t(1), "back"), entry(t(5)), entry(t(6)), entry(t(3))])
      .map((e) => e.log),
    [t(2), "back", t(5)],
  );
  assert.equal(f.done, true);
  assert.deepEqual(f.apply([entry(t(4))]), []);
  const all = new LogFilter({ tail: Infinity });
  assert.equal(all.apply([entry("garbage")]).length, 1);
});

Deno.test(
  "readContainerLog applies --tail first, then the time window (as Docker's reader does)",
  withDir(async (dir) => {
    const path = `${dir}/log`;
    const t = (s: number) => `2024-01-01T00:00:0${s}.000000000Z`;
    Deno.writeTextFileSync(
      path,
      [1, 2, 3, 4].map((s) => JSON.stringify(entry(t(s))) + "\n").join(""),
    );
    const ns = (s: number) => BigInt(Date.UTC(2024, 0, 1, 0, 0, s)) * 1_000_000n;
    const got = await readAll(path, { tail: 3, since: ns(3) });
    assert.deepEqual(got.map((e) => e.log), [t(3), t(4)]);
    const until = await readAll(path, { tail: Infinity, until: ns(2) });
    assert.deepEqual(until.map((e) => e.log), [t(1), t(2)]);
  }),
);

Deno.test(
  "readContainerLog follows the current file across a rotation until told to stop",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 2 } });
    w.write("stdout", enc.encode("one\n"));
    const got: string[] = [];
    let step = 0;
    // Each poll writes one more line (the second rotates the file), then says stop.
    await readContainerLog(path, { tail: Infinity }, (es) => got.push(...es.map((e) => e.log)), {
      running: () => {
        step++;
        if (step <= 3) w.write("stdout", enc.encode(`more ${step}\n`));
        return step <= 3;
      },
      intervalMs: 0,
    });
    await w.close();
    assert.deepEqual(got, ["one\n", "more 1\n", "more 2\n", "more 3\n"]);
  }),
);

Deno.test(
  "readContainerLog following reads a file rotated out between two looks",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    const w = new JsonLogWriter(path, { rotation: { maxSize: 100, maxFiles: 5 } });
    w.write("stdout", enc.encode("one\n"));
    const got: string[] = [];
    let step = 0;
    // Between two polls the writer fills and rotates two files.
    await readContainerLog(path, { tail: Infinity }, (es) => got.push(...es.map((e) => e.log)), {
      running: () => {
        if (++step === 1) {
          for (let i = 1; i <= 5; i++) w.write("stdout", enc.encode(`more ${i}\n`));
        }
        return step === 1;
      },
      intervalMs: 0,
    });
    await w.close();
    assert.ok(rotatedFiles(path).length >= 2);
    assert.deepEqual(got, ["one\n", "more 1\n", "more 2\n", "more 3\n", "more 4\n", "more 5\n"]);
  }),
);

Deno.test(
  "JsonLogWriter never throws: a write that fails stops the logging and says why",
  withDir(async (dir) => {
    const path = `${dir}/c-json.log`;
    // The oldest file cannot be dropped (a non-empty directory is in its place).
    Deno.mkdirSync(`${path}.1/x`, { recursive: true });
    const w = new JsonLogWriter(path, { rotation: { maxSize: 10, maxFiles: 2 } });
    w.write("stdout", enc.encode("first\n"));
    const failure = () => w.failure; // read afresh: each write may set it
    assert.equal(failure(), undefined);
    w.write("stdout", enc.encode("second\n"));
    assert.ok(failure() instanceof Error);
    w.write("stdout", enc.encode("third\n"));
    await w.close();
    assert.deepEqual(parseLogLines(Deno.readTextFileSync(path)).entries.map((e) => e.log), [
      "first\n",
    ]);
  }),
);
