/**
 * `run -it` on a real pseudo-terminal, driven through util-linux's `script`.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/**
 * Runs a shell command line under a pty made by `script`, feeding it `input`: strings, or
 * pauses in milliseconds between them (interactive programs need time to start).
 */
async function underTerminalShell(
  commandLine: string,
  input: Array<string | number> = [],
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("script", {
    args: ["-qefc", commandLine, "/dev/null"],
    env: { ...sb.env(), M: BIN },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  for (const part of input) {
    if (typeof part === "number") await new Promise((r) => setTimeout(r, part));
    else await w.write(new TextEncoder().encode(part));
  }
  await w.close();
  const out = await child.output();
  return { code: out.code, output: new TextDecoder().decode(out.stdout) };
}

/** Runs m-docker with `args` under a pty made by `script`. */
function underTerminal(args: string[], input: Array<string | number> = []) {
  const command = [BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return underTerminalShell(command, input);
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
  const r = await underTerminal(["run", "--rm", "-it", "busybox", "sh"], [
    "echo $((6*7))\nexit 7\n",
  ]);
  assert.equal(r.code, 7, r.output);
  assert.match(r.output, /42/);
});

Deno.test({
  name: "exec -it: a terminal from the container's own devpts, as controlling tty",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "-d", "--name", "box", "busybox", "sleep", "60"]);
  const r = await underTerminal(["exec", "-it", "box", "sh"], ["tty; echo TERM=$TERM\nexit 5\n"]);
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
  const r = await underTerminalShell(
    `stty -g > ${sb.dir}/before; "$M" run --rm -it busybox sh -c 'exit 0'; stty -g > ${sb.dir}/after1; ` +
      `(sleep 1; "$M" kill victim >/dev/null) & "$M" run --rm -it --name victim busybox sleep 30; ` +
      `echo "code=$?"; stty -g > ${sb.dir}/after2`,
  );
  assert.match(r.output, /code=137/);
  const before = Deno.readTextFileSync(`${sb.dir}/before`);
  assert.equal(Deno.readTextFileSync(`${sb.dir}/after1`), before);
  assert.equal(Deno.readTextFileSync(`${sb.dir}/after2`), before);
});

Deno.test(
  { name: "window size: the initial size, and a resize on SIGWINCH", ...asRoot },
  async () => {
    const r = await underTerminalShell(
      `stty rows 40 cols 100; (sleep 1.5; stty rows 50 cols 120 </dev/tty) & ` +
        `"$M" run --rm -it busybox sh -c 'stty size; sleep 2.5; stty size'`,
    );
    assert.match(r.output, /40 100\r*\n[^]*50 120/);
  },
);

Deno.test(
  { name: "Ctrl-C reaches the container's foreground process, not m-docker", ...asRoot },
  async () => {
    const r = await underTerminal(["run", "--rm", "-it", "busybox", "sh"], [
      600,
      "sleep 30\n",
      600,
      "\x03",
      300,
      "echo status=$?\n",
      300,
      "exit 4\n",
    ]);
    assert.match(r.output, /status=130/);
    assert.equal(r.code, 4);
  },
);

Deno.test({
  name: "attach to run -dit, detach with ctrl-p ctrl-q, attach again until exit",
  ...asRoot,
}, async () => {
  await sb.ok(["run", "-dit", "--name", "shell", "busybox", "sh"]);
  const first = await underTerminal(["attach", "shell"], [
    800,
    "echo hi-$((2+3))\n",
    500,
    "\x10\x11",
    300,
  ]);
  assert.equal(first.code, 0, first.output);
  assert.match(first.output, /hi-5/);
  assert.match(JSON.parse(await sb.ok(["inspect", "shell"]))[0].State.Status, /running/);
  // Custom detach keys; the default ones are then plain input.
  const second = await underTerminal(["attach", "--detach-keys", "ctrl-x", "shell"], [
    800,
    "\x18",
    300,
  ]);
  assert.equal(second.code, 0, second.output);
  const last = await underTerminal(["attach", "shell"], [800, "exit 3\n", 1500]);
  assert.equal(last.code, 3, last.output);
  assert.equal(JSON.parse(await sb.ok(["inspect", "shell"]))[0].State.ExitCode, 3);
  assert.match(await sb.ok(["logs", "shell"]), /hi-5/);
  const stopped = await sb.run(["attach", "shell"]);
  assert.equal(stopped.code, 125);
  assert.match(stopped.stderr, /cannot attach to a stopped container/);
  await sb.ok(["rm", "shell"]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
