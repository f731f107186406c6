/** The capability set of a container, computed by Docker's rules (moby's TweakCapabilities). */
import assert from "node:assert/strict";
import {
  CAPABILITY_NAMES,
  capabilityNumbers,
  DEFAULT_CAPABILITY_NAMES,
  normalizeCapabilities,
  tweakCapabilities,
} from "../../src/config/capabilities.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";
import { DEFAULT_CAPABILITIES, dropCapabilities } from "../../src/rootfs/capabilities.ts";
import { validateRunRequest } from "../../src/config/run_request.ts";
import { runRequest } from "./fixtures.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";

const sorted = (a: readonly string[]) => [...a].sort();

Deno.test("the default set is Docker's, and its numbers are the ones init keeps", () => {
  assert.deepEqual(tweakCapabilities([], [], false), DEFAULT_CAPABILITY_NAMES);
  assert.deepEqual(new Set(capabilityNumbers(DEFAULT_CAPABILITY_NAMES)), DEFAULT_CAPABILITIES);
  // Docker's CapEff for root in a default container.
  const mask = capabilityNumbers(DEFAULT_CAPABILITY_NAMES).reduce(
    (m, c) => m | (1n << BigInt(c)),
    0n,
  );
  assert.equal(mask.toString(16).padStart(16, "0"), "00000000a80425fb");
});

Deno.test("names: any case, with or without CAP_, ALL kept; unknown names refused", () => {
  assert.deepEqual(normalizeCapabilities(["net_raw", "CAP_sys_admin", "all"], "capAdd"), [
    "CAP_NET_RAW",
    "CAP_SYS_ADMIN",
    "ALL",
  ]);
  assert.throws(
    () => normalizeCapabilities(["NET_FOO"], "capAdd"),
    (e: unknown) =>
      e instanceof InvalidConfigError && e.field === "capAdd" &&
      e.message === 'unknown capability: "CAP_NET_FOO"',
  );
  // A capability the kernel does not have is unknown, as in Docker.
  assert.throws(() => normalizeCapabilities(["BPF"], "capAdd", 37), /unknown capability/);
  assert.throws(
    () => validateRunRequest(baseRequest({ capDrop: ["bogus"] })),
    /unknown capability: "CAP_BOGUS"/,
  );
});

Deno.test("drops leave the defaults, adds join them, and an add wins over a drop", () => {
  const set = tweakCapabilities(["SYS_ADMIN"], ["NET_RAW", "chown"], false);
  assert.ok(set.includes("CAP_SYS_ADMIN"));
  assert.ok(!set.includes("CAP_NET_RAW"));
  assert.ok(!set.includes("CAP_CHOWN"));
  assert.equal(set.length, DEFAULT_CAPABILITY_NAMES.length - 2 + 1);
  assert.ok(tweakCapabilities(["NET_RAW"], ["NET_RAW"], false).includes("CAP_NET_RAW"));
  assert.ok(tweakCapabilities(["NET_ADMIN"], ["NET_ADMIN"], false).includes("CAP_NET_ADMIN"));
});

Deno.test("ALL: drop ALL keeps only the adds, add ALL takes everything but the drops", () => {
  assert.deepEqual(tweakCapabilities([], ["ALL"], false), []);
  assert.deepEqual(tweakCapabilities(["kill", "CAP_CHOWN"], ["all"], false), [
    "CAP_KILL",
    "CAP_CHOWN",
  ]);
  const most = tweakCapabilities(["ALL"], ["SYS_ADMIN"], false, 40);
  assert.deepEqual(sorted(most), sorted(CAPABILITY_NAMES.filter((c) => c !== "CAP_SYS_ADMIN")));
  // Both ALL: Docker's switch looks at the adds first.
  assert.equal(tweakCapabilities(["ALL"], ["ALL"], false, 40).length, 41);
});

Deno.test("--privileged: every capability of the kernel, whatever else was asked", () => {
  assert.deepEqual(tweakCapabilities([], ["ALL"], true, 40), CAPABILITY_NAMES);
  assert.deepEqual(tweakCapabilities([], [], true, 37), CAPABILITY_NAMES.slice(0, 38));
  assert.deepEqual(capabilityNumbers(CAPABILITY_NAMES, 37), [...Array(38).keys()]);
});

Deno.test("dropCapabilities keeps exactly the set it is given", () => {
  const fake = new FakeSyscalls();
  fake.addFile("/proc/sys/kernel/cap_last_cap", "40\n");
  dropCapabilities(
    fake,
    new Set(capabilityNumbers(tweakCapabilities(["SYS_ADMIN"], ["ALL"], false))),
  );
  const dropped = fake.trace("dropBoundingCapability").map((c) => c[1]);
  assert.deepEqual(dropped, [...Array(41).keys()].filter((c) => c !== 21));
});

const baseRequest = runRequest;
