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
  // Docker's message: `data/x` is neither a host path nor a volume name.
  [
    "a relative volume path",
    ["run", "-v", "data/x:/data", "busybox", "true"],
    /"data\/x" includes invalid characters for a local volume name/,
  ],
  ["a bad cgroup parent", ["run", "--cgroup-parent", "../escape", "busybox", "true"], /\.\./],
  ["an unknown command", ["frobnicate"], /frobnicate/],
  [
    "a missing env file",
    ["run", "--env-file", "/no/such/file", "busybox", "true"],
    /no\/such\/file/,
  ],
  ["a bad signal", ["kill", "-s", "SIGNOPE", "x"], /SIGNOPE/],
  ["a reference over 255 characters", ["run", "a".repeat(300), "true"], /255 characters/],
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

Deno.test({
  name: "bad input: an invalid reference is said in one line, before any lookup",
  ...asRoot,
}, async () => {
  const r = await sb.run(["run", "Bad_Name", "true"]);
  assert.equal(r.code, 125);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /invalid reference format/);
  assert.doesNotMatch(r.stderr, /Unable to find image/);
});

Deno.test(
  { name: "--name '' is accepted and gets a random name, as Docker does", ...asRoot },
  async () => {
    const r = await sb.run(["run", "--rm", "--name", "", "busybox", "true"]);
    assert.equal(r.code, 0, r.stderr);
  },
);

Deno.test({
  name: "logs of a detached container whose log is gone: a message and exit 1",
  ...asRoot,
}, async () => {
  const id = (await sb.ok(["run", "-d", "busybox", "echo", "hi"])).trim();
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  const log = JSON.parse(await sb.ok(["inspect", id]))[0].LogPath as string;
  Deno.removeSync(log);
  const r = await sb.run(["logs", id]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /log .* is gone/);
  await sb.ok(["rm", id]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
