/**
 * Signals and process control: a foreground `run` forwards signals to the container,
 * `--stop-signal` and `--stop-timeout` shape `stop`, and `--init` puts a small init at
 * PID 1 that reaps orphans and forwards signals.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, eventually, Sandbox } from "./harness.ts";

const sb = new Sandbox();

const inspect = (ref: string) => sb.inspect(ref);

Deno.test(
  { name: "foreground run forwards INT, HUP, QUIT, USR1, USR2 and TERM", ...asRoot },
  async () => {
    const signals = ["INT", "HUP", "QUIT", "USR1", "USR2"] as const;
    const traps = signals.map((s) => `trap 'echo got ${s}' ${s};`).join(" ");
    const child = new Deno.Command(BIN, {
      args: [
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        `${traps} trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`,
      ],
      env: sb.env(),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    let text = "";
    const waitFor = async (s: string) => {
      const deadline = Date.now() + 5000;
      while (!text.includes(s)) {
        assert.ok(Date.now() < deadline, `timed out waiting for "${s}" in ${JSON.stringify(text)}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await waitFor("ready");
    for (const s of signals) {
      child.kill(`SIG${s}`);
      await waitFor(`got ${s}`);
    }
    child.kill("SIGTERM");
    await waitFor("got TERM");
    reader.releaseLock();
    await child.stdout.cancel();
    assert.equal((await child.status).code, 7);
  },
);

Deno.test({ name: "--sig-proxy=false: the CLI takes its signals itself", ...asRoot }, async () => {
  const child = new Deno.Command(BIN, {
    args: [
      "run",
      "--name",
      "noproxy",
      "--sig-proxy=false",
      "busybox",
      "sh",
      "-c",
      "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done",
    ],
    env: sb.env(),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("ready")) text += new TextDecoder().decode((await reader.read()).value);
  child.kill("SIGUSR1");
  const status = await child.status;
  assert.equal(status.signal, "SIGUSR1", "the CLI itself was signalled");
  reader.releaseLock();
  await child.stdout.cancel();
  // The container did not get it, and runs on.
  assert.equal(JSON.parse(await sb.ok(["inspect", "noproxy"]))[0].State.Status, "running");
  await sb.ok(["rm", "-f", "noproxy"]);
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
    "trap 'exit 42' USR1; while :; do sleep 0.05; done",
  ]);
  await new Promise((r) => setTimeout(r, 300));
  await sb.ok(["stop", "usr1"]);
  assert.equal((await inspect("usr1")).State.ExitCode, 42);
  // A process that ignores the stop signal is killed after --stop-timeout, not 10 s.
  await sb.ok([
    "run",
    "-d",
    "--name",
    "deaf",
    "--stop-timeout",
    "1",
    "busybox",
    "sh",
    "-c",
    "trap '' TERM; while :; do sleep 0.05; done",
  ]);
  const t0 = performance.now();
  await sb.ok(["stop", "deaf"]);
  const took = performance.now() - t0;
  assert.ok(took >= 1000 && took < 5000, `stop took ${took} ms`);
  assert.equal((await inspect("deaf")).State.ExitCode, 137);
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
    await eventually(async () => (await zombies("noinit")) === 1, 5000, "a zombie without --init");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await zombies("withinit"), 0);
    assert.match(
      await sb.ok(["exec", "withinit", "cat", "/proc/1/cmdline"]),
      /^\/sbin\/docker-init\0--\0sh/,
    );
    // PID 1 is tini: it passes SIGTERM on, so stop is quick and the code is 128+15.
    const t0 = performance.now();
    await sb.ok(["stop", "withinit"]);
    assert.ok(performance.now() - t0 < 3000);
    assert.equal((await inspect("withinit")).State.ExitCode, 143);
    await sb.ok(["rm", "-f", "noinit", "withinit"]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
