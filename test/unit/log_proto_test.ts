/**
 * Docker's `local` log format, byte for byte: the frames are computed by hand from moby's
 * daemon/logger/internal/logdriver/entry.proto (source = 1, time_nano = 2, line = 3,
 * partial = 4, attrs = 6 with LogAttr key = 1, value = 2) and local.go's framing (a
 * big-endian uint32 length before and after the message).
 */
import assert from "node:assert/strict";
import {
  decodeFrames,
  decodeLogEntry,
  encodeLogEntry,
  frameLogEntry,
  type ProtoLogEntry,
} from "../../src/container/log_proto.ts";

const bytes = (hex: string) => new Uint8Array(hex.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const text = (s: string) => new TextEncoder().encode(s);

function entry(e: Partial<ProtoLogEntry>): ProtoLogEntry {
  return { source: "", timeNano: 0n, line: new Uint8Array(0), partial: false, attrs: [], ...e };
}

// source "stdout": tag 0x0a (field 1, wire type 2), length 6, the bytes; time_nano 150:
// tag 0x10 (field 2, varint), 150 = 0x96 0x01 (the protobuf guide's example); line "hi":
// tag 0x1a, length 2. 15 bytes in all.
const HI = bytes("0a 06 73 74 64 6f 75 74  10 96 01  1a 02 68 69");

Deno.test("encodeLogEntry: Docker's LogEntry bytes (source, time_nano, line)", () => {
  const e = entry({ source: "stdout", timeNano: 150n, line: text("hi") });
  assert.deepEqual(encodeLogEntry(e), HI);
  assert.deepEqual(decodeLogEntry(HI), e);
});

Deno.test("frameLogEntry: the length before and after, big-endian uint32", () => {
  const framed = frameLogEntry(entry({ source: "stdout", timeNano: 150n, line: text("hi") }));
  assert.deepEqual(framed, new Uint8Array([0, 0, 0, 15, ...HI, 0, 0, 0, 15]));
});

Deno.test("encodeLogEntry: partial, attributes, a 64-bit time; proto3 leaves out defaults", () => {
  // time_nano 300 = 0xac 0x02; partial true: tag 0x20, 1; attrs: tag 0x32, length 8, then
  // LogAttr key "tag" (0a 03 74 61 67) and value "a" (12 01 61).
  const e = entry({
    source: "stderr",
    timeNano: 300n,
    line: text("x"),
    partial: true,
    attrs: [["tag", "a"]],
  });
  const want = bytes(
    "0a 06 73 74 64 65 72 72  10 ac 02  1a 01 78  20 01  32 08 0a 03 74 61 67 12 01 61",
  );
  assert.deepEqual(encodeLogEntry(e), want);
  assert.deepEqual(decodeLogEntry(want), e);
  // An empty line and a false partial are not written at all.
  assert.deepEqual(
    encodeLogEntry(entry({ source: "stdout", timeNano: 1n })),
    bytes("0a 06 73 74 64 6f 75 74 10 01"),
  );
  // A real time: 1700000000123456789 ns is nine varint bytes, the last one 0x17.
  const t = 1700000000123456789n;
  assert.deepEqual(
    encodeLogEntry(entry({ timeNano: t })),
    bytes("10 95 9a 97 ec e3 9f e7 cb 17"),
  );
  assert.equal(decodeLogEntry(bytes("10 95 9a 97 ec e3 9f e7 cb 17")).timeNano, t);
});

Deno.test("decodeLogEntry skips fields it does not know (partial_log_metadata = 5)", () => {
  // Field 5, wire type 2 (tag 0x2a), holding PartialLogEntryMetadata{last: true}.
  const withMeta = new Uint8Array([...HI, 0x2a, 0x02, 0x08, 0x01]);
  assert.deepEqual(decodeLogEntry(withMeta).line, text("hi"));
  assert.throws(() => decodeLogEntry(bytes("1a 05 68")), /truncated/);
});

Deno.test("decodeFrames: whole frames, a torn last one left, damage stops the read", () => {
  const a = frameLogEntry(entry({ source: "stdout", timeNano: 1n, line: text("a") }));
  const b = frameLogEntry(entry({ source: "stderr", timeNano: 2n, line: text("b") }));
  const both = new Uint8Array([...a, ...b]);
  const whole = decodeFrames(both);
  assert.deepEqual(whole.entries.map((e) => e.source), ["stdout", "stderr"]);
  assert.equal(whole.used, both.length);
  const torn = decodeFrames(both.subarray(0, both.length - 3));
  assert.deepEqual([torn.entries.length, torn.used, torn.damaged], [1, a.length, false]);
  const bad = both.slice();
  bad[a.length - 1] ^= 1; // the first frame's trailing length no longer matches
  assert.deepEqual(decodeFrames(bad).damaged, true);
  assert.equal(decodeFrames(bad).entries.length, 0);
});
