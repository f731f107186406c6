import assert from "node:assert/strict";
import { errnoMessage, errnoName, errorReason, SyscallError } from "../../ffi/errors.ts";
import {
  AT,
  close,
  errno,
  libcErrno,
  MOUNT_ATTR,
  mountSetattr,
  O,
  open,
  pipe,
  read,
  recvFd,
  sendFd,
  setCloexec,
  socketPair,
  spawn,
  waitSync,
  writeAll,
} from "../../ffi/libc.ts";
import { realSyscalls } from "../../ffi/syscalls.ts";

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

Deno.test("every Linux errno has its name and glibc's text", () => {
  for (let e = 1; e <= 133; e++) {
    if (e === 41 || e === 58) continue; // unused on Linux
    assert.doesNotMatch(errnoName(e), /^errno /, `errno ${e} has no name`);
    assert.doesNotMatch(errnoMessage(e), /^Unknown error/, `errno ${e} has no text`);
  }
  assert.equal(errnoName(7), "E2BIG");
  assert.equal(errnoMessage(7), "Argument list too long");
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(95), "EOPNOTSUPP");
  assert.equal(errnoName(133), "EHWPOISON");
  assert.equal(errnoMessage(133), "Memory page has hardware error");
  assert.equal(errnoMessage(41), "Unknown error 41");
  assert.equal(
    new SyscallError("execve", 7, "/bin/sh").message,
    "execve /bin/sh: Argument list too long",
  );
});

Deno.test("realSyscalls: mkdir -p, files, symlinks and file kinds on a real directory", () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-ffi-" });
  try {
    const sys = realSyscalls;
    sys.mkdirAll(`${dir}/a/b/c`);
    sys.mkdirAll(`${dir}/a/b/c`); // an existing directory is fine
    assert.equal(sys.fileKind(`${dir}/a/b/c`), "directory");
    sys.createFile(`${dir}/a/f`);
    assert.equal(sys.fileKind(`${dir}/a/f`), "file");
    assert.equal(Deno.statSync(`${dir}/a/f`).size, 0);
    assert.throws(
      () => sys.createFile(`${dir}/a/f`),
      (e: unknown) => e instanceof SyscallError && e.code === "EEXIST",
    );
    assert.throws(
      () => sys.mkdirAll(`${dir}/a/f`),
      (e: unknown) => e instanceof SyscallError && e.code === "EEXIST",
    );
    assert.throws(
      () => sys.mkdirAll(`${dir}/a/f/g`),
      (e: unknown) => e instanceof SyscallError && e.code === "ENOTDIR",
    );
    sys.symlink("b/c", `${dir}/a/link`);
    assert.equal(sys.fileKind(`${dir}/a/link`), "symlink");
    assert.equal(sys.fileKind(`${dir}/a/link`, true), "directory");
    assert.equal(sys.readLink(`${dir}/a/link`), "b/c");
    assert.equal(sys.fileKind("/dev/null"), "other");
    assert.equal(sys.fileKind(`${dir}/missing`), null);
    assert.equal(sys.fileKind(`${dir}/a/f/under-a-file`), null);
    assert.match(sys.readTextFile("/proc/self/mountinfo"), / \/ \/ /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("mountSetattr reaches the kernel's mount_setattr (a missing path is ENOENT)", () => {
  assert.throws(
    () => mountSetattr("/nonexistent/m-docker", AT.RECURSIVE, MOUNT_ATTR.RDONLY),
    (e: unknown) =>
      e instanceof SyscallError && e.syscall === "mount_setattr" &&
      // ENOSYS on kernels before 5.12; EPERM when not root (checked before the lookup).
      ["ENOENT", "ENOSYS", "EPERM"].includes(e.code),
  );
});

Deno.test("errorReason words an errno as Go does, and leaves other errors as they are", () => {
  assert.equal(errorReason(new SyscallError("chdir", 20, "/etc/passwd")), "not a directory");
  assert.equal(errorReason(new SyscallError("chdir", 13, "/root")), "permission denied");
  assert.equal(errorReason(new Error("something else")), "something else");
});

Deno.test("a failed call's errno comes from the kernel's result, not libc's errno", () => {
  // ENOENT from the stat; then libc's errno is set to something else on this thread (as a
  // garbage collection's futex can do between a call and the read of errno).
  assert.throws(
    () => realSyscalls.fileKind("/nonexistent/x/y", true) ?? open("/nonexistent/x", O.RDONLY),
    (e: Error) => e instanceof SyscallError && e.errno === 2,
  );
  const lib = Deno.dlopen("libc.so.6", { close: { parameters: ["i32"], result: "i32" } });
  lib.symbols.close(-1);
  assert.equal(libcErrno(), 9); // EBADF in libc's errno
  lib.close();
  assert.equal(errno(), 2); // ours is still the open's ENOENT
  assert.throws(
    () => read(-1, new Uint8Array(1)),
    (e: Error) => e instanceof SyscallError && e.errno === 9,
  );
});

Deno.test("setCloexec clears and sets FD_CLOEXEC, which fdinfo shows", () => {
  const [r, w] = pipe();
  // fdinfo's flags are octal; O_CLOEXEC (0o2000000) stands for FD_CLOEXEC there.
  const cloexec = (fd: number) => {
    const flags = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`).match(/^flags:\s+(\d+)/m)!;
    return (parseInt(flags[1], 8) & O.CLOEXEC) !== 0;
  };
  try {
    assert.equal(cloexec(r), true, "pipe() makes close-on-exec ends");
    setCloexec(r, false);
    assert.equal(cloexec(r), false);
    assert.equal(cloexec(w), true, "only the one named");
    setCloexec(r, true);
    assert.equal(cloexec(r), true);
    assert.throws(() => setCloexec(w + 1000, false), /fcntl/);
  } finally {
    close(r);
    close(w);
  }
});
