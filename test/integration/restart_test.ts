/**
 * `start`, `restart` and `--restart` policies: an exited container runs again with the
 * same configuration and read-write layer.
 */
import assert from "node:assert/strict";
import { asRoot, processesMentioning, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();

const inspect = (ref: string) => sb.inspect(ref);

/**
 * Waits until no process of this sandbox is left, so the shim that applies `name`'s restart
 * policy has exited (each test here has only that one container at this point).
 */
async function shimGone(name: string): Promise<void> {
  await waitFor(() => processesMentioning(sb.dir).length === 0, {
    what: `the shim of ${name} to exit`,
    detail: () => processesMentioning(sb.dir).join("; "),
  });
}

Deno.test(
  { name: "start runs an exited container again, keeping its rw layer", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "counter",
      "busybox",
      "sh",
      "-c",
      "echo x >> /count; wc -l < /count",
    ]);
    assert.equal(await sb.ok(["start", "-a", "counter"]), "2\n");
    assert.equal(await sb.ok(["start", "counter"]), "counter\n");
    await waitFor(async () => (await inspect("counter")).State.Status === "exited", {
      what: "counter to exit",
    });
    assert.match(await sb.ok(["logs", "counter"]), /^3$/m);
    assert.equal((await sb.run(["start", "-a", "nope"])).code, 1);
    await sb.ok(["rm", "counter"]);
  },
);

Deno.test({ name: "restart stops and starts a running container", ...asRoot }, async () => {
  await sb.ok(["run", "-d", "--name", "svc", "busybox", "sh", "-c", "echo started; exec sleep 60"]);
  const first = (await inspect("svc")).State.Pid;
  assert.equal(await sb.ok(["restart", "-t", "1", "svc"]), "svc\n");
  const c = await inspect("svc");
  assert.equal(c.State.Status, "running");
  assert.notEqual(c.State.Pid, first);
  await waitFor(async () => (await sb.ok(["logs", "svc"])) === "started\nstarted\n", {
    what: "the second start in the log",
  });
  await sb.ok(["rm", "-f", "svc"]);
});

Deno.test(
  { name: "--restart on-failure:2 runs a failing command three times", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "flaky",
      "--restart",
      "on-failure:2",
      "busybox",
      "sh",
      "-c",
      "echo run; exit 3",
    ]);
    await waitFor(async () => (await sb.ok(["logs", "flaky"])) === "run\nrun\nrun\n", {
      what: "three runs",
    });
    // The shim is what restarts the container: once it has gone, no run can follow.
    await shimGone("flaky");
    assert.equal(await sb.ok(["logs", "flaky"]), "run\nrun\nrun\n", "no fourth run");
    assert.equal((await inspect("flaky")).State.Status, "exited");
    assert.equal((await inspect("flaky")).State.ExitCode, 3);
    await sb.ok(["rm", "flaky"]);
  },
);

Deno.test({ name: "--restart always restarts until stopped; stop wins", ...asRoot }, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "phoenix",
    "--restart",
    "always",
    "busybox",
    "sh",
    "-c",
    "echo up; sleep 0.1",
  ]);
  await waitFor(async () => (await sb.ok(["logs", "phoenix"])).split("\n").length > 3, {
    what: "restarts",
  });
  await sb.ok(["stop", "phoenix"]);
  const lines = (await sb.ok(["logs", "phoenix"])).length;
  await shimGone("phoenix");
  assert.equal((await sb.ok(["logs", "phoenix"])).length, lines, "no restart after stop");
  assert.equal((await inspect("phoenix")).State.Status, "exited");
  const conflict = await sb.run(["run", "--rm", "-d", "--restart", "always", "busybox", "true"]);
  assert.equal(conflict.code, 125);
  assert.match(conflict.stderr, /Conflicting options/);
  await sb.ok(["rm", "phoenix"]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
