/**
 * The monitor role's argv (src/roles/monitor.ts): what a shim hands over across its execve
 * comes back the same, and arguments it did not make are refused rather than watched.
 */
import assert from "node:assert/strict";
import { monitorArgs, parseMonitorArgs, type Watched } from "../../src/roles/monitor.ts";

const piped: Watched = {
  stateDir: "/run/m-docker",
  id: "a".repeat(64),
  tty: false,
  pid: 4242,
  out: 23,
  err: 25,
  restarts: 2,
  cacheDir: "",
};

Deno.test("monitor args: pipes, a tty and a DNS socket come back as handed over", () => {
  assert.deepEqual(parseMonitorArgs(monitorArgs(piped)), {
    ...piped,
    ttyMaster: undefined,
    dnsSocket: undefined,
  });
  const tty: Watched = {
    ...piped,
    tty: true,
    out: undefined,
    err: undefined,
    ttyMaster: 7,
    dnsSocket: 9,
    cacheDir: "/var/lib/m-docker/userns/100000",
  };
  assert.deepEqual(parseMonitorArgs(monitorArgs(tty)), tty);
  assert.deepEqual(monitorArgs(tty).slice(2, 8), ["tty", "4242", "-", "-", "7", "9"]);
});

Deno.test("monitor args: what a shim would not hand over is refused", () => {
  const args = monitorArgs(piped);
  assert.throws(() => parseMonitorArgs(args.slice(0, 9)), /bad arguments/);
  assert.throws(() => parseMonitorArgs(args.with(3, "0")), /bad arguments/);
  assert.throws(() => parseMonitorArgs(args.with(4, "-")), /bad arguments/); // no stdout pipe
  assert.throws(() => parseMonitorArgs(args.with(2, "tty")), /bad arguments/); // no master
  assert.throws(() => parseMonitorArgs(args.with(5, "x")), /bad arguments/);
  assert.throws(() => parseMonitorArgs(args.with(8, "-1")), /bad arguments/);
});
