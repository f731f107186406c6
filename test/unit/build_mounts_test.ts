/**
 * The pieces of RUN --mount and COPY --parents that need no container: the `/./` pivot of a
 * --parents pattern, the checks on a RUN's mounts, and taking a step's mount points out of
 * its upper directory. (Real builds: test/integration/build_mounts_test.ts.)
 */
import assert from "node:assert/strict";
import { pivotOf } from "../../src/build/copy_step.ts";
import { checkMounts, removeMountStubs } from "../../src/build/run_mounts.ts";
import type { RunMount } from "../../src/build/dockerfile.ts";

Deno.test("COPY --parents: the pivot is the components before the first /./", () => {
  assert.equal(pivotOf("x/a.txt"), 0);
  assert.equal(pivotOf("./x/a.txt"), 0, "a leading ./ is not a pivot");
  assert.equal(pivotOf("/x/a.txt"), 0);
  assert.equal(pivotOf("./x/./y/*.txt"), 1);
  assert.equal(pivotOf("a/b/./c"), 2);
  assert.equal(pivotOf("a//b/./c/./d"), 2, "the first pivot counts");
});

const mount = (m: Partial<RunMount>): RunMount => ({
  type: "bind",
  target: "/m",
  readonly: true,
  options: {},
  ...m,
});

Deno.test("RUN --mount: secret and ssh are refused; bad values are one-line errors", () => {
  assert.throws(
    () => checkMounts([mount({ type: "secret", target: undefined })]),
    /^Error: RUN --mount=type=secret is not supported by m-docker build/,
  );
  assert.throws(() => checkMounts([mount({ type: "ssh" })]), /type=ssh is not supported/);
  assert.throws(
    () => checkMounts([mount({ type: "cache", options: { sharing: "sometimes" } })]),
    /unsupported sharing value "sometimes"/,
  );
  assert.throws(
    () => checkMounts([mount({ type: "cache", options: { mode: "rwx" } })]),
    /invalid mode "rwx"/,
  );
  assert.throws(
    () => checkMounts([mount({ type: "cache", options: { uid: "root" } })]),
    /invalid uid "root"/,
  );
  assert.throws(
    () => checkMounts([mount({ type: "tmpfs", options: { size: "lots" } })]),
    /invalid size "lots"/,
  );
  assert.throws(() => checkMounts([mount({ target: "//" })]), /cannot be at \//);
  checkMounts([
    mount({}),
    mount({ type: "cache", options: { sharing: "locked", mode: "0700", uid: "1000" } }),
    mount({ type: "tmpfs", options: { size: "64m" } }),
  ]);
});

Deno.test("RUN --mount: the mount points made for a step leave its upper directory", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const upper = `${dir}/upper`, lower = `${dir}/lower`;
    // Made for mounts: /mnt/a/b (with /mnt and /mnt/a), the file /etc/conf.
    Deno.mkdirSync(`${upper}/mnt/a/b`, { recursive: true });
    Deno.mkdirSync(`${upper}/etc`, { recursive: true });
    Deno.writeTextFileSync(`${upper}/etc/conf`, "");
    // The step wrote beside a mount point: that directory stays, the point goes.
    Deno.mkdirSync(`${upper}/srv/cache`, { recursive: true });
    Deno.writeTextFileSync(`${upper}/srv/kept`, "written by the step\n");
    // A mount point the image has already: the layer keeps what the step left there.
    Deno.mkdirSync(`${lower}/var/lib`, { recursive: true });
    Deno.mkdirSync(`${upper}/var/lib`, { recursive: true });
    removeMountStubs(upper, [lower], ["/mnt/a/b", "/etc/conf", "/srv/cache", "/var/lib"]);
    const left: string[] = [];
    const walk = (rel: string) => {
      for (const e of Deno.readDirSync(`${upper}${rel}`)) {
        left.push(`${rel}/${e.name}`);
        if (e.isDirectory) walk(`${rel}/${e.name}`);
      }
    };
    walk("");
    assert.deepEqual(left.sort(), ["/srv", "/srv/kept", "/var", "/var/lib"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
