/**
 * `m-docker build` from Dockerfiles the tests write, on the built-in busybox base: each
 * instruction's effect on the image's files and config, multi-stage with --target and
 * COPY --from, build args, heredocs, .dockerignore, USER and WORKDIR in RUN, the layer cache
 * (a hit on an unchanged rebuild; after one source changes, a miss from that step on), a
 * failing RUN, an interrupted build that leaves nothing, and two builds in fresh roots with
 * SOURCE_DATE_EPOCH giving the same image ID.
 */
import assert from "node:assert/strict";
import { buildHelpers } from "./build_helpers.ts";
import { asRoot, processesRunning, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();
const { build, context, killBuild, run, startBuild } = buildHelpers(sb);

Deno.test(
  { name: "build: every instruction's effect on files and config", ...asRoot },
  async () => {
    const dir = context("all", {
      "Dockerfile": `# syntax=docker/dockerfile:1
FROM busybox
LABEL org.example.role="test" version=1
ENV GREETING=hello \\
    TARGET=world
ARG WHO=nobody
WORKDIR /app
RUN echo "$GREETING $TARGET $WHO" > greeting && pwd > where
COPY a.txt sub/ ./
ADD b.tar /unpacked/
COPY --chown=1000:1000 --chmod=0640 a.txt /owned.txt
RUN <<EOF
echo from heredoc > /heredoc
echo second line >> /heredoc
EOF
USER 1000:1000
RUN id -u > /tmp/uid
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
ONBUILD RUN echo child
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting"]
`,
      "a.txt": "file a\n",
      "sub/c.txt": "file c\n",
    });
    // A local tar archive that ADD unpacks.
    Deno.mkdirSync(`${sb.dir}/tarsrc`);
    Deno.writeTextFileSync(`${sb.dir}/tarsrc/inside.txt`, "from the tar\n");
    const tar = new Deno.Command("tar", {
      args: ["-cf", `${dir}/b.tar`, "-C", `${sb.dir}/tarsrc`, "inside.txt"],
    }).outputSync();
    assert.ok(tar.success);
    const progress = await build(["-t", "all:1", "--build-arg", "WHO=tester", dir]);
    assert.match(progress, /#\d+ \[\d+\/\d+\] RUN echo "\$GREETING \$TARGET \$WHO"/);
    assert.match(progress, /naming to all:1 done/);
    assert.equal(await sb.ok(["run", "--rm", "all:1"]), "hello world tester\n");
    assert.equal(
      await run("all:1", "cat /app/where /app/a.txt /app/c.txt /unpacked/inside.txt /heredoc"),
      "/app\nfile a\nfile c\nfrom the tar\nfrom heredoc\nsecond line\n",
    );
    assert.equal(
      await run("all:1", "stat -c '%u:%g %a' /owned.txt; cat /tmp/uid"),
      "1000:1000 640\n1000\n",
    );
    const doc = JSON.parse(await sb.ok(["image", "inspect", "all:1"]))[0];
    const c = doc.Config;
    assert.equal(c.Labels["org.example.role"], "test");
    assert.equal(c.Labels.version, "1");
    assert.ok(c.Env.includes("GREETING=hello") && c.Env.includes("TARGET=world"));
    assert.ok(!c.Env.some((e: string) => e.startsWith("WHO=")), "an ARG is not in the image");
    assert.equal(c.WorkingDir, "/app");
    assert.equal(c.User, "1000:1000");
    assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ["53/udp", "8080/tcp"]);
    assert.deepEqual(Object.keys(c.Volumes), ["/data"]);
    assert.equal(c.StopSignal, "SIGINT");
    assert.deepEqual(c.Healthcheck.Test, ["CMD-SHELL", "true"]);
    assert.equal(c.Healthcheck.Interval, 5e9);
    assert.deepEqual(c.OnBuild, ["RUN echo child"]);
    assert.deepEqual(c.Shell, ["/bin/sh", "-ec"]);
    assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
    assert.deepEqual(c.Cmd, ["cat /app/greeting"]);
    // history: one entry per instruction after FROM's, the RUNs with their command.
    const history = await sb.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "all:1"]);
    assert.match(history, /RUN \/bin\/sh -c echo "\$GREETING/);
  },
);

Deno.test(
  { name: "build: multi-stage, --target, COPY --from, .dockerignore", ...asRoot },
  async () => {
    const dir = context("multi", {
      "Dockerfile": `FROM busybox AS tools
RUN echo tool > /tool
FROM busybox AS unused
RUN echo never > /never && exit 1
FROM busybox AS final
COPY --from=tools /tool /copied-tool
COPY . /ctx/
`,
      ".dockerignore": "secret*\n*.log\n!keep.log\n",
      "app.txt": "app\n",
      "secret.key": "do not send\n",
      "debug.log": "noise\n",
      "keep.log": "kept\n",
    });
    const progress = await build(["-t", "multi:1", dir]);
    assert.doesNotMatch(progress, /echo never/, "a stage the target does not need is not built");
    assert.equal(
      await run("multi:1", "cat /copied-tool; ls /ctx | sort"),
      "tool\nDockerfile\napp.txt\nkeep.log\n",
    );
    await build(["-t", "tools:1", "--target", "tools", dir]);
    assert.equal(await run("tools:1", "cat /tool"), "tool\n");
    const bad = await sb.run(["build", "--target", "nope", dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /target stage "nope" could not be found/);
  },
);

Deno.test({
  name: "build: the cache hits an unchanged rebuild and misses from a changed source on",
  ...asRoot,
}, async () => {
  const dir = context("cache", {
    "Dockerfile": `FROM busybox
RUN echo first > /first
COPY src.txt /src.txt
RUN cat /src.txt > /derived
`,
    "src.txt": "v1\n",
  });
  const first = await build(["-t", "cache:1", dir]);
  assert.doesNotMatch(first, /CACHED/);
  const again = await build(["-t", "cache:2", dir]);
  assert.equal(again.match(/CACHED/g)?.length, 3, again);
  const id1 = JSON.parse(await sb.ok(["image", "inspect", "cache:1"]))[0].Id;
  const id2 = JSON.parse(await sb.ok(["image", "inspect", "cache:2"]))[0].Id;
  assert.equal(id1, id2);
  // Only the content counts, not the file's time.
  Deno.utimeSync(`${dir}/src.txt`, new Date(), new Date());
  assert.equal((await build([dir])).match(/CACHED/g)?.length, 3);
  Deno.writeTextFileSync(`${dir}/src.txt`, "v2\n");
  const changed = await build(["-t", "cache:3", dir]);
  assert.equal(changed.match(/CACHED/g)?.length, 1, "only the RUN before the COPY is cached");
  assert.equal(await run("cache:3", "cat /derived"), "v2\n");
  const none = await build(["--no-cache", dir]);
  assert.doesNotMatch(none, /CACHED/);
  // builder prune empties the cache: the next build runs every step again.
  assert.match(await sb.ok(["builder", "prune", "-f"]), /Deleted build cache objects:/);
  assert.doesNotMatch(await build([dir]), /CACHED/);
  assert.match(await sb.ok(["builder", "prune", "-f"]), /Total:\s+\d+ cache entries reclaimed/);
});

Deno.test({
  name: "build: a failing RUN names the step and its exit code; nothing is left",
  ...asRoot,
}, async () => {
  const dir = context("fail", {
    "Dockerfile": "FROM busybox\nRUN echo about to fail && exit 3\n",
  });
  const r = await sb.run(["build", "--progress", "plain", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /about to fail/);
  assert.match(
    r.stderr,
    /RUN echo about to fail && exit 3.*did not complete successfully: exit code: 3/s,
  );
  assert.deepEqual(sb.containerIds(), []);
  assert.deepEqual(sb.leftoverMounts(), []);
  const syntax = await sb.run([
    "build",
    context("typo", { "Dockerfile": "FROM busybox\nCOPPY a b\n" }),
  ]);
  assert.equal(syntax.code, 1);
  assert.match(syntax.stderr, /Dockerfile:2/);
  const missing = await sb.run([
    "build",
    context("missing", { "Dockerfile": "FROM busybox\nCOPY nothere /x\n" }),
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nothere/);
});

Deno.test(
  { name: "build: an interrupted build leaves no container, mount or cgroup", ...asRoot },
  async () => {
    const dir = context("interrupt", {
      "Dockerfile": "FROM busybox\nRUN echo started && sleep 60\n",
    });
    const b = startBuild([dir]);
    await waitFor(() => b.progress.includes("started"), { what: "the RUN to start" });
    b.child.kill("SIGINT");
    const status = await b.done;
    assert.equal(status.code, 130);
    assert.deepEqual(sb.containerIds(), []);
    assert.deepEqual(sb.leftoverCgroups(), []);
    assert.deepEqual(sb.leftoverMounts(), []);
  },
);

Deno.test(
  { name: "build: a build killed with SIGKILL takes its RUN step with it", ...asRoot },
  async () => {
    const dir = context("killed", {
      "Dockerfile": "FROM busybox\nRUN echo started && sleep 6123\n",
    });
    const b = startBuild([dir]);
    await waitFor(() => b.progress.includes("started"), { what: "the RUN to start" });
    assert.match(b.progress, /started/);
    await waitFor(() => processesRunning(["sleep", "6123"]).length === 1, {
      what: "the RUN's sleep to run",
    });
    await killBuild(b.child, "6123");
    await b.done;
    assert.deepEqual(sb.leftoverCgroups(), []);
    assert.deepEqual(sb.leftoverMounts(), []);
  },
);

Deno.test({
  name: "build: stages that do not need each other build at the same time",
  ...asRoot,
}, async () => {
  // Each stage's RUN marks a shared cache mount and waits for the other's mark: built one
  // after the other, the first would wait in vain and fail after its 30 s.
  const id = `meet-${crypto.randomUUID()}`;
  const meet = (me: string, other: string) =>
    `RUN --mount=type=cache,target=/meet,id=${id} touch /meet/${me} && i=0; ` +
    `while [ ! -e /meet/${other} ]; do i=$((i+1)); [ $i -lt 300 ] || exit 7; sleep 0.1; done; ` +
    `echo ${me} > /${me}`;
  const dir = context("parallel", {
    "Dockerfile": `FROM busybox AS a\n${meet("a", "b")}\n` +
      `FROM busybox AS b\n${meet("b", "a")}\n` +
      `FROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n`,
  });
  await build(["-t", "parallel", dir]);
  assert.equal((await run("parallel", "cat /a /b")).trim(), "a\nb");
  await sb.ok(["rmi", "parallel"]);

  // A stage that fails stops the one still running: the build ends with its error and
  // leaves nothing of the other.
  const failing = context("parallel-fail", {
    "Dockerfile": `FROM busybox AS slow\nRUN --mount=type=cache,target=/meet,id=${id} ` +
      `touch /meet/slow && sleep 6124\n` +
      `FROM busybox AS broken\nRUN --mount=type=cache,target=/meet,id=${id} ` +
      `while [ ! -e /meet/slow ]; do sleep 0.1; done; exit 3\n` +
      `FROM busybox\nCOPY --from=slow /etc/hostname /x\nCOPY --from=broken /etc/hostname /y\n`,
  });
  const r = await sb.run(["build", "--progress", "plain", failing]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\[broken 2\/2\] RUN .*exit code: 3/);
  assert.deepEqual(processesRunning(["sleep", "6124"]), []);
  assert.deepEqual(sb.containerIds(), []);
  assert.deepEqual(sb.leftoverCgroups(), []);
  assert.deepEqual(sb.leftoverMounts(), []);
  await sb.ok(["builder", "prune", "-f"]);
});

Deno.test({
  name: "build: SOURCE_DATE_EPOCH gives the same image ID in two fresh roots",
  ...asRoot,
}, async () => {
  const dir = context("repro", {
    "Dockerfile":
      'FROM busybox\nCOPY a.txt /a.txt\nRUN echo built > /built\nCMD ["cat", "/built"]\n',
    "a.txt": "same\n",
  });
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const root = `${sb.dir}/repro-root-${n}`;
    const env = { M_DOCKER_ROOT: root, M_DOCKER_STATE: `${root}-state` };
    const r = await sb.run(
      ["build", "-q", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", dir],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    ids.push(r.stdout.trim());
  }
  assert.match(ids[0], /^sha256:[0-9a-f]{64}$/);
  assert.equal(ids[0], ids[1]);
});

Deno.test({ name: "build: cleanup", ...asRoot }, async () => {
  await sb.cleanup();
});
