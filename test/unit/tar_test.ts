import assert from "node:assert/strict";
import {
  MAX_METADATA_SIZE,
  readTar,
  type TarEntry,
  TarFormatError,
  TarParser,
} from "../../src/image/tar.ts";
import { writeTar } from "../../src/image/tar_writer.ts";
import { entryComponents, HostileLayerError } from "../../src/image/layer_apply.ts";

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

/** What a TarParser fed `bytes` in `chunk`-byte pieces reports, bodies joined. */
function parsed(bytes: Uint8Array, chunk: number) {
  const out: Array<TarEntry & { body: string; whole: boolean }> = [];
  let pieces: string[] = [];
  const parser = new TarParser({
    entry(e, body) {
      out.push({ ...e, body: body === null ? "" : new TextDecoder().decode(body), whole: !!body });
      pieces = [];
    },
    data(c) {
      // A view valid only during the call: the buffer is overwritten below.
      pieces.push(new TextDecoder().decode(c));
    },
    end() {
      out[out.length - 1].body = pieces.join("");
    },
  });
  // One reused buffer, as import reads: the parser must not keep views of it.
  const buffer = new Uint8Array(chunk);
  for (let off = 0; off < bytes.length; off += chunk) {
    const piece = bytes.subarray(off, off + chunk);
    buffer.set(piece);
    parser.push(buffer.subarray(0, piece.length));
    buffer.fill(0xee);
  }
  parser.finish();
  return out;
}

Deno.test("TarParser reads what readTar reads, in place, whatever the chunking", async () => {
  const longer = "x/".repeat(140) + "end.txt";
  const big = "b".repeat(3000);
  const tar = writeTar([
    { name: "dir", type: "directory", mode: 0o750, mtime: 1_700_000_000 },
    { name: "dir/a.txt", body: new TextEncoder().encode("hello"), uid: 1000, gid: 100 },
    { name: "dir/empty.txt", body: new Uint8Array() },
    { name: "dir/big.txt", body: new TextEncoder().encode(big) },
    { name: "dir/link", type: "symlink", linkname: "a.txt" },
    { name: "dev/null", type: "char", devmajor: 1, devminor: 3 },
    { name: longer, body: new TextEncoder().encode("pax path") },
  ]);
  const expected = (await entries(tar, 100_000)).map(({ readBody: _, body: __, ...e }) => e);
  for (const chunk of [1, 7, 511, 512, 513, 1024, 4096, 100_000]) {
    const got = parsed(tar, chunk);
    assert.deepEqual(got.map(({ body: _, whole: __, ...e }) => e), expected, `chunk ${chunk}`);
    assert.deepEqual(got.map((e) => e.body), ["", "hello", "", big, "", "", "pax path"]);
  }
  // Contents that lie whole in a chunk come in one piece; others in several.
  assert.ok(parsed(tar, 100_000).filter((e) => e.type === "file").every((e) => e.whole));
  assert.ok(!parsed(tar, 1024).find((e) => e.name === "dir/big.txt")!.whole);
});

Deno.test("TarParser ignores what follows the end of the archive", () => {
  const tar = writeTar([{ name: "a.txt", body: new TextEncoder().encode("x") }]);
  const junk = new Uint8Array(tar.length + 3000).fill(0x41);
  junk.set(tar);
  assert.deepEqual(parsed(junk, 700).map((e) => e.name), ["a.txt"]);
});

Deno.test("TarParser refuses damaged and truncated archives", () => {
  const tar = writeTar([{ name: "a.txt", body: new TextEncoder().encode("x".repeat(600)) }]);
  const bad = tar.slice();
  bad[10] ^= 0xff;
  assert.throws(() => parsed(bad, 512), TarFormatError);
  for (const end of [100, 512, 700, 1024 + 100]) {
    assert.throws(() => parsed(tar.slice(0, end), 64), /unexpected end/, `cut at ${end}`);
  }
  assert.equal(parsed(tar.slice(0, 0), 64).length, 0, "an empty stream is an empty archive");
});

Deno.test("pax headers and long names over 1 MiB are refused by both readers", async () => {
  const tar = writeTar([{ name: "n".repeat(MAX_METADATA_SIZE + 1), body: new Uint8Array() }]);
  assert.throws(() => parsed(tar, 65536), /metadata entry of/);
  await assert.rejects(() => entries(tar, 65536), /metadata entry of/);
  // Just under the limit is read.
  const name = "m/".repeat(1000) + "ok.txt";
  assert.deepEqual(parsed(writeTar([{ name, body: new Uint8Array() }]), 4096).map((e) => e.name), [
    name,
  ]);
});

/** `tar` with the header field at `offset` set to `bytes` and the checksum made right. */
function withField(tar: Uint8Array, offset: number, length: number, bytes: number[]) {
  const out = tar.slice();
  out.fill(0, offset, offset + length);
  out.set(bytes, offset);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i];
  out.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return out;
}

Deno.test("numeric fields: octal with blanks around it, empty, base-256; anything else refused", () => {
  const tar = writeTar([{ name: "a", type: "directory" }]);
  const ascii = (t: string) => [...new TextEncoder().encode(t)];
  const uid = (bytes: number[]) => parsed(withField(tar, 108, 8, bytes), 512)[0].uid;
  assert.equal(uid(ascii(" 1750 \0")), 0o1750);
  assert.equal(uid(ascii("0001750\0")), 0o1750);
  assert.equal(uid(ascii("17 \0")), 0o17);
  assert.equal(uid([]), 0, "all NULs");
  assert.equal(uid(ascii("      \0")), 0, "all blanks");
  assert.equal(uid([0x80, 0, 0, 0, 0, 0x01, 0x00, 0x01]), 65537, "base-256");
  assert.throws(() => uid(ascii("12 34\0")), /bad numeric field "12 34"/);
  assert.throws(() => uid(ascii("0000789\0")), /bad numeric field "0000789"/);
  assert.throws(() => uid(ascii("-1\0")), TarFormatError);
  // Names: ASCII and UTF-8 alike.
  const name = (bytes: number[]) => parsed(withField(tar, 0, 100, bytes), 512)[0].name;
  assert.equal(name(ascii("plain/name")), "plain/name");
  assert.equal(name([...new TextEncoder().encode("caf\u00e9/\u00fc")]), "caf\u00e9/\u00fc");
  assert.equal(name(ascii("x".repeat(100))), "x".repeat(100), "a name that fills its field");
});

Deno.test("entryComponents cleans names as filepath.Clean, refusing a climb out", () => {
  assert.deepEqual(entryComponents("./usr//bin/./sh"), ["usr", "bin", "sh"]);
  // Absolute names are relative to the root, where `..` stops.
  assert.deepEqual(entryComponents("/etc/passwd"), ["etc", "passwd"]);
  assert.deepEqual(entryComponents("/../etc/./passwd"), ["etc", "passwd"]);
  assert.deepEqual(entryComponents("a/b/../c/"), ["a", "c"]);
  assert.deepEqual(entryComponents("a/.."), []);
  assert.deepEqual(entryComponents("/"), []);
  assert.throws(() => entryComponents("../x"), HostileLayerError);
  assert.throws(() => entryComponents("a/../../etc"), /entry "a\/\.\.\/\.\.\/etc" climbs out/);
  assert.throws(() => entryComponents("./.."), HostileLayerError);
});
