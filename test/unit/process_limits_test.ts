/** applyProcessLimits: what init and exec set on themselves, and how exec puts it back. */
import assert from "node:assert/strict";
import { RLIMIT } from "../../ffi/libc.ts";
import { applyProcessLimits } from "../../src/rootfs/process_limits.ts";
import { ExitCodeError } from "../../src/util/errors.ts";
import { FakeSyscalls } from "./fake_syscalls.ts";

Deno.test("limits are set, and restore puts the old ones back in reverse order", () => {
  const fake = new FakeSyscalls();
  fake.addFile("/proc/self/oom_score_adj", "0\n");
  fake.rlimits.set(RLIMIT.nofile, { soft: 1024, hard: 4096 });
  const restore = applyProcessLimits(
    fake,
    [{ name: "nofile", soft: 100, hard: 200 }, { name: "nproc", soft: 5, hard: -1 }],
    300,
    126,
  );
  assert.deepEqual(fake.rlimits.get(RLIMIT.nofile), { soft: 100, hard: 200 });
  assert.deepEqual(fake.rlimits.get(RLIMIT.nproc), { soft: 5, hard: -1 });
  assert.equal(fake.written.get("/proc/self/oom_score_adj"), "300");
  restore();
  assert.deepEqual(fake.rlimits.get(RLIMIT.nofile), { soft: 1024, hard: 4096 });
  assert.deepEqual(fake.rlimits.get(RLIMIT.nproc), { soft: -1, hard: -1 });
  assert.equal(fake.written.get("/proc/self/oom_score_adj"), "0");
});

Deno.test("a limit the kernel refuses: ExitCodeError with the caller's code, earlier ones undone", () => {
  const fake = new FakeSyscalls();
  fake.rlimits.set(RLIMIT.nofile, { soft: 1024, hard: 4096 });
  const real = fake.setRlimit.bind(fake);
  fake.setRlimit = (resource, soft, hard) => {
    if (resource === RLIMIT.nproc && soft === 5) throw new Error("Operation not permitted");
    return real(resource, soft, hard);
  };
  assert.throws(
    () =>
      applyProcessLimits(
        fake,
        [{ name: "nofile", soft: 100, hard: 200 }, { name: "nproc", soft: 5, hard: 5 }],
        undefined,
        125,
      ),
    (e: Error) =>
      e instanceof ExitCodeError && e.exitCode === 125 && /ulimit nproc=5:5/.test(e.message),
  );
  assert.deepEqual(fake.rlimits.get(RLIMIT.nofile), { soft: 1024, hard: 4096 });
});
