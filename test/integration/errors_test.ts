/**
 * Errors as Docker's CLI gives them: a clear message, Docker's exit code (125 only for
 * `run`/`create` failing before the command runs, or for a bad flag; 1 for every other
 * command), and nothing half-created (no state, no cgroup, no container directory). Also a
 * closed stdout, a registry on a port fetch calls "bad", and the built-in image's files.
 *
 * The expected lines are facts recorded from Docker's source: docker/cli (cmd/docker,
 * cli/cobra.go, cli/command/...) and moby (daemon/, daemon/server/router/...), as of
 * docker/cli 29 and moby 29.
 */
import assert from "node:assert/strict";
import { writeTar } from "../../src/image/tar_writer.ts";
import { asRoot, BIN, Sandbox } from "./harness.ts";

const sb = new Sandbox();

function containerDirs(): string[] {
  try {
    return [...Deno.readDirSync(`${sb.root}/containers`)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** `run` refusing bad input before anything runs: Docker's 125. */
const cases: Array<[string, string[], RegExp]> = [
  ["a typo'd flag", ["run", "--memroy", "1g", "busybox", "true"], /memroy/],
  ["a bad memory size", ["run", "-m", "12xb", "busybox", "true"], /12xb/],
  ["a memory limit under 6MB", ["run", "-m", "1k", "busybox", "true"], /Minimum memory limit/],
  ["swap without memory", ["run", "--memory-swap", "1g", "busybox", "true"], /Memory limit/],
  ["a bad CPU count", ["run", "--cpus", "abc", "busybox", "true"], /abc/],
  ["too many CPUs", ["run", "--cpus", "1000", "busybox", "true"], /CPUs/],
  ["a bad cpuset", ["run", "--cpuset-cpus", "x-y", "busybox", "true"], /x-y/],
  ["a bad pids limit", ["run", "--pids-limit", "ten", "busybox", "true"], /ten/],
  [
    "an image that does not exist",
    ["run", "--pull", "never", "no-such-image", "true"],
    /no-such-image/,
  ],
  [
    "a registry that cannot be reached",
    ["run", "127.0.0.1:1/nothing", "true"],
    /cannot reach registry/,
  ],
  ["a bad pull policy", ["run", "--pull", "sometimes", "busybox", "true"], /sometimes/],
  [
    "a bad container name",
    ["run", "--name", "bad/name", "busybox", "true"],
    /Invalid container name/,
  ],
  // Docker's message: `data/x` is neither a host path nor a volume name.
  [
    "a relative volume path",
    ["run", "-v", "data/x:/data", "busybox", "true"],
    /"data\/x" includes invalid characters for a local volume name/,
  ],
  ["a bad cgroup parent", ["run", "--cgroup-parent", "../escape", "busybox", "true"], /\.\./],
  [
    "a missing env file",
    ["run", "--env-file", "/no/such/file", "busybox", "true"],
    /no\/such\/file/,
  ],
  // A bad flag is cobra's flag error: 125 for every docker command, not only run.
  ["an unknown flag of ps", ["ps", "--bogus"], /bogus/],
  ["a reference over 255 characters", ["run", "a".repeat(300), "true"], /255 characters/],
];

/** Other commands' errors: Docker's CLI exits 1 (an error without a StatusError code). */
const commandCases: Array<[string, string[], RegExp]> = [
  // cmd/docker: "docker: unknown command: docker frobnicate", a plain error.
  ["an unknown command", ["frobnicate"], /frobnicate/],
  // cli/required.go: "requires at least 1 argument", a plain error.
  ["a missing argument", ["stop"], /argument/],
  ["import of a missing tarball", ["import", "/no/such.tar", "x:1"], /no such file/],
  // docker kill passes -s on as typed; dockerd refuses it (moby/sys/signal's words).
  [
    "a bad signal",
    ["kill", "-s", "SIGNOPE", "x"],
    /^Error response from daemon: cannot kill container: x: invalid signal: SIGNOPE\n$/,
  ],
];

for (const [code, list] of [[125, cases], [1, commandCases]] as const) {
  for (const [what, args, message] of list) {
    Deno.test({
      name: `bad input: ${what} gives ${code} and creates nothing`,
      ...asRoot,
    }, async () => {
      const r = await sb.run(args);
      assert.equal(r.code, code, `exit code for ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace without --debug");
      assert.deepEqual(sb.containerIds(), []);
      assert.deepEqual(containerDirs(), []);
      assert.deepEqual(sb.leftoverCgroups(), []);
    });
  }
}

Deno.test({
  name: "bad input: an invalid reference is said in one line, before any lookup",
  ...asRoot,
}, async () => {
  const r = await sb.run(["run", "Bad_Name", "true"]);
  assert.equal(r.code, 125);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /invalid reference format/);
  assert.doesNotMatch(r.stderr, /Unable to find image/);
});

Deno.test(
  { name: "--name '' is accepted and gets a random name, as Docker does", ...asRoot },
  async () => {
    const r = await sb.run(["run", "--rm", "--name", "", "busybox", "true"]);
    assert.equal(r.code, 0, r.stderr);
  },
);

Deno.test({
  name: "logs of a detached container whose log is gone: a message and exit 1",
  ...asRoot,
}, async () => {
  const id = (await sb.ok(["run", "-d", "busybox", "echo", "hi"])).trim();
  assert.equal((await sb.ok(["wait", id])).trim(), "0");
  const log = JSON.parse(await sb.ok(["inspect", id]))[0].LogPath as string;
  Deno.removeSync(log);
  const r = await sb.run(["logs", id]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /log .* is gone/);
  await sb.ok(["rm", id]);
});

/** Docker's line for an error the daemon returned (moby/client: request.go). */
const daemon = (message: string) => `Error response from daemon: ${message}\n`;

Deno.test({
  name: "unknown names: every command exits 1 with Docker's line; inspect also prints []",
  ...asRoot,
}, async () => {
  const unknown = daemon("No such container: nope"); // moby daemon/container/view.go
  const commands: string[][] = [
    ["stop", "nope"],
    ["wait", "nope"],
    ["logs", "nope"],
    ["top", "nope"],
    ["port", "nope"],
    ["rm", "nope"],
    ["exec", "nope", "true"],
  ];
  for (const args of commands) {
    const r = await sb.run(args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", unknown], args.join(" "));
  }
  // dockerd's kill route wraps every failure: "cannot kill container: NAME: ...".
  const kill = await sb.run(["kill", "nope"]);
  assert.deepEqual(
    [kill.code, kill.stderr],
    [1, daemon("cannot kill container: nope: No such container: nope")],
  );
  // docker/cli's start: each failure, then a line of its own.
  const start = await sb.run(["start", "nope"]);
  assert.deepEqual(
    [start.code, start.stderr],
    [1, `${unknown}failed to start containers: nope\n`],
  );
  // `docker inspect` looks for any kind of object (cli/command/system/inspect.go).
  const inspect = await sb.run(["inspect", "nope"]);
  assert.deepEqual(
    [inspect.code, inspect.stdout, inspect.stderr],
    [1, "[]\n", "error: no such object: nope\n"],
  );
  // The image service names the reference with its tag (daemon/images/image.go).
  const rmi = await sb.run(["rmi", "nope"]);
  assert.deepEqual([rmi.code, rmi.stderr], [1, daemon("No such image: nope:latest")]);
  assert.deepEqual(sb.containerIds(), []);
});

Deno.test({
  name: "rm of a running container, exec or kill of a stopped one, port not published: exit 1",
  ...asRoot,
}, async () => {
  const id = (await sb.ok(["run", "-d", "--name", "up", "busybox", "sleep", "600"])).trim();
  try {
    // moby daemon/delete.go: the name as the user gave it.
    const rm = await sb.run(["rm", "up"]);
    assert.deepEqual([rm.code, rm.stdout, rm.stderr], [
      1,
      "",
      daemon(
        `cannot remove container "up": container is running: ` +
          "stop the container before removing or force remove",
      ),
    ]);
    // docker/cli 29, cli/command/container/port.go: the port as typed, no prefix.
    const port = await sb.run(["port", "up", "80"]);
    assert.deepEqual([port.code, port.stderr], [1, "no public port '80' published for up\n"]);
  } finally {
    await sb.ok(["rm", "-f", "up"]);
  }
  const stopped = (await sb.ok(["run", "-d", "--name", "down", "busybox", "true"])).trim();
  assert.equal((await sb.ok(["wait", "down"])).trim(), "0");
  const exec = await sb.run(["exec", "down", "true"]);
  assert.deepEqual([exec.code, exec.stderr], [1, daemon(`container ${stopped} is not running`)]);
  const kill = await sb.run(["kill", "down"]);
  assert.deepEqual(
    [kill.code, kill.stderr],
    [1, daemon(`cannot kill container: down: container ${stopped} is not running`)],
  );
  await sb.ok(["rm", "down"]);
  assert.notEqual(id, stopped);
});

Deno.test({
  name: "run -it and exec -it with stdin not a terminal: Docker's line, exit 1, nothing created",
  ...asRoot,
}, async () => {
  // docker/cli cli/streams/in.go CheckTty (29.7 rewords it; every earlier CLI says this).
  for (const stdin of [undefined, "echo hi\n"]) { // /dev/null, then a pipe
    const r = await sb.run(["run", "-it", "busybox", "sh"], { stdin });
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", "the input device is not a TTY\n"]);
    assert.deepEqual(sb.containerIds(), []);
    assert.deepEqual(containerDirs(), []);
    assert.deepEqual(sb.leftoverCgroups(), []);
  }
  // -i alone, or -t alone, needs no terminal.
  assert.equal(
    await sb.ok(["run", "--rm", "-i", "busybox", "cat"], { stdin: "piped\n" }),
    "piped\n",
  );
  assert.equal(await sb.ok(["run", "--rm", "-t", "busybox", "echo", "tty"]), "tty\r\n");
  await sb.ok(["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
  try {
    const r = await sb.run(["exec", "-it", "box", "sh"]);
    assert.deepEqual([r.code, r.stderr], [1, "the input device is not a TTY\n"]);
  } finally {
    await sb.ok(["rm", "-f", "box"]);
  }
});

Deno.test({
  name: "a closed stdout ends every command quietly (no Broken pipe), as SIGPIPE would",
  ...asRoot,
}, async () => {
  // Detached, so that it has a log to print.
  await sb.ok(["run", "-d", "--name", "talker", "busybox", "echo", "hello"]);
  assert.equal(await sb.ok(["wait", "talker"]), "0\n");
  try {
    const commands = [
      ["ps", "-a"],
      ["images"],
      ["inspect", "talker"],
      ["logs", "talker"],
      ["network", "ls"],
      ["ps", "--help"], // stricli's own output
      ["--version"],
    ];
    for (const args of commands) {
      // bash waits for the pipe's reader to exit before starting m-docker, so its first write
      // fails, as under `| head -1` once head has gone; the exit code goes to the real stdout.
      const quoted = args.map((a) => `'${a}'`).join(" ");
      const out = await new Deno.Command("bash", {
        args: ["-c", `exec {w}> >(exit 0); wait $!; "$M" ${quoted} >&$w; echo $?`],
        env: { ...sb.env(), M: BIN },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const [code, stderr] = [
        new TextDecoder().decode(out.stdout),
        new TextDecoder().decode(out.stderr),
      ];
      // 141 = 128 + SIGPIPE: what the shell reports for Docker's CLI killed by the write.
      assert.deepEqual([code, stderr], ["141\n", ""], args.join(" "));
    }
  } finally {
    await sb.ok(["rm", "talker"]);
  }
});

const sha256 = async (bytes: Uint8Array<ArrayBuffer>) =>
  `sha256:${
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
      .map((b) => b.toString(16).padStart(2, "0")).join("")
  }`;

/**
 * A registry of one image (`test/img:v1`, one uncompressed layer) served by this test on
 * `port`: the Distribution API's GETs of a manifest and of blobs, 404 for anything else.
 */
async function serveRegistry(port: number): Promise<Deno.HttpServer> {
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const layer = writeTar([{ name: "hello.txt", body: new TextEncoder().encode("from port\n") }]);
  const layerDigest = await sha256(layer);
  const config = json({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/hello.txt"] },
    rootfs: { type: "layers", diff_ids: [layerDigest] },
  });
  const configDigest = await sha256(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configDigest,
      size: config.length,
    },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: layerDigest,
      size: layer.length,
    }],
  });
  const blobs: Record<string, Uint8Array<ArrayBuffer>> = {
    [layerDigest]: layer,
    [configDigest]: config,
  };
  return Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v2/test/img/manifests/v1") {
      return new Response(manifest, {
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      });
    }
    const blob = /^\/v2\/test\/img\/blobs\/(.+)$/.exec(path)?.[1];
    if (blob && blobs[blob]) return new Response(blobs[blob]);
    return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN" }] }, { status: 404 });
  });
}

Deno.test({
  name: "pull from a registry on port 6000, one fetch calls bad; errors exit 1, stdout empty",
  ...asRoot,
}, async () => {
  // 6000 (X11) is on the fetch standard's bad-port list: Deno's fetch refuses it.
  let server: Deno.HttpServer;
  try {
    server = await serveRegistry(6000);
  } catch (e) {
    throw new Error(`this test needs 127.0.0.1:6000 free: ${(e as Error).message}`);
  }
  try {
    const ref = "127.0.0.1:6000/test/img:v1";
    const pulled = await sb.run(["pull", ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^v1: Pulling from 127\.0\.0\.1:6000\/test\/img$/m);
    assert.match(
      pulled.stdout,
      /Status: Downloaded newer image for 127\.0\.0\.1:6000\/test\/img:v1/,
    );
    const doc = JSON.parse(await sb.ok(["image", "inspect", ref]))[0];
    assert.deepEqual([doc.Os, doc.Architecture], ["linux", "amd64"]);
    // An unknown tag: exit 1, the reason, and nothing on stdout ("Pulling from" is said
    // only once the registry has answered, as dockerd).
    const unknown = await sb.run(["pull", "127.0.0.1:6000/test/img:nope"]);
    assert.deepEqual([unknown.code, unknown.stdout], [1, ""]);
    assert.match(unknown.stderr, /^Error response from daemon: manifest for .*:nope not found/);
    await sb.ok(["rmi", ref]);
  } finally {
    await server.shutdown();
  }
  // A registry that cannot be reached (nothing listens on port 1, a bad port too).
  const down = await sb.run(["pull", "127.0.0.1:1/x:y"]);
  assert.deepEqual([down.code, down.stdout], [1, ""]);
  assert.match(down.stderr, /^Error response from daemon: cannot reach registry 127\.0\.0\.1:1: /);
  assert.equal(down.stderr.trim().split("\n").length, 1, down.stderr);
});

Deno.test({
  name: "the built-in busybox as Docker Hub's: nobody's group, no /linuxr, Os/Architecture",
  ...asRoot,
}, async () => {
  assert.equal(
    await sb.ok(["run", "--rm", "-u", "nobody", "busybox", "id"]),
    "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n",
  );
  assert.equal(
    await sb.ok(["run", "--rm", "busybox", "grep", "65534", "/etc/group", "/etc/passwd"]),
    "/etc/group:nobody:x:65534:\n/etc/passwd:nobody:x:65534:65534:nobody:/home:/bin/false\n",
  );
  // Docker Hub's busybox has no directory beside these at its root.
  const root = (await sb.ok(["run", "--rm", "busybox", "ls", "/"])).trim().split("\n");
  assert.ok(!root.includes("linuxr") && !root.includes("linuxrc"), root.join(" "));
  const doc = JSON.parse(await sb.ok(["image", "inspect", "busybox"]))[0];
  assert.equal(doc.Os, "linux");
  assert.equal(doc.Architecture, Deno.build.arch === "x86_64" ? "amd64" : "arm64");
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
