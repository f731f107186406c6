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

Deno.test({ name: "tag, image inspect, rmi and image prune", ...asRoot }, async () => {
  const layers = () => [...Deno.readDirSync(`${sb.root}/image/layers`)].map((e) => e.name).sort();
  await sb.ok(["tag", "mine:v1", "mine:v2"]);
  await sb.ok(["tag", "mine:v1", "127.0.0.1:5000/team/mine:v3"]);
  const doc = JSON.parse(await sb.ok(["image", "inspect", "mine:v2"]))[0];
  assert.deepEqual(doc.RepoTags.sort(), ["127.0.0.1:5000/team/mine:v3", "mine:v1", "mine:v2"]);
  assert.match(doc.Id, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await sb.run(["tag", "nope:1", "x:1"])).code, 1);
  assert.equal((await sb.run(["tag", "mine:v1", "Bad Name"])).code, 1);
  // An image with other tags is only untagged.
  assert.equal(await sb.ok(["rmi", "mine:v2"]), "Untagged: mine:v2\n");
  // An image a container uses is refused, unless forced.
  await sb.ok(["run", "--name", "user", "mine:v1", "/bin/busybox", "true"]);
  assert.equal(
    await sb.ok(["rmi", "127.0.0.1:5000/team/mine:v3"]),
    "Untagged: 127.0.0.1:5000/team/mine:v3\n",
  );
  const refused = await sb.run(["rmi", "mine:v1"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /must force.*is using its referenced image/);
  const before = layers();
  assert.match(
    await sb.ok(["rmi", "-f", "mine:v1"]),
    /^Untagged: mine:v1\nDeleted: sha256:[0-9a-f]{64}\n$/,
  );
  // The container still runs from its layer: it was not deleted.
  assert.deepEqual(layers(), before);
  await sb.ok(["start", "-a", "user"]);
  await sb.ok(["rm", "user"]);
  // Docker's prompt: declined (or no answer), nothing is removed and the exit is 0.
  const declined = await sb.run(["image", "prune"], { stdin: "n\n" });
  assert.deepEqual([declined.code, declined.stdout], [
    0,
    "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ",
  ]);
  assert.deepEqual(layers(), before);
  const pruned = await sb.ok(["image", "prune", "-f"]);
  // Docker's report: the images and layers deleted, then the space.
  assert.match(
    pruned,
    /^Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: /,
  );
  assert.ok(layers().length < before.length, "the now unused layer is gone");
  assert.equal((await sb.run(["rmi", "mine:v1"])).code, 1);
  // -a: a tagged image no container uses goes too; one in use stays.
  await sb.ok(["tag", "busybox", "spare:1"]);
  const tar = await tarOfOneFile();
  try {
    await sb.ok(["import", tar, "unused:1"]);
  } finally {
    await Deno.remove(tar);
  }
  await sb.ok(["create", "--name", "holder", "busybox", "true"]);
  const all = await sb.ok(["image", "prune", "-a", "-f"]);
  assert.match(all, /untagged: unused:1\n/);
  assert.doesNotMatch(all, /untagged: (spare:1|busybox)/);
  assert.equal((await sb.run(["image", "inspect", "unused:1"])).code, 1);
  await sb.ok(["image", "inspect", "spare:1"]);
  await sb.ok(["rm", "holder"]);
  await sb.ok(["rmi", "spare:1"]);
});

/** A one-file rootfs as a tar file, for `import`; the caller removes it. */
async function tarOfOneFile(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "m-docker-prune-" });
  const tar = `${dir}.tar`;
  try {
    await Deno.writeTextFile(`${dir}/hello`, "hi\n");
    const out = await new Deno.Command("tar", { args: ["-C", dir, "-cf", tar, "."] }).output();
    if (!out.success) throw new Error("tar failed");
    return tar;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test(
  { name: "commit: a container's changes (deletions too) become a new image", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "--name",
      "changed",
      "-w",
      "/app",
      "-e",
      "MODE=committed",
      "busybox",
      "sh",
      "-c",
      "echo note > /app/note; rm /bin/ls; mkdir -p /data; ln /app/note /data/hard",
    ]);
    const id = (await sb.ok(["commit", "changed", "mine:committed"])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const out = await sb.ok([
      "run",
      "--rm",
      "mine:committed",
      "sh",
      "-c",
      "pwd; cat note; echo $MODE; test -e /bin/ls || echo ls-gone; stat -c %h /data/hard",
    ]);
    assert.equal(out, "/app\nnote\ncommitted\nls-gone\n2\n");
    assert.equal((await sb.run(["commit", "nope", "x:1"])).code, 1);
    // export gives the container's whole filesystem, flat: import it and it runs the same.
    await sb.ok(["export", "-o", `${sb.dir}/exported.tar`, "changed"]);
    const names = new TextDecoder().decode(
      new Deno.Command("tar", { args: ["-tf", `${sb.dir}/exported.tar`] }).outputSync().stdout,
    ).split("\n");
    assert.ok(
      names.includes("app/note") && names.includes("bin/busybox") && !names.includes("bin/ls"),
    );
    assert.ok(!names.some((n) => n.includes(".wh.")), "a flat export has no whiteouts");
    await sb.ok(["import", `${sb.dir}/exported.tar`, "mine:exported"]);
    assert.equal(
      await sb.ok(["run", "--rm", "mine:exported", "/bin/busybox", "cat", "/app/note"]),
      "note\n",
    );
    await sb.ok(["rmi", "mine:exported"]);
    await sb.ok(["rm", "changed"]);
    await sb.ok(["rmi", "mine:committed"]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
