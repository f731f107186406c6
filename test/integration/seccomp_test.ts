/**
 * Seccomp: every container and every exec'd process runs under Docker's default profile,
 * compiled by m-docker; `--security-opt seccomp=unconfined` and `seccomp=PROFILE.json`.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** The host's perl (Debian's perl-base is Essential) and its libraries, read-only. */
const HOST_PERL = ["-v", "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro", "-v", "/lib64:/lib64:ro"];

/**
 * Makes raw system calls and prints name=ok or name=ERRNO for each: calls that need no
 * capability, so that only a seccomp filter can refuse them.
 */
const CALLS = `
$| = 1;
sub call { my ($name, $nr, @args) = @_; $! = 0; my $r = syscall($nr, @args);
  print "$name=", ($r < 0 ? 0 + $! : "ok"), "\\n"; }
call("keyctl", 250, 0, 0);
call("personality_no_randomize", 135, 0x0040000);
call("personality_linux32", 135, 8);
call("personality_query", 135, 0xffffffff);
call("socket_vsock", 41, 40, 1, 0);
call("socket_netlink", 41, 16, 3, 0);
call("get_mempolicy", 239, 0, 0, 0, 0, 0);
call("clone3", 435, 0, 0);
call("sys_1000", 1000);
`;

function results(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split("\n").map((l) => l.split("=")));
}

Deno.test(
  { name: "a container and what exec starts in it run under a seccomp filter", ...asRoot },
  async () => {
    assert.match(
      await sb.ok(["run", "--rm", "busybox", "grep", "Seccomp:", "/proc/self/status"]),
      /^Seccomp:\s+2$/m,
    );
    assert.match(
      await sb.ok([
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "grep",
        "Seccomp:",
        "/proc/self/status",
      ]),
      /^Seccomp:\s+0$/m,
    );
    await sb.ok(["run", "-d", "--name", "filtered", "busybox", "sleep", "600"]);
    assert.match(
      await sb.ok(["exec", "filtered", "grep", "Seccomp:", "/proc/self/status"]),
      /^Seccomp:\s+2$/m,
    );
    // The CLI's thread carries the filter after the spawn: it still gets back to its own
    // namespaces and credentials, reports the exit code, relays output, runs as another user.
    const r = await sb.run(["exec", "filtered", "sh", "-c", "echo out; exit 3"]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "out\n");
    assert.equal(await sb.ok(["exec", "-u", "1000", "filtered", "id", "-u"]), "1000\n");
    assert.equal(await sb.ok(["exec", "-i", "filtered", "cat"], { stdin: "piped\n" }), "piped\n");
    await sb.ok(["exec", "-d", "filtered", "sleep", "1"]);
    const missing = await sb.run(["exec", "filtered", "/no/such/program"]);
    assert.equal(missing.code, 127, missing.stderr);
    await sb.ok(["rm", "-f", "filtered"]);

    await sb.ok([
      "run",
      "-d",
      "--name",
      "open",
      "--security-opt",
      "seccomp=unconfined",
      "busybox",
      "sleep",
      "600",
    ]);
    assert.match(
      await sb.ok(["exec", "open", "grep", "Seccomp:", "/proc/self/status"]),
      /^Seccomp:\s+0$/m,
    );
    await sb.ok(["rm", "-f", "open"]);
  },
);

Deno.test(
  { name: "the filter, not the capabilities, refuses what Docker's profile refuses", ...asRoot },
  async () => {
    // A user namespace needs no capability: only the filter stands in the way.
    const denied = await sb.run(["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Operation not permitted/);
    await sb.ok([
      "run",
      "--rm",
      "--security-opt",
      "seccomp=unconfined",
      "busybox",
      "unshare",
      "-U",
      "true",
    ]);

    const filtered = results(
      await sb.ok(["run", "--rm", ...HOST_PERL, "busybox", "/usr/bin/perl", "-e", CALLS]),
    );
    assert.deepEqual(filtered, {
      keyctl: "1", // EPERM
      personality_no_randomize: "1",
      personality_linux32: "ok",
      personality_query: "ok",
      socket_vsock: "1",
      socket_netlink: "ok",
      get_mempolicy: "1", // needs CAP_SYS_NICE in the profile, none in the kernel
      clone3: "38", // ENOSYS: libc falls back to clone, whose flags the filter sees
      sys_1000: "38", // above the profile's highest call: ENOSYS, as under runc
    });
    const open = results(
      await sb.ok([
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        ...HOST_PERL,
        "busybox",
        "/usr/bin/perl",
        "-e",
        CALLS,
      ]),
    );
    for (const call of ["keyctl", "personality_no_randomize", "socket_vsock", "get_mempolicy"]) {
      assert.notEqual(open[call], "1", `${call} unconfined: ${open[call]}`);
    }
    assert.notEqual(open.clone3, "38");

    // An x32 call (the x32 bit on an x86_64 number) kills the process: SIGSYS, 128 + 31.
    const x32 = await sb.run([
      "run",
      "--rm",
      ...HOST_PERL,
      "busybox",
      "/usr/bin/perl",
      "-e",
      'syscall(0x40000027); print "survived\\n"',
    ]);
    assert.equal(x32.code, 159, x32.stderr);
    assert.equal(x32.stdout, "");
  },
);

Deno.test(
  { name: "a busy syscall loop runs under the filter", ...asRoot },
  async () => {
    const out = await sb.ok([
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "grep Seccomp: /proc/self/status; dd bs=1 count=1000000 if=/dev/zero of=/dev/null",
    ]);
    assert.match(out, /^Seccomp:\s+2$/m);
  },
);

Deno.test(
  { name: "--security-opt seccomp=PROFILE.json loads the user's profile", ...asRoot },
  async () => {
    const profile = `${sb.dir}/no-mkdir.json`;
    Deno.writeTextFileSync(
      profile,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      }),
    );
    const r = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${profile}`,
      "busybox",
      "sh",
      "-c",
      "grep Seccomp: /proc/self/status; mkdir /made; echo mkdir=$?; unshare -U true && echo unshare=ok",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^mkdir=1$/m);
    assert.match(r.stderr, /Permission denied/); // EACCES, the profile's errnoRet
    assert.match(r.stdout, /^unshare=ok$/m); // this profile allows the rest

    Deno.writeTextFileSync(profile, `{"defaultAction": "SCMP_ACT_NOTIFY"}`);
    const bad = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${profile}`,
      "busybox",
      "true",
    ]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /defaultAction: unsupported action "SCMP_ACT_NOTIFY"/);
    const missing = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      `seccomp=${sb.dir}/none.json`,
      "busybox",
      "true",
    ]);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /opening seccomp profile/);
    const other = await sb.run([
      "run",
      "--rm",
      "--security-opt",
      "label=disable",
      "busybox",
      "true",
    ]);
    assert.equal(other.code, 125);
    assert.match(other.stderr, /invalid --security-opt/);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test(
  {
    name:
      "the filter is compiled once per profile and capability set into the cache; a file not ours is not trusted",
    ...asRoot,
  },
  async () => {
    const cache = `${sb.root}/cache/seccomp`;
    const entries = () => {
      try {
        return [...Deno.readDirSync(cache)].map((e) => e.name).sort();
      } catch {
        return [];
      }
    };
    // A capability set no other test uses: its program is compiled now.
    const caps = ["--cap-add", "SYS_PTRACE", "--cap-drop", "MKNOD"];
    const before = entries();
    const id = (await sb.ok(["run", "-d", ...caps, "busybox", "sleep", "600"])).trim();
    const added = entries().filter((n) => !before.includes(n));
    assert.equal(added.length, 1, `one new program: ${added}`);
    assert.match(added[0], /^[0-9a-z.]+-[0-9a-f]{64}\.bpf$/);
    const file = `${cache}/${added[0]}`;
    const kept = Deno.readFileSync(file);
    // A magic word, the program's length, its hash, then whole 8-byte BPF instructions.
    assert.equal(new TextDecoder().decode(kept.subarray(0, 8)), "MDSECCP1");
    const length = new DataView(kept.buffer).getUint32(8, true);
    assert.ok(length > 0 && length % 8 === 0 && kept.length === 16 + length, String(length));
    // The same inputs share it; another capability set (SYS_PTRACE opens ptrace's rules) or
    // another profile does not.
    assert.equal(await sb.ok(["run", "--rm", ...caps, "busybox", "true"]), "");
    assert.deepEqual(entries(), [...before, added[0]].sort());
    assert.equal(await sb.ok(["run", "--rm", "--cap-drop", "MKNOD", "busybox", "true"]), "");
    const other = entries().filter((n) => n !== added[0] && !before.includes(n));
    assert.equal(other.length, 1, String(other));
    assert.notDeepEqual(Deno.readFileSync(`${cache}/${other[0]}`), kept);
    const filtered = async () =>
      assert.match(
        await sb.ok(["exec", id, "grep", "Seccomp:", "/proc/self/status"]),
        /^Seccomp:\s+2$/m,
      );
    await filtered();
    // Torn, foreign or empty: compiled again (still filtered), and the file made whole.
    for (
      const junk of [
        kept.subarray(0, 13),
        new TextEncoder().encode("not a filter"),
        new Uint8Array(),
      ]
    ) {
      Deno.writeFileSync(file, junk);
      await filtered();
      assert.deepEqual(Deno.readFileSync(file), kept);
    }
    await sb.ok(["rm", "-f", id]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
