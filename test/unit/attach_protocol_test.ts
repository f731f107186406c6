import assert from "node:assert/strict";
import {
  attachSocketPath,
  DetachWatcher,
  encodeFrame,
  encodeResize,
  FRAME,
  FrameDecoder,
  parseDetachKeys,
} from "../../src/container/attach_protocol.ts";
import { UsageError } from "../../src/util/errors.ts";

Deno.test("frames survive being split anywhere", () => {
  const stream = new Uint8Array([
    ...encodeFrame(FRAME.input, new TextEncoder().encode("ls -l\n")),
    ...encodeResize(40, 120),
  ]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(stream.slice(0, cut)), ...d.push(stream.slice(cut))];
    assert.equal(frames.length, 2, `cut at ${cut}`);
    assert.equal(new TextDecoder().decode(frames[0].payload), "ls -l\n");
    const v = new DataView(frames[1].payload.buffer, frames[1].payload.byteOffset, 4);
    assert.deepEqual([frames[1].type, v.getUint16(0), v.getUint16(2)], [FRAME.resize, 40, 120]);
  }
});

Deno.test("parseDetachKeys reads Docker's syntax", () => {
  assert.deepEqual([...parseDetachKeys("ctrl-p,ctrl-q")], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys("ctrl-@,a")], [0, 0x61]);
  assert.deepEqual([...parseDetachKeys("ctrl-[")], [27]);
  for (const bad of ["ctrl-", "ctrl-pp", "abc", ""]) {
    assert.throws(() => parseDetachKeys(bad), UsageError, bad);
  }
});

Deno.test("DetachWatcher finds the sequence across chunks and passes broken partial matches on", () => {
  const w = new DetachWatcher(new Uint8Array([0x10, 0x11]));
  assert.deepEqual(w.scan(new Uint8Array([0x61, 0x10])), {
    pass: new Uint8Array([0x61]),
    detach: false,
  });
  assert.deepEqual(w.scan(new Uint8Array([0x11])), { pass: new Uint8Array([]), detach: true });
  const v = new DetachWatcher(new Uint8Array([0x10, 0x11]));
  assert.deepEqual(v.scan(new Uint8Array([0x10, 0x62])), {
    pass: new Uint8Array([0x10, 0x62]),
    detach: false,
  });
  assert.deepEqual(v.scan(new Uint8Array([0x10, 0x10, 0x11])), {
    pass: new Uint8Array([0x10]),
    detach: true,
  });
});

Deno.test("attachSocketPath stays within the unix socket path limit", () => {
  const path = attachSocketPath("/tmp/m-docker-test-0123456789abcdef/state", "f".repeat(64));
  assert.ok(path.length < 108, path);
});
