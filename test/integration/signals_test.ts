/**
 * Signals and process control: a foreground `run` forwards signals to the container,
 * `--stop-signal` and `--stop-timeout` shape `stop`, and `--init` puts a small init at
 * PID 1 that reaps orphans and forwards signals.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";

const sb = new Sandbox();

const inspect = (ref: string) => sb.inspect(ref);

Deno.test(
  { name: "foreground run forwards INT, HUP, QUIT, USR1, USR2 and TERM", ...asRoot },
  async () => {
    const signals = ["INT", "HUP", "QUIT", "USR1", "USR2"] as const;
    const traps = signals.map((s) => `trap 'echo got ${s}' ${s};`).join(" ");
    const cli = new WatchedChild(BIN, [
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      `${traps} trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`,
    ], { env: sb.env() });
    try {
      await cli.expect("ready\n");
      for (const s of signals) {
        cli.kill(`SIG${s}`);
        await cli.expect(`got ${s}\n`);
      }
      cli.kill("SIGTERM");
      await cli.expect("got TERM\n");
      assert.equal((await cli.exited()).code, 7);
    } finally {
      await cli.close();
    }
  },
);

Deno.test({ name: "--sig-proxy=false: the CLI takes its signals itself", ...asRoot }, async () => {
  const cli = new WatchedChild(BIN, [
    "run",
    "--name",
    "noproxy",
    "--sig-proxy=false",
    "busybox",
    "sh",
    "-c",
    "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done",
  ], { env: sb.env() });
  try {
    await cli.expect("ready\n");
    cli.kill("SIGUSR1");
    assert.equal((await cli.exited()).signal, "SIGUSR1", "the CLI itself was signalled");
  } finally {
    await cli.close();
  }
  // The container did not get it, and runs on.
  assert.equal((await inspect("noproxy")).State.Status, "running");
  assert.doesNotMatch(cli.stdout, /got USR1/);
  await sb.ok(["rm", "-f", "noproxy"]);
});

/** Waits until a detached container's log is `text`: its traps are then in place. */
const logged = (name: string, text: string) =>
  waitFor(async () => (await sb.run(["logs", name])).stdout === text, {
    what: `${JSON.stringify(text)} in the log of ${name}`,
  });

Deno.test({ name: "--stop-signal and --stop-timeout shape stop", ...asRoot }, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "usr1",
    "--stop-signal",
    "USR1",
    "busybox",
    "sh",
    "-c",
    "trap 'exit 42' USR1; echo ready; while :; do sleep 0.05; done",
  ]);
  await logged("usr1", "ready\n");
  await sb.ok(["stop", "usr1"]);
  assert.equal((await inspect("usr1")).State.ExitCode, 42);
  // A process that ignores the stop signal gets it, then SIGKILL after --stop-timeout.
  await sb.ok([
    "run",
    "-d",
    "--name",
    "deaf",
    "--stop-timeout",
    "2",
    "busybox",
    "sh",
    "-c",
    "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done",
  ]);
  assert.equal((await inspect("deaf")).Config.StopTimeout, 2);
  await logged("deaf", "ready\n");
  await sb.ok(["stop", "deaf"]);
  const deaf = await inspect("deaf");
  assert.equal(deaf.State.Status, "exited");
  assert.equal(deaf.State.ExitCode, 137, "killed by the SIGKILL that follows the timeout");
  assert.equal(await sb.ok(["logs", "deaf"]), "ready\ngot TERM\n", "SIGTERM came first");
  const bad = await sb.run(["run", "--stop-signal", "NOPE", "busybox", "true"]);
  assert.equal(bad.code, 125);
  await sb.ok(["rm", "usr1", "deaf"]);
});

Deno.test(
  { name: "--init reaps orphaned zombies and forwards stop signals", ...asRoot },
  async () => {
    const zombies = async (name: string) => {
      const ps = await sb.ok(["exec", name, "ps", "-o", "stat,args"]);
      return ps.split("\n").filter((l) => l.trim().startsWith("Z")).length;
    };
    const orphanMaker = ["sh", "-c", "(sleep 0.1 &); exec sleep 30"];
    // Without --init, PID 1 (sleep) never reaps the orphan: the test can tell.
    await sb.ok(["run", "-d", "--name", "noinit", "busybox", ...orphanMaker]);
    await sb.ok(["run", "-d", "--name", "withinit", "--init", "busybox", ...orphanMaker]);
    await waitFor(async () => (await zombies("noinit")) === 1, { what: "a zombie without --init" });
    // Under --init the orphan is reaped: once sh has exec'd sleep 30 (the orphan was started
    // before), neither the orphan nor its zombie remains.
    let ps = "";
    await waitFor(
      async () => {
        ps = await sb.ok(["exec", "withinit", "ps", "-o", "stat,args"]);
        const procs = ps.trim().split("\n").slice(1).map((l) => {
          const [stat, ...args] = l.trim().split(/\s+/);
          return { stat, args: args.join(" ") };
        });
        return procs.some((p) => p.args === "sleep 30") &&
          !procs.some((p) => p.args === "sleep 0.1" || p.stat.startsWith("Z"));
      },
      { what: "the orphan reaped under --init", detail: () => ps },
    );
    assert.match(
      await sb.ok(["exec", "withinit", "cat", "/proc/1/cmdline"]),
      /^\/sbin\/docker-init\0--\0sh/,
    );
    // PID 1 is tini: it passes SIGTERM on, so the code is 128+15, not the 137 of the
    // SIGKILL that would follow the timeout.
    await sb.ok(["stop", "withinit"]);
    assert.equal((await inspect("withinit")).State.ExitCode, 143);
    await sb.ok(["rm", "-f", "noinit", "withinit"]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
