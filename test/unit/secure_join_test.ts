import assert from "node:assert/strict";
import { secureJoin } from "../../src/rootfs/secure_join.ts";

/** A fake filesystem: paths that are symlinks, and where they point. */
function links(map: Record<string, string>) {
  return (p: string) => map[p] ?? null;
}

Deno.test("secureJoin joins plain paths", () => {
  assert.equal(secureJoin("/r", "/etc/passwd", links({})), "/r/etc/passwd");
  assert.equal(secureJoin("/r/", "etc//x/./y", links({})), "/r/etc/x/y");
  assert.equal(secureJoin("/r", "/", links({})), "/r");
});

Deno.test("secureJoin keeps .. inside the root", () => {
  assert.equal(secureJoin("/r", "/../../etc", links({})), "/r/etc");
  assert.equal(secureJoin("/r", "/a/../../../b", links({})), "/r/b");
});

Deno.test("secureJoin resolves absolute symlinks against the root, not the host", () => {
  assert.equal(secureJoin("/r", "/etc/passwd", links({ "/r/etc": "/" })), "/r/passwd");
  assert.equal(
    secureJoin("/r", "/data/x", links({ "/r/data": "/host/secret" })),
    "/r/host/secret/x",
  );
});

Deno.test("secureJoin resolves relative symlinks that climb out, inside the root", () => {
  assert.equal(secureJoin("/r", "/a/b", links({ "/r/a": "../../../.." })), "/r/b");
});

Deno.test("secureJoin refuses symlink loops", () => {
  assert.throws(
    () => secureJoin("/r", "/a", links({ "/r/a": "/b", "/r/b": "/a" })),
    /too many levels/,
  );
});
