/**
 * Lifecycle races and failures as users and scripts cause them: concurrent `start`s of one
 * stopped container, and a `start` that fails, which must keep the user's container.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();

Deno.test({
  name: "four concurrent starts of a stopped container start it once",
  ...asRoot,
}, async () => {
  const vol = Deno.makeTempDirSync({ dir: sb.dir });
  // Each run of the command appends a line, then stays up long enough to overlap.
  const id = (await sb.ok([
    "run",
    "-d",
    "-v",
    `${vol}:/v`,
    "busybox",
    "sh",
    "-c",
    "echo run >> /v/runs; sleep 1",
  ])).trim();
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  const starts = await Promise.all([1, 2, 3, 4].map(() => sb.run(["start", id])));
  for (const r of starts) assert.equal(r.code, 0, r.stderr);
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  const runs = Deno.readTextFileSync(`${vol}/runs`).trim().split("\n");
  assert.equal(runs.length, 2, `the first run and exactly one start: ${runs.length} runs`);
  await sb.ok(["rm", id]);
});

Deno.test({
  name: "a start that fails keeps the container, its rw layer and its log",
  ...asRoot,
}, async () => {
  // The first run leaves a file in its rw layer, then deletes the shell its command needs.
  const id = (await sb.ok([
    "run",
    "-d",
    "busybox",
    "sh",
    "-c",
    "if [ -e /keep ]; then echo kept; else echo made > /keep; rm /bin/sh; fi",
  ])).trim();
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  const failed = await sb.run(["start", id]);
  assert.notEqual(failed.code, 0, "start must fail: the command's shell is gone");
  assert.match(failed.stderr, /sh/);
  const after = await sb.inspect(id);
  assert.equal(after.State.Status, "exited");
  assert.match(after.State.Error, /sh/, "the failure is recorded");
  assert.deepEqual(sb.leftoverCgroups(), [], "only the start's cgroup goes");
  // Mended (the whiteout removed from its rw layer), it starts again with its own files.
  Deno.removeSync(`${sb.root}/containers/${id}/upper/bin/sh`);
  await sb.ok(["start", id]);
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  await waitFor(async () => (await sb.ok(["logs", id])).includes("kept"), {
    what: "the second run to find the file the first one made",
  });
  await sb.ok(["rm", id]);
});

Deno.test({
  name: "start re-creates a -v host directory that went missing, as Docker does",
  ...asRoot,
}, async () => {
  const vol = `${sb.dir}/gone-volume`;
  const id = (await sb.ok(["run", "-d", "-v", `${vol}:/data`, "busybox", "true"])).trim();
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  Deno.removeSync(vol, { recursive: true });
  await sb.ok(["start", id]);
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  assert.ok(Deno.statSync(vol).isDirectory);
  await sb.ok(["rm", id]);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
