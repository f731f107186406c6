/** Device rules and `--device` as data: parsing, the allow-list a container gets, the plan. */
import assert from "node:assert/strict";
import {
  DEFAULT_DEVICE_RULES,
  type DeviceNode,
  deviceRulesFor,
  formatDeviceRule,
  isDeviceAccess,
  parseDeviceRule,
} from "../../src/config/devices.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { parseDevice } from "../../src/cli/run_options.ts";
import { UsageError } from "../../src/util/errors.ts";
import { prepareRootfs } from "../../src/rootfs/setup.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";
import { initConfig } from "./fixtures.ts";

Deno.test("parseDeviceRule reads the kernel's v1 form and formats it back", () => {
  for (const text of ["c 1:3 rwm", "b *:* m", "a *:* rwm", "c 136:* rw", "b 8:16 r"]) {
    assert.equal(formatDeviceRule(parseDeviceRule(text)), text);
  }
  assert.deepEqual(parseDeviceRule("  c  10:200   rw "), {
    type: "c",
    major: 10,
    minor: 200,
    access: "rw",
  });
  for (const bad of ["", "c 1:3", "x 1:3 r", "c 1 r", "c 1:3 rwx", "c 1:3 rr", "c -1:3 r"]) {
    assert.throws(() => parseDeviceRule(bad), InvalidConfigError, bad);
  }
});

Deno.test("isDeviceAccess: a non-empty subset of rwm, each letter once", () => {
  for (const ok of ["r", "w", "m", "rw", "mwr", "rwm"]) assert.ok(isDeviceAccess(ok), ok);
  for (const bad of ["", "x", "rr", "rwmr", "RW"]) assert.ok(!isDeviceAccess(bad), bad);
});

Deno.test("parseDevice splits HOST[:CONTAINER][:PERMISSIONS] as Docker does", () => {
  const d = (hostPath: string, containerPath: string, access: string) => ({
    hostPath,
    containerPath,
    access,
  });
  assert.deepEqual(parseDevice("/dev/sda"), d("/dev/sda", "/dev/sda", "rwm"));
  assert.deepEqual(parseDevice("/dev/sda:r"), d("/dev/sda", "/dev/sda", "r"));
  assert.deepEqual(parseDevice("/dev/sda:/dev/xvdc"), d("/dev/sda", "/dev/xvdc", "rwm"));
  assert.deepEqual(parseDevice("/dev/sda:/dev/xvdc:rw"), d("/dev/sda", "/dev/xvdc", "rw"));
  for (const bad of ["", "/a:/b:rwx", "/a:b", "/a:/b:r:w", ":/b"]) {
    assert.throws(() => parseDevice(bad), UsageError, bad);
  }
});

const TUN: DeviceNode = {
  hostPath: "/dev/net/tun",
  path: "/dev/net/tun",
  type: "c",
  major: 10,
  minor: 200,
  mode: 0o600,
  uid: 0,
  gid: 0,
  access: "rw",
};

Deno.test("deviceRulesFor: defaults, then --device nodes, then rules; all under --privileged", () => {
  assert.deepEqual(deviceRulesFor({}), DEFAULT_DEVICE_RULES);
  const rules = deviceRulesFor({
    devices: [TUN],
    deviceCgroupRules: [parseDeviceRule("b 7:* r")],
  }).map(formatDeviceRule);
  assert.deepEqual(rules.slice(-2), ["c 10:200 rw", "b 7:* r"]);
  assert.equal(rules.length, DEFAULT_DEVICE_RULES.length + 2);
  assert.deepEqual(
    deviceRulesFor({ privileged: true, devices: [TUN] }).map(formatDeviceRule),
    ["a *:* rwm"],
  );
});

Deno.test("the rootfs plan makes each device node with the host's mode and owner", () => {
  const C = "/var/lib/md/containers/c1", M = `${C}/merged`, ETC = "/run/md/c1";
  const fake = new FakeSyscalls();
  fake.addDir("/l/A", `${C}/upper`, `${C}/work`, M, `${M}/etc`);
  for (const f of ["hostname", "hosts", "resolv.conf"]) fake.addFile(`${ETC}/${f}`, "x\n");
  const disk: DeviceNode = {
    ...TUN,
    path: "/dev/xvdc",
    type: "b",
    major: 8,
    minor: 300,
    uid: 6,
    gid: 7,
    mode: 0o660,
  };
  prepareRootfs(fake, initConfig(["/l/A"], C, ETC, { devices: [TUN, disk] }));
  const calls = fake.trace("mknod", "lchown").filter((c) =>
    !String(c[1]).match(/\/dev\/(null|zero|full|random|urandom|tty)$/)
  );
  assert.deepEqual(calls, [
    ["mknod", `${M}/dev/net/tun`, "char", 0o600, 10, 200],
    ["lchown", `${M}/dev/net/tun`, 0, 0],
    ["mknod", `${M}/dev/xvdc`, "block", 0o660, 8, 300],
    ["lchown", `${M}/dev/xvdc`, 6, 7],
  ]);
  assert.equal(fake.nodes.get(`${M}/dev/xvdc`)?.uid, 6);
});
