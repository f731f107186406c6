import assert from "node:assert/strict";
import { defaultImagesTable, IMAGE_HEADERS, type ImageFields } from "../../src/cli/images.ts";
import { renderList } from "../../src/cli/format.ts";
import { goStruct } from "../../src/util/go_values.ts";

/** An imageContext's columns from plain values. */
function row(v: Record<keyof ImageFields, string>): ImageFields {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, () => x])) as ImageFields;
}

const ROWS = [
  row({
    Repository: "busybox",
    Tag: "latest",
    Digest: "<none>",
    ID: "0123456789ab",
    CreatedSince: "2 minutes ago",
    Size: "1.2MB",
  }),
  row({
    Repository: "registry.example:5000/team/app",
    Tag: "v2",
    Digest: "sha256:" + "e".repeat(64),
    ID: "ba9876543210",
    CreatedSince: "About an hour ago",
    Size: "5MB",
  }),
  row({
    Repository: "<none>",
    Tag: "<none>",
    Digest: "<none>",
    ID: "ffffffffffff",
    CreatedSince: "3 years ago",
    Size: "0B",
  }),
];

Deno.test("images' default table is what docker/cli's default template renders, with and without --digests", () => {
  const plain = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  const digests =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  for (const rows of [ROWS, [], ROWS.slice(1)]) {
    const structs = rows.map((r) => goStruct("*formatter.imageContext", { ...r }));
    assert.equal(defaultImagesTable(rows, false), renderList(plain, structs, IMAGE_HEADERS));
    assert.equal(defaultImagesTable(rows, true), renderList(digests, structs, IMAGE_HEADERS));
  }
  assert.equal(
    defaultImagesTable([], false),
    "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n",
  );
});
