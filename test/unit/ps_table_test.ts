import assert from "node:assert/strict";
import { type ContainerFields, defaultTable, PS_HEADERS } from "../../src/cli/ps.ts";
import { renderList } from "../../src/cli/format.ts";
import { goStruct } from "../../src/util/go_template.ts";

/** Fields as containerFields makes them, from plain values. */
function fields(v: Record<string, string>): ContainerFields {
  const f = Object.fromEntries(
    Object.keys(PS_HEADERS).map((k) => [k, () => v[k] ?? ""]),
  ) as unknown as ContainerFields;
  return { ...f, Label: () => "", Platform: () => null };
}

const ROWS = [
  fields({
    ID: "0123456789ab",
    Image: "busybox",
    Command: "\"sh -c 'sleep 60'\"",
    RunningFor: "2 minutes ago",
    Status: "Up 2 minutes (healthy)",
    Ports: "0.0.0.0:8080->80/tcp, :::8080->80/tcp",
    Names: "web",
    Size: "0B (virtual 1.2MB)",
  }),
  fields({
    ID: "ba9876543210",
    Image: "registry.example:5000/team/app:v2",
    Command: '"/bin/true"',
    RunningFor: "About an hour ago",
    Status: "Exited (0) 59 minutes ago",
    Ports: "",
    Names: "naïve_ünïcode",
    Size: "12kB (virtual 5MB)",
  }),
];

Deno.test("ps's default table is what docker/cli's default template renders, with and without -s", () => {
  const template =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
  for (const rows of [ROWS, [], ROWS.slice(1)]) {
    const structs = rows.map((f) => goStruct("*formatter.ContainerContext", f));
    assert.equal(defaultTable(rows, false), renderList(template, structs, PS_HEADERS));
    assert.equal(
      defaultTable(rows, true),
      renderList(`${template}\t{{.Size}}`, structs, PS_HEADERS),
    );
  }
  // Docker's header line, padded as its tabwriter pads (minwidth 10, padding 3).
  assert.equal(
    defaultTable([], false),
    "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n",
  );
});
