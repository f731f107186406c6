/**
 * The container's filesystem on a real kernel: read-only volumes stay read-only all the way
 * down (submounts included), the read-only kernel paths are read-only mounts, and errors
 * name the real reason.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

async function sh(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test(
  { name: ":ro volumes are read-only with every submount; :rw ones are writable", ...asRoot },
  async () => {
    const src = `${sb.dir}/vol`;
    Deno.mkdirSync(`${src}/sub`, { recursive: true });
    // A mount under the volume's source on the host: a recursive bind brings it along, and a
    // plain MS_REC remount would have left it writable.
    await sh("mount", "-t", "tmpfs", "-o", "size=1m", "m-docker-test", `${src}/sub`);
    try {
      const touch = (mode: string, path: string) =>
        sb.run(["run", "--rm", "-v", `${src}:/v${mode}`, "busybox", "sh", "-c", `touch ${path}`]);
      for (const path of ["/v/sub/x", "/v/x"]) {
        const r = await touch(":ro", path);
        assert.notEqual(r.code, 0, `touch ${path} succeeded on a :ro volume`);
        assert.match(r.stderr, /Read-only file system/);
      }
      const mounts = await sb.ok([
        "run",
        "--rm",
        "-v",
        `${src}:/v:ro`,
        "busybox",
        "cat",
        "/proc/self/mountinfo",
      ]);
      const options = (p: string) =>
        mounts.split("\n").map((l) => l.split(" ")).find((f) => f[4] === p)?.[5];
      assert.match(options("/v") ?? "missing", /^ro\b/);
      assert.match(options("/v/sub") ?? "missing", /^ro\b/);
      // Nothing was written to the host through the read-only volume.
      assert.deepEqual([...Deno.readDirSync(`${src}/sub`)], []);
      assert.deepEqual([...Deno.readDirSync(src)].map((e) => e.name), ["sub"]);

      for (const mode of [":rw", ""]) {
        for (const path of ["/v/sub/x", "/v/x"]) {
          const r = await touch(mode, path);
          assert.equal(r.code, 0, `touch ${path} on -v ${src}:/v${mode}: ${r.stderr}`);
        }
      }
      assert.ok(Deno.statSync(`${src}/sub/x`).isFile);
      assert.ok(Deno.statSync(`${src}/x`).isFile);
    } finally {
      await sh("umount", `${src}/sub`);
    }
  },
);

Deno.test({ name: "the read-only kernel paths are read-only mounts", ...asRoot }, async () => {
  const mounts = await sb.ok(["run", "--rm", "busybox", "cat", "/proc/self/mountinfo"]);
  const options = (p: string) =>
    mounts.split("\n").map((l) => l.split(" ")).findLast((f) => f[4] === p)?.[5];
  const paths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
  // A kernel without one of them (this one may lack sysrq-trigger) skips it.
  const present = paths.filter((p) => {
    try {
      return Deno.lstatSync(p) !== null;
    } catch {
      return false;
    }
  });
  assert.ok(present.includes("/proc/sys"));
  for (const p of present) {
    assert.match(options(p) ?? "missing", /^ro\b/, `${p} in\n${mounts}`);
  }
  const r = await sb.run([
    "run",
    "--rm",
    "busybox",
    "sh",
    "-c",
    "echo x > /proc/sys/kernel/hostname",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Read-only file system/);
});

Deno.test(
  { name: "exec -w names chdir's real reason, with exit code 126", ...asRoot },
  async () => {
    await sb.ok(["run", "-d", "--name", "target", "busybox", "sleep", "1000"]);
    try {
      const notDir = await sb.run(["exec", "-w", "/etc/passwd", "target", "true"]);
      assert.equal(notDir.code, 126);
      assert.match(notDir.stderr, /chdir to cwd \("\/etc\/passwd"\) failed: not a directory/);
      const missing = await sb.run(["exec", "-w", "/no/such/dir", "target", "true"]);
      assert.equal(missing.code, 126);
      assert.match(missing.stderr, /failed: no such file or directory/);
    } finally {
      await sb.run(["rm", "-f", "target"]);
    }
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
