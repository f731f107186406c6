/**
 * The escape battery: from inside a default container, each thing a Docker user might try
 * to get out is denied, and the host is unchanged; under `--privileged` the same list shows
 * what is then allowed (only what is safe to do on a shared host: nothing here writes the
 * kernel's settings, loads a module or touches the host's devices). Related cases live in
 * seccomp_test (keyctl, personality, AF_VSOCK), caps_test (raw sockets after --cap-drop
 * NET_RAW) and rootfs_test (a `:ro` volume with a submount).
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** Runs each named shell snippet in one container; returns name -> "ok" or "denied". */
async function attempts(
  runArgs: string[],
  tries: Record<string, string>,
): Promise<Record<string, string>> {
  const script = Object.entries(tries).map(([name, cmd]) =>
    `if ( ${cmd} ) >/dev/null 2>&1; then echo "${name}=ok"; else echo "${name}=denied"; fi`
  ).join("\n");
  const out = await sb.ok(["run", "--rm", ...runArgs, "busybox", "sh", "-c", script]);
  return Object.fromEntries(out.trim().split("\n").map((l) => l.split("=") as [string, string]));
}

const BATTERY: Record<string, string> = {
  "mount tmpfs": "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m",
  "mount proc": "mkdir -p /tmp/m && mount -t proc proc /tmp/m",
  "bind mount": "mkdir -p /tmp/m && mount --bind /bin /tmp/m",
  "umount /proc": "umount /proc",
  "write /proc/sysrq-trigger": "echo h > /proc/sysrq-trigger",
  "write /proc/sys/kernel": "echo x > /proc/sys/kernel/domainname",
  "read /proc/kcore": 'test -s /proc/kcore || [ "$(head -c 1 /proc/kcore | wc -c)" -gt 0 ]',
  "read /proc/keys": '[ "$(cat /proc/keys | wc -c)" -gt 0 ]',
  "read a block device made with mknod":
    "mknod /tmp/blk b 7 0 && dd if=/tmp/blk of=/dev/null bs=512 count=1",
  "load a module": "insmod /bin/busybox",
  "unshare -U": "unshare -U true",
  "unshare -m": "unshare -m true",
  "write /sys": "echo 1 > /sys/kernel/uevent_helper",
  "write /sys/fs/cgroup": "mkdir /sys/fs/cgroup/escape",
  "write cgroup.procs":
    "for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs; do [ -e $f ] && echo $$ > $f && exit 0; done; exit 1",
  "set the hostname": "hostname escaped",
  "see a host process": "[ $(ls /proc | grep -c '^[0-9]') -gt 10 ]",
};

Deno.test(
  { name: "escape battery: a default container is denied every attempt", ...asRoot },
  async () => {
    const hostname = Deno.hostname();
    const r = await attempts([], BATTERY);
    for (const name of Object.keys(BATTERY)) assert.equal(r[name], "denied", name);
    assert.equal(Deno.hostname(), hostname, "the host's hostname is unchanged");
    // /proc/1/root is the container's own root, not the host's.
    const own = await sb.ok([
      "run",
      "--rm",
      "--hostname",
      "boxed",
      "busybox",
      "cat",
      "/proc/1/root/etc/hostname",
    ]);
    assert.equal(own.trim(), "boxed");
  },
);

Deno.test({
  name: "escape battery: the status Docker shows (CapEff, CapBnd, NoNewPrivs, Seccomp)",
  ...asRoot,
}, async () => {
  const status = await sb.ok(["run", "--rm", "busybox", "cat", "/proc/self/status"]);
  const field = (k: string) => new RegExp(`^${k}:\\s*(\\S+)$`, "m").exec(status)?.[1];
  assert.equal(field("CapEff"), "00000000a80425fb");
  assert.equal(field("CapBnd"), "00000000a80425fb");
  assert.equal(field("NoNewPrivs"), "0");
  assert.equal(field("Seccomp"), "2");
});

Deno.test({
  name: "escape battery under --privileged: what is then allowed (safe cases only)",
  ...asRoot,
}, async () => {
  const r = await attempts(["--privileged"], {
    "mount tmpfs": "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m",
    "bind mount": "mkdir -p /tmp/m && mount --bind /bin /tmp/m",
    "unshare -m": "unshare -m true",
    "set the hostname": "hostname privileged",
    "sys is read-write": "grep -E ' /sys rw[, ]' /proc/self/mountinfo",
    "proc/sys is writable": "! grep -E ' /proc/sys ro[, ]' /proc/self/mountinfo",
  });
  for (const [name, got] of Object.entries(r)) assert.equal(got, "ok", name);
  const status = await sb.ok([
    "run",
    "--rm",
    "--privileged",
    "busybox",
    "cat",
    "/proc/self/status",
  ]);
  assert.match(status, /^Seccomp:\s*0$/m);
  assert.match(status, /^NoNewPrivs:\s*0$/m);
});

/** A static program that PTRACE_ATTACHes to the pid it is given and prints ok or the errno. */
const PTRACE_C = `#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  pid_t pid = atoi(argv[1]);
  if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) { printf("%s\\n", strerror(errno)); return 1; }
  waitpid(pid, 0, 0);
  ptrace(PTRACE_DETACH, pid, 0, 0);
  printf("attached\\n");
  return 0;
}
`;

const haveCompiler = (() => {
  try {
    return new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "escape battery: ptrace reaches the container's own processes, never the host's",
  ...asRoot,
  ignore: asRoot.ignore || !haveCompiler,
}, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "mdt-ptrace-" });
  try {
    Deno.writeTextFileSync(`${dir}/ptrace.c`, PTRACE_C);
    const cc = new Deno.Command("gcc", {
      args: ["-static", "-O", "-o", `${dir}/ptrace`, `${dir}/ptrace.c`],
    }).outputSync();
    assert.ok(cc.success, new TextDecoder().decode(cc.stderr));
    // A host process the test owns, at a pid the container's namespace does not have.
    const host = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      const script = `sleep 30 & /ptrace $!; kill $!; /ptrace ${host.pid}; true`;
      for (const flags of [[], ["--privileged"]]) {
        const out = await sb.ok([
          "run",
          "--rm",
          ...flags,
          "-v",
          `${dir}/ptrace:/ptrace:ro`,
          "busybox",
          "sh",
          "-c",
          script,
        ]);
        assert.equal(out, "attached\nNo such process\n", flags.join(" "));
      }
      // Still the host's own, untraced.
      assert.match(
        Deno.readTextFileSync(`/proc/${host.pid}/status`),
        /^TracerPid:\s*0$/m,
      );
    } finally {
      host.kill("SIGKILL");
      await host.status;
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
