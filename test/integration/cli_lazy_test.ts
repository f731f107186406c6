/**
 * The CLI loads only the command it runs (src/cli/routes.ts): each command's own help, built
 * from that command alone, is the usage line the whole table's help lists for it; aliases,
 * unknown commands and bad flags read and exit as before. The launcher (scripts/build) finds
 * its directory from $0, through symlinks too, and a container started through a symlink
 * runs (init and the shim are re-executed from the same program). What a command loads of the
 * bundled program (dist/lib, as strace sees it read) leaves out the code it does not use.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, haveStrace, Sandbox } from "./harness.ts";
import { VERSION } from "../../src/util/version.ts";

const sb = new Sandbox();

/** The bundled program's directory, if BIN is the bundle's launcher (not a compiled binary). */
const LIB = (() => {
  const lib = `${BIN.slice(0, BIN.lastIndexOf("/"))}/lib`;
  try {
    Deno.statSync(`${lib}/main.js`);
    return lib;
  } catch {
    return undefined;
  }
})();
const traced = { ...asRoot, ignore: asRoot.ignore || !LIB || !haveStrace };

/**
 * The modules of m-docker's own (`src/...`, `ffi/...`) that `m-docker args` loads: the
 * bundle's chunks it opens, as strace records them, each read for the module markers the
 * bundler writes (`// src/cli/exec.ts`).
 */
async function modulesLoaded(args: string[]): Promise<Set<string>> {
  const log = Deno.makeTempFileSync({ prefix: "m-docker-strace-" });
  try {
    const out = await new Deno.Command("strace", {
      args: ["-f", "-qq", "-e", "trace=openat", "-o", log, BIN, ...args],
      env: sb.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const chunks = new Set<string>();
    for (const line of Deno.readTextFileSync(log).split("\n")) {
      const m = line.match(/openat\(\w+, "([^"]+\.js)"/);
      if (m && m[1].startsWith(`${LIB}/`) && !/= -1 /.test(line)) chunks.add(m[1]);
    }
    const modules = new Set<string>();
    for (const chunk of chunks) {
      for (const m of Deno.readTextFileSync(chunk).matchAll(/^\/\/ ((?:src|ffi)\/\S+\.ts)$/gm)) {
        modules.add(m[1]);
      }
    }
    return modules;
  } finally {
    Deno.removeSync(log);
  }
}

Deno.test({
  name: "lazy CLI: exec loads neither cgroup manager, only the join of the cgroup",
  ...traced,
}, async () => {
  const id = (await sb.ok(["run", "-d", "busybox", "sleep", "1000"])).trim();
  try {
    const loaded = await modulesLoaded(["exec", id, "true"]);
    assert.ok(loaded.has("src/container/exec.ts"), [...loaded].join(" "));
    assert.ok(loaded.has("src/cgroups/join.ts"), [...loaded].join(" "));
    const managers = [
      "src/cgroups/manager.ts",
      "src/cgroups/v1.ts",
      "src/cgroups/v2.ts",
      "src/cgroups/device_filter.ts",
      "ffi/bpf.ts",
    ];
    assert.deepEqual(managers.filter((m) => loaded.has(m)), []);
  } finally {
    await sb.ok(["rm", "-f", id]);
  }
});

/** The `m-docker ...` lines of a help text's USAGE section. */
function usageLines(help: string): string[] {
  const lines = help.split("\n");
  const start = lines.indexOf("USAGE");
  assert.ok(start >= 0, help);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("  ")) break;
    out.push(line.trim());
  }
  return out;
}

/**
 * For every route the help of `prefix` lists: a group's own help is checked the same way, a
 * command's help (which loads that command alone) must begin with the very usage line the
 * group's listing has. Returns how many commands were checked.
 */
async function checkGroup(prefix: string[]): Promise<number> {
  const listed = usageLines(await sb.ok([...prefix, "--help"]));
  const own = `m-docker ${[...prefix, ""].join(" ")}`;
  let checked = 0;
  for (const line of listed) {
    assert.ok(line.startsWith(own), `${line} under ${own}`);
    const name = line.slice(own.length).split(" ")[0];
    if (name.startsWith("-")) continue; // --help, --version
    if (line.endsWith(" ...")) {
      checked += await checkGroup([...prefix, name]);
      continue;
    }
    const help = await sb.ok([...prefix, name, "--help"]);
    assert.equal(usageLines(help)[0], line, `${prefix.join(" ")} ${name} --help`);
    checked++;
  }
  return checked;
}

Deno.test({
  name: "lazy CLI: every command's help, loaded alone, has the usage line its group lists",
  ...asRoot,
}, async () => {
  // 41 top-level commands and groups' commands: a table that lost one fails here.
  assert.ok((await checkGroup([])) > 70);
});

Deno.test({
  name: "lazy CLI: container ps and container list are ls, and say so as before",
  ...asRoot,
}, async () => {
  const ls = await sb.ok(["container", "ls", "--help"]);
  assert.match(ls, /ALIASES\n {2}m-docker container ps\n {2}m-docker container list\n/);
  for (const alias of ["ps", "list"]) {
    const help = await sb.ok(["container", alias, "--help"]);
    assert.equal(usageLines(help)[0], usageLines(ls)[0].replace(" ls ", ` ${alias} `));
    const others = ["ls", "ps", "list"].filter((n) => n !== alias);
    assert.match(
      help,
      new RegExp(`ALIASES\n${others.map((o) => `  m-docker container ${o}\n`).join("")}`),
    );
  }
  // The same containers, through each spelling.
  const id = (await sb.ok(["create", "busybox", "true"])).trim();
  for (const args of [["ps", "-aq"], ["container", "ls", "-aq"], ["container", "ps", "-aq"]]) {
    assert.equal(await sb.ok([...args, "--no-trunc"]), `${id}\n`, args.join(" "));
  }
  await sb.ok(["rm", id]);
});

Deno.test({
  name: "lazy CLI: unknown commands get the whole table's suggestions, bad flags 125",
  ...asRoot,
}, async () => {
  const cases: Array<[string[], number, string]> = [
    // `push` is as near to `pss` as `ps` is.
    [["pss"], 1, "No command registered for `pss`, did you mean `ps` or `push`?\n"],
    [
      ["container", "lss"],
      1,
      "No command registered for `lss`, did you mean `list`, `logs`, or `ls`?\n",
    ],
    [["network", "lss"], 1, "No command registered for `lss`, did you mean `list` or `ls`?\n"],
    [["ps", "--bogus"], 125, "No flag registered for --bogus\n"],
    [["container", "ps", "--bogus"], 125, "No flag registered for --bogus\n"],
    [["--bogus"], 1, "No command registered for `--bogus`\n"],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await sb.run(args);
    assert.deepEqual([r.code, r.stderr, r.stdout], [code, stderr, ""], args.join(" "));
  }
  const help = await sb.run([]);
  assert.equal(help.code, 0);
  assert.deepEqual(help.stdout, await sb.ok(["--help"]));
  assert.match(help.stdout, /COMMANDS\n {2}run {9}Create and run a new container from an image\n/);
});

Deno.test({
  name: "launcher: --version through absolute, relative and chained symlinks and PATH",
  ...asRoot,
}, async () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-launcher-" });
  try {
    Deno.mkdirSync(`${dir}/bin/sub`, { recursive: true });
    Deno.symlinkSync(BIN, `${dir}/bin/abs`);
    const up = `${dir}/bin/sub`.split("/").filter((s) => s).map(() => "..").join("/");
    Deno.symlinkSync(`${up}${BIN}`, `${dir}/bin/sub/rel`);
    Deno.symlinkSync("sub/rel", `${dir}/bin/chain`);
    const runs: Array<[string, string[], string?]> = [
      [BIN, ["--version"]],
      [`${dir}/bin/abs`, ["--version"]],
      [`${dir}/bin/sub/rel`, ["--version"]],
      [`${dir}/bin/chain`, ["--version"]],
      ["chain", ["--version"]], // found on PATH: $0 is the path the shell found
      ["sh", ["chain", "--version"], `${dir}/bin`], // $0 without a directory
    ];
    for (const [program, args, cwd] of runs) {
      const out = await new Deno.Command(program, {
        args,
        cwd: cwd ?? dir,
        env: { ...sb.env(), PATH: `${dir}/bin:${Deno.env.get("PATH")}` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const err = new TextDecoder().decode(out.stderr);
      assert.deepEqual([out.code, text, err], [0, `${VERSION}\n`, ""], `${program} ${args}`);
    }
    // A container through the relative symlink: the CLI, the shim and init all start.
    const out = await new Deno.Command(`${dir}/bin/chain`, {
      args: ["run", "--rm", "busybox", "sh", "-c", "echo through a link; env"],
      cwd: "/",
      env: sb.env(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /^through a link\n/);
    // The launcher's settings for Deno are not the container's.
    assert.doesNotMatch(text, /DENO_/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "lazy CLI: inspect and images load the Go-template engine only for a --format",
  ...traced,
}, async () => {
  const id = (await sb.ok(["create", "--name", "lazy-fmt", "busybox", "true"])).trim();
  try {
    const engine = "src/util/go_template.ts";
    const cases: Array<[string[], boolean]> = [
      [["inspect", id], false],
      [["inspect", "--format", "json", id], false],
      [["inspect", "--format", "{{.Name}}", id], true],
      [["images"], false],
      [["images", "--digests"], false],
      [["images", "--format", "{{.Repository}}"], true],
      [["ps", "-a"], false],
      [["ps", "-a", "--format", "{{.Names}}"], true],
    ];
    for (const [args, loads] of cases) {
      const loaded = await modulesLoaded(args);
      assert.ok(loaded.has("src/cli/routes.ts"), [...loaded].join(" "));
      assert.equal(loaded.has(engine), loads, args.join(" "));
    }
  } finally {
    await sb.ok(["rm", id]);
  }
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
