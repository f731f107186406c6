import assert from "node:assert/strict";
import {
  containerIdsOf,
  CopyError,
  copyPath,
  extractEntries,
  hostIdsOf,
  placeSource,
  resolveSource,
  tarEntries,
  walkSource,
  writeSourceArchive,
} from "../../src/container/copy.ts";
import { readTar } from "../../src/image/tar.ts";
import { entryHeader } from "../../src/image/tar_writer.ts";
import { layerChanges } from "../../src/container/diff.ts";
import { renderFormat, renderTemplate } from "../../src/cli/format_lite.ts";
import { splitCpArg } from "../../src/cli/cp_impl.ts";
import { mknod } from "../../ffi/libc.ts";

const isRoot = Deno.uid() === 0;

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-copy-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** A container root with a file, a tree and links that point out of it. */
function containerTree(root: string): void {
  Deno.mkdirSync(`${root}/data/sub`, { recursive: true });
  Deno.mkdirSync(`${root}/etc`);
  Deno.writeTextFileSync(`${root}/data/a`, "a\n");
  Deno.writeTextFileSync(`${root}/data/sub/b`, "b\n");
  Deno.writeTextFileSync(`${root}/etc/passwd`, "container\n");
  Deno.symlinkSync("/etc", `${root}/data/abs`);
  Deno.symlinkSync("../../../../../../etc", `${root}/data/rel`);
}

Deno.test("docker/cli's splitCpArg: absolute and dot-led paths are local", () => {
  assert.deepEqual(splitCpArg("web:/etc"), { container: "web", path: "/etc" });
  assert.deepEqual(splitCpArg("/tmp/a:b"), { path: "/tmp/a:b" });
  assert.deepEqual(splitCpArg("./a:b"), { path: "./a:b" });
  assert.deepEqual(splitCpArg("file"), { path: "file" });
  assert.deepEqual(splitCpArg("-"), { path: "-" });
});

Deno.test(
  "resolveSource: links in the path stay inside the root; the last is kept unless followed",
  withDir((root) => {
    containerTree(root);
    assert.equal(resolveSource(root, "/data/abs/passwd", false)!.path, `${root}/etc/passwd`);
    assert.equal(resolveSource(root, "/data/rel/passwd", false)!.path, `${root}/etc/passwd`);
    const link = resolveSource(root, "/data/abs", false)!;
    assert.ok(link.info.isSymlink);
    assert.equal(link.base, "abs");
    assert.ok(resolveSource(root, "/data/abs", true)!.info.isDirectory);
    assert.equal(resolveSource(root, "/data/.", false)!.base, "", "dir/. means its contents");
    assert.equal(resolveSource(root, "/nope", false), null);
  }),
);

Deno.test(
  "walkSource: parents first, names from the source's base, links as links",
  withDir((root) => {
    containerTree(root);
    const names = [...walkSource(resolveSource(root, "/data", false)!)].map((e) =>
      `${e.type} ${e.name}`
    );
    assert.deepEqual(names, [
      "directory data",
      "file data/a",
      "symlink data/abs",
      "symlink data/rel",
      "directory data/sub",
      "file data/sub/b",
    ]);
  }),
);

Deno.test(
  "Docker's placement: into a directory, to a new name, and its refusals",
  withDir((root) => {
    containerTree(root);
    Deno.mkdirSync(`${root}/out`);
    Deno.writeTextFileSync(`${root}/out/file`, "");
    const dir = resolveSource(root, "/data", false)!;
    const file = resolveSource(root, "/data/a", false)!;
    assert.deepEqual(placeSource(root, dir, "/out"), { dir: "/out", name: "data" });
    assert.deepEqual(placeSource(root, dir, "/out/new"), { dir: "/out", name: "new" });
    assert.deepEqual(placeSource(root, file, "/out/file"), { dir: "/out", name: "file" });
    assert.throws(
      () => placeSource(root, dir, "/out/file"),
      new CopyError("cannot copy directory"),
    );
    assert.throws(() => placeSource(root, file, "/out/none/"), new CopyError("no such directory"));
    assert.throws(() => placeSource(root, file, "/none/x"), new CopyError("no such directory"));
    // The destination's links resolve inside the root too.
    assert.deepEqual(placeSource(root, file, "/data/abs"), { dir: "/etc", name: "a" });
  }),
);

Deno.test(
  "copyPath never writes through a link the destination holds",
  { ignore: !isRoot },
  withDir(async (dir) => {
    const root = `${dir}/root`, host = `${dir}/host`;
    Deno.mkdirSync(root);
    Deno.mkdirSync(host);
    containerTree(root);
    Deno.writeTextFileSync(`${host}/victim`, "host\n");
    // The container made /data/sub/b a link to a host path. A copy to that path resolves
    // it inside the root (where its target's directory does not exist) ...
    Deno.removeSync(`${root}/data/sub/b`);
    Deno.symlinkSync(`${host}/victim`, `${root}/data/sub/b`);
    Deno.mkdirSync(`${host}/sub`);
    Deno.writeTextFileSync(`${host}/sub/b`, "new\n");
    await assert.rejects(
      copyPath({ root: "/", path: `${host}/sub/b` }, { root, path: "/data/sub/b" }, {
        followLink: false,
      }),
      new CopyError("no such directory"),
    );
    // ... and a directory copied over it replaces the link: the host file stays as it was.
    await copyPath({ root: "/", path: `${host}/sub` }, { root, path: "/data" }, {
      followLink: false,
      owner: { uid: 0, gid: 0 },
    });
    assert.equal(Deno.readTextFileSync(`${host}/victim`), "host\n");
    assert.ok(Deno.lstatSync(`${root}/data/sub/b`).isFile);
    assert.equal(Deno.readTextFileSync(`${root}/data/sub/b`), "new\n");
    // dir/. to a new name: the directory is made and filled.
    await copyPath({ root, path: "/data/." }, { root: "/", path: `${host}/copy` }, {
      followLink: false,
    });
    assert.equal(Deno.readTextFileSync(`${host}/copy/a`), "a\n");
    assert.equal(Deno.readLinkSync(`${host}/copy/abs`), "/etc");
  }),
);

Deno.test(
  "writeSourceArchive streams a tree as tar, owners translated; tarEntries extracts it",
  withDir(async (dir) => {
    const root = `${dir}/root`;
    Deno.mkdirSync(root);
    containerTree(root);
    // A body larger than one read chunk (1 MiB), so that it arrives in several.
    const big = new Uint8Array(2_500_000).map((_, i) => i % 251);
    Deno.writeFileSync(`${root}/data/big`, big);
    const chunks: Uint8Array[] = [];
    const remap = { uid: { hostStart: 0, size: 65536 }, gid: { hostStart: 0, size: 65536 } };
    const me = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
    await writeSourceArchive(resolveSource(root, "/data", false)!, (c) => chunks.push(c.slice()), {
      uid: (id) => id + 7,
      gid: (id) => id + 8,
    });
    const stream = ReadableStream.from(chunks);
    const seen: string[] = [];
    for await (const e of readTar(stream)) {
      seen.push(`${e.type} ${e.name} ${e.uid}:${e.gid} ${e.size}`);
      if (e.name === "data/big") {
        let n = 0, ok = true;
        await e.readBody((c) => {
          for (let i = 0; i < c.length; i++) ok &&= c[i] === (n + i) % 251;
          n += c.length;
        });
        assert.ok(ok && n === big.length, "the body arrives whole and in order");
      }
    }
    const ids = `${me.uid + 7}:${me.gid + 8}`;
    assert.deepEqual(seen, [
      `directory data/ ${ids} 0`,
      `file data/a ${ids} 2`,
      `symlink data/abs ${ids} 0`,
      `file data/big ${ids} ${big.length}`,
      `symlink data/rel ${ids} 0`,
      `directory data/sub/ ${ids} 0`,
      `file data/sub/b ${ids} 2`,
    ]);
    // Extracted from the stream, with the owners mapped to host ids (when run as root).
    const out = `${dir}/out`;
    Deno.mkdirSync(out);
    await extractEntries(
      { root: out, dir: "/", owner: isRoot ? undefined : me, ids: hostIdsOf(remap) },
      tarEntries(ReadableStream.from(chunks)),
    );
    assert.deepEqual(Deno.readFileSync(`${out}/data/big`), big);
    assert.equal(Deno.readTextFileSync(`${out}/data/sub/b`), "b\n");
    if (isRoot) assert.equal(Deno.statSync(`${out}/data/big`).uid, me.uid + 7);
    assert.equal(containerIdsOf(undefined), undefined);
  }),
);

Deno.test("remapped ids: host ids to the container's and back, Docker's refusal past the range", () => {
  const remap = {
    uid: { hostStart: 100000, size: 65536 },
    gid: { hostStart: 200000, size: 65536 },
  };
  const toContainer = containerIdsOf(remap)!, toHost = hostIdsOf(remap)!;
  assert.deepEqual([toContainer.uid(100005), toContainer.gid(200000)], [5, 0]);
  assert.equal(toContainer.uid(0), 65534, "host root is the overflow id inside");
  assert.deepEqual([toHost.uid(0), toHost.gid(1234)], [100000, 201234]);
  assert.throws(
    () => toHost.uid(70000),
    new CopyError("Container ID 70000 cannot be mapped to a host ID"),
  );
});

Deno.test("entryHeader: a pax size record for a body of 8 GiB or more", async () => {
  const size = 9 * 1024 ** 3;
  const head = entryHeader({ name: "huge" }, size);
  assert.equal(head.length, 3 * 512, "pax header, its record, the ustar header");
  const stream = ReadableStream.from([head, new Uint8Array(512)]);
  for await (const e of readTar(stream)) {
    assert.deepEqual([e.name, e.size], ["huge", size]);
    break;
  }
  assert.equal(entryHeader({ name: "small" }, 10).length, 512);
});

Deno.test(
  "layerChanges: A, C and D as Docker's overlay driver reports them",
  { ignore: !isRoot },
  withDir((dir) => {
    const lower = `${dir}/lower`, upper = `${dir}/upper`;
    for (const d of ["bin", "etc", "tmp", "var/empty"]) {
      Deno.mkdirSync(`${lower}/${d}`, { recursive: true });
    }
    Deno.writeTextFileSync(`${lower}/bin/ls`, "");
    Deno.writeTextFileSync(`${lower}/etc/passwd`, "");
    Deno.mkdirSync(`${upper}/bin`, { recursive: true });
    mknod(`${upper}/bin/ls`, "char", 0, 0, 0); // a whiteout
    Deno.mkdirSync(`${upper}/etc`);
    Deno.writeTextFileSync(`${upper}/etc/passwd`, "x");
    Deno.writeFileSync(`${upper}/etc/hostname`, new Uint8Array()); // m-docker's mountpoint
    Deno.mkdirSync(`${upper}/var`); // only a parent of nothing: not a change
    Deno.mkdirSync(`${upper}/new/deep`, { recursive: true });
    Deno.writeTextFileSync(`${upper}/new/deep/f`, "");
    for (const d of ["bin", "etc", "var"]) {
      const m = Deno.statSync(`${lower}/${d}`).mode!;
      Deno.chmodSync(`${upper}/${d}`, m & 0o7777);
    }
    assert.deepEqual(
      layerChanges(upper, [lower]).map((c) => `${c.kind} ${c.path}`),
      ["C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "A /new", "A /new/deep", "A /new/deep/f"],
    );
  }),
);

Deno.test("format_lite: the template engine, Docker's maps, json, table headers", () => {
  const o = { Name: "web", Actor: { ID: "abc", Attributes: { k: "v" } }, N: 3 };
  assert.equal(renderTemplate("{{.Name}} {{.Actor.ID}} {{.N}}", o), "web abc 3");
  assert.equal(renderTemplate("{{json .Actor}}", o), '{"ID":"abc","Attributes":{"k":"v"}}');
  assert.equal(renderTemplate("{{.Actor.Attributes}}", o), "map[k:v]");
  assert.equal(renderTemplate('{{index .Actor.Attributes "nope"}}', o), "");
  assert.equal(
    renderTemplate("{{range $k, $v := .Actor.Attributes}}{{$k}}={{$v}}{{end}}", o),
    "k=v",
  );
  assert.throws(() => renderTemplate("{{.Missing}}", o), /no entry for key "Missing"/);
  assert.deepEqual(renderFormat("json", [{ a: 1 }]), ['{"a":1}']);
  assert.deepEqual(renderFormat("{{json .}}", [{ a: 1 }], {}, () => "own"), ["own"]);
  assert.deepEqual(renderFormat("table {{.Name}}\\t{{.N}}", [o], { Name: "NAME" }), [
    "NAME      N",
    "web       3",
  ]);
  assert.throws(() => renderTemplate("{{if}}", o), /template/);
});
