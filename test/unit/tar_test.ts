import assert from "node:assert/strict";
import { readTar, TarFormatError } from "../../src/image/tar.ts";
import { writeTar } from "../../src/image/tar_writer.ts";
import { entryComponents, HostileLayerError, symlinkEscapes } from "../../src/image/layer_apply.ts";

function streamOf(bytes: Uint8Array, chunk = 7): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.slice(off, off + chunk));
      off += chunk;
    },
  });
}

async function entries(bytes: Uint8Array, chunk = 7) {
  const out = [];
  for await (const e of readTar(streamOf(bytes, chunk))) {
    let body = "";
    if (e.name.endsWith(".txt")) await e.readBody((c) => body += new TextDecoder().decode(c));
    out.push({ ...e, body });
  }
  return out;
}

Deno.test("readTar reads what writeTar wrote, whatever the chunking", async () => {
  const long = "deep/" + "d".repeat(120) + "/file.txt";
  const longer = "x/".repeat(140) + "end.txt";
  const tar = writeTar([
    { name: "dir", type: "directory", mode: 0o750, mtime: 1_700_000_000 },
    {
      name: "dir/a.txt",
      body: new TextEncoder().encode("hello"),
      uid: 1000,
      gid: 100,
      mode: 0o640,
    },
    { name: "dir/skipped.bin", body: new Uint8Array(1500).fill(7) },
    { name: "dir/link", type: "symlink", linkname: "a.txt" },
    { name: "dir/hard", type: "hardlink", linkname: "dir/a.txt" },
    { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
    { name: long, body: new TextEncoder().encode("prefix split") },
    { name: longer, body: new TextEncoder().encode("pax path") },
  ]);
  for (const chunk of [1, 7, 512, 100_000]) {
    const got = await entries(tar, chunk);
    assert.deepEqual(got.map((e) => [e.name, e.type]), [
      ["dir", "directory"],
      ["dir/a.txt", "file"],
      ["dir/skipped.bin", "file"],
      ["dir/link", "symlink"],
      ["dir/hard", "hardlink"],
      ["dev/null", "char"],
      [long, "file"],
      [longer, "file"],
    ]);
    assert.equal(got[1].body, "hello");
    assert.deepEqual([got[1].uid, got[1].gid, got[1].mode, got[1].size], [1000, 100, 0o640, 5]);
    assert.equal(got[0].mtime, 1_700_000_000);
    assert.equal(got[3].linkname, "a.txt");
    assert.deepEqual([got[5].devmajor, got[5].devminor], [1, 3]);
    assert.equal(got[6].body, "prefix split");
    assert.equal(got[7].body, "pax path");
  }
});

Deno.test("readTar refuses damaged archives", async () => {
  const tar = writeTar([{ name: "a.txt", body: new TextEncoder().encode("x") }]);
  const bad = tar.slice();
  bad[10] ^= 0xff; // the name, so the checksum no longer matches
  await assert.rejects(() => entries(bad), TarFormatError);
  await assert.rejects(() => entries(tar.slice(0, 600)), /unexpected end/);
});

Deno.test("entryComponents refuses absolute names and ..", () => {
  assert.deepEqual(entryComponents("./usr//bin/./sh"), ["usr", "bin", "sh"]);
  assert.throws(() => entryComponents("/etc/passwd"), HostileLayerError);
  assert.throws(() => entryComponents("a/../../etc"), HostileLayerError);
});

Deno.test("symlinkEscapes: relative targets may not climb above the layer", () => {
  assert.equal(symlinkEscapes(["bin", "sh"], "busybox"), false);
  assert.equal(symlinkEscapes(["bin", "sh"], "/bin/busybox"), false);
  assert.equal(symlinkEscapes(["usr", "lib", "x"], "../../bin/y"), false);
  assert.equal(symlinkEscapes(["usr", "x"], "../../etc"), true);
  assert.equal(symlinkEscapes(["x"], ".."), true);
});
