import assert from "node:assert/strict";
import { SyscallError } from "../../ffi/errors.ts";
import {
  close,
  O,
  open,
  pipe,
  read,
  recvFd,
  sendFd,
  socketPair,
  spawn,
  waitSync,
  writeAll,
} from "../../ffi/libc.ts";

Deno.test("SyscallError names the call, the target and the errno", () => {
  try {
    open("/nonexistent/m-docker", O.RDONLY);
    assert.fail("open should fail");
  } catch (e) {
    assert.ok(e instanceof SyscallError);
    assert.equal(e.errno, 2);
    assert.equal(e.code, "ENOENT");
    assert.equal(e.message, "open /nonexistent/m-docker: No such file or directory");
  }
});

Deno.test("pipe carries bytes and reports EOF once the writer closes", () => {
  const [r, w] = pipe();
  writeAll(w, new TextEncoder().encode("hello"));
  close(w);
  const buf = new Uint8Array(16);
  assert.equal(read(r, buf), 5);
  assert.equal(new TextDecoder().decode(buf.subarray(0, 5)), "hello");
  assert.equal(read(r, buf), 0);
  close(r);
});

Deno.test("sendFd passes a working descriptor across a socket pair", () => {
  const [a, b] = socketPair();
  const [r, w] = pipe();
  sendFd(a, w);
  const received = recvFd(b);
  assert.ok(received >= 0 && received !== w);
  writeAll(received, new TextEncoder().encode("x"));
  const buf = new Uint8Array(1);
  assert.equal(read(r, buf), 1);
  assert.equal(buf[0], 0x78);
  for (const fd of [a, b, r, w, received]) close(fd);
});

Deno.test("spawn runs a program with stdio redirected and default signal dispositions", () => {
  const [r, w] = pipe();
  const pid = spawn({
    path: "/bin/sh",
    // Deno ignores SIGPIPE; a spawned child must not inherit that.
    args: ["sh", "-c", "grep SigIgn /proc/self/status; exit 7"],
    env: ["PATH=/usr/bin:/bin"],
    fds: [{ kind: "dup", from: w, to: 1 }],
  });
  close(w);
  const result = waitSync(pid);
  assert.equal(result?.exitCode, 7);
  const buf = new Uint8Array(256);
  const text = new TextDecoder().decode(buf.subarray(0, read(r, buf)));
  close(r);
  const ignored = BigInt("0x" + text.trim().split(/\s+/)[1]);
  assert.equal(ignored & (1n << 12n), 0n, "SIGPIPE (13) must not be ignored");
});

Deno.test("spawn reports a missing program as a SyscallError", () => {
  assert.throws(
    () => spawn({ path: "/nonexistent/prog", args: ["x"], env: [] }),
    (e: unknown) => e instanceof SyscallError && e.errno === 2,
  );
});
