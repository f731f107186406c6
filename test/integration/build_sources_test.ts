/**
 * Where `m-docker build` takes its inputs from, besides a context directory and the built-in
 * busybox: a base image (FROM, COPY --from) in a registry of the test's own on 127.0.0.1,
 * pulled when missing and checked again with `--pull`; a context or a Dockerfile alone on
 * stdin (`build -`, a plain or gzip tar, `-f` inside it, `-f -`); `ADD` of a URL from an HTTP
 * server the test runs on 127.0.0.1 (the file's name, mode and time, `--checksum`, the cache
 * comparing what was downloaded); and `RUN` heredocs that are `#!` scripts, which run as files
 * that no layer keeps.
 */
import assert from "node:assert/strict";
import { buildHelpers } from "./build_helpers.ts";
import { asRoot, type Run, Sandbox } from "./harness.ts";
import { haveRegistryTools, skopeo, TestRegistry } from "./registry.ts";

const sb = new Sandbox();
const { build, context, run } = buildHelpers(sb);
const withRegistry = { ...asRoot, ignore: asRoot.ignore || !haveRegistryTools };
if (!haveRegistryTools) {
  console.warn("the registry build test needs docker-registry and skopeo (.ci/run installs them)");
}

/** Runs `m-docker build` that must fail; returns its stderr. */
async function buildFails(args: string[]): Promise<string> {
  const r = await sb.run(["build", "--progress", "plain", ...args]);
  assert.equal(r.code, 1, `build ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stderr;
}

/** `image inspect`'s document for `ref`. */
// deno-lint-ignore no-explicit-any
const inspectImage = async (ref: string): Promise<any> =>
  JSON.parse(await sb.ok(["image", "inspect", ref]))[0];

/** Runs m-docker with `input` on its stdin, in `cwd` when given. */
async function runWithInput(args: string[], input: Uint8Array, cwd?: string): Promise<Run> {
  const [program, ...argv] = sb.commandLine(args);
  const child = new Deno.Command(program, {
    args: argv,
    env: sb.env(),
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A tar archive of `dir`'s contents (host tar), gzip-compressed when `gzip`. */
function tarOf(dir: string, gzip = false): Uint8Array {
  const out = new Deno.Command("tar", {
    args: [gzip ? "-czf" : "-cf", "-", "-C", dir, "."],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

async function sha256Hex(data: string): Promise<string> {
  const d = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(data)),
  );
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether any layer of `ref` (its unpacked directories in the store) holds `path`. */
async function someLayerHas(ref: string, path: string): Promise<boolean> {
  const layers: string[] = (await inspectImage(ref)).RootFS.Layers;
  return layers.some((digest) => {
    try {
      Deno.lstatSync(`${sb.root}/image/layers/${digest.replace(/^sha256:/, "")}/diff/${path}`);
      return true;
    } catch {
      return false;
    }
  });
}

let registry: TestRegistry | undefined;
let server: Deno.HttpServer<Deno.NetAddr> | undefined;

Deno.test({
  name: "build FROM and COPY --from an image in a local registry: pulled when missing, " +
    "checked again with --pull",
  ...withRegistry,
}, async () => {
  await sb.ok(["images"]); // makes the built-in busybox
  registry = await TestRegistry.start(sb.dir);
  const host = registry.host;
  const base = `${host}/x/base:1`;
  const baseDir = context("base", {
    "Dockerfile": 'FROM busybox\nRUN echo base-v1 > /base\nENV BASE=one\nCMD ["cat", "/base"]\n',
  });
  await build(["-t", base, baseDir]);
  await sb.ok(["push", base]);
  await sb.ok(["rmi", base]);
  assert.equal((await sb.run(["image", "inspect", base])).code, 1, "the base is gone here");

  const dir = context("from-registry", {
    "Dockerfile": `FROM ${base}\nRUN cat /base > /derived\nCOPY a.txt /a.txt\n`,
    "a.txt": "from the context\n",
  });
  const progress = await build(["-t", "derived:1", dir]);
  assert.match(progress, new RegExp(`Unable to find image '${base}' locally`));
  assert.match(progress, /Status: Downloaded newer image/);
  assert.equal(
    await run("derived:1", "cat /base /derived /a.txt"),
    "base-v1\nbase-v1\nfrom the context\n",
  );
  const doc = await inspectImage("derived:1");
  assert.ok(doc.Config.Env.includes("BASE=one"), "the base's ENV is inherited");
  assert.deepEqual(doc.Config.Cmd, ["cat", "/base"]);
  assert.equal(doc.RootFS.Layers.length, 4, "busybox's, the base's RUN, the RUN, the COPY");
  // The base's history comes with it: one entry per layer and per config change.
  const history = await sb.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "derived:1"]);
  assert.match(history, /echo base-v1 > \/base/);
  assert.match(history, /ADD file:\S+ in \//);
  assert.equal((await inspectImage(base)).Id.length, 71, "the pulled base is kept under its name");

  // A newer base in the registry under the same tag (pushed as :2, copied to :1 there).
  const v2Dir = context("base-v2", {
    "Dockerfile": 'FROM busybox\nRUN echo base-v2 > /base\nENV BASE=two\nCMD ["cat", "/base"]\n',
  });
  await build(["-t", `${host}/x/base:2`, v2Dir]);
  await sb.ok(["push", `${host}/x/base:2`]);
  await skopeo(
    "copy",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    `docker://${host}/x/base:2`,
    `docker://${base}`,
  );
  // Without --pull the local base serves (and the cache with it)...
  const cached = await build(["-t", "derived:2", dir]);
  assert.doesNotMatch(cached, /Pulling from/);
  assert.equal(cached.match(/CACHED/g)?.length, 2, cached);
  assert.equal(await run("derived:2", "cat /derived"), "base-v1\n");
  // ...with --pull the registry is asked again, once, and its newer base is built on.
  const pulled = await build(["--pull", "-t", "derived:3", dir]);
  assert.equal(pulled.match(/Pulling from \S+\/x\/base/g)?.length, 1, pulled);
  assert.doesNotMatch(pulled, /CACHED/);
  assert.equal(await run("derived:3", "cat /derived"), "base-v2\n");
  assert.ok((await inspectImage("derived:3")).Config.Env.includes("BASE=two"));

  // Multi-stage: a stage on the registry's image, and COPY --from naming the image itself.
  await sb.ok(["rmi", base]);
  const multi = context("multi-registry", {
    "Dockerfile": `FROM ${base} AS based
RUN echo "stage saw $(cat /base)" > /stage
FROM busybox
COPY --from=based /stage /from-stage
COPY --from=${base} /base /from-image
`,
  });
  const multiProgress = await build(["-t", "multi-registry:1", multi]);
  assert.equal(multiProgress.match(/Pulling from \S+\/x\/base/g)?.length, 1, multiProgress);
  assert.equal(
    await run("multi-registry:1", "cat /from-stage /from-image"),
    "stage saw base-v2\nbase-v2\n",
  );
  const bad = await buildFails([
    context("missing-image", {
      "Dockerfile": `FROM busybox\nCOPY --from=${host}/x/nothing:1 /base /x\n`,
    }),
  ]);
  assert.match(bad, /x\/nothing/);
});

Deno.test({
  name: "build - : a context tar, a gzip one, -f inside it, a Dockerfile alone",
  ...asRoot,
}, async () => {
  const dir = context("stdin", {
    "Dockerfile": "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n" +
      "RUN --mount=type=bind,target=/ctx cat /ctx/.wh.kept > /kept\n",
    "a.txt": "sent on stdin\n",
    // Not a layer: a name that looks like a whiteout is an ordinary file of the context (a
    // layer could not carry it: the bind mount reads it).
    ".wh.kept": "kept\n",
    "sub/Other.Dockerfile": "FROM busybox\nCOPY sub/inner.txt /inner.txt\n",
    "sub/inner.txt": "inner\n",
  });
  const plain = await runWithInput(["build", "-t", "stdin:tar", "-"], tarOf(dir));
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(
    await run("stdin:tar", "cat /a.txt /b.txt /kept"),
    "sent on stdin\nsent on stdin\nkept\n",
  );
  const gz = await runWithInput(["build", "-q", "-t", "stdin:gz", "-"], tarOf(dir, true));
  assert.equal(gz.code, 0, gz.stderr);
  assert.equal(gz.stdout.trim(), (await inspectImage("stdin:tar")).Id, "the same build, cached");

  // -f names a file inside the archive, even when the current directory has one so named.
  const decoy = context("decoy", { "sub/Other.Dockerfile": "FROM busybox\nRUN exit 7\n" });
  const inner = await runWithInput(
    ["build", "-t", "stdin:inner", "-f", "sub/Other.Dockerfile", "-"],
    tarOf(dir),
    decoy,
  );
  assert.equal(inner.code, 0, inner.stderr);
  assert.equal(await run("stdin:inner", "cat /inner.txt"), "inner\n");
  const outside = await runWithInput(["build", "-f", "../Dockerfile", "-"], tarOf(dir));
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /must be within the build context/);
  // Docker also takes bzip2 and xz archives; this engine says it does not.
  const bzip2 = await runWithInput(["build", "-"], new TextEncoder().encode("BZh91AY&SY..."));
  assert.equal(bzip2.code, 1);
  assert.match(bzip2.stderr, /a bzip2-compressed build context is not supported/);
  const none = await runWithInput(["build", "-f", "sub/Nope", "-"], tarOf(dir));
  assert.equal(none.code, 1);
  assert.match(none.stderr, /sub\/Nope/);

  // A Dockerfile alone: no context, so a COPY from it fails and says why.
  const alone = await runWithInput(
    ["build", "-t", "stdin:alone", "-"],
    new TextEncoder().encode("FROM busybox\nRUN echo alone > /alone\n"),
  );
  assert.equal(alone.code, 0, alone.stderr);
  assert.equal(await run("stdin:alone", "cat /alone"), "alone\n");
  const copy = await runWithInput(
    ["build", "-"],
    new TextEncoder().encode("FROM busybox\nCOPY a.txt /a.txt\n"),
  );
  assert.equal(copy.code, 1);
  assert.match(copy.stderr, /\[2\/2\] COPY a\.txt \/a\.txt: .*"\/a\.txt": not found/);
  assert.match(copy.stderr, /no build context/);

  // -f -: the Dockerfile on stdin, the context a directory; not both on stdin.
  const dfStdin = await runWithInput(
    ["build", "-t", "stdin:df", "-f", "-", dir],
    new TextEncoder().encode("FROM busybox\nCOPY a.txt /df-stdin.txt\n"),
  );
  assert.equal(dfStdin.code, 0, dfStdin.stderr);
  assert.equal(await run("stdin:df", "cat /df-stdin.txt"), "sent on stdin\n");
  const both = await runWithInput(
    ["build", "-f", "-", "-"],
    new TextEncoder().encode("FROM busybox\n"),
  );
  assert.equal(both.code, 1);
  assert.match(both.stderr, /can't use stdin for both build context and dockerfile/);
});

Deno.test(
  { name: "build: ADD of a URL, --checksum, and the cache of what it fetched", ...asRoot },
  async () => {
    let body = "version one\n";
    let requests = 0;
    const lastModified = "Wed, 21 Oct 2015 07:28:00 GMT";
    server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path !== "/files/hello.txt") return new Response("no such file", { status: 404 });
      requests++;
      return new Response(body, { headers: { "last-modified": lastModified } });
    });
    const url = `http://127.0.0.1:${server.addr.port}/files/hello.txt`;
    const dir = context("add-url", {
      "Dockerfile": `FROM busybox
ADD ${url} /dl/
ADD ${url}?v=1 /renamed.txt
RUN stat -c '%a %u:%g %Y' /dl/hello.txt /renamed.txt > /stat
`,
    });
    await build(["-t", "url:1", dir]);
    assert.equal(
      await run("url:1", "cat /dl/hello.txt /renamed.txt"),
      "version one\nversion one\n",
    );
    // 0600 and root's, as Docker's; the time is the server's Last-Modified.
    const mtime = Date.parse(lastModified) / 1000;
    assert.equal(await run("url:1", "cat /stat"), `600 0:0 ${mtime}\n600 0:0 ${mtime}\n`);

    // Unchanged content: fetched again, compared, and a hit; changed content: a miss.
    const before = requests;
    const again = await build(["-t", "url:2", dir]);
    assert.equal(requests - before, 2, "each URL is fetched again to compare");
    assert.equal(again.match(/CACHED/g)?.length, 3, again);
    assert.equal((await inspectImage("url:2")).Id, (await inspectImage("url:1")).Id);
    body = "version two\n";
    const changed = await build(["-t", "url:3", dir]);
    assert.doesNotMatch(changed, /CACHED/);
    assert.equal(
      await run("url:3", "cat /dl/hello.txt /renamed.txt"),
      "version two\nversion two\n",
    );

    // --checksum: accepted when it matches; a mismatch fails the step and names it.
    const good = await sha256Hex(body);
    const checked = context("add-checksum", {
      "Dockerfile": `FROM busybox\nADD --checksum=sha256:${good} ${url} /checked/\n`,
    });
    await build(["-t", "url:checked", checked]);
    assert.equal(await run("url:checked", "cat /checked/hello.txt"), "version two\n");
    const wrong = "0".repeat(64);
    const mismatch = await buildFails([
      context("add-mismatch", {
        "Dockerfile": `FROM busybox\nADD --checksum=sha256:${wrong} ${url} /checked/\n`,
      }),
    ]);
    assert.match(
      mismatch,
      new RegExp(
        `\\[2/2\\] ADD --checksum=sha256:${wrong} \\S+ /checked/: checksum mismatch: expected sha256:${wrong}, got sha256:${good}`,
      ),
    );
    const badSum = await buildFails([
      context("add-badsum", { "Dockerfile": `FROM busybox\nADD --checksum=md5:abc ${url} /x\n` }),
    ]);
    assert.match(badSum, /unsupported checksum/);
    const missing = await buildFails([
      context("add-404", {
        "Dockerfile": `FROM busybox\nADD http://127.0.0.1:${server.addr.port}/nope /x\n`,
      }),
    ]);
    assert.match(missing, /\[2\/2\] ADD http:\S+\/nope \/x: .*404 Not Found/);
    const escaping = await buildFails([
      context("add-escape", {
        "Dockerfile": `FROM busybox\nADD http://127.0.0.1:${server.addr.port}/a%2F..%2Fb /dl/\n`,
      }),
    ]);
    assert.match(escaping, /cannot take a file name from http:\S+a%2F\.\.%2Fb/);
  },
);

Deno.test({
  name: "build: RUN heredocs that are #! scripts, and several heredocs in one RUN",
  ...asRoot,
}, async () => {
  const awk = (word: string) =>
    `RUN <<EOF\n#!/usr/bin/awk -f\nBEGIN { print "awk ${word}" >> "/script-out" }\nEOF\n`;
  const dockerfile = (word: string) =>
    `FROM busybox
ENV WHO=from-env
RUN <<EOF
#!/bin/sh
echo "sh script $0 $WHO" > /script-out
EOF
RUN <<-EOT
	#!/usr/bin/env sh
	echo "env sh, tabs stripped" >> /script-out
EOT
${awk(word)}RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2
I am
first
FILE1
I am
second
FILE2
RUN <<EOF
echo "plain heredoc $0" >> /script-out
EOF
USER 1000
RUN <<EOF
#!/bin/sh
id -u > /tmp/uid
EOF
`;
  const dir = context("heredoc-scripts", { "Dockerfile": dockerfile("one") });
  await build(["-t", "scripts:1", dir]);
  assert.equal(
    await run("scripts:1", "cat /script-out"),
    "sh script /dev/pipes/EOF from-env\nenv sh, tabs stripped\nawk one\nplain heredoc /bin/sh\n",
  );
  assert.equal(
    await run("scripts:1", "cat /file1 /file2 /tmp/uid"),
    "I am\nfirst\nI am\nsecond\n1000\n",
  );
  // The scripts ran from /dev, which no layer is made of.
  assert.ok(
    await someLayerHas("scripts:1", "script-out"),
    "the layers are where they are looked for",
  );
  assert.ok(!await someLayerHas("scripts:1", "dev/pipes"), "no layer keeps a script");
  // A heredoc's body is part of its step's cache key.
  assert.equal((await build(["-t", "scripts:2", dir])).match(/CACHED/g)?.length, 8);
  Deno.writeTextFileSync(`${dir}/Dockerfile`, dockerfile("two"));
  const changed = await build(["-t", "scripts:3", dir]);
  assert.equal(changed.match(/CACHED/g)?.length, 3, changed);
  assert.match(await run("scripts:3", "cat /script-out"), /^awk two$/m);
  // So is a heredoc's the shell reads.
  const plain = context("heredoc-plain", {
    "Dockerfile": "FROM busybox\nRUN <<EOF\necho v1 > /v\nEOF\n",
  });
  await build(["-t", "plain:1", plain]);
  Deno.writeTextFileSync(`${plain}/Dockerfile`, "FROM busybox\nRUN <<EOF\necho v2 > /v\nEOF\n");
  assert.doesNotMatch(await build(["-t", "plain:2", plain]), /CACHED/);
  assert.equal(await run("plain:2", "cat /v"), "v2\n");

  const failing = await buildFails([
    context("heredoc-fail", { "Dockerfile": "FROM busybox\nRUN <<EOF\n#!/bin/sh\nexit 4\nEOF\n" }),
  ]);
  assert.match(failing, /\[2\/2\] RUN <<EOF: .*did not complete successfully: exit code: 4/);
});

Deno.test({ name: "build sources: stop the servers; nothing left behind", ...asRoot }, async () => {
  await server?.shutdown();
  await registry?.stop();
  let scratch: string[] = [];
  try {
    scratch = [...Deno.readDirSync(`${sb.root}/image`)].map((e) => e.name).filter((n) =>
      n.startsWith(".build-")
    );
  } catch { /* no store */ }
  assert.deepEqual(scratch, [], "no build scratch directory is left in the store");
  await sb.cleanup();
});
