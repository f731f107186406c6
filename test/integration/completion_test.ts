/**
 * `m-docker completion bash|zsh|fish`: the bash script, sourced in a real bash and driven
 * as bash drives it (COMP_WORDS, COMP_CWORD, the completion function, COMPREPLY), completes
 * commands, flags (those stricli's table has: every flag `run --help` lists), and the names
 * of this sandbox's containers and images.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** COMPREPLY after bash completes the last of `words` (typed after `m-docker`). */
async function complete(...words: string[]): Promise<string[]> {
  const quoted = [BIN, ...words].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
  const script = [
    `source <('${BIN}' completion bash)`,
    `COMP_WORDS=(${quoted})`,
    `COMP_CWORD=${words.length}`,
    "_m_docker_complete",
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const out = await new Deno.Command("bash", {
    args: ["--norc", "--noprofile", "-c", script],
    env: sb.env(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(stderr, "");
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}

/** The long flags a command's `--help` lists. */
async function helpFlags(...command: string[]): Promise<string[]> {
  const help = await sb.ok([...command, "--help"]);
  const flags = help.slice(help.indexOf("FLAGS"));
  return [...new Set([...flags.matchAll(/\[(--[a-z][a-z-]*)/g)].map((m) => m[1]))]
    .filter((f) => f !== "--help");
}

Deno.test({ name: "bash completes commands and sub-commands", ...asRoot }, async () => {
  const st = await complete("st");
  assert.ok(st.includes("start") && st.includes("stop"), st.join(" "));
  assert.ok(st.every((c) => c.startsWith("st")), st.join(" "));
  assert.deepEqual(await complete("completion", ""), ["bash", "zsh", "fish"]);
  const image = await complete("image", "");
  assert.ok(image.includes("ls") && image.includes("inspect"), image.join(" "));
  // The hidden helper is no command a user sees.
  assert.ok(!(await complete("__")).includes("__complete"));
  assert.doesNotMatch(await sb.ok(["--help"]), /__complete/);
});

Deno.test({ name: "bash completes every flag of the table, and values", ...asRoot }, async () => {
  const flags = await complete("run", "--");
  const documented = await helpFlags("run");
  assert.ok(documented.length > 40, documented.join(" "));
  for (const f of documented) assert.ok(flags.includes(f), `run ${f}`);
  assert.ok(flags.includes("--health-cmd"));
  assert.deepEqual(await complete("ps", "--no"), ["--no-trunc"]);
  // Short aliases too, once a dash is typed; flags already given are not offered again.
  const ps = await complete("ps", "-a", "-");
  assert.ok(ps.includes("-q") && ps.includes("--quiet"), ps.join(" "));
  assert.ok(!ps.includes("-a") && !ps.includes("--all"), ps.join(" "));
  assert.deepEqual(await complete("run", "--pull", ""), ["missing", "never", "always"]);
});

Deno.test({ name: "bash completes container and image names", ...asRoot }, async () => {
  await sb.ok(["run", "-d", "--name", "comp-web", "busybox", "sleep", "1000"]);
  await sb.ok(["run", "--name", "comp-done", "busybox", "true"]);
  try {
    assert.deepEqual(await complete("exec", "comp-w"), ["comp-web"]);
    assert.deepEqual((await complete("rm", "comp-")).sort(), ["comp-done", "comp-web"]);
    assert.deepEqual((await complete("logs", "")).sort(), ["comp-done", "comp-web"]);
    // A bare TAB lists names, not flags.
    assert.ok((await complete("inspect", "")).every((c) => !c.startsWith("-")));
    const images = await complete("run", "-d", "bu");
    assert.ok(images.includes("busybox"), images.join(" "));
    // After the image, the words are the container's command: nothing from m-docker.
    assert.deepEqual(await complete("run", "busybox", ""), []);
    assert.deepEqual(await complete("exec", "comp-web", "-"), []);
  } finally {
    await sb.ok(["rm", "-f", "comp-web", "comp-done"]);
  }
});

Deno.test({ name: "zsh and fish scripts; an unknown shell exits 1", ...asRoot }, async () => {
  const zsh = await sb.ok(["completion", "zsh"]);
  assert.match(zsh, /^#compdef m-docker\n/);
  assert.match(zsh, /__complete/);
  const fish = await sb.ok(["completion", "fish"]);
  assert.match(fish, /complete -c m-docker .*__m_docker_complete/);
  const bad = await sb.run(["completion", "tcsh"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /unsupported shell "tcsh"/);
  // The bash script is valid bash.
  const check = await new Deno.Command("bash", {
    args: ["-n", "-c", await sb.ok(["completion", "bash"])],
  }).output();
  assert.equal(check.code, 0);
});

const has = (shell: string) => {
  try {
    return new Deno.Command(shell, { args: ["-c", "true"] }).outputSync().success;
  } catch {
    return false;
  }
};

Deno.test({
  name: "fish completes commands and flags through the script, for real",
  ...asRoot,
  ignore: asRoot.ignore || !has("fish"),
}, async () => {
  // fish runs `m-docker` by name: a directory with only that on PATH.
  const dir = Deno.makeTempDirSync({ prefix: "mdt-fish-" });
  try {
    Deno.symlinkSync(BIN.startsWith("/") ? BIN : `${Deno.cwd()}/${BIN}`, `${dir}/m-docker`);
    Deno.writeTextFileSync(`${dir}/m-docker.fish`, await sb.ok(["completion", "fish"]));
    const out = await new Deno.Command("fish", {
      args: [
        "--no-config",
        "-c",
        `source ${dir}/m-docker.fish; complete -C "m-docker ru"; complete -C "m-docker run --netw"`,
      ],
      env: { ...sb.env(), PATH: `${dir}:${Deno.env.get("PATH")}` },
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /^run\t/m);
    assert.match(text, /^--network\t/m);
    assert.match(text, /^--network-alias\t/m);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "zsh loads the script and registers it with compdef",
  ...asRoot,
  ignore: asRoot.ignore || !has("zsh"),
}, async () => {
  const script = await sb.ok(["completion", "zsh"]);
  const out = await new Deno.Command("zsh", {
    args: [
      "-f",
      "-c",
      `autoload -U compinit; compinit -u -D; eval "$1"; print -r -- $_comps[m-docker]`,
      "zsh",
      script,
    ],
    env: sb.env(),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "_m_docker\n");
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
