/**
 * The cgroup v2 device program on this host's kernel, without a container: compiled
 * (src/cgroups/device_filter.ts), loaded and attached by ffi/bpf.ts to a cgroup2 directory
 * made under this test's own cgroup2 cgroup (hybrid hosts have an empty cgroup2 at
 * /sys/fs/cgroup/unified: no controllers, so moving a shell there escapes no limit), then
 * a shell moved into it tries devices. The whole engine path is in test/v2 (vm-test).
 */
import assert from "node:assert/strict";
import { asRoot } from "./harness.ts";
import { attachCgroupDeviceProgram, cgroupDeviceProgramIds } from "../../ffi/bpf.ts";
import { compileDeviceFilter, DEVICE_FILTER_LICENSE } from "../../src/cgroups/device_filter.ts";
import { ownCgroupDir, parseCgroupMounts, parseProcCgroup } from "../../src/cgroups/detect.ts";
import { DEFAULT_DEVICE_RULES, parseDeviceRule } from "../../src/config/devices.ts";

/** This process's own cgroup2 directory, if a cgroup2 hierarchy is mounted. */
function ownCgroup2Dir(): string | undefined {
  try {
    const mount = parseCgroupMounts(Deno.readTextFileSync("/proc/self/mountinfo"))
      .find((m) => m.fsType === "cgroup2" && m.mountPoint.startsWith("/sys/fs/cgroup"));
    const own = parseProcCgroup(Deno.readTextFileSync("/proc/self/cgroup")).get("");
    return mount && own !== undefined ? ownCgroupDir(mount, own) : undefined;
  } catch {
    return undefined;
  }
}

const own = ownCgroup2Dir();
const opts = { ...asRoot, ignore: asRoot.ignore || own === undefined };

/** Runs `script` in a shell that first moves itself into `dir`; returns its output. */
async function inCgroup(dir: string, script: string): Promise<string> {
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", `echo $$ > ${dir}/cgroup.procs || exit 99\n${script}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(out.code, 99, "could not join the cgroup");
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return text(out.stdout) + text(out.stderr);
}

/** Prints NAME=ok or NAME=<error> for each shell command. */
const tries = (cmds: Record<string, string>) =>
  Object.entries(cmds).map(([name, cmd]) =>
    `if out=$( (${cmd}) 2>&1); then echo "${name}=ok"; else echo "${name}=$out"; fi`
  ).join("\n");

function results(text: string): Record<string, string> {
  return Object.fromEntries(
    text.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

const bpfFds = () =>
  [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
    try {
      return Deno.readLinkSync(`/proc/self/fd/${e.name}`).includes("bpf");
    } catch {
      return false; // the directory's own fd, closed meanwhile
    }
  }).length;

Deno.test({
  name: "device program: attached to a cgroup2 directory, it denies what the list omits",
  ...opts,
}, async () => {
  const dir = `${own}/m-docker-devtest-${Deno.pid}`;
  Deno.mkdirSync(dir);
  try {
    attachCgroupDeviceProgram(
      dir,
      compileDeviceFilter(DEFAULT_DEVICE_RULES),
      DEVICE_FILTER_LICENSE,
    );
    const first = cgroupDeviceProgramIds(dir);
    assert.equal(first.length, 1);
    assert.equal(bpfFds(), 0, "the program fd is closed once attached");
    const r = results(
      await inCgroup(
        dir,
        tries({
          kmsg: ": < /dev/kmsg",
          zero: "head -c1 /dev/zero",
          null: "echo x > /dev/null && cat /dev/null",
        }),
      ),
    );
    assert.match(r.kmsg, /Operation not permitted/, "c 1:11 is not in the list");
    assert.equal(r.zero, "ok");
    assert.equal(r.null, "ok");
    // Outside the cgroup the same device opens (`<` only opens it: a 1-byte read of
    // /dev/kmsg is EINVAL), so the denial above is the program's.
    const outside = await new Deno.Command("/bin/sh", { args: ["-c", ": < /dev/kmsg"] })
      .output();
    assert.equal(outside.code, 0, "/dev/kmsg opens outside the cgroup");

    // A second attach (a restart's create) replaces the program rather than adding one.
    const readOnlyNull = [parseDeviceRule("c 1:3 r")];
    attachCgroupDeviceProgram(dir, compileDeviceFilter(readOnlyNull), DEVICE_FILTER_LICENSE);
    const second = cgroupDeviceProgramIds(dir);
    assert.equal(second.length, 1, `one program, not ${second}`);
    assert.notEqual(second[0], first[0]);
    const r2 = results(
      await inCgroup(dir, tries({ read: "cat /dev/null", write: "echo x > /dev/null" })),
    );
    assert.equal(r2.read, "ok");
    assert.match(r2.write, /Operation not permitted/, "the new list allows only r");
    assert.equal(bpfFds(), 0);
  } finally {
    // The shells have exited: the cgroup is empty, and rmdir frees its programs.
    Deno.removeSync(dir);
  }
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
});
