/**
 * `run -it` on a real pseudo-terminal, driven through util-linux's `script`.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";

const sb = new Sandbox();

/** How long one session under `script` may take before it is killed and the test fails. */
const SESSION_MS = 30_000;

/** A shell command line run under a pty made by `script`, for the test to type into. */
function terminal(commandLine: string): WatchedChild {
  return new WatchedChild("script", ["-qefc", commandLine, "/dev/null"], {
    env: { ...sb.env(), M: BIN },
    stdin: true,
  });
}

/** The shell command line that runs m-docker with `args`. */
function commandLine(args: string[]): string {
  return [BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
}

/**
 * Runs a shell command line under a pty to its end, with `input` typed ahead (a complete
 * line waits in the terminal until the program reads it).
 */
async function underTerminalShell(
  line: string,
  input = "",
): Promise<{ code: number; output: string }> {
  const t = terminal(line);
  try {
    if (input) await t.send(input);
    const { code } = await t.exited({ timeoutMs: SESSION_MS });
    return { code, output: t.stdout };
  } finally {
    await t.close();
  }
}

/** Runs m-docker with `args` under a pty made by `script`. */
function underTerminal(args: string[], input = "") {
  return underTerminalShell(commandLine(args), input);
}

/** Waits until `name` runs a process whose command line is `args`. */
function runsInside(name: string, args: string): Promise<void> {
  return waitFor(
    async () =>
      (await sb.ok(["exec", name, "ps", "-o", "args"])).split("\n").some((l) => l.trim() === args),
    { what: `${args} running in ${name}` },
  );
}

Deno.test({
  name: "run -t: the terminal is the container's own /dev/pts/0 and /dev/console",
  ...asRoot,
}, async () => {
  const r = await underTerminal([
    "run",
    "--rm",
    "-t",
    "busybox",
    "sh",
    "-c",
    "tty; ls /dev/console; echo TERM=$TERM",
  ]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /\/dev\/pts\/0\r*\n/);
  assert.match(r.output, /\/dev\/console/);
  assert.match(r.output, /TERM=xterm/);
});

Deno.test({
  name: "run -it sh: an interactive shell with job control reads the terminal",
  ...asRoot,
}, async () => {
  const r = await underTerminal(["run", "--rm", "-it", "busybox", "sh"], "echo $((6*7))\nexit 7\n");
  assert.equal(r.code, 7, r.output);
  assert.match(r.output, /42/);
});

Deno.test({
  name: "exec -it: a terminal from the container's own devpts, as controlling tty",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "-d", "--name", "box", "busybox", "sleep", "60"]);
  const r = await underTerminal(["exec", "-it", "box", "sh"], "tty; echo TERM=$TERM\nexit 5\n");
  assert.equal(r.code, 5, r.output);
  assert.match(r.output, /\/dev\/pts\/\d+\r*\n/);
  assert.match(r.output, /TERM=xterm/);
  // Job control needs a controlling terminal: busybox sh warns when it has none.
  assert.doesNotMatch(r.output, /job control turned off/);
  await sb.ok(["rm", "-f", "box"]);
});

Deno.test({
  name: "the host terminal's settings are restored, even when the container is killed",
  ...asRoot,
}, async () => {
  // The kill comes once victim runs and the CLI has put the terminal in raw mode.
  const d = sb.dir;
  const r = await underTerminalShell(
    `stty -g > ${d}/before; "$M" run --rm -it busybox sh -c 'exit 0'; stty -g > ${d}/after1; ` +
      `(until [ "$(stty -g </dev/tty)" != "$(cat ${d}/before)" ] && "$M" ps | grep -q victim; ` +
      `do sleep 0.05; done; "$M" kill victim >/dev/null) & ` +
      `"$M" run --rm -it --name victim busybox sleep 30; echo "code=$?"; stty -g > ${d}/after2`,
  );
  assert.match(r.output, /code=137/);
  const before = Deno.readTextFileSync(`${sb.dir}/before`);
  assert.equal(Deno.readTextFileSync(`${sb.dir}/after1`), before);
  assert.equal(Deno.readTextFileSync(`${sb.dir}/after2`), before);
});

Deno.test(
  { name: "window size: the initial size, and a resize on SIGWINCH", ...asRoot },
  async () => {
    // The container reports its size, then again on SIGWINCH. The terminal is resized once
    // the first size is out (the file says so) and the CLI relays (the terminal is raw).
    const d = sb.dir;
    const r = await underTerminalShell(
      `stty rows 40 cols 100; stty -g > ${d}/cooked; ` +
        `(until [ -e ${d}/sized ] && [ "$(stty -g </dev/tty)" != "$(cat ${d}/cooked)" ]; ` +
        `do sleep 0.05; done; stty rows 50 cols 120 </dev/tty) & ` +
        `"$M" run --rm -it -v ${d}:/sync busybox sh -c ` +
        `'trap "stty size; exit 0" WINCH; stty size; touch /sync/sized; while :; do sleep 0.05; done'`,
    );
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /40 100\r*\n[^]*50 120/);
  },
);

Deno.test(
  { name: "Ctrl-C reaches the container's foreground process, not m-docker", ...asRoot },
  async () => {
    const t = terminal(commandLine(["run", "--rm", "-it", "--name", "ctrlc", "busybox", "sh"]));
    try {
      await t.expect("# ", { what: "the shell's prompt" });
      await t.send("sleep 30\n");
      await runsInside("ctrlc", "sleep 30");
      await t.send("\x03");
      await t.expect("# ", { what: "the prompt after Ctrl-C" });
      await t.send("echo status=$?\n");
      await t.expect("status=130");
      await t.send("exit 4\n");
      assert.equal((await t.exited({ timeoutMs: SESSION_MS })).code, 4, t.transcript());
    } finally {
      await t.close();
    }
  },
);

Deno.test({
  name: "attach to run -dit, detach with ctrl-p ctrl-q, attach again until exit",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "-dit", "--name", "shell", "busybox", "sh"]);
  // Each session types a command and waits for its answer: then the CLI is attached and
  // its terminal raw, so that the detach keys reach it (in cooked mode ctrl-q is eaten).
  const session = async (args: string[], command: string, answer: string, keys: string) => {
    const t = terminal(commandLine(args));
    try {
      await t.send(command);
      await t.expect(answer);
      await t.send(keys);
      return (await t.exited({ timeoutMs: SESSION_MS })).code;
    } finally {
      await t.close();
    }
  };
  assert.equal(await session(["attach", "shell"], "echo hi-$((2+3))\n", "hi-5", "\x10\x11"), 0);
  assert.match(JSON.parse(await sb.ok(["inspect", "shell"]))[0].State.Status, /running/);
  // Custom detach keys.
  assert.equal(
    await session(["attach", "--detach-keys", "ctrl-x", "shell"], "echo $((1+1))x\n", "2x", "\x18"),
    0,
  );
  assert.match(JSON.parse(await sb.ok(["inspect", "shell"]))[0].State.Status, /running/);
  const last = await underTerminal(["attach", "shell"], "exit 3\n");
  assert.equal(last.code, 3, last.output);
  assert.equal(JSON.parse(await sb.ok(["inspect", "shell"]))[0].State.ExitCode, 3);
  assert.match(await sb.ok(["logs", "shell"]), /hi-5/);
  const stopped = await sb.run(["attach", "shell"]);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /cannot attach to a stopped container/);
  await sb.ok(["rm", "shell"]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
