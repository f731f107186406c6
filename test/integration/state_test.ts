/**
 * Containers whose state cannot be used: a truncated or wrong-version state file, or a
 * state directory a killed create left without one. `ps -a` shows them dead, `inspect`
 * says why, and `rm` removes them with everything they owned. What a crash must find is
 * fsynced, and only that: a `run --rm` syncs its create, not the records removed with it.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, eventually, haveStrace, processesMentioning, Sandbox } from "./harness.ts";
import { lstatOrNull } from "../../src/util/fs.ts";

const sb = new Sandbox();

interface PsLine {
  ID: string;
  Names: string;
  State: string;
  Status: string;
}

async function psAll(): Promise<PsLine[]> {
  const out = await sb.ok(["ps", "-a", "--no-trunc", "--format", "json"]);
  return out.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
}

function stateFile(id: string): string {
  return `${sb.state}/${id}/state.json`;
}

const exists = (path: string) => lstatOrNull(path) !== null;

/** The container's cgroup directories, from its recorded state. */
function cgroupDirs(id: string): string[] {
  return Object.values(JSON.parse(Deno.readTextFileSync(stateFile(id))).cgroup.paths);
}

Deno.test(
  { name: "a stopped container with a truncated state file is dead; rm -f removes it", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "--name", "cut", "busybox", "true"])).trim();
    await eventually(
      async () => (await psAll()).find((c) => c.ID === id)?.State === "exited",
      10_000,
      "the container to exit",
    );
    const dir = `${sb.root}/containers/${id}`;
    assert.ok(exists(`${dir}/${id}-json.log`));
    const text = Deno.readTextFileSync(stateFile(id));
    Deno.writeTextFileSync(stateFile(id), text.slice(0, text.length / 2));

    const line = (await psAll()).find((c) => c.ID === id);
    assert.deepEqual(line && [line.State, line.Status, line.Names], ["dead", "Dead", "cut"]);
    const table = await sb.ok(["ps", "-a"]);
    assert.match(table, new RegExp(`${id.slice(0, 12)} .* Dead +cut`));
    assert.ok(!(await sb.ok(["ps"])).includes(id.slice(0, 12)), "ps without -a hides it");
    const doc = await sb.inspect("cut");
    assert.equal(doc.State.Status, "dead");
    assert.equal(doc.State.Dead, true);
    assert.match(doc.State.Error, /state file is unusable: not valid JSON/);
    const start = await sb.run(["start", "cut"]);
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /is dead .*rm -f/);

    assert.equal((await sb.ok(["rm", "-f", id])).trim(), id);
    assert.ok(!exists(dir), "its rw layer and log are gone");
    assert.ok(!exists(`${sb.state}/${id}`), "its state is gone");
    assert.deepEqual(await psAll(), []);
  },
);

Deno.test(
  { name: "a running container whose state has another version is dead; rm kills it", ...asRoot },
  async () => {
    const id = (await sb.ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    const cgroups = cgroupDirs(id);
    assert.ok(cgroups.length > 0 && cgroups.every(exists));
    const pid = JSON.parse(Deno.readTextFileSync(stateFile(id))).pid;
    const text = Deno.readTextFileSync(stateFile(id));
    Deno.writeTextFileSync(stateFile(id), text.replace('"version":1', '"version":99'));

    assert.equal((await psAll()).find((c) => c.ID === id)?.State, "dead");
    assert.match((await sb.inspect(id)).State.Error, /version 99, expected 1/);
    // Its cgroup is found from the resources record, and its processes die with it.
    await sb.ok(["rm", "-f", id.slice(0, 12)]);
    assert.deepEqual(cgroups.filter(exists), []);
    assert.ok(
      !exists(`/proc/${pid}/stat`) || Deno.readTextFileSync(`/proc/${pid}/stat`)
        .includes(") Z"),
    );
    assert.ok(!exists(`${sb.root}/containers/${id}`));
    // Its shim finds the container gone when it exits, and ends.
    await eventually(() => processesMentioning(sb.dir).length === 0, 10_000, "the shim to end");
  },
);

Deno.test(
  { name: "a state directory a killed create left without state is dead and removable", ...asRoot },
  async () => {
    // What kill -9 of `run` before its first state write used to leave: an empty directory,
    // or one holding only the temp file of that write.
    const empty = "e".repeat(64);
    const partial = "f".repeat(64);
    Deno.mkdirSync(`${sb.state}/${empty}`, { recursive: true });
    Deno.mkdirSync(`${sb.state}/${partial}`);
    Deno.writeTextFileSync(`${sb.state}/${partial}/.state.json.tmp-4242`, '{"version":1,"id');
    // And what a create killed before its rename leaves now: a hidden directory, swept.
    Deno.mkdirSync(`${sb.state}/.new-${"d".repeat(64)}`);

    const dead = (await psAll()).filter((c) => c.State === "dead").map((c) => c.ID).sort();
    assert.deepEqual(dead, [empty, partial]);
    assert.ok(!exists(`${sb.state}/.new-${"d".repeat(64)}`), "the hidden leftover is swept");
    assert.match((await sb.inspect(empty)).State.Error, /create was interrupted/);
    await sb.ok(["rm", "-f", empty]);
    await sb.ok(["rm", partial.slice(0, 12)]);
    assert.deepEqual(await psAll(), []);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test(
  { name: "kill -9 of a foreground run leaves nothing that ps -a and rm -f cannot see", ...asRoot },
  async () => {
    const child = new Deno.Command(BIN, {
      args: ["run", "busybox", "sleep", "600"],
      env: sb.env(),
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Whatever moment the kill lands in, every container directory is listed.
    await eventually(() => sb.containerIds().length > 0, 10_000, "the create to begin");
    child.kill("SIGKILL");
    await child.status;
    await eventually(
      async () => {
        const listed = (await psAll()).map((c) => c.ID).sort();
        return JSON.stringify(listed) === JSON.stringify(sb.containerIds().sort());
      },
      10_000,
      "every state directory to be listed",
    );
    for (const c of await psAll()) await sb.ok(["rm", "-f", c.ID]);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test({
  name: "run --rm fsyncs its create (what a crash must find), not its start, exit or tombstone",
  ...asRoot,
  ignore: asRoot.ignore || !haveStrace,
}, async () => {
  await sb.ok(["run", "--rm", "busybox", "true"]); // the built-in image, made once
  const log = Deno.makeTempFileSync({ prefix: "m-docker-strace-" });
  try {
    const out = await new Deno.Command("strace", {
      args: ["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o", log, BIN, "run", "--rm"]
        .concat(["busybox", "true"]),
      env: sb.env(),
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const synced = Deno.readTextFileSync(log).split("\n")
      .map((l) => l.match(/f(?:data)?sync\(\d+<([^>]*)>/)?.[1])
      .filter((p): p is string => p !== undefined)
      .map((p) => p.replace(sb.state, "STATE").replace(/[0-9a-f]{64}/, "ID").replace(/\d+$/, ""));
    assert.deepEqual(synced, [
      "STATE/.new-ID/.resources.json.tmp-",
      "STATE/.new-ID/.state.json.tmp-",
      "STATE/.new-ID",
      "STATE",
      // Its start's two records: each file whole, the rename not waited for.
      "STATE/ID/.state.json.tmp-",
      "STATE/ID/.state.json.tmp-",
    ]);
  } finally {
    Deno.removeSync(log);
  }
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
