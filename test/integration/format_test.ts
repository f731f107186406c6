// --format, filters and inspect's shape against real containers. Expected outputs are
// Docker's, from docker/cli (formatter, templates, inspect) and the daemon's list filters.
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

let webId = "";

Deno.test({ name: "setup: a running and two exited containers", ...asRoot }, async () => {
  assert.equal((await sb.run(["run", "--name", "first", "busybox", "sh", "-c", "exit 3"])).code, 3);
  webId = (await sb.ok([
    "run",
    "-d",
    "--name",
    "web",
    "-v",
    `${sb.dir}:/data`,
    "busybox",
    "sleep",
    "300",
  ]))
    .trim();
  await sb.ok(["run", "--name", "second", "busybox", "true"]);
});

Deno.test(
  { name: "ps --format: fields, table header, json, Label, errors", ...asRoot },
  async () => {
    assert.equal(await sb.ok(["ps", "--format", "{{.Names}} {{.State}}"]), "web running\n");
    assert.equal(
      await sb.ok(["ps", "--format", "table {{.ID}}\\t{{.Names}}\\t{{.Mounts}}"]),
      `CONTAINER ID   NAMES     MOUNTS\n${webId.slice(0, 12)}   web       ${
        sb.dir.slice(0, 14)
      }…\n`,
    );
    assert.equal(await sb.ok(["ps", "--no-trunc", "--format", "{{.ID}}"]), `${webId}\n`);
    const json = JSON.parse((await sb.ok(["ps", "--format", "json"])).trim());
    assert.deepEqual(Object.keys(json), [
      "Command",
      "CreatedAt",
      "HealthStatus",
      "ID",
      "Image",
      "Labels",
      "LocalVolumes",
      "Mounts",
      "Names",
      "Networks",
      "Platform",
      "Ports",
      "RunningFor",
      "Size",
      "State",
      "Status",
    ]);
    assert.equal(json.Command, '"sleep 300"');
    assert.match(json.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    assert.equal(json.Networks, "none");
    assert.equal(
      await sb.ok(["ps", "--format", '{{json .Names}}|{{upper .State}}|{{.Label "x"}}|']),
      '"web"|RUNNING||\n',
    );
    const bad = await sb.run(["ps", "--format", "{{.Nope}}"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.match(
      bad.stderr,
      /failed to execute template: template: :1:2: executing "" at <\.Nope>: can't evaluate field Nope in type \*formatter\.ContainerContext/,
    );
    const unparsed = await sb.run(["ps", "--format", "{{.ID"]);
    assert.equal(unparsed.code, 1);
    assert.match(unparsed.stderr, /failed to parse template: template: :1: unclosed action/);
    const quiet = await sb.run(["ps", "-q", "--format", "{{.Names}}"]);
    assert.equal(quiet.stdout, `${webId.slice(0, 12)}\n`);
    assert.match(
      quiet.stderr,
      /WARNING: Ignoring custom format, because both --format and --quiet are set\./,
    );
  },
);

Deno.test({ name: "ps filters, -n, -l, -s", ...asRoot }, async () => {
  const names = async (...args: string[]) =>
    (await sb.ok(["ps", ...args, "--format", "{{.Names}}"])).trim().split("\n").filter((l) => l)
      .join(",");
  assert.equal(await names("-a", "--filter", "status=exited"), "second,first");
  assert.equal(await names("--filter", "status=exited"), "second,first"); // status implies -a
  assert.equal(await names("-a", "-f", "exited=3"), "first");
  assert.equal(await names("-a", "-f", "name=^w"), "web");
  assert.equal(await names("-a", "-f", `id=${webId.slice(0, 6)}`), "web");
  assert.equal(await names("-a", "-f", "volume=/data"), "web");
  assert.equal(await names("-a", "-f", "ancestor=busybox", "-f", "status=running"), "web");
  assert.equal(await names("-a", "-f", "network=none", "-f", "exited=0"), "second");
  assert.equal(await names("-a", "-f", "since=web"), "second");
  assert.equal(await names("-a", "-f", "before=web", "-f", "name=first"), "first");
  assert.equal(await names("-l"), "second");
  assert.equal(await names("-n", "2"), "second,web");
  const sized = await sb.ok(["ps", "-s"]);
  assert.match(sized, /\s+SIZE\n/);
  assert.match(sized, /web\s+\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)\n/);
  // ancestor= by name, name:tag, short and full ID, and the images made from it (commit).
  const busybox = JSON.parse(await sb.ok(["image", "inspect", "busybox"]))[0].Id as string;
  for (const ref of ["busybox:latest", busybox, busybox.slice(7, 19)]) {
    assert.equal(await names("-a", "-f", `ancestor=${ref}`, "-f", "status=running"), "web", ref);
  }
  await sb.ok(["commit", "second", "kid-image:v1"]);
  await sb.ok(["create", "--name", "kid", "kid-image:v1", "true"]);
  try {
    assert.equal(await names("-a", "-f", "ancestor=busybox"), "kid,second,web,first");
    assert.equal(await names("-a", "-f", "ancestor=kid-image:v1"), "kid");
    assert.equal(await names("-a", "-f", "ancestor=nope"), "");
  } finally {
    await sb.ok(["rm", "kid"]);
    await sb.ok(["rmi", "kid-image:v1"]);
  }
  const invalid = await sb.run(["ps", "-f", "color=red"]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /invalid filter 'color'/);
});

Deno.test({ name: "inspect: Docker's shape, --format, unknown names", ...asRoot }, async () => {
  const doc = await sb.inspect("web");
  for (
    const key of [
      "Id",
      "Created",
      "Path",
      "Args",
      "State",
      "Image",
      "Name",
      "RestartCount",
      "HostConfig",
      "Config",
      "Mounts",
      "NetworkSettings",
      "GraphDriver",
    ]
  ) {
    assert.ok(key in doc, key);
  }
  assert.deepEqual(Object.keys(doc.State).slice(0, 11), [
    "Status",
    "Running",
    "Paused",
    "Restarting",
    "OOMKilled",
    "Dead",
    "Pid",
    "ExitCode",
    "Error",
    "StartedAt",
    "FinishedAt",
  ]);
  assert.equal(doc.Name, "/web");
  assert.equal(
    await sb.ok([
      "inspect",
      "--format",
      "{{.Name}} {{.State.Status}} {{.State.Running}} {{.RestartCount}}",
      "web",
    ]),
    "/web running true 0\n",
  );
  assert.equal(await sb.ok(["inspect", "-f", "{{json .Config.Cmd}}", "web"]), '["sleep","300"]\n');
  assert.equal(
    await sb.ok(["inspect", "-f", "{{range .Mounts}}{{.Source}}:{{.Destination}}{{end}}", "web"]),
    `${sb.dir}:/data\n`,
  );
  assert.equal(await sb.ok(["inspect", "-f", '[{{index .Config.Labels "nope"}}]', "web"]), "[]\n");
  assert.equal(await sb.ok(["inspect", "-f", "{{.State.ExitCode}}", "first", "second"]), "3\n0\n");
  assert.equal(
    await sb.ok(["inspect", "-f", "{{if .State.Running}}up{{else}}down{{end}}", "first"]),
    "down\n",
  );
  const missing = await sb.run(["inspect", "nope"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "[]\n");
  assert.equal(missing.stderr, "error: no such object: nope\n");
  const some = await sb.run(["inspect", "-f", "{{.Name}}", "web", "nope"]);
  assert.equal(some.code, 1);
  assert.equal(some.stdout, "/web\n");
  const noKey = await sb.run(["inspect", "-f", "{{.Nope}}", "web"]);
  assert.equal(noKey.code, 1);
  assert.match(
    noKey.stderr,
    /template parsing error: template: :1:2: executing "" at <\.Nope>: map has no entry for key "Nope"/,
  );
  const unparsed = await sb.run(["inspect", "-f", "{{.Name", "web"]);
  assert.equal(unparsed.code, 64); // docker/cli's inspect.Inspect: StatusError 64
  assert.match(unparsed.stderr, /template parsing error: template: :1: unclosed action/);
  // An image name finds the image, as `docker inspect` does.
  assert.equal(await sb.ok(["inspect", "-f", "{{.Os}}", "busybox"]), "linux\n");
});

Deno.test(
  { name: "images and image inspect: --format, filters, --digests", ...asRoot },
  async () => {
    assert.equal(
      await sb.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"]),
      "busybox:latest\n",
    );
    assert.equal(
      await sb.ok(["images", "--format", "table {{.Repository}}\\t{{.Tag}}"]),
      "REPOSITORY   TAG\nbusybox      latest\n",
    );
    const json = JSON.parse((await sb.ok(["images", "--format", "json"])).trim());
    assert.deepEqual(Object.keys(json), [
      "Containers",
      "CreatedAt",
      "CreatedSince",
      "Digest",
      "ID",
      "Repository",
      "SharedSize",
      "Size",
      "Tag",
      "UniqueSize",
    ]);
    assert.match(await sb.ok(["images", "--format", "json"]), /"Digest":"\\u003cnone\\u003e"/);
    assert.match(
      await sb.ok(["images", "--digests"]),
      /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+<none>\s+/,
    );
    assert.equal(await sb.ok(["images", "busybox", "--format", "{{.Repository}}"]), "busybox\n");
    assert.equal(await sb.ok(["images", "nothing-like-it", "--format", "{{.Repository}}"]), "");
    assert.equal(await sb.ok(["images", "-f", "dangling=true", "-q"]), "");
    assert.equal(
      await sb.ok(["images", "-f", "reference=busy*", "--format", "{{.Tag}}"]),
      "latest\n",
    );
    assert.match(await sb.ok(["images", "--no-trunc", "-q"]), /^sha256:[0-9a-f]{64}\n$/);
    const bad = await sb.run(["images", "-f", "dangling=maybe"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'dangling=\[maybe\]'/);
    assert.equal(
      await sb.ok(["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "busybox"]),
      "linux/amd64\n",
    );
    const doc = JSON.parse(await sb.ok(["image", "inspect", "busybox"]))[0];
    assert.equal(doc.Os, "linux");
    assert.equal(doc.Architecture, "amd64");
    const missing = await sb.run(["image", "inspect", "nope"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, "[]\n");
  },
);

Deno.test({ name: "network ls and network inspect --format", ...asRoot }, async () => {
  const ls = await sb.ok(["network", "ls", "--format", "table {{.Name}}\\t{{.Driver}}"]);
  assert.ok(ls.startsWith("NAME      DRIVER\n"), ls);
  assert.match(await sb.ok(["network", "ls", "--format", "{{json .}}"]), /"Name":"none"/);
  assert.equal(
    await sb.ok(["network", "inspect", "-f", "{{.Name}}/{{.Driver}}", "none"]),
    "none/null\n",
  );
});

Deno.test(
  { name: "default tables: Docker's tabwriter, minwidth 10 and padding 3; top's 20", ...asRoot },
  async () => {
    // docker/cli's formatter: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0), so a column
    // narrower than 7 characters is still 10 wide ("TAG" and "local" below).
    await sb.ok(["volume", "create", "vv"]);
    try {
      assert.equal(await sb.ok(["volume", "ls"]), "DRIVER    VOLUME NAME\nlocal     vv\n");
      assert.equal(
        await sb.ok(["volume", "ls", "--format", "table"]),
        await sb.ok(["volume", "ls"]),
      );
    } finally {
      await sb.ok(["volume", "rm", "vv"]);
    }
    assert.match(
      await sb.ok(["images", "busybox"]),
      /^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED +SIZE\nbusybox {6}latest {4}[0-9a-f]{12} {3}/,
    );
    assert.match(
      await sb.ok(["network", "ls"]),
      /^NETWORK ID {5}NAME {6}DRIVER {4}SCOPE\n(.*\n)*[0-9a-f]{12} {3}none {6}null {6}local\n/,
    );
    assert.match(
      await sb.ok(["ps"]),
      /^CONTAINER ID {3}IMAGE {5}COMMAND {7}CREATED +STATUS +PORTS {5}NAMES\n[0-9a-f]{12} {3}busybox {3}"sleep 300" {3}/,
    );
    // docker/cli's top: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0).
    const top = await sb.ok(["top", "web"]);
    assert.match(
      top,
      /^UID {17}PID {17}PPID {16}CONTAINER PID {7}CMD\n0 {19}\d+ +\d+ +1 {19}sleep 300\n$/,
    );
  },
);

Deno.test(
  { name: "inspect --format: Go's typed nils, [] and map[] where json says null", ...asRoot },
  async () => {
    // `second` has no -v, no --cap-add, no --tmpfs: Docker's nil slices and maps there.
    const f = async (format: string, ref = "second", kind = "inspect") =>
      (await sb.ok([...kind.split(" "), "--format", format, ref])).trim();
    const doc = await sb.inspect("second");
    assert.equal(doc.HostConfig.Binds, null);
    assert.equal(doc.HostConfig.ExtraHosts, null);
    assert.deepEqual(doc.Mounts, []);
    for (
      const [format, docker] of [
        ["{{.Mounts}} {{json .Mounts}}", "[] []"],
        ["{{.HostConfig.Binds}} {{json .HostConfig.Binds}}", "[] null"],
        ["{{.HostConfig.CapAdd}} {{json .HostConfig.CapAdd}}", "[] null"],
        ["{{.HostConfig.ExtraHosts}} {{len .HostConfig.ExtraHosts}}", "[] 0"],
        ["{{.HostConfig.Tmpfs}} {{json .HostConfig.Tmpfs}}", "map[] null"],
        ["{{.Config.Volumes}} {{json .Config.Volumes}}", "map[] null"],
        ["{{.Config.Entrypoint}} {{json .Config.Entrypoint}}", "[] null"],
        ["{{.HostConfig.PidsLimit}}", "<nil>"], // a nil *int64
        ["{{range .NetworkSettings.Networks}}{{.Aliases}} {{.IPAMConfig}}{{end}}", "[] <nil>"],
        ["{{if .HostConfig.Binds}}y{{else}}n{{end}}", "n"],
      ]
    ) assert.equal(await f(format), docker, format);
    // `web` has a bind: a real slice.
    assert.equal(await f("{{json .HostConfig.Binds}}", "web"), `["${sb.dir}:/data"]`);
    // `--format json` is the document itself, nulls kept.
    assert.match(await f("json"), /"Binds":null/);
    assert.equal(
      await f("{{.Config.Entrypoint}} {{json .Config.OnBuild}}", "busybox", "image inspect"),
      "[] null",
    );
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
