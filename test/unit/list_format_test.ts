// Expected values are Docker's: docker/cli's formatter (formatter.go, custom.go, the
// tabwriter fork and its golden files), and the daemon's filters (daemon/list.go,
// daemon/images/image_list.go, daemon/internal/filters).
import assert from "node:assert/strict";
import { DOCKER_TABLE, tabwrite } from "../../src/util/tabwriter.ts";
import { isTableFormat, renderInspect, renderList, templateString } from "../../src/cli/format.ts";
import { goStruct } from "../../src/util/go_template.ts";
import { globToRegExp, parseFilters } from "../../src/util/filters.ts";
import {
  type ContainerFacts,
  filterContainers,
  imageWithDescendants,
} from "../../src/container/list_filters.ts";
import { filterImages, type ImageFacts } from "../../src/image/filters.ts";
import { ExitCodeError } from "../../src/util/errors.ts";

Deno.test("tabwriter: Docker's minwidth 10 and padding 3; a line without tabs ends a block", () => {
  // container-list-without-format.golden: "COMMAND   CREATED" (COMMAND is 7 wide, padded to 10).
  assert.equal(
    tabwrite('CONTAINER ID\tCOMMAND\tNAMES\nabc\t"top"\tc1\n', DOCKER_TABLE),
    'CONTAINER ID   COMMAND   NAMES\nabc            "top"     c1\n',
  );
  assert.equal(
    tabwrite("a\tb\nxyz\nlonger-cell\tc\n", DOCKER_TABLE),
    "a         b\nxyz\nlonger-cell   c\n",
  );
  // A trailing tab pads the cell before it (Go keeps those spaces).
  assert.equal(tabwrite("a\t\n", DOCKER_TABLE), "a         \n");
  // Wide characters count two columns (go-runewidth).
  assert.equal(tabwrite("漢字\tx\nab\ty\n", { minWidth: 0, padding: 1 }), "漢字 x\nab   y\n");
});

Deno.test("templateString: json, table prefix, escaped tabs and newlines", () => {
  assert.equal(templateString("json"), "{{json .}}");
  assert.equal(templateString("table {{.ID}}\\t{{.Names}}"), "{{.ID}}\t{{.Names}}");
  assert.equal(templateString("  {{.ID}}\\n "), "{{.ID}}\n");
  assert.equal(templateString("table"), "");
  assert.ok(isTableFormat("table {{.ID}}") && isTableFormat("tablex") && !isTableFormat("json"));
});

const rows = [
  goStruct("*formatter.ContainerContext", { ID: () => "0123456789ab", Names: () => "web" }),
  goStruct("*formatter.ContainerContext", { ID: () => "ba9876543210", Names: () => "db" }),
];
const headers = { ID: "CONTAINER ID", Names: "NAMES" };

Deno.test("renderList: a table gets a header made from the same template", () => {
  assert.equal(
    renderList("table {{.ID}}\t{{.Names}}", rows, headers),
    "CONTAINER ID   NAMES\n0123456789ab   web\nba9876543210   db\n",
  );
  // Functions leave header names alone, except pad (docker/cli's HeaderFunctions).
  assert.equal(
    renderList("table {{lower .Names}}\t{{pad .ID 1 1}}", rows.slice(0, 1), headers),
    "NAMES      CONTAINER ID \nweb        0123456789ab \n",
  );
  // A field without a header name is "<no value>" in the header row, as a Go map's.
  assert.equal(
    renderList("table {{.Names}}\t{{.ID}}", rows.slice(0, 1), { Names: "NAMES" }),
    "NAMES     <no value>\nweb       0123456789ab\n",
  );
});

Deno.test("renderList: plain templates, json, and errors", () => {
  assert.equal(renderList("{{.Names}}", rows, headers), "web\ndb\n");
  assert.equal(
    renderList("json", rows, headers),
    '{"ID":"0123456789ab","Names":"web"}\n{"ID":"ba9876543210","Names":"db"}\n',
  );
  assert.equal(renderList("{{.Names}}", [], headers), "");
  assert.throws(
    () => renderList("{{.Nope}}", rows, headers),
    (e: unknown) =>
      e instanceof ExitCodeError && e.exitCode === 1 &&
      e.message ===
        `template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`,
  );
});

Deno.test("renderInspect: one line per document, json as one array, errors per document", () => {
  const docs = [{ Name: "/a", State: { Status: "running" } }, { Name: "/b" }];
  assert.deepEqual(renderInspect("{{.Name}}", docs), { output: "/a\n/b\n", errors: [] });
  assert.equal(renderInspect("json", docs).output, JSON.stringify(docs) + "\n");
  const r = renderInspect("{{.State.Status}}", docs);
  assert.equal(r.output, "running\n");
  assert.match(r.errors[0].message, /map has no entry for key "State"/);
  assert.equal(renderInspect("{{.Name}}", []).output, "\n");
  assert.throws(
    () => renderInspect("{{.Name", docs),
    (e: unknown) => e instanceof ExitCodeError && e.exitCode === 64,
  );
});

Deno.test("parseFilters: name=value, the name lower-cased; no '=' is a flag error (125)", () => {
  assert.deepEqual([...parseFilters(["Name=web", "name=db", "status=exited"])], [
    ["name", ["web", "db"]],
    ["status", ["exited"]],
  ]);
  assert.throws(
    () => parseFilters(["web"]),
    (e: unknown) =>
      e instanceof ExitCodeError && e.exitCode === 125 &&
      /bad format of filter \(expected name=value\)/.test(e.message),
  );
});

function c(id: string, over: Partial<ContainerFacts> = {}): ContainerFacts {
  return {
    id,
    name: `n${id}`,
    state: "running",
    exitCode: 0,
    started: true,
    labels: {},
    imageId: "sha256:busy",
    mounts: [],
    networks: [{ name: "bridge", id: "net0123" }],
    published: [],
    exposed: [],
    health: "none",
    ...over,
  };
}

// Newest first, as the daemon lists them.
const list = [
  c("5", { labels: { a: "1", b: "2" }, mounts: [{ name: "/srv", destination: "/data" }] }),
  c("4", { state: "exited", exitCode: 3 }),
  c("3", { state: "created", started: false }),
  c("2", { state: "exited", exitCode: 0, imageId: "sha256:other", networks: [] }),
  c("1", { labels: { a: "1" }, published: ["8080/tcp"], exposed: ["80/tcp"] }),
];
const ids = (f: string[], opts = { all: true, limit: -1 }) =>
  filterContainers(
    list,
    parseFilters(f),
    opts,
    (r) => list.find((x) => x.id === r || x.name === r),
    (r) => r === "busybox" ? ["sha256:busy"] : r === "both" ? ["sha256:busy", "sha256:other"] : [],
  ).map((x) => x.id).join("");

Deno.test("filterContainers: -a, -n, status, exited, name and id as regular expressions", () => {
  assert.equal(ids([], { all: false, limit: -1 }), "51");
  assert.equal(ids([]), "54321");
  assert.equal(ids([], { all: false, limit: 2 }), "54"); // -n includes every state
  assert.equal(ids(["status=exited"], { all: false, limit: -1 }), "42"); // status implies -a
  assert.equal(ids(["status=exited", "status=created"]), "432");
  assert.equal(ids(["exited=3"]), "4");
  assert.equal(ids(["exited=0"]), "2"); // a created container never exited
  assert.equal(ids(["name=^n[12]$"]), "21");
  assert.equal(ids(["name=/n5"]), "5");
  assert.equal(ids(["id=^4"]), "4");
});

Deno.test("filterContainers: labels (all must match), ancestor, volume, network, before, since, ports", () => {
  assert.equal(ids(["label=a"]), "51");
  assert.equal(ids(["label=a=1", "label=b"]), "5");
  assert.equal(ids(["label=a=2"]), "");
  assert.equal(ids(["ancestor=busybox"]), "5431");
  assert.equal(ids(["ancestor=unknown"]), "");
  assert.equal(ids(["ancestor=both"]), "54321"); // an image and its descendant
  assert.equal(ids(["ancestor=unknown", "ancestor=busybox"]), "5431");
  assert.equal(ids(["volume=/data"]), "5");
  assert.equal(ids(["volume=/srv"]), "5");
  assert.equal(ids(["network=bridge"]), "5431");
  assert.equal(ids(["network=net01"]), "5431"); // an ID prefix
  assert.equal(ids(["before=n3"]), "21");
  assert.equal(ids(["since=n3"]), "54");
  assert.equal(ids(["publish=8080"]), "1");
  assert.equal(ids(["expose=80/tcp"]), "1");
  assert.equal(ids(["expose=70-90"]), "1");
});

Deno.test("imageWithDescendants: the image and those whose layers extend its own", () => {
  const lineage = [
    { id: "sha256:base", layers: ["l1"] },
    { id: "sha256:retag", layers: ["l1"] }, // the same layers: no child (moby's Children)
    { id: "sha256:child", layers: ["l1", "l2"] },
    { id: "sha256:grandchild", layers: ["l1", "l2", "l3"] },
    { id: "sha256:other", layers: ["l9", "l1"] },
  ];
  assert.deepEqual(imageWithDescendants("sha256:base", lineage), [
    "sha256:base",
    "sha256:child",
    "sha256:grandchild",
  ]);
  assert.deepEqual(imageWithDescendants("sha256:child", lineage), [
    "sha256:child",
    "sha256:grandchild",
  ]);
  assert.deepEqual(imageWithDescendants("sha256:gone", lineage), ["sha256:gone"]);
});

Deno.test("filterContainers: Docker's errors for bad filters", () => {
  const fails = (f: string[], message: string) =>
    assert.throws(
      () => ids(f),
      (e: unknown) => e instanceof ExitCodeError && e.exitCode === 1 && e.message === message,
    );
  fails(["color=red"], "invalid filter 'color'");
  fails(
    ["status=up"],
    "invalid filter 'status=up': invalid value for state (up): must be one of created, running, paused, restarting, removing, exited, dead",
  );
  fails(["exited=x"], `invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax`);
  fails(["before=nope"], "No such container: nope");
  fails(["publish=1:2"], "filter for 'publish' should not contain ':': 1:2");
});

const images: ImageFacts[] = [
  {
    id: "sha256:c",
    tags: ["busybox:latest", "busybox:1.36"],
    created: "2024-03-01T00:00:00Z",
    labels: { x: "1" },
  },
  {
    id: "sha256:b",
    tags: ["registry:5000/team/app:v1"],
    created: "2024-02-01T00:00:00Z",
    labels: {},
  },
  { id: "sha256:a", tags: [], created: "2024-01-01T00:00:00Z", labels: {} },
];
const imgs = (f: string[]) =>
  filterImages(
    images,
    parseFilters(f),
    (r) => images.find((i) => i.id === r || i.tags.includes(r)),
    Date.parse("2024-06-01T00:00:00Z"),
  )
    .map(({ image, tags }) => `${image.id.slice(7)}${tags.length ? `(${tags.join(",")})` : ""}`)
    .join(" ");

Deno.test("filterImages: dangling, reference globs, label, before, since, until", () => {
  assert.equal(imgs([]), "c(busybox:latest,busybox:1.36) b(registry:5000/team/app:v1) a");
  assert.equal(imgs(["dangling=true"]), "a");
  assert.equal(
    imgs(["dangling=false"]),
    "c(busybox:latest,busybox:1.36) b(registry:5000/team/app:v1)",
  );
  assert.equal(imgs(["reference=busybox"]), "c(busybox:latest,busybox:1.36)");
  assert.equal(imgs(["reference=busybox:1.*"]), "c(busybox:1.36)");
  assert.equal(imgs(["reference=team/*"]), ""); // the whole reference must match
  assert.equal(imgs(["reference=*/app"]), ""); // "*" does not cross "/" (path.Match)
  assert.equal(imgs(["reference=*/*/app"]), "b(registry:5000/team/app:v1)");
  assert.equal(imgs(["label=x=1"]), "c(busybox:latest,busybox:1.36)");
  assert.equal(imgs(["before=busybox:latest"]), "b(registry:5000/team/app:v1) a");
  assert.equal(
    imgs(["since=sha256:a"]),
    "c(busybox:latest,busybox:1.36) b(registry:5000/team/app:v1)",
  );
  assert.equal(imgs(["until=2024-01-15T00:00:00Z"]), "a");
  assert.throws(() => imgs(["dangling=maybe"]), { message: "invalid filter 'dangling=[maybe]'" });
  assert.throws(() => imgs(["size=1"]), { message: "invalid filter 'size'" });
  assert.throws(() => imgs(["before=nope"]), { message: "No such image: nope" });
  assert.ok(globToRegExp("a?c").test("abc") && !globToRegExp("a?c").test("a/c"));
});
