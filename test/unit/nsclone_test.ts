import assert from "node:assert/strict";
import { SyscallError } from "../../ffi/errors.ts";
import { CLONE, close, O, open, pipe, read, waitSync } from "../../ffi/libc.ts";
import {
  type NamespacedSpawnOptions,
  NSCLONE_CODE_HEX,
  spawnInNamespaces,
} from "../../ffi/nsclone.ts";

const isRoot = Deno.uid() === 0;

function has(tool: string): boolean {
  try {
    return new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the embedded machine code is ffi/nsclone.s assembled",
  ignore: !has("as") || !has("objcopy"),
  fn() {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-nsclone-" });
    try {
      const src = new URL("../../ffi/nsclone.s", import.meta.url).pathname;
      const run = (cmd: string, args: string[]) =>
        assert.ok(new Deno.Command(cmd, { args }).outputSync().success, `${cmd} failed`);
      run("as", [src, "-o", `${dir}/n.o`]);
      run("objcopy", ["-O", "binary", "-j", ".text", `${dir}/n.o`, `${dir}/n.bin`]);
      const hex = [...Deno.readFileSync(`${dir}/n.bin`)]
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(NSCLONE_CODE_HEX, hex);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

/** Spawns /bin/true in our own namespaces with `opts` added. */
const spawnTrue = (opts: Partial<NamespacedSpawnOptions>) =>
  spawnInNamespaces({ path: "/bin/true", args: ["true"], env: [], namespaces: 0, ...opts });

/** Spawns `opts` with its stdout on a pipe; returns what it wrote and how it exited. */
function runCaptured(
  opts: Omit<NamespacedSpawnOptions, "fds">,
  prepare?: (pid: number) => void,
) {
  const [r, w] = pipe();
  try {
    let pid: number;
    try {
      pid = spawnInNamespaces({ ...opts, fds: [{ kind: "dup", from: w, to: 1 }] }, prepare);
    } finally {
      close(w);
    }
    const chunks: string[] = [];
    const buf = new Uint8Array(4096);
    for (let n; (n = read(r, buf)) > 0;) chunks.push(new TextDecoder().decode(buf.subarray(0, n)));
    return { output: chunks.join(""), exit: waitSync(pid) };
  } finally {
    close(r);
  }
}

/** Runs `script` with sh in new namespaces; returns its output and exit. */
function runSh(
  script: string,
  namespaces: number,
  prepare?: (pid: number) => void,
  ids = { uid: 0, gid: 0, groups: [] as number[] },
) {
  return runCaptured({
    path: "/bin/sh",
    args: ["sh", "-c", script],
    env: ["PATH=/usr/bin:/bin"],
    namespaces,
    ids,
  }, prepare);
}

const mapRange = (pid: number) => {
  Deno.writeTextFileSync(`/proc/${pid}/uid_map`, "0 200000 65536\n");
  Deno.writeTextFileSync(`/proc/${pid}/gid_map`, "0 200000 65536\n");
};

Deno.test({
  name: "a child cloned into new user and PID namespaces is PID 1 and root of the mapped range",
  ignore: !isRoot,
  fn() {
    const { output, exit } = runSh(
      "echo $$; id -u; cat /proc/self/uid_map; grep CapEff /proc/self/status",
      CLONE.NEWUSER | CLONE.NEWPID,
      mapRange,
    );
    const [pid, uid, map, capEff] = output.trim().split("\n");
    assert.equal(pid, "1");
    assert.equal(uid, "0");
    assert.deepEqual(map.trim().split(/\s+/), ["0", "200000", "65536"]);
    // Root of its own namespace: every capability there.
    assert.match(capEff, /CapEff:\s+0*1f+$/);
    assert.equal(exit?.exitCode, 0);
  },
});

Deno.test({
  name: "when prepare fails the child never execs and is reaped",
  ignore: !isRoot,
  fn() {
    const [r, w] = pipe();
    assert.throws(
      () =>
        spawnInNamespaces({
          path: "/bin/sh",
          args: ["sh", "-c", "echo ran"],
          env: [],
          fds: [{ kind: "dup", from: w, to: 1 }],
          namespaces: CLONE.NEWUSER | CLONE.NEWPID,
          ids: { uid: 0, gid: 0, groups: [] },
        }, () => {
          throw new Error("no maps today");
        }),
      /no maps today/,
    );
    close(w);
    assert.equal(read(r, new Uint8Array(16)), 0, "the child wrote nothing");
    close(r);
  },
});

Deno.test({
  name: "a failed execve in the child is a SyscallError naming the step",
  ignore: !isRoot,
  fn() {
    try {
      spawnInNamespaces({
        path: "/nonexistent/m-docker",
        args: ["x"],
        env: [],
        namespaces: CLONE.NEWUSER,
        ids: { uid: 0, gid: 0, groups: [] },
      }, mapRange);
      assert.fail("spawn should fail");
    } catch (e) {
      assert.ok(e instanceof SyscallError, String(e));
      assert.equal(e.syscall, "execve");
      assert.equal(e.code, "ENOENT");
    }
  },
});

Deno.test({
  name: "without a map the child cannot take root's ids, and says so",
  ignore: !isRoot,
  fn() {
    assert.throws(
      () => runSh("true", CLONE.NEWUSER, () => {}),
      (e) => e instanceof SyscallError && e.syscall === "setgroups" && e.code === "EPERM",
    );
  },
});

Deno.test({
  name:
    'the child joins its cgroups itself: it writes "0" to each file, and a failed write names the step',
  fn() {
    // Pipes stand in for v1 tasks files: what the child writes arrives at the read ends.
    const [r1, w1] = pipe(), [r2, w2] = pipe();
    try {
      const pid = spawnInNamespaces({
        path: "/bin/true",
        args: ["true"],
        env: [],
        namespaces: 0,
        joinCgroupFiles: [w1, w2],
      });
      assert.equal(waitSync(pid)?.exitCode, 0);
      close(w1), close(w2);
      const buf = new Uint8Array(8);
      assert.equal(new TextDecoder().decode(buf.subarray(0, read(r1, buf))), "0");
      assert.equal(new TextDecoder().decode(buf.subarray(0, read(r2, buf))), "0");
    } finally {
      for (const fd of [r1, r2]) close(fd);
    }
    // A read end cannot be written: EBADF, reported as the join, and nothing runs.
    const [r, w] = pipe();
    try {
      assert.throws(
        () => spawnTrue({ joinCgroupFiles: [r] }),
        (e) =>
          e instanceof SyscallError && e.syscall.startsWith("cgroup join") && e.code === "EBADF",
      );
    } finally {
      close(r), close(w);
    }
  },
});

Deno.test({
  name: "with cgroupDir the child is cloned by clone3: a descriptor of no cgroup is refused",
  fn() {
    // clone3(CLONE_INTO_CGROUP) takes only a cgroup2 directory: anything else is EBADF, and
    // only clone3 says so (the fallback would fail at openat, ENOTDIR).
    const [r, w] = pipe();
    try {
      assert.throws(
        () => spawnTrue({ cgroupDir: r }),
        (e) => e instanceof SyscallError && e.syscall === "clone3" && e.code === "EBADF",
      );
    } finally {
      close(r), close(w);
    }
  },
});

/** Our cgroup2 cgroup ("0::" of /proc/self/cgroup) and its directory, if there is one. */
function ownUnifiedCgroup(): { path: string; dir: string } | undefined {
  const mount = Deno.readTextFileSync("/proc/self/mounts").split("\n")
    .map((l) => l.split(" ")).find((f) => f[2] === "cgroup2")?.[1];
  const own = Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)?.[1];
  if (mount === undefined || own === undefined) return undefined;
  const path = own === "/" ? "" : own;
  return { path, dir: `${mount}${path}` };
}

Deno.test({
  name:
    "with cgroupDir the child is born in that cgroup, and where clone3 is ENOSYS it is moved there",
  ignore: !isRoot || ownUnifiedCgroup() === undefined,
  async fn() {
    // A cgroup nested in our own (cgroup2: the unified hierarchy, even on a hybrid host).
    const own = ownUnifiedCgroup()!;
    const name = `m-docker-nsclone-${Deno.pid}`;
    const dir = `${own.dir}/${name}`;
    const want = `0::${own.path}/${name}`;
    Deno.mkdirSync(dir);
    try {
      // Here: clone3 puts it there.
      const fd = open(dir, O.PATH | O.DIRECTORY | O.CLOEXEC);
      let seen: string;
      try {
        const { output, exit } = runCaptured({
          path: "/bin/cat",
          args: ["cat", "/proc/self/cgroup"],
          env: [],
          namespaces: 0,
          cgroupDir: fd,
        });
        seen = output;
        assert.equal(exit?.exitCode, 0);
      } finally {
        close(fd);
      }
      assert.ok(seen.split("\n").includes(want), `${want} not in ${seen}`);
      // A process whose seccomp filter answers clone3 with ENOSYS, as Docker's profile does:
      // the plain clone, then the move (a pipe given as the directory fails at its openat).
      const script = `
        import { spawnInNamespaces } from "${new URL("../../ffi/nsclone.ts", import.meta.url)}";
        import { loadSeccompFilter } from "${new URL("../../ffi/seccomp.ts", import.meta.url)}";
        import { O, open, pipe, waitSync } from "${new URL("../../ffi/libc.ts", import.meta.url)}";
        const f = new DataView(new ArrayBuffer(32));
        const ins = (i, code, jt, jf, k) => {
          f.setUint16(8 * i, code, true); f.setUint8(8 * i + 2, jt); f.setUint8(8 * i + 3, jf);
          f.setUint32(8 * i + 4, k, true);
        };
        ins(0, 0x20, 0, 0, 0); // ld nr
        ins(1, 0x15, 0, 1, 435); // jeq clone3
        ins(2, 0x06, 0, 0, 0x50000 | 38); // ret ERRNO(ENOSYS)
        ins(3, 0x06, 0, 0, 0x7fff0000); // ret ALLOW
        loadSeccompFilter(new Uint8Array(f.buffer));
        const spawn = (cgroupDir) => spawnInNamespaces(
          { path: "/bin/cat", args: ["cat", "/proc/self/cgroup"], env: [], namespaces: 0, cgroupDir },
        );
        try {
          spawn(pipe()[0]);
        } catch (e) {
          console.log("refused by", e.syscall);
        }
        console.log("exit", waitSync(spawn(open(${
        JSON.stringify(dir)
      }, O.PATH | O.DIRECTORY)))?.exitCode);
      `;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", script],
        stderr: "inherit",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, text);
      const lines = text.split("\n");
      assert.ok(lines.includes("refused by open cgroup.procs"), text);
      assert.ok(lines.includes(want), `${want} not in ${text}`);
      assert.ok(lines.includes("exit 0"), text);
    } finally {
      Deno.removeSync(dir);
    }
  },
});

Deno.test({
  name: "the child joins the cgroup namespace it is given; a descriptor of none names the step",
  ignore: !isRoot,
  fn() {
    // A process in a cgroup namespace of its own, whose namespace the child then joins.
    const other = spawnInNamespaces({
      path: "/bin/sleep",
      args: ["sleep", "60"],
      env: [],
      namespaces: CLONE.NEWCGROUP,
    });
    try {
      const ns = open(`/proc/${other}/ns/cgroup`, O.RDONLY | O.CLOEXEC);
      let out: string;
      try {
        const { output, exit } = runCaptured({
          path: "/bin/readlink",
          args: ["readlink", "/proc/self/ns/cgroup"],
          env: [],
          namespaces: 0,
          joinCgroupns: ns,
        });
        out = output.trim();
        assert.equal(exit?.exitCode, 0);
      } finally {
        close(ns);
      }
      const want = Deno.readLinkSync(`/proc/${other}/ns/cgroup`);
      assert.notEqual(want, Deno.readLinkSync("/proc/self/ns/cgroup"));
      assert.equal(out, want);
    } finally {
      Deno.kill(other, "SIGKILL");
      waitSync(other);
    }
    const [r, w] = pipe();
    try {
      assert.throws(
        () => spawnTrue({ joinCgroupns: r }),
        (e) =>
          e instanceof SyscallError && e.syscall === "setns (cgroup namespace)" &&
          e.code === "EINVAL",
      );
    } finally {
      close(r), close(w);
    }
  },
});
