/**
 * Dockerfiles into build plans: every instruction, substitution where Docker substitutes,
 * the escape directive, heredocs, continuations, multi-stage --target, and errors that name
 * the file and line.
 */
import assert from "node:assert/strict";
import {
  type BuildPlan,
  type ConfigInstruction,
  type CopyInstruction,
  DockerfileError,
  type Instruction,
  parseDockerfile,
  type ParseOptions,
  type RunInstruction,
} from "../../src/build/dockerfile.ts";

const plan = (text: string, options: ParseOptions = {}): BuildPlan =>
  parseDockerfile(text, { platform: "linux/amd64", buildPlatform: "linux/amd64", ...options });
/** The target stage's instructions. */
const last = (text: string, options?: ParseOptions): Instruction[] => {
  const p = plan(text, options);
  return p.stages.find((s) => s.index === p.target)!.instructions;
};
const runs = (text: string, options?: ParseOptions) =>
  last(text, options).filter((i): i is RunInstruction => i.kind === "run");
const copies = (text: string, options?: ParseOptions) =>
  last(text, options).filter((i): i is CopyInstruction => i.kind === "copy" || i.kind === "add");
const values = (text: string, kind: string, options?: ParseOptions) =>
  last(text, options).filter((i) => i.kind === kind).map((i) => (i as ConfigInstruction).value);
const config = (text: string, options?: ParseOptions) => {
  const p = plan(text, options);
  return p.stages.find((s) => s.index === p.target)!.config;
};
const error = (text: string, options?: ParseOptions): string => {
  try {
    plan(text, options);
  } catch (e) {
    assert.ok(e instanceof DockerfileError, `${e}`);
    return e.message;
  }
  assert.fail(`no error for:\n${text}`);
};

Deno.test("FROM: image, scratch, AS name, --platform, and the stage it is", () => {
  const p = plan(
    "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM scratch\nFROM build\n",
  );
  assert.deepEqual(p.stages.map((s) => [s.index, s.name, s.base, s.platform, s.line]), [
    [0, "build", { kind: "image", ref: "golang:1.22" }, "linux/amd64", 1],
    [2, undefined, { kind: "stage", index: 0 }, undefined, 3],
  ]);
  assert.equal(p.target, 2);
  assert.deepEqual(p.order, [0, 2]);
  assert.deepEqual(p.images, ["golang:1.22"]);
  assert.deepEqual(plan("FROM scratch\n").stages[0].base, { kind: "scratch" });
});

Deno.test("RUN: shell form in the SHELL, exec form as is, nothing substituted", () => {
  const r = runs(
    'FROM a\nENV X=1\nRUN echo $X "q"\nRUN ["echo", "$X"]\nSHELL ["/bin/bash", "-ec"]\nRUN ls',
  );
  assert.deepEqual(r.map((x) => [x.argv, x.shellForm]), [
    [["/bin/sh", "-c", 'echo $X "q"'], true],
    [["echo", "$X"], false],
    [["/bin/bash", "-ec", "ls"], true],
  ]);
  assert.deepEqual(r[0].env, ["X=1"]);
});

Deno.test("RUN --mount, --network and --security are parsed, their values substituted", () => {
  const [r] = runs(
    "FROM a AS deps\nFROM a\nARG C=/root/.cache\nWORKDIR /w\n" +
      "RUN --mount=type=cache,target=$C,id=go --mount=type=bind,from=deps,source=/x,dst=rel " +
      "--mount=type=secret,id=tok --mount=type=tmpfs,target=/t,size=1m --network=none --security=sandbox make",
  );
  assert.deepEqual(r.mounts, [
    { type: "cache", target: "/root/.cache", readonly: false, options: { id: "go" } },
    {
      type: "bind",
      target: "/w/rel",
      source: "/x",
      from: { kind: "stage", index: 0 },
      readonly: true,
      options: {},
    },
    { type: "secret", readonly: false, options: { id: "tok" } },
    { type: "tmpfs", target: "/t", readonly: false, options: { size: "1m" } },
  ]);
  assert.equal(r.network, "none");
  assert.equal(r.security, "sandbox");
  assert.deepEqual(plan("FROM a AS deps\nFROM a\nRUN --mount=from=deps,target=/d x").order, [0, 1]);
  assert.match(
    error("FROM a\nRUN --network=bridge x"),
    /^Dockerfile:2: unsupported network mode "bridge"/,
  );
  assert.match(
    error("FROM a\nRUN --mount=type=nfs,target=/x x"),
    /^Dockerfile:2: unsupported mount type "nfs"/,
  );
  assert.match(error("FROM a\nRUN --device=/dev/x x"), /^Dockerfile:2: unknown flag: --device$/);
});

Deno.test("CMD and ENTRYPOINT: forms, and a new ENTRYPOINT drops the base's CMD", () => {
  const base = { Cmd: ["base-cmd"], Entrypoint: ["base-ep"] };
  const opts = { baseImage: () => base };
  assert.deepEqual(config('FROM a\nCMD ["x", "y"]', opts), {
    Cmd: ["x", "y"],
    Entrypoint: ["base-ep"],
  });
  assert.deepEqual(config("FROM a\nENTRYPOINT exec top -b", opts), {
    Entrypoint: ["/bin/sh", "-c", "exec top -b"],
  });
  assert.deepEqual(config('FROM a\nCMD ["c"]\nENTRYPOINT ["e"]', opts), {
    Cmd: ["c"],
    Entrypoint: ["e"],
  });
  assert.deepEqual(config("FROM a\nENTRYPOINT []", opts), {});
  assert.deepEqual(values("FROM a\nENV V=1\nCMD echo $V", "cmd"), [["/bin/sh", "-c", "echo $V"]]);
});

Deno.test("ENV: both forms, quotes, and each pair sees the environment before the line", () => {
  const text =
    'FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\nENV one two  three\nENV q="a b" r=c\\ d';
  assert.deepEqual(values(text, "env"), [
    [["abc", "hello"]],
    [["abc", "bye"], ["def", "hello"]],
    [["ghi", "bye"]],
    [["one", "two  three"]],
    [["q", "a b"], ["r", "c d"]],
  ]);
  assert.deepEqual(config(text, { baseImage: () => ({ Env: ["PATH=/bin", "abc=base"] }) }).Env, [
    "PATH=/bin",
    "abc=bye",
    "def=hello",
    "ghi=bye",
    "one=two  three",
    "q=a b",
    "r=c d",
  ]);
  assert.deepEqual(
    values("FROM a\nWORKDIR $PATH/x", "workdir", { baseImage: () => ({ Env: ["PATH=/usr/bin"] }) }),
    ["/usr/bin/x"],
    "the base image's Env takes part in substitution",
  );
});

Deno.test("ARG: global scope for FROM, redeclared in a stage, defaults, --build-arg wins", () => {
  const text = "ARG V=3.19\nARG IMG=alpine:$V\nFROM $IMG\nRUN a\nARG V\nARG D=def-$V\nARG E\nRUN b";
  let p = plan(text);
  assert.deepEqual(p.stages[0].base, { kind: "image", ref: "alpine:3.19" });
  let r = runs(text);
  assert.deepEqual(r[0].env, [], "global ARGs are not in a stage until it declares them");
  assert.deepEqual(r[1].env, ["V=3.19", "D=def-3.19"]);
  p = plan(text, { buildArgs: { V: "3.20", E: "e" } });
  assert.deepEqual(p.stages[0].base, { kind: "image", ref: "alpine:3.20" });
  r = runs(text, { buildArgs: { V: "3.20", E: "e" } });
  assert.deepEqual(r[1].env, ["V=3.20", "D=def-3.20", "E=e"]);
  assert.deepEqual(values(text, "arg").slice(-1), [[["E", undefined]]]);
  assert.deepEqual(config(text).Env, undefined, "ARGs stay out of the image config");
});

Deno.test("ARG and ENV of one name: the later one holds, ENV alone reaches the image", () => {
  const r = runs("FROM a\nARG V=arg\nENV V=env\nRUN x\nARG V=arg2\nRUN y", {
    buildArgs: { V: "cli" },
  });
  assert.deepEqual(r.map((x) => x.env), [["V=env"], ["V=cli"]]);
  assert.deepEqual(
    values("FROM a\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\n", "env", {
      buildArgs: { CONT_IMG_VER: "v2.0.1" },
    }),
    [[["CONT_IMG_VER", "v2.0.1"]]],
  );
});

Deno.test("predefined ARGs: proxies reach RUN undeclared, platforms, SOURCE_DATE_EPOCH", () => {
  const opts = { buildArgs: { https_proxy: "http://p:3128", SOURCE_DATE_EPOCH: "1700000000" } };
  const p = plan("FROM a\nARG TARGETARCH\nARG BUILDPLATFORM\nRUN x", opts);
  const r = p.stages[0].instructions.find((i) => i.kind === "run") as RunInstruction;
  assert.deepEqual(r.env, [
    "TARGETARCH=amd64",
    "BUILDPLATFORM=linux/amd64",
    "https_proxy=http://p:3128",
  ]);
  assert.equal(p.sourceDateEpoch, 1700000000);
  assert.deepEqual(p.unusedBuildArgs, []);
  assert.deepEqual(
    runs("FROM a\nARG TARGETPLATFORM\nRUN x", { platform: "linux/arm64/v8" })[0].env,
    ["TARGETPLATFORM=linux/arm64/v8"],
  );
  assert.match(
    error("FROM a", { buildArgs: { SOURCE_DATE_EPOCH: "soon" } }),
    /invalid SOURCE_DATE_EPOCH/,
  );
});

Deno.test("unused --build-args are reported", () => {
  const p = plan("ARG USED\nFROM a\nARG ALSO\n", {
    buildArgs: { USED: "1", ALSO: "2", NOPE: "3", HTTP_PROXY: "x" },
  });
  assert.deepEqual(p.unusedBuildArgs, ["NOPE"]);
  assert.ok(p.notes.includes("One or more build-args [NOPE] were not consumed"));
  const t = plan("FROM a AS one\nARG ONLY_HERE\nFROM a AS two\n", {
    buildArgs: { ONLY_HERE: "1" },
    target: "two",
  });
  assert.deepEqual(t.unusedBuildArgs, ["ONLY_HERE"], "a stage that is not built consumes nothing");
});

Deno.test("LABEL, EXPOSE, VOLUME, USER, STOPSIGNAL, MAINTAINER substitute", () => {
  const text =
    'FROM a\nARG P=8080\nARG U=app\nLABEL "com.x.v"="1.0" k=$U other="a b"\nLABEL old style value\n' +
    'EXPOSE $P 53/udp 7000-7002/TCP\nVOLUME /data $U\nVOLUME ["/j1", "/j2"]\nUSER $U:$U\nSTOPSIGNAL SIG${U:+TERM}\nMAINTAINER me <m@e>';
  assert.deepEqual(config(text), {
    Labels: { "com.x.v": "1.0", k: "app", other: "a b", old: "style value" },
    ExposedPorts: { "8080/tcp": {}, "53/udp": {}, "7000/tcp": {}, "7001/tcp": {}, "7002/tcp": {} },
    Volumes: { "/data": {}, app: {}, "/j1": {}, "/j2": {} },
    User: "app:app",
    StopSignal: "SIGTERM",
  });
  assert.deepEqual(values(text, "maintainer"), ["me <m@e>"]);
  assert.match(error("FROM a\nEXPOSE 80/xtp"), /^Dockerfile:2: invalid containerPort: 80\/xtp$/);
  assert.match(
    error('FROM a\nVOLUME [""]'),
    /^Dockerfile:2: VOLUME specified can not be an empty string$/,
  );
});

Deno.test("WORKDIR is relative to the previous one and substitutes", () => {
  assert.deepEqual(
    values("FROM a\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c\nENV D=d\nWORKDIR $D/", "workdir"),
    ["/a", "/a/b", "/a/c", "/a/c/d"],
  );
  assert.deepEqual(values("FROM a\nWORKDIR rel", "workdir"), ["/rel"]);
  assert.deepEqual(
    values("FROM a\nWORKDIR x", "workdir", { baseImage: () => ({ WorkingDir: "/base" }) }),
    [
      "/base/x",
    ],
  );
});

Deno.test("COPY: sources, destination against WORKDIR, --from stage|image|index, flags", () => {
  const text = "FROM alpine AS build\nFROM scratch\nARG OWNER=1000\nWORKDIR /app\n" +
    "COPY --from=build --chown=$OWNER:$OWNER --chmod=0755 --link /out/* ./bin/\n" +
    "COPY --from=nginx:latest /etc/nginx/nginx.conf conf\nCOPY --from=0 a b\n" +
    'COPY --parents --exclude=*.tmp --exclude=x ["src dir", "/dst"]\nCOPY . .';
  const c = copies(text);
  assert.deepEqual(c.map((x) => [x.sources, x.dest, x.from]), [
    [["/out/*"], "/app/bin/", { kind: "stage", index: 0 }],
    [["/etc/nginx/nginx.conf"], "/app/conf", { kind: "image", ref: "nginx:latest" }],
    [["a"], "/app/b", { kind: "stage", index: 0 }],
    [["src dir"], "/dst", undefined],
    [["."], "/app/", undefined],
  ]);
  assert.deepEqual([c[0].chown, c[0].chmod, c[0].link], ["1000:1000", "0755", true]);
  assert.deepEqual([c[3].parents, c[3].exclude], [true, ["*.tmp", "x"]]);
  assert.deepEqual(plan(text).images, ["alpine", "nginx:latest"]);
  assert.match(
    error("FROM a\nARG S=x\nCOPY --from=$S a b"),
    /^Dockerfile:3: variable expansion is not supported for --from/,
  );
  assert.match(error("FROM a\nCOPY --chmod=9 a b"), /^Dockerfile:2: invalid chmod parameter: "9"$/);
  assert.match(error("FROM a\nCOPY --from=5 a b"), /^Dockerfile:2: invalid stage index 5/);
});

Deno.test("ADD: URLs, --checksum, --chown, --chmod, --keep-git-dir, --unpack", () => {
  const [a, b] = copies(
    "FROM a\nADD --checksum=sha256:abc --chmod=644 https://example.com/x.tgz /tmp/\n" +
      "ADD --keep-git-dir=true --unpack=false --chown=u git@github.com:o/r.git /src",
  );
  assert.deepEqual([a.kind, a.sources, a.dest, a.checksum, a.chmod], [
    "add",
    ["https://example.com/x.tgz"],
    "/tmp/",
    "sha256:abc",
    "644",
  ]);
  assert.deepEqual([b.keepGitDir, b.unpack, b.chown], [true, false, "u"]);
  assert.match(
    error("FROM a\nADD --checksum=sha256:abc local.tgz /x"),
    /^Dockerfile:2: checksum can only be used/,
  );
  assert.match(error("FROM a\nADD --from=x a b"), /^Dockerfile:2: unknown flag: --from$/);
});

Deno.test("HEALTHCHECK: NONE, CMD in both forms, the durations and retries", () => {
  assert.deepEqual(config("FROM a\nHEALTHCHECK NONE").Healthcheck, { Test: ["NONE"] });
  assert.deepEqual(
    config(
      "FROM a\nHEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=2s --retries=3 CMD curl -f http://localhost/ || exit 1",
    ).Healthcheck,
    {
      Test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
      Interval: 30e9,
      Timeout: 3e9,
      StartPeriod: 60e9,
      StartInterval: 2e9,
      Retries: 3,
    },
  );
  assert.deepEqual(config('FROM a\nHEALTHCHECK CMD ["/bin/check", "-q"]').Healthcheck, {
    Test: ["CMD", "/bin/check", "-q"],
  });
  assert.match(
    error("FROM a\nHEALTHCHECK NONE x"),
    /^Dockerfile:2: HEALTHCHECK NONE takes no arguments$/,
  );
  assert.match(
    error("FROM a\nHEALTHCHECK CMD"),
    /^Dockerfile:2: Missing command after HEALTHCHECK CMD$/,
  );
  assert.match(error("FROM a\nHEALTHCHECK RUN x"), /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/);
  assert.match(error("FROM a\nHEALTHCHECK --interval=1us CMD x"), /cannot be less than 1ms/);
  assert.match(
    error("FROM a\nHEALTHCHECK --retries=-1 CMD x"),
    /--retries cannot be negative \(-1\)/,
  );
});

Deno.test("SHELL takes the JSON form only, and shapes later shell forms", () => {
  const text = 'FROM a\nSHELL ["powershell", "-command"]\nRUN Write-Host hi\nCMD Get-Date';
  assert.deepEqual(runs(text)[0].argv, ["powershell", "-command", "Write-Host hi"]);
  assert.deepEqual(config(text).Cmd, ["powershell", "-command", "Get-Date"]);
  assert.match(
    error("FROM a\nSHELL /bin/bash -c"),
    /^Dockerfile:2: SHELL requires the arguments to be in JSON form$/,
  );
});

Deno.test("ONBUILD: kept as text, and the base's triggers run first in a stage built on it", () => {
  const text =
    "FROM a AS base\nONBUILD ADD . /app/src\nONBUILD RUN <<EOF\necho built\nEOF\nFROM base\nRUN own";
  const p = plan(text);
  assert.deepEqual(p.stages[0].config.OnBuild, ["ADD . /app/src", "RUN <<EOF\necho built\nEOF"]);
  const child = p.stages[1].instructions;
  assert.deepEqual(child.map((i) => [i.kind, i.trigger ?? false, i.line]), [
    ["add", true, 6],
    ["run", true, 6],
    ["run", false, 7],
  ]);
  assert.deepEqual((child[1] as RunInstruction).argv, ["/bin/sh", "-c", "echo built\n"]);
  assert.equal(p.stages[1].config.OnBuild, undefined, "triggers do not pass to grandchildren");
  const fromImage = last("FROM img\nRUN own", { baseImage: () => ({ OnBuild: ["RUN trig"] }) });
  assert.deepEqual(fromImage.map((i) => (i as RunInstruction).argv[2]), ["trig", "own"]);
  assert.match(error("FROM a\nONBUILD ONBUILD RUN x"), /^Dockerfile:2: Chaining ONBUILD/);
  assert.match(
    error("FROM a\nONBUILD FROM x"),
    /^Dockerfile:2: FROM isn't allowed as an ONBUILD trigger$/,
  );
});

Deno.test("substitution happens where Docker does it and nowhere else", () => {
  const text = "FROM a\nARG V=val\nENV E=$V\nLABEL l=$V\nEXPOSE ${V:+80}\nVOLUME /$V\nUSER $V\n" +
    "WORKDIR /$V\nSTOPSIGNAL ${V:+9}\nCOPY $V /$V\nADD $V /$V/\nONBUILD RUN echo $V\nRUN echo $V\n" +
    "CMD echo $V\nENTRYPOINT echo $V";
  const ins = last(text);
  const shown = ins.map((i) => {
    if (i.kind === "run") return i.argv.at(-1);
    if (i.kind === "copy" || i.kind === "add") return [...i.sources, i.dest];
    const v = (i as ConfigInstruction).value;
    return i.kind === "cmd" || i.kind === "entrypoint" ? (v as string[]).at(-1) : v;
  });
  assert.deepEqual(shown, [
    [["V", "val"]],
    [["E", "val"]],
    [["l", "val"]],
    ["80/tcp"],
    ["/val"],
    "val",
    "/val",
    "9",
    ["val", "/val"],
    ["val", "/val/"],
    "RUN echo $V",
    "echo $V",
    "echo $V",
    "echo $V",
  ]);
});

Deno.test("the escape directive: a backtick escapes and continues lines", () => {
  const text =
    "# escape=`\nFROM windows\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n  && echo `$X\nENV P=C:\\Program` Files";
  const p = plan(text);
  assert.equal(p.escape, "`");
  const [c] = copies(text);
  assert.deepEqual([c.sources, c.dest], [["testfile.txt"], "/c:\\"]);
  assert.deepEqual(runs(text)[0].argv[2], "dir c:\\   && echo `$X");
  assert.deepEqual(values(text, "env"), [[["P", "C:\\Program Files"]]]);
  assert.match(
    error("# escape=x\nFROM a"),
    /^Dockerfile:1: invalid escape token 'x' does not match ` or \\$/,
  );
});

Deno.test("parser directives: # syntax= noted and ignored, only at the top, once", () => {
  const p = plan("# syntax=docker/dockerfile:1.7\n# check=skip=all\nFROM a");
  assert.equal(p.syntax, "docker/dockerfile:1.7");
  assert.ok(p.notes.some((n) => n.includes('ignoring "# syntax=docker/dockerfile:1.7"')));
  // After a comment or blank line, a directive is a comment.
  assert.equal(plan("# hello\n# escape=`\nFROM a").escape, "\\");
  assert.equal(plan("\n# escape=`\nFROM a").escape, "\\");
  assert.match(
    error("# escape=`\n# escape=\\\nFROM a"),
    /^Dockerfile:2: only one escape parser directive/,
  );
});

Deno.test("continuations: comment and empty lines inside, trailing spaces, instruction case", () => {
  const text =
    "from a\nrun apt-get update && \\\n# a comment in the middle\n    apt-get install -y \\  \n\n" +
    "      curl\nRun echo \\\\\nCMD x";
  const p = plan(text);
  const r = runs(text);
  assert.deepEqual(r.map((x) => [x.line, x.argv[2]]), [
    [2, "apt-get update &&     apt-get install -y       curl"],
    [7, "echo \\\\"],
  ]);
  assert.deepEqual(p.stages[0].instructions.at(-1)!.line, 8);
  assert.ok(p.notes.some((n) => n.startsWith("Dockerfile:6: empty continuation line")));
  assert.deepEqual(
    runs("FROM a\nRUN echo \\")[0].argv[2],
    "echo",
    "a continuation at the end of the file ends",
  );
});

Deno.test("heredocs: a script, a shebang, several at once, <<- and quoted delimiters", () => {
  const text = [
    "FROM a",
    "RUN <<EOF",
    "apt-get update",
    "apt-get install -y curl",
    "EOF",
    "RUN <<EOT",
    "#!/usr/bin/env python3",
    "print('hi')",
    "EOT",
    "RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2",
    "I am",
    "first",
    "FILE1",
    "I am",
    "second",
    "FILE2",
    "RUN python3 <<-'END' # strips tabs",
    "\tprint($X)",
    "\tEND",
    "ARG NAME=world",
    "COPY <<-EOF <<'RAW' /dir/",
    "\thello $NAME",
    "\tEOF",
    "$NAME stays",
    "RAW",
  ].join("\n") + "\n";
  const r = runs(text);
  assert.deepEqual(r[0].argv, ["/bin/sh", "-c", "apt-get update\napt-get install -y curl\n"]);
  assert.deepEqual(r[1].argv, ["/dev/pipes/EOT"]);
  assert.deepEqual(r[1].script, {
    path: "/dev/pipes/EOT",
    data: "#!/usr/bin/env python3\nprint('hi')\n",
  });
  assert.deepEqual(r[2].argv, [
    "/bin/sh",
    "-c",
    "<<FILE1 cat > /file1 && <<FILE2 cat > /file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2",
  ]);
  assert.deepEqual(r[2].heredocs.map((h) => [h.name, h.content]), [
    ["FILE1", "I am\nfirst\n"],
    ["FILE2", "I am\nsecond\n"],
  ]);
  assert.deepEqual(r[3].heredocs.map((h) => [h.name, h.chomp, h.expand]), [["END", true, false]]);
  assert.deepEqual(r.map((x) => x.line), [2, 6, 10, 17]);
  const [c] = copies(text);
  assert.deepEqual(c.contents, [
    { path: "EOF", data: "hello world\n" },
    { path: "RAW", data: "$NAME stays\n" },
  ]);
  assert.equal(c.line, 21);
  assert.deepEqual(
    runs('FROM a\nRUN ["echo", "<<EOF"]')[0].argv,
    ["echo", "<<EOF"],
    "not in the JSON form",
  );
  assert.match(error("FROM a\nRUN <<EOF\nnever ends\n"), /^Dockerfile:2: unterminated heredoc$/);
  assert.match(
    error("FROM a\nCOPY a <<EOF\nx\nEOF"),
    /^Dockerfile:2: COPY cannot accept a heredoc as a destination$/,
  );
});

Deno.test("--target keeps only the stages it needs, through FROM, COPY --from and mounts", () => {
  const text = [
    "FROM alpine AS base", // 0
    "FROM base AS deps", // 1
    "FROM golang AS tools", // 2
    "FROM deps AS build", // 3
    "COPY --from=tools /go/bin/x /x",
    "FROM node AS unrelated", // 4
    "RUN --mount=from=unrelated2,target=/m true",
    "FROM build AS test", // 5
    "FROM scratch AS release", // 6
    "COPY --from=build /out /",
  ].join("\n");
  const keep = (target?: string) => plan(text, { target }).stages.map((s) => s.name);
  assert.deepEqual(keep("release"), ["base", "deps", "tools", "build", "release"]);
  assert.deepEqual(keep("test"), ["base", "deps", "tools", "build", "test"]);
  assert.deepEqual(keep("TOOLS"), ["tools"], "stage names are case-insensitive");
  assert.deepEqual(keep(), keep("release"), "the last stage by default");
  assert.deepEqual(plan(text, { target: "build" }).order, [0, 1, 2, 3]);
  assert.deepEqual(plan(text, { target: "unrelated" }).images, ["node", "unrelated2"]);
  assert.match(error(text, { target: "nope" }), /target stage "nope" could not be found/);
  // COPY --from a later stage is fine when there is no cycle; a cycle is an error.
  assert.deepEqual(plan("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\n", { target: "x" }).order, [
    1,
    0,
  ]);
  assert.match(
    error("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n"),
    /circular dependency detected on stage: /,
  );
  assert.match(
    error("FROM a AS x\nCOPY --from=x / /"),
    /^Dockerfile:2: circular dependency detected on stage: x$/,
  );
});

Deno.test("a duplicate stage name is noted: FROM takes the closest earlier, --from the last", () => {
  const p = plan("FROM a AS x\nFROM x AS y\nFROM b AS X\nFROM c\nCOPY --from=x / /\n");
  assert.ok(p.notes.includes('Dockerfile:3: duplicate stage name "x"'));
  assert.deepEqual(p.stages.map((s) => [s.index, s.base]), [
    [2, { kind: "image", ref: "b" }],
    [3, { kind: "image", ref: "c" }],
  ]);
  assert.deepEqual(
    plan("FROM a AS x\nFROM x AS y\nFROM b AS X\n", { target: "y" }).stages[1].base,
    {
      kind: "stage",
      index: 0,
    },
  );
});

Deno.test("a stage that is not built is checked but not substituted", () => {
  assert.doesNotThrow(() => plan("FROM a AS unused\nENV X=${NOPE:?must_be_set}\nFROM b", {}));
  assert.match(
    error("FROM a AS unused\nCOPY onlyone\nFROM b"),
    /^Dockerfile:2: COPY requires at least two arguments/,
  );
  assert.match(
    error("FROM b\nENV X=${NOPE:?must_be_set}"),
    /^Dockerfile:2: failed to process .*NOPE: must_be_set$/,
  );
});

Deno.test("every error names the file and the line", () => {
  const cases: Array<[string, string]> = [
    ["FROM a\nRUN x\n\n\n\n\nCOPPY a b", "Dockerfile:7: unknown instruction: COPPY"],
    ["", "Dockerfile:1: file with no instructions"],
    ["# only a comment\n", "Dockerfile:1: file with no instructions"],
    ["RUN x", "Dockerfile:1: no build stage in current context"],
    ["FROM", "Dockerfile:1: FROM requires either one or three arguments"],
    ["FROM a AS", "Dockerfile:1: FROM requires either one or three arguments"],
    [
      "FROM a AS 1x",
      'Dockerfile:1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols',
    ],
    ["ARG B\nFROM $B", "Dockerfile:2: base name ($B) should not be blank"],
    ["FROM --platform=$NOPE a", "Dockerfile:1: empty platform value from expression $NOPE"],
    ["FROM --plat=x a", "Dockerfile:1: unknown flag: --plat"],
    ["FROM a\nENV", "Dockerfile:2: ENV requires at least one argument"],
    ["FROM a\nENV ONLYKEY", "Dockerfile:2: ENV must have two arguments"],
    [
      "FROM a\nENV A=1 B",
      'Dockerfile:2: Syntax error - can\'t find = in "B". Must be of the form: name=value',
    ],
    ["FROM a\nLABEL =x", "Dockerfile:2: LABEL names can not be blank"],
    ["FROM a\nARG =x", "Dockerfile:2: ARG names can not be blank"],
    [
      "FROM a\nCOPY a",
      "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
    ],
    [
      "FROM a\nCOPY --link=maybe a b",
      "Dockerfile:2: expecting boolean value for flag --link, not: maybe",
    ],
    ["FROM a\nCOPY --from a b", "Dockerfile:2: missing a value on flag: --from"],
    ["FROM a\nCOPY --chown=a --chown=b a b", "Dockerfile:2: duplicate flag specified: --chown"],
    ["FROM a\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"],
    ["FROM a\nUSER", "Dockerfile:2: USER requires exactly one argument"],
    ["FROM a\nEXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"],
    ["FROM a\nRUN", "Dockerfile:2: RUN requires at least one argument"],
    [
      'FROM a\nCMD ["a", 1]',
      "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only",
    ],
    ["FROM a\nSTOPSIGNAL 'a b'", "Dockerfile:2: invalid signal: a b"],
    [
      "FROM a\nRUN echo\nWORKDIR ${X",
      "Dockerfile:3: failed to process \"${X\": syntax error: missing '}'",
    ],
    [
      'FROM a\nRUN x \\\n  y\nUSER "unterminated',
      'Dockerfile:4: failed to process "\\"unterminated": unexpected end of statement while looking for matching double-quote',
    ],
  ];
  for (const [text, want] of cases) assert.equal(error(text), want, JSON.stringify(text));
  assert.equal(
    error("FROM a\nCOPPY a b", { file: "app/Containerfile" }),
    "app/Containerfile:2: unknown instruction: COPPY",
  );
});
