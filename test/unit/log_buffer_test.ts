import assert from "node:assert/strict";
import { DEFAULT_MAX_BUFFER_SIZE, LogBuffer } from "../../src/container/log_buffer.ts";

const item = (n: number) => new Uint8Array(n);

Deno.test("LogBuffer holds at most max-buffer-size bytes and counts what it drops", () => {
  // moby ring.go: the default bound is 1e6 bytes.
  assert.equal(new LogBuffer().maxBytes, DEFAULT_MAX_BUFFER_SIZE);
  assert.equal(DEFAULT_MAX_BUFFER_SIZE, 1e6);
  const b = new LogBuffer(10);
  assert.equal(b.push(item(4)), true);
  assert.equal(b.push(item(6)), true); // exactly full
  assert.equal(b.bytes, 10);
  assert.equal(b.push(item(1)), false);
  assert.equal(b.push(item(0)), true); // nothing to hold: always fits
  assert.deepEqual([b.size, b.bytes, b.dropped], [3, 10, 1]);
  assert.deepEqual(b.takeAll().map((i) => i.length), [4, 6, 0]);
  assert.deepEqual([b.size, b.bytes], [0, 0]);
  // Docker's Enqueue: an entry larger than the bound still goes into an empty buffer.
  assert.equal(b.push(item(25)), true);
  assert.equal(b.push(item(1)), false);
  assert.equal(b.dropped, 2);
});
