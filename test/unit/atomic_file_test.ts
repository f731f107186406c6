import assert from "node:assert/strict";
import { writeFileAtomic } from "../../src/util/atomic_file.ts";

function withDir(fn: (dir: string) => void) {
  return () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-atomic-" });
    try {
      fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test(
  "writeFileAtomic replaces the file whole, with its mode, and leaves no temp file",
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/f`, "old");
    const synced: string[] = [];
    writeFileAtomic(`${dir}/f`, "new content", {
      mode: 0o600,
      sync: (file, path) => {
        synced.push(path);
        file.syncSync();
      },
    });
    assert.equal(Deno.readTextFileSync(`${dir}/f`), "new content");
    assert.equal(Deno.statSync(`${dir}/f`).mode! & 0o777, 0o600);
    assert.deepEqual(synced, [`${dir}/.f.tmp-${Deno.pid}`, dir]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  }),
);

Deno.test(
  "writeFileAtomic that fails keeps the old file and removes its temp file",
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/f`, "old");
    assert.throws(
      () =>
        writeFileAtomic(`${dir}/f`, "new", {
          sync: () => {
            throw new Error("EIO");
          },
        }),
      /EIO/,
    );
    assert.equal(Deno.readTextFileSync(`${dir}/f`), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  }),
);

Deno.test(
  "writeFileAtomic never creates a missing directory",
  withDir((dir) => {
    assert.throws(() => writeFileAtomic(`${dir}/gone/f`, "x"), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(`${dir}/gone`), Deno.errors.NotFound);
  }),
);
