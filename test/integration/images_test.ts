/**
 * The built-in busybox image, `import` of a rootfs tarball, and `images`.
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

Deno.test({ name: "images lists the built-in busybox", ...asRoot }, async () => {
  const out = await sb.ok(["images"]);
  assert.match(out, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  assert.match(out, /busybox\s+latest\s+[0-9a-f]{12}\s+.+ago\s+\d/);
  const json = JSON.parse((await sb.ok(["images", "--format", "json"])).trim().split("\n")[0]);
  assert.equal(json.Repository, "busybox");
  assert.match((await sb.ok(["images", "-q"])).trim(), /^[0-9a-f]{12}$/);
});

Deno.test({ name: "import a rootfs tarball, then run it", ...asRoot }, async () => {
  const rootfs = `${sb.dir}/rootfs`;
  Deno.mkdirSync(`${rootfs}/bin`, { recursive: true });
  Deno.copyFileSync("/bin/busybox", `${rootfs}/bin/busybox`);
  Deno.symlinkSync("busybox", `${rootfs}/bin/sh`);
  Deno.writeTextFileSync(`${rootfs}/hello.txt`, "from the tarball\n");
  const tar = `${sb.dir}/rootfs.tar`;
  const made = new Deno.Command("tar", { args: ["-cf", tar, "-C", rootfs, "."] }).outputSync();
  assert.ok(made.success);
  const id = (await sb.ok(["import", tar, "mine:v1"])).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.match(await sb.ok(["images"]), /mine\s+v1\s+/);
  assert.equal(
    await sb.ok(["run", "--rm", "mine:v1", "/bin/sh", "-c", "cat /hello.txt"]),
    "from the tarball\n",
  );
  // By ID prefix too.
  assert.equal(await sb.ok(["run", "--rm", id.slice(7, 19), "/bin/busybox", "true"]), "");
  // A rootfs with no Cmd needs a command.
  const r = await sb.run(["run", "--rm", "mine:v1"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /no command specified/);
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
