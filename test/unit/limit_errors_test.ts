/** The CLI names the flag behind a cgroup limit that failed; the cgroup layer never does. */
import assert from "node:assert/strict";
import { cliMessage, FLAG_OF_CGROUP_FILE } from "../../src/cli/limit_errors.ts";
import {
  CgroupFsError,
  CgroupUnsupportedError,
  CgroupWriteError,
} from "../../src/cgroups/errors.ts";
import { limitFiles } from "../../src/cgroups/resources.ts";

const DIR = "/sys/fs/cgroup/cpuset/m-docker/m-docker-x";

Deno.test("cliMessage names the flag of a limit the kernel refused", () => {
  const e = new CgroupWriteError(`${DIR}/cpuset.cpus`, "4095", 34, { appliesLimit: true });
  assert.equal(
    cliMessage(e),
    `--cpuset-cpus cannot be applied: write ${DIR}/cpuset.cpus: Numerical result out of range`,
  );
  const swap = new CgroupUnsupportedError(
    "memory",
    "memory.swap.max",
    "this kernel does not support memory swap limit",
  );
  assert.equal(
    cliMessage(swap),
    "--memory-swap cannot be applied: this kernel does not support memory swap limit",
  );
});

Deno.test("cliMessage leaves the cgroup layer's own writes and other errors alone", () => {
  // cpuset.cpus copied from the parent (v1) is not the user's --cpuset-cpus.
  const own = new CgroupWriteError(`${DIR}/cpuset.cpus`, "0-1", 16);
  assert.equal(cliMessage(own), `write ${DIR}/cpuset.cpus: Device or resource busy`);
  const rmdir = new CgroupFsError("rmdir", DIR, 16);
  assert.equal(cliMessage(rmdir), `rmdir ${DIR}: Device or resource busy`);
  assert.equal(cliMessage(new Error("plain")), "plain");
  assert.equal(cliMessage("text"), "text");
});

Deno.test("every file a limit is written to has a flag", () => {
  const all = {
    memoryBytes: 64 << 20,
    memorySwapBytes: 128 << 20,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    cpuShares: 512,
    cpusetCpus: "0",
    pidsLimit: 5,
  };
  for (const version of ["v1", "v2"] as const) {
    for (const f of limitFiles(all, version)) {
      assert.ok(FLAG_OF_CGROUP_FILE[f.file], `${version} ${f.file} has no flag`);
    }
  }
});
