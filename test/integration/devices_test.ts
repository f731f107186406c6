/**
 * Devices in real containers: `--device` makes the host's node in the container and lets it
 * be opened (only with the access it grants), `--device-cgroup-rule` opens a node made with
 * mknod, `--privileged` gives the host's /dev, and bad input is refused before anything is
 * made. /dev/net/tun is the probe: anyone may open it (a read then fails with EBADFD, "File
 * descriptor in bad state"), so an open refused with EPERM is the device cgroup's doing.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();
const TUN = "/dev/net/tun";
const haveTun = (() => {
  try {
    return Deno.statSync(TUN).isCharDevice === true;
  } catch {
    return false;
  }
})();
const withTun = { ...asRoot, ignore: asRoot.ignore || !haveTun };
const OPENED = /File descriptor in bad state/;
const DENIED = /Operation not permitted/;

/** Runs `sh -c script` in a busybox container with `flags`; its stdout and stderr. */
async function shIn(flags: string[], script: string): Promise<string> {
  const r = await sb.run(["run", "--rm", ...flags, "busybox", "sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout + r.stderr;
}

Deno.test(
  { name: "--device: the host's node, opened; without it, denied", ...withTun },
  async () => {
    const host = Deno.statSync(TUN);
    const out = await shIn(["--device", TUN], `stat -c '%t:%T %a' ${TUN}; cat ${TUN}; true`);
    assert.match(out, /^a:c8 600$/m); // 10:200, the host node's mode
    assert.equal(host.mode! & 0o777, 0o600);
    assert.match(out, OPENED);
    // A default container may make the node, but not open it.
    const denied = await shIn([], "mknod /tmp/t c 10 200 && cat /tmp/t; true");
    assert.match(denied, DENIED);
    assert.doesNotMatch(denied, OPENED);
  },
);

Deno.test({ name: "--device HOST:CONTAINER:r grants read only", ...withTun }, async () => {
  const out = await shIn(
    ["--device", `${TUN}:/dev/mytun:r`],
    "ls /dev/net 2>&1; cat /dev/mytun; echo x > /dev/mytun; true",
  );
  assert.match(out, /No such file or directory/); // only at the path asked for
  assert.match(out, OPENED);
  assert.match(out, /can't create \/dev\/mytun: Operation not permitted/);
});

Deno.test({ name: "--device DIR gives every node under it", ...withTun }, async () => {
  const out = await shIn(["--device", "/dev/net:/dev/n"], "cat /dev/n/tun; true");
  assert.match(out, OPENED);
});

Deno.test({ name: "--device-cgroup-rule opens what mknod made", ...withTun }, async () => {
  const out = await shIn(
    ["--device-cgroup-rule", "c 10:200 rw"],
    "mknod /tmp/t c 10 200 && cat /tmp/t; mknod /tmp/b b 7 0 && dd if=/tmp/b of=/dev/null count=1; true",
  );
  assert.match(out, OPENED);
  assert.match(out, /can't open '\/tmp\/b': Operation not permitted/);
});

Deno.test({ name: "--privileged: the host's device nodes, all usable", ...withTun }, async () => {
  const out = await shIn(["--privileged"], `cat ${TUN}; ls -l /dev/ptmx; true`);
  assert.match(out, OPENED);
  assert.match(out, /\/dev\/ptmx -> pts\/ptmx/); // the container's own, not the host's
});

Deno.test({ name: "devices survive stop and start, and exec sees them", ...withTun }, async () => {
  const id = (await sb.ok([
    "run",
    "-d",
    "--device",
    TUN,
    "--device-cgroup-rule",
    "b 7:* r",
    "busybox",
    "sleep",
    "60",
  ])).trim();
  try {
    const h = (await sb.inspect(id)).HostConfig;
    assert.deepEqual(h.Devices, [
      { PathOnHost: TUN, PathInContainer: TUN, CgroupPermissions: "rwm" },
    ]);
    assert.deepEqual(h.DeviceCgroupRules, ["b 7:* r"]);
    await sb.ok(["stop", "-t", "0", id]);
    await sb.ok(["start", id]);
    const r = await sb.run(["exec", id, "sh", "-c", `cat ${TUN}; true`]);
    assert.match(r.stdout + r.stderr, OPENED);
  } finally {
    await sb.ok(["rm", "-f", id]);
  }
});

Deno.test(
  { name: "bad --device and rules: 125, one line, nothing created", ...asRoot },
  async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["--device", "/dev/nope"],
        /^m-docker: Error response from daemon: error gathering device information while adding custom device "\/dev\/nope": no such file or directory\n$/,
      ],
      [["--device", "/etc/passwd"], /"\/etc\/passwd": not a device node\n$/],
      [["--device", "/dev/null:/x:rwx"], /^m-docker: invalid device mode: rwx\n$/],
      [["--device", "/dev/null:rel/path"], /^m-docker: bad format for path: rel\/path\n$/],
      [["--device", "a:b:c:d"], /invalid device specification: a:b:c:d/],
      [["--device-cgroup-rule", "c 1:3 rwx"], /invalid device cgroup rule "c 1:3 rwx"/],
      [["--device-cgroup-rule", "q *:* m"], /invalid device cgroup rule/],
    ];
    for (const [flags, message] of cases) {
      const r = await sb.run(["run", "--rm", ...flags, "busybox", "true"]);
      assert.equal(r.code, 125, flags.join(" "));
      assert.match(r.stderr, message, flags.join(" "));
    }
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
