import assert from "node:assert/strict";
import { restartDelayMs, shouldRestart } from "../../src/container/restart_policy.ts";
import { parseRestartPolicy } from "../../src/cli/run_options.ts";
import { UsageError } from "../../src/util/errors.ts";

Deno.test("parseRestartPolicy reads Docker's policies and refuses the rest", () => {
  assert.deepEqual(parseRestartPolicy("no"), { name: "no" });
  assert.deepEqual(parseRestartPolicy("always"), { name: "always" });
  assert.deepEqual(parseRestartPolicy("on-failure"), { name: "on-failure" });
  assert.deepEqual(parseRestartPolicy("on-failure:5"), { name: "on-failure", maxRetries: 5 });
  for (const bad of ["", "sometimes", "on-failure:", "on-failure:x", "always:3"]) {
    assert.throws(() => parseRestartPolicy(bad), UsageError, bad);
  }
});

Deno.test("shouldRestart follows the policy, the retry count, and an explicit stop", () => {
  assert.equal(shouldRestart(undefined, 1, 0, false), false);
  assert.equal(shouldRestart({ name: "no" }, 1, 0, false), false);
  assert.equal(shouldRestart({ name: "always" }, 0, 100, false), true);
  assert.equal(shouldRestart({ name: "always" }, 0, 0, true), false);
  assert.equal(shouldRestart({ name: "on-failure" }, 0, 0, false), false);
  assert.equal(shouldRestart({ name: "on-failure" }, 3, 50, false), true);
  assert.equal(shouldRestart({ name: "on-failure", maxRetries: 2 }, 3, 1, false), true);
  assert.equal(shouldRestart({ name: "on-failure", maxRetries: 2 }, 3, 2, false), false);
});

Deno.test("restartDelayMs doubles from 100 ms and is capped", () => {
  assert.equal(restartDelayMs(0), 100);
  assert.equal(restartDelayMs(3), 800);
  assert.equal(restartDelayMs(30), 10_000);
});
