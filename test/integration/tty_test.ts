/**
 * `run -it` on a real pseudo-terminal, driven through util-linux's `script`.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** Runs m-docker under a pty made by `script`, feeding `input` to it. */
async function underTerminal(
  args: string[],
  input = "",
): Promise<{ code: number; output: string }> {
  const command = [BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    env: sb.env(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await child.output();
  return { code: out.code, output: new TextDecoder().decode(out.stdout) };
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

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
