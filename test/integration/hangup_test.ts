/**
 * Closing the terminal of a foreground `run` (a closed window, a dropped ssh session): the
 * CLI gets SIGHUP and then EIO on its terminal, and must go on supervising the container,
 * record its exit and, with `--rm`, remove it, as Docker does. The terminal is a real pty
 * made by util-linux's `script`; killing `script` closes the master, which hangs it up.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, eventually, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** Starts m-docker with `args` on a pty of its own; returns the `script` process. */
function onTerminal(args: string[]): Deno.ChildProcess {
  const command = [BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    env: sb.env(),
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function running(name: string): Promise<boolean> {
  const r = await sb.run(["inspect", name]);
  return r.code === 0 && JSON.parse(r.stdout)[0].State.Status === "running";
}

async function hangUpAndExpectRemoval(name: string, args: string[]): Promise<void> {
  const terminal = onTerminal(["run", "--rm", "--name", name, ...args]);
  try {
    await eventually(() => running(name), 10_000, `${name} to run`);
    terminal.kill("SIGKILL"); // the pty's master closes: the terminal hangs up
    await terminal.status;
    // The container exits (the shell on SIGHUP; the sleep on its own) and the CLI, still
    // supervising, removes it: no state, no cgroup, and the name is free again.
    await eventually(
      async () => (await sb.ok(["ps", "-aq"])).trim() === "",
      15_000,
      `${name} to be removed`,
    );
    assert.deepEqual(sb.leftoverCgroups(), []);
    await sb.ok(["run", "--rm", "--name", name, "busybox", "true"]);
  } finally {
    try {
      terminal.kill("SIGKILL");
    } catch { /* already gone */ }
    await terminal.status;
  }
}

Deno.test({ name: "hang-up of run --rm -it: the container is removed", ...asRoot }, async () => {
  await hangUpAndExpectRemoval("hup-tty", ["-it", "busybox", "sh"]);
});

Deno.test({
  name: "hang-up of run --rm (no tty): the CLI stays, and removes the container when it exits",
  ...asRoot,
}, async () => {
  await hangUpAndExpectRemoval("hup-notty", [
    "busybox",
    "sh",
    "-c",
    "i=0; while [ $i -lt 20 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done",
  ]);
});

Deno.test({
  name: "a --rm container whose CLI was killed is removed by the next command once it exits",
  ...asRoot,
}, async () => {
  const cli = new Deno.Command(BIN, {
    args: ["run", "--rm", "--name", "orphan", "busybox", "sleep", "1"],
    env: sb.env(),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await eventually(() => running("orphan"), 10_000, "orphan to run");
  cli.kill("SIGKILL"); // nobody supervises it now
  await cli.status;
  // Once its command has exited, the next command that looks finishes the --rm.
  await eventually(
    async () => (await sb.ok(["ps", "-aq"])).trim() === "",
    15_000,
    "orphan to be removed by ps",
  );
  assert.deepEqual(sb.leftoverCgroups(), []);
  await sb.ok(["run", "--rm", "--name", "orphan", "busybox", "true"]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
