/** The one validator of resource limits: each of Docker's rules, with Docker's message. */
import assert from "node:assert/strict";
import { type ResourceLimits, validateLimits } from "../../src/config/limits.ts";
import { InvalidConfigError } from "../../src/config/errors.ts";

const MiB = 1024 ** 2;

Deno.test("validateLimits accepts Docker's valid combinations", () => {
  validateLimits({});
  validateLimits({
    memoryBytes: 64 * MiB,
    memorySwapBytes: 128 * MiB,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    cpuShares: 512,
    cpusetCpus: "0-1",
    pidsLimit: -1,
  });
  validateLimits({ memoryBytes: 64 * MiB, memorySwapBytes: -1 });
  validateLimits({ memoryBytes: 64 * MiB, memorySwapBytes: 64 * MiB });
  validateLimits({ memoryBytes: 0, cpuShares: 0, pidsLimit: 0 });
});

Deno.test("validateLimits refuses with Docker's messages", () => {
  const cases: Array<[object, RegExp]> = [
    [{ memoryBytes: 4 * MiB }, /Minimum memory limit allowed is 6MB/],
    [{ memoryBytes: -5 }, /invalid memory limit/],
    [{ memorySwapBytes: 128 * MiB }, /always set the Memory limit when using Memoryswap/],
    [{ memoryBytes: 64 * MiB, memorySwapBytes: 32 * MiB }, /memoryswap limit should be larger/],
    [{ cpuQuotaUs: 999 }, /CPU cfs quota can not be less than 1ms/],
    [{ cpuPeriodUs: 999 }, /CPU cfs period can not be less than 1ms/],
    [{ cpuPeriodUs: 1_000_001 }, /larger than 1s/],
    [{ cpuShares: -1 }, /invalid CPU shares/],
    [{ cpusetCpus: "1-0" }, /cpuset/],
    [{ pidsLimit: 1.5 }, /pids limit: 1.5: not an integer/],
    [{ memoryBytes: Number.NaN }, /not an integer/],
  ];
  for (const [limits, message] of cases) {
    assert.throws(
      () => validateLimits(limits),
      (e: unknown) => e instanceof InvalidConfigError && message.test(e.message),
      JSON.stringify(limits),
    );
  }
});

/** Asserts that `limits` is refused with exactly `message`, blaming `field`. */
function refused(limits: ResourceLimits, field: string, message: string, cpus?: string) {
  assert.throws(
    () => validateLimits(limits, { cpus }),
    (e: unknown) => e instanceof InvalidConfigError && e.field === field && e.message === message,
    JSON.stringify(limits),
  );
}

Deno.test("validateLimits: every numeric field must be an integer", () => {
  const fields: Array<[keyof ResourceLimits, string]> = [
    ["memoryBytes", "memory limit"],
    ["memorySwapBytes", "memory+swap limit"],
    ["cpuQuotaUs", "CPU quota"],
    ["cpuPeriodUs", "CPU period"],
    ["cpuShares", "CPU shares"],
    ["pidsLimit", "pids limit"],
  ];
  for (const [key, what] of fields) {
    refused({ [key]: 2.5 }, `limits.${key}`, `invalid ${what}: 2.5: not an integer`);
    refused({ [key]: Infinity }, `limits.${key}`, `invalid ${what}: Infinity: not an integer`);
  }
});

Deno.test("validateLimits: memory, at least 6MB; 0 is no limit", () => {
  refused(
    { memoryBytes: 6 * MiB - 1 },
    "limits.memoryBytes",
    "Minimum memory limit allowed is 6MB",
  );
  refused({ memoryBytes: -1 }, "limits.memoryBytes", "invalid memory limit: -1");
  validateLimits({ memoryBytes: 6 * MiB });
  validateLimits({ memoryBytes: 0 });
});

Deno.test("validateLimits: memory+swap needs memory and is at least memory; 0 is unset", () => {
  refused(
    { memorySwapBytes: 64 * MiB },
    "limits.memorySwapBytes",
    "You should always set the Memory limit when using Memoryswap limit, see usage",
  );
  refused(
    { memoryBytes: 0, memorySwapBytes: 64 * MiB },
    "limits.memorySwapBytes",
    "You should always set the Memory limit when using Memoryswap limit, see usage",
  );
  refused(
    { memoryBytes: 64 * MiB, memorySwapBytes: 64 * MiB - 1 },
    "limits.memorySwapBytes",
    "Minimum memoryswap limit should be larger than memory limit, see usage",
  );
  refused(
    { memoryBytes: 64 * MiB, memorySwapBytes: -2 },
    "limits.memorySwapBytes",
    "invalid memory+swap limit: -2",
  );
  // As Docker: -1 is unlimited swap, 0 leaves swap at its default, neither needs memory.
  validateLimits({ memorySwapBytes: -1 });
  validateLimits({ memorySwapBytes: 0 });
  validateLimits({ memoryBytes: 64 * MiB, memorySwapBytes: 0 });
});

Deno.test("validateLimits: CPU quota and period within the kernel's bounds; 0 is unset", () => {
  refused(
    { cpuQuotaUs: 1 },
    "limits.cpuQuotaUs",
    "CPU cfs quota can not be less than 1ms (i.e. 1000)",
  );
  refused({ cpuQuotaUs: -2 }, "limits.cpuQuotaUs", "invalid CPU quota: -2");
  const period =
    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)";
  refused({ cpuPeriodUs: 1 }, "limits.cpuPeriodUs", period);
  refused({ cpuPeriodUs: -1 }, "limits.cpuPeriodUs", period);
  refused({ cpuPeriodUs: 1_000_001 }, "limits.cpuPeriodUs", period);
  validateLimits({ cpuQuotaUs: 1000, cpuPeriodUs: 1000 });
  validateLimits({ cpuQuotaUs: -1, cpuPeriodUs: 1_000_000 });
  // What --cpus 0 gives: no CPU limit.
  validateLimits({ cpuQuotaUs: 0, cpuPeriodUs: 0 });
});

Deno.test("validateLimits: CPU shares 0 (default) or more", () => {
  refused(
    { cpuShares: -1 },
    "limits.cpuShares",
    "invalid CPU shares: -1: must be 0 (default) or more",
  );
  validateLimits({ cpuShares: 1 }); // the kernel clamps it to 2
});

Deno.test("validateLimits: a cpuset list must parse", () => {
  for (const bad of ["", "x-y", "1-0", "0,,1", "-1", "0-"]) {
    refused({ cpusetCpus: bad }, "limits.cpusetCpus", `Invalid value ${bad} for cpuset cpus`);
  }
});

Deno.test("validateLimits: a cpuset must fit the host's CPUs, with Docker's message", () => {
  refused(
    { cpusetCpus: "99" },
    "limits.cpusetCpus",
    "Requested CPUs are not available - requested 99, available: 0-1",
    "0-1",
  );
  refused(
    { cpusetCpus: "0-2" },
    "limits.cpusetCpus",
    "Requested CPUs are not available - requested 0-2, available: 0-1",
    "0-1\n",
  );
  refused(
    { cpusetCpus: "1" },
    "limits.cpusetCpus",
    "Requested CPUs are not available - requested 1, available: 0,2-3",
    "0,2-3",
  );
  validateLimits({ cpusetCpus: "0-1" }, { cpus: "0-1" });
  validateLimits({ cpusetCpus: "2,0" }, { cpus: "0,2-3" });
  validateLimits({ cpusetCpus: "1-2" }, { cpus: "0-1,2" });
  // Without the host's list (unreadable), only the syntax is checked.
  validateLimits({ cpusetCpus: "99" });
  validateLimits({ cpusetCpus: "99" }, { cpus: "garbage" });
});

Deno.test("validateLimits: a memory reservation is at least 6MB and at most the limit", () => {
  const MiB = 1024 * 1024;
  validateLimits({ memoryBytes: 64 * MiB, memoryReservationBytes: 64 * MiB });
  validateLimits({ memoryReservationBytes: 32 * MiB });
  for (
    const [l, message] of [
      [{ memoryReservationBytes: MiB }, /Minimum memory reservation allowed is 6MB/],
      [{ memoryReservationBytes: -1 }, /invalid memory reservation: -1/],
      [{ memoryReservationBytes: 1.5 }, /not an integer/],
      [
        { memoryBytes: 16 * MiB, memoryReservationBytes: 32 * MiB },
        /Minimum memory limit can not be less than memory reservation limit/,
      ],
    ] as Array<[ResourceLimits, RegExp]>
  ) {
    assert.throws(
      () => validateLimits(l),
      (e: Error) => e instanceof InvalidConfigError && message.test(e.message),
    );
  }
});
