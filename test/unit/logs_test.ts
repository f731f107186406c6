import assert from "node:assert/strict";
import { JsonLogWriter, parseLogLines } from "../../src/container/logs.ts";

Deno.test("JsonLogWriter writes one Docker json-file line per output line, per stream", () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-logs-" });
  try {
    const w = new JsonLogWriter(`${dir}/log`);
    const enc = new TextEncoder();
    w.write("stdout", enc.encode("hel"));
    w.write("stderr", enc.encode("oops\n"));
    w.write("stdout", enc.encode("lo\nwor"));
    w.close();
    const { entries, rest } = parseLogLines(Deno.readTextFileSync(`${dir}/log`));
    assert.equal(rest, "");
    assert.deepEqual(entries.map((e) => [e.stream, e.log]), [
      ["stderr", "oops\n"],
      ["stdout", "hello\n"],
      ["stdout", "wor"],
    ]);
    assert.match(entries[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseLogLines holds back a torn last line and skips damaged ones", () => {
  const { entries, rest } = parseLogLines(
    '{"log":"a\\n","stream":"stdout","time":"t"}\nnot json\n{"lo',
  );
  assert.equal(entries.length, 1);
  assert.equal(rest, '{"lo');
});
