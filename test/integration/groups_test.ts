/**
 * Supplementary groups as Docker gives them: the user's own from the image's /etc/group,
 * and `--group-add` by number or name; an unknown name is refused before anything exists.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

Deno.test(
  { name: "--group-add adds groups by number and by name; -u keeps them", ...asRoot },
  async () => {
    const ids = await sb.ok([
      "run",
      "--rm",
      "-u",
      "1000:1000",
      "--group-add",
      "1234",
      "--group-add",
      "root",
      "busybox",
      "id",
      "-G",
    ]);
    // The primary group first, then the supplementary ones in the kernel's order.
    const [primary, ...rest] = ids.trim().split(" ").map(Number);
    assert.equal(primary, 1000);
    assert.deepEqual(rest.sort((a, b) => a - b), [0, 1234]);
    const status = await sb.ok([
      "run",
      "--rm",
      "--group-add",
      "4321",
      "busybox",
      "grep",
      "^Groups:",
      "/proc/self/status",
    ]);
    assert.match(status, /^Groups:\s+0 4321\s*$/m);
    const id = (await sb.ok(["run", "-d", "--group-add", "4321", "busybox", "sleep", "30"])).trim();
    assert.deepEqual((await sb.inspect(id)).HostConfig.GroupAdd, ["4321"]);
    await sb.ok(["rm", "-f", id]);
  },
);

Deno.test(
  { name: "--group-add of an unknown group name: 125, nothing created", ...asRoot },
  async () => {
    const r = await sb.run(["run", "--rm", "--group-add", "no-such-group", "busybox", "true"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Unable to find group no-such-group/);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
