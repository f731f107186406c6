/**
 * `m-docker build`'s RUN --mount (bind from the context, a stage and an image; cache; tmpfs;
 * secret and ssh refused), COPY/ADD --exclude and COPY --parents, on the built-in busybox
 * base: what the step sees, that nothing of a mount lands in the image, that the cache key
 * follows what is bound (and --exclude), that cache mounts last across builds until
 * `builder prune`/`system prune`, and that a failed or killed build leaves nothing behind.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { buildHelpers } from "./build_helpers.ts";
import { asRoot, processesRunning, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();
const { build, context, killBuild, run, startBuild } = buildHelpers(sb);

/** The step directories of RUN mounts left in the image store. */
const stepDirs = () => {
  try {
    return [...Deno.readDirSync(`${sb.root}/image`)].map((e) => e.name).filter((n) =>
      n.startsWith(".build-")
    );
  } catch {
    return [];
  }
};

/** The `[n/m] RUN ...` steps of a progress that were CACHED, by their line. */
function cachedSteps(progress: string): string[] {
  const names = new Map<string, string>();
  const out: string[] = [];
  for (const line of progress.split("\n")) {
    const step = /^#(\d+) (\[.*)$/.exec(line);
    if (step) names.set(step[1], step[2]);
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit) out.push(names.get(hit[1]) ?? hit[1]);
  }
  return out;
}

Deno.test(
  { name: "build mounts: bind from the context, a stage and an image", ...asRoot },
  async () => {
    const dir = context("bind", {
      "Dockerfile": `FROM busybox AS tools
RUN mkdir -p /opt/tools && echo tool > /opt/tools/hammer
FROM busybox
RUN --mount=type=bind,target=/ctx cat /ctx/data/input.txt > /seen && \\
    (test -e /ctx/hidden.txt && echo visible || echo hidden) >> /seen && \\
    (touch /ctx/new 2>/dev/null && echo writable || echo read-only) >> /seen
RUN --mount=type=bind,source=data,target=/data,rw echo scribble > /data/input.txt && \\
    cat /data/input.txt > /rw-seen
RUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/tools cat /mnt/tools/hammer > /tool
RUN --mount=type=bind,from=tools,target=/mnt/stage,rw echo new > /mnt/stage/opt/tools/nail && \\
    ls /mnt/stage/opt/tools > /stage-rw
RUN --mount=type=bind,from=busybox,source=/bin/busybox,target=/mnt/bb test -x /mnt/bb && \\
    echo ok > /image-bind
`,
      "data/input.txt": "from the context\n",
      "other.txt": "not bound\n",
      "hidden.txt": "ignored\n",
      ".dockerignore": "hidden.txt\n",
    });
    await build(["-t", "bind:1", dir]);
    assert.equal(await run("bind:1", "cat /seen"), "from the context\nhidden\nread-only\n");
    assert.equal(
      await run("bind:1", "cat /rw-seen /tool /stage-rw /image-bind"),
      "scribble\ntool\nhammer\nnail\nok\n",
    );
    // The rw writes went nowhere: not into the context, not into the stage.
    assert.equal(Deno.readTextFileSync(`${dir}/data/input.txt`), "from the context\n");
    assert.ok(
      !(() => {
        try {
          Deno.lstatSync(`${dir}/new`);
          return true;
        } catch {
          return false;
        }
      })(),
    );
    // Nothing of a mount is in the image: no mount point, no parent made for one.
    assert.equal(
      await run("bind:1", "for p in /ctx /data /mnt; do test -e $p && echo $p; done; true"),
      "",
    );
    // Unchanged: every step hits. A file that is not bound changes: still every step.
    const again = await build(["-t", "bind:2", dir]);
    assert.equal(cachedSteps(again).length, 6, again);
    Deno.writeTextFileSync(`${dir}/other.txt`, "changed, but bound only by the first RUN\n");
    const other = cachedSteps(await build(["-t", "bind:3", dir]));
    // The first RUN binds the whole context: it misses, and so does everything after it.
    assert.equal(other.length, 1, other.join("\n")); // the tools stage's RUN
    // What .dockerignore hides is not bound: changing it misses nothing.
    Deno.writeTextFileSync(`${dir}/hidden.txt`, "still ignored\n");
    assert.equal(cachedSteps(await build(["-t", "bind:4", dir])).length, 6);
    // The bound file changes: the steps that bind it run again and see the new content.
    Deno.writeTextFileSync(`${dir}/data/input.txt`, "changed\n");
    const changed = cachedSteps(await build(["-t", "bind:5", dir]));
    assert.equal(changed.length, 1, changed.join("\n"));
    assert.equal(await run("bind:5", "head -1 /seen"), "changed\n");
    assert.deepEqual(stepDirs(), []);
  },
);

Deno.test(
  { name: "build mounts: a cache mount outlives its build until prune", ...asRoot },
  async () => {
    const dir = context("cache", {
      "Dockerfile": `FROM busybox
ARG RUNID
RUN --mount=type=cache,target=/var/cache/app echo "$RUNID" >> /var/cache/app/log && \\
    cat /var/cache/app/log > /seen
RUN --mount=type=cache,id=owned,target=/owned,uid=1000,gid=1000,mode=0700,sharing=locked \\
    stat -c '%u:%g %a' /owned > /owned-stat
RUN --mount=type=cache,id=seeded,target=/seeded,from=busybox,source=/etc,sharing=private \\
    ls /seeded > /seeded-ls
`,
    });
    await build(["-t", "cache:1", "--build-arg", "RUNID=one", dir]);
    assert.equal(await run("cache:1", "cat /seen"), "one\n");
    assert.equal(await run("cache:1", "cat /owned-stat"), "1000:1000 700\n");
    assert.match(await run("cache:1", "cat /seeded-ls"), /^passwd$/m);
    assert.equal(await run("cache:1", "test -e /var/cache/app && echo there; true"), "");
    // A second build runs the step again (--no-cache) and finds the first one's file.
    await build(["--no-cache", "-t", "cache:2", "--build-arg", "RUNID=two", dir]);
    assert.equal(await run("cache:2", "cat /seen"), "one\ntwo\n");
    // builder prune removes the cache mounts with the cache.
    await sb.ok(["builder", "prune", "-f"]);
    await build(["-t", "cache:3", "--build-arg", "RUNID=three", dir]);
    assert.equal(await run("cache:3", "cat /seen"), "three\n");
    // system prune does too.
    await sb.ok(["system", "prune", "-f"]);
    await build(["-t", "cache:4", "--build-arg", "RUNID=four", dir]);
    assert.equal(await run("cache:4", "cat /seen"), "four\n");
    assert.deepEqual(stepDirs(), []);
  },
);

Deno.test(
  { name: "build mounts: sharing=locked waits its turn, sharing=private takes its own", ...asRoot },
  async () => {
    // The holder's step keeps the cache mount until the test creates `release` in the
    // context (bound directly, so the step sees it appear).
    const holder = context("holder", {
      "Dockerfile": `FROM busybox
RUN --mount=type=cache,id=turns,target=/k,sharing=locked --mount=type=bind,target=/c \
    echo holder-in >> /k/log && until [ -e /c/release ]; do sleep 0.05; done && \
    echo holder-out >> /k/log
`,
    });
    const waiter = context("waiter", {
      "Dockerfile": `FROM busybox
RUN --mount=type=cache,id=turns,target=/k,sharing=locked cat /k/log > /seen && echo waiter >> /k/log
`,
    });
    const loner = context("loner", {
      "Dockerfile": `FROM busybox
RUN --mount=type=cache,id=turns,target=/k,sharing=private \
    (cat /k/log 2>/dev/null || echo empty) > /seen && echo loner >> /k/log
`,
    });
    const a = startBuild(["--no-cache", holder]);
    const id = createHash("sha256").update("turns").digest("hex");
    const log = () => {
      try {
        return Deno.readTextFileSync(`${sb.root}/cache/mounts/${id}/data/log`);
      } catch {
        return "";
      }
    };
    try {
      await waitFor(() => log() === "holder-in\n", { what: "the holder to take the cache mount" });
      // private, while the holder has it: a new empty one, which does not last.
      await build(["--no-cache", "-t", "loner:1", loner]);
      assert.equal(await run("loner:1", "cat /seen"), "empty\n");
      // locked: it waits for the holder's step to end.
      const b = startBuild(["--no-cache", "-t", "waiter:1", waiter]);
      await waitFor(() => /\[2\/2\] RUN --mount=type=cache/.test(b.progress), {
        what: "the waiter's step to begin",
      });
      Deno.writeTextFileSync(`${holder}/release`, "");
      assert.equal((await a.done).code, 0, a.progress);
      assert.equal((await b.done).code, 0, b.progress);
      assert.equal(await run("waiter:1", "cat /seen"), "holder-in\nholder-out\n");
      assert.equal(log(), "holder-in\nholder-out\nwaiter\n");
      assert.deepEqual(stepDirs(), []);
    } finally {
      // A failed assertion must not leave the holder waiting for ever.
      Deno.writeTextFileSync(`${holder}/release`, "");
      await a.done;
    }
  },
);

Deno.test(
  { name: "build mounts: tmpfs for the step only; secret and ssh refused", ...asRoot },
  async () => {
    const dir = context("tmpfs", {
      "Dockerfile": `FROM busybox
RUN --mount=type=tmpfs,target=/scratch,size=2m stat -f -c %T /scratch > /fs && \\
    df -k /scratch | tail -1 | awk '{print $2}' >> /fs && echo junk > /scratch/junk
`,
    });
    await build(["-t", "tmpfs:1", dir]);
    assert.equal(await run("tmpfs:1", "cat /fs"), "tmpfs\n2048\n");
    assert.equal(await run("tmpfs:1", "test -e /scratch && echo there; true"), "");
    for (const type of ["secret", "ssh"]) {
      const r = await sb.run([
        "build",
        "--progress",
        "plain",
        context(type, { "Dockerfile": `FROM busybox\nRUN --mount=type=${type} echo hi\n` }),
      ]);
      assert.equal(r.code, 1, r.stderr);
      const last = r.stderr.trim().split("\n").pop()!;
      assert.match(
        last,
        new RegExp(
          `\\[2/2\\] RUN --mount=type=${type} echo hi: RUN --mount=type=${type} is not supported`,
        ),
      );
    }
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test(
  { name: "build: COPY/ADD --exclude and COPY --parents", ...asRoot },
  async () => {
    const files = {
      "Dockerfile": `FROM busybox
COPY --exclude=*.md --exclude=tmp docs/ /docs/
ADD --exclude=*.log logs /logs/
COPY --parents apps/*/package.json /app/
COPY --parents ./src/./lib/*.js /pivot/
`,
      "docs/a.txt": "a\n",
      "docs/b.md": "b\n",
      "docs/tmp/x": "x\n",
      "docs/sub/c.md": "deep markdown is not matched by *.md\n",
      "logs/keep.txt": "k\n",
      "logs/drop.log": "d\n",
      "apps/web/package.json": "{}\n",
      "apps/web/index.js": "no\n",
      "apps/api/package.json": "{}\n",
      "src/lib/one.js": "1\n",
      "src/lib/two.js": "2\n",
    };
    const dir = context("copy", files);
    await build(["-t", "copy:1", dir]);
    const list = (path: string) => run("copy:1", `cd ${path} && find . | sort`);
    assert.equal(await list("/docs"), ".\n./a.txt\n./sub\n./sub/c.md\n");
    assert.equal(await list("/logs"), ".\n./keep.txt\n");
    assert.equal(
      await list("/app"),
      ".\n./apps\n./apps/api\n./apps/api/package.json\n./apps/web\n./apps/web/package.json\n",
    );
    assert.equal(await list("/pivot"), ".\n./lib\n./lib/one.js\n./lib/two.js\n");
    // An excluded file changes: the COPY still hits. --exclude changes: it misses.
    Deno.writeTextFileSync(`${dir}/docs/b.md`, "changed\n");
    assert.equal(cachedSteps(await build([dir])).length, 4);
    Deno.writeTextFileSync(
      `${dir}/Dockerfile`,
      files.Dockerfile.replace("--exclude=tmp ", ""),
    );
    const changed = cachedSteps(await build(["-t", "copy:2", dir]));
    assert.equal(changed.length, 0, changed.join("\n"));
    assert.equal(await run("copy:2", "cat /docs/tmp/x"), "x\n");
  },
);

Deno.test(
  {
    name: "build mounts: a failed or killed step leaves no mount and no step directory",
    ...asRoot,
  },
  async () => {
    const dir = context("fail", {
      "Dockerfile": `FROM busybox AS tools
RUN echo tool > /tool
FROM busybox
RUN --mount=type=bind,from=tools,target=/t,rw --mount=type=bind,target=/c,rw \\
    --mount=type=cache,target=/k,sharing=locked cat /t/tool && exit 4
`,
      "f": "f\n",
    });
    const r = await sb.run(["build", "--progress", "plain", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exit code: 4/);
    assert.deepEqual(sb.containerIds(), []);
    assert.deepEqual(sb.leftoverMounts(), []);
    assert.deepEqual(stepDirs(), []);
    // Killed outright in the middle of the step: its container dies with it, its mounts
    // with the container's namespace; the next step removes the abandoned directory.
    Deno.writeTextFileSync(
      `${dir}/Dockerfile`,
      `FROM busybox AS tools
RUN echo tool > /tool
FROM busybox
RUN --mount=type=bind,from=tools,target=/t,rw --mount=type=cache,target=/k,sharing=locked \\
    echo started && sleep 6124
`,
    );
    const killed = startBuild([dir]);
    await waitFor(() => processesRunning(["sleep", "6124"]).length === 1, {
      what: "the RUN's sleep to run",
    });
    assert.equal(stepDirs().length, 1);
    await killBuild(killed.child, "6124");
    await killed.done;
    assert.deepEqual(sb.leftoverMounts(), []);
    // The locked cache mount was released with the process: the next build takes it.
    Deno.writeTextFileSync(
      `${dir}/Dockerfile`,
      `FROM busybox
RUN --mount=type=cache,target=/k,sharing=locked --mount=type=bind,target=/c echo next > /next
`,
    );
    await build(["-t", "next:1", dir]);
    assert.equal(await run("next:1", "cat /next"), "next\n");
    assert.deepEqual(stepDirs(), []);
  },
);

Deno.test({ name: "build mounts: cleanup", ...asRoot }, async () => {
  assert.deepEqual(stepDirs(), []);
  await sb.cleanup();
});
