/**
 * Capabilities and privileges: Docker's default set, `--cap-add`, `--cap-drop`, a non-root
 * user's empty sets, `--privileged`, `--security-opt no-new-privileges`, and the security
 * options this host cannot honour. `--privileged` containers share the host's kernel: these
 * tests never write /proc/sys or /sys, they only look at how they are mounted.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** The fields of /proc/self/status, as the container's command sees them. */
async function status(flags: string[]): Promise<Record<string, string>> {
  const out = await sb.ok(["run", "--rm", ...flags, "busybox", "cat", "/proc/self/status"]);
  return Object.fromEntries(
    out.trim().split("\n").map((l) => l.split(":\t").map((s) => s.trim()) as [string, string]),
  );
}

/** Every capability this kernel has, as far as this process (the machine) may hand them on. */
function fullSet(): string {
  const last = Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  const own = /^CapBnd:\s+([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"))![1];
  return ((1n << BigInt(last + 1)) - 1n & BigInt(`0x${own}`)).toString(16).padStart(16, "0");
}

Deno.test({ name: "a default container holds Docker's set, as root", ...asRoot }, async () => {
  const s = await status([]);
  assert.equal(s.CapEff, "00000000a80425fb");
  assert.equal(s.CapPrm, "00000000a80425fb");
  assert.equal(s.CapBnd, "00000000a80425fb");
  assert.equal(s.CapInh, "0000000000000000");
  assert.equal(s.CapAmb, "0000000000000000");
  assert.equal(s.NoNewPrivs, "0");
});

Deno.test(
  { name: "capabilities the caller left inheritable do not leak in", ...asRoot },
  async () => {
    // setpriv (util-linux) runs m-docker with SYS_ADMIN and SYS_MODULE inheritable: root's
    // execve would add them to the command's permitted set if init kept them.
    const setpriv = ["setpriv", "--inh-caps", "+sys_admin,+sys_module", "--"];
    const run = async (args: string[]) => {
      const out = await new Deno.Command(setpriv[0], {
        args: [...setpriv.slice(1), ...sb.commandLine(args)],
        env: sb.env(),
        stdin: "null",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return text;
    };
    const own = await run(["run", "--rm", "busybox", "cat", "/proc/self/status"]);
    assert.match(own, /^CapInh:\s+0000000000000000$/m);
    assert.match(own, /^CapEff:\s+00000000a80425fb$/m);
    await sb.ok(["run", "-d", "--name", "inh", "busybox", "sleep", "600"]);
    const exec = await run(["exec", "inh", "cat", "/proc/self/status"]);
    assert.match(exec, /^CapInh:\s+0000000000000000$/m);
    assert.match(exec, /^CapEff:\s+00000000a80425fb$/m);
    await sb.ok(["rm", "-f", "inh"]);
  },
);

Deno.test({ name: "--cap-drop NET_RAW: ping is refused", ...asRoot }, async () => {
  await sb.ok(["run", "--rm", "busybox", "ping", "-c", "1", "127.0.0.1"]);
  const r = await sb.run([
    "run",
    "--rm",
    "--cap-drop",
    "net_raw",
    "busybox",
    "ping",
    "-c",
    "1",
    "127.0.0.1",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /permission denied/);
});

Deno.test(
  { name: "--cap-add SYS_ADMIN: mount works, the seccomp profile allows it too", ...asRoot },
  async () => {
    const mount = ["sh", "-c", "mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted"];
    const refused = await sb.run(["run", "--rm", "busybox", ...mount]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /permission denied/);
    assert.equal(
      await sb.ok(["run", "--rm", "--cap-add", "CAP_SYS_ADMIN", "busybox", ...mount]),
      "mounted\n",
    );
    const s = await status(["--cap-add", "sys_admin"]);
    assert.equal(s.CapEff, (0xa80425fbn | 1n << 21n).toString(16).padStart(16, "0"));
    assert.equal(s.Seccomp, "2");
  },
);

Deno.test({ name: "--cap-drop ALL, and ALL with adds", ...asRoot }, async () => {
  const none = await status(["--cap-drop", "ALL"]);
  assert.equal(none.CapEff, "0000000000000000");
  assert.equal(none.CapBnd, "0000000000000000");
  const one = await status(["--cap-drop", "all", "--cap-add", "KILL"]);
  assert.equal(one.CapEff, "0000000000000020");
  assert.equal(one.CapBnd, "0000000000000020");
});

Deno.test(
  { name: "-u 1000: nothing effective or permitted, the bounding set kept", ...asRoot },
  async () => {
    const s = await status(["-u", "1000"]);
    assert.equal(s.CapEff, "0000000000000000");
    assert.equal(s.CapPrm, "0000000000000000");
    assert.equal(s.CapBnd, "00000000a80425fb");
  },
);

Deno.test(
  { name: "exec gets the container's set, and no-new-privileges", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "tight",
      "--cap-drop",
      "ALL",
      "--cap-add",
      "NET_RAW",
      "--security-opt",
      "no-new-privileges",
      "busybox",
      "sleep",
      "600",
    ]);
    const out = await sb.ok(["exec", "tight", "cat", "/proc/self/status"]);
    assert.match(out, /^CapEff:\s+0000000000002000$/m);
    assert.match(out, /^CapBnd:\s+0000000000002000$/m);
    assert.match(out, /^NoNewPrivs:\s+1$/m);
    const user = await sb.ok(["exec", "-u", "1000", "tight", "cat", "/proc/self/status"]);
    assert.match(user, /^CapEff:\s+0000000000000000$/m);
    const hc = (await sb.inspect("tight")).HostConfig;
    assert.deepEqual(hc.CapAdd, ["NET_RAW"]);
    assert.deepEqual(hc.CapDrop, ["ALL"]);
    assert.equal(hc.Privileged, false);
    assert.deepEqual(hc.SecurityOpt, ["no-new-privileges"]);
    await sb.ok(["rm", "-f", "tight"]);
  },
);

Deno.test({ name: "--security-opt no-new-privileges[=true|false]", ...asRoot }, async () => {
  assert.equal((await status(["--security-opt", "no-new-privileges"])).NoNewPrivs, "1");
  assert.equal((await status(["--security-opt", "no-new-privileges=true"])).NoNewPrivs, "1");
  assert.equal((await status(["--security-opt", "no-new-privileges=false"])).NoNewPrivs, "0");
  // Without a filter too (the filter's own load would otherwise have set it).
  const open = await status([
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "no-new-privileges",
  ]);
  assert.equal(open.NoNewPrivs, "1");
  assert.equal(open.Seccomp, "0");
});

Deno.test(
  { name: "--privileged: every capability, no filter, no masks, /sys read-write", ...asRoot },
  async () => {
    const s = await status(["--privileged"]);
    assert.equal(s.CapEff, fullSet());
    assert.equal(s.CapBnd, fullSet());
    assert.equal(s.Seccomp, "0");
    const out = await sb.ok([
      "run",
      "--rm",
      "--privileged",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted; cat /proc/self/mountinfo",
    ]);
    assert.match(out, /^mounted$/m);
    const mounts = out.split("\n").map((l) => l.split(" "));
    const at = (p: string) => mounts.filter((f) => f[4] === p);
    assert.equal(at("/sys").length, 1);
    assert.match(at("/sys")[0][5], /^rw,/);
    // Nothing bind-mounted read-only over /proc/sys, nothing masking /proc/kcore.
    assert.deepEqual(at("/proc/sys"), []);
    assert.deepEqual(at("/proc/kcore"), []);
    // And a default container has both.
    const plain = await sb.ok(["run", "--rm", "busybox", "cat", "/proc/self/mountinfo"]);
    assert.match(plain, / \/sys ro,/);
    assert.match(plain, / \/proc\/sys ro,/);
  },
);

Deno.test(
  { name: "unknown capabilities and AppArmor or SELinux options: exit 125", ...asRoot },
  async () => {
    const bad = await sb.run(["run", "--rm", "--cap-add", "NOPE", "busybox", "true"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unknown capability: "CAP_NOPE"/);
    const apparmor = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      "apparmor=x",
      "busybox",
      "true",
    ]);
    assert.equal(apparmor.code, 125);
    assert.match(apparmor.stderr, /AppArmor is not enabled on this host/);
    const label = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      "label=disable",
      "busybox",
      "true",
    ]);
    assert.equal(label.code, 125);
    assert.match(label.stderr, /SELinux is not enabled on this host/);
    const nnp = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      "no-new-privileges=maybe",
      "busybox",
      "true",
    ]);
    assert.equal(nnp.code, 125);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test({ name: "caps: nothing is left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
