/**
 * Bad input: a clear message, exit code 125, and nothing half-created (no state, no
 * cgroup, no container directory).
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

function containerDirs(): string[] {
  try {
    return [...Deno.readDirSync(`${sb.root}/containers`)].map((e) => e.name);
  } catch {
    return [];
  }
}

const cases: Array<[string, string[], RegExp]> = [
  ["a typo'd flag", ["run", "--memroy", "1g", "busybox", "true"], /memroy/],
  ["a bad memory size", ["run", "-m", "12xb", "busybox", "true"], /12xb/],
  ["a memory limit under 6MB", ["run", "-m", "1k", "busybox", "true"], /Minimum memory limit/],
  ["swap without memory", ["run", "--memory-swap", "1g", "busybox", "true"], /Memory limit/],
  ["a bad CPU count", ["run", "--cpus", "abc", "busybox", "true"], /abc/],
  ["too many CPUs", ["run", "--cpus", "1000", "busybox", "true"], /CPUs/],
  ["a bad cpuset", ["run", "--cpuset-cpus", "x-y", "busybox", "true"], /x-y/],
  ["a bad pids limit", ["run", "--pids-limit", "ten", "busybox", "true"], /ten/],
  [
    "an image that does not exist",
    ["run", "--pull", "never", "no-such-image", "true"],
    /no-such-image/,
  ],
  [
    "a registry that cannot be reached",
    ["run", "127.0.0.1:1/nothing", "true"],
    /cannot reach registry/,
  ],
  ["a bad pull policy", ["run", "--pull", "sometimes", "busybox", "true"], /sometimes/],
  [
    "a bad container name",
    ["run", "--name", "bad/name", "busybox", "true"],
    /Invalid container name/,
  ],
  ["a relative volume", ["run", "-v", "data:/data", "busybox", "true"], /invalid volume/],
  ["a bad cgroup parent", ["run", "--cgroup-parent", "../escape", "busybox", "true"], /\.\./],
  ["an unknown command", ["frobnicate"], /frobnicate/],
  [
    "a missing env file",
    ["run", "--env-file", "/no/such/file", "busybox", "true"],
    /no\/such\/file/,
  ],
  ["a bad signal", ["kill", "-s", "SIGNOPE", "x"], /SIGNOPE/],
  ["import of a missing tarball", ["import", "/no/such.tar", "x:1"], /no such file/],
];

for (const [what, args, message] of cases) {
  Deno.test({ name: `bad input: ${what} gives 125 and creates nothing`, ...asRoot }, async () => {
    const r = await sb.run(args);
    assert.equal(r.code, 125, `exit code for ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace without --debug");
    assert.deepEqual(sb.containerIds(), []);
    assert.deepEqual(containerDirs(), []);
    assert.deepEqual(sb.leftoverCgroups(), []);
  });
}

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
