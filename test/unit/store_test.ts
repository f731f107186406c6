import assert from "node:assert/strict";
import {
  AmbiguousContainerError,
  type DeadContainer,
  DeadContainerError,
  isDead,
  NoSuchContainerError,
  StateStore,
} from "../../src/state/store.ts";
import { destroyContainer } from "../../src/container/cleanup.ts";
import type { ContainerState } from "../../src/state/types.ts";

function sample(id: string, name: string, createdAt = new Date().toISOString()): ContainerState {
  return {
    version: 1,
    id,
    name,
    spec: {
      image: "busybox",
      imageId: "sha256:x",
      args: ["sh"],
      env: [],
      cwd: "/",
      hostname: id.slice(0, 12),
      uid: 0,
      gid: 0,
      tty: false,
      interactive: false,
      detach: false,
      autoRemove: false,
      mounts: [{ source: "/src", destination: "/dst", readonly: true }],
      limits: {},
      stopSignal: 15,
      stopTimeout: 10,
    },
    status: "created",
    createdAt,
    rootfs: { lowerDirs: [], upperDir: "", workDir: "", mountPoint: "" },
    containerDir: "",
    logPath: "",
    cgroup: { layout: "v1", paths: {} },
  };
}

const idA = "a".repeat(63) + "1";
const idB = "a".repeat(63) + "2";
const idC = "c".repeat(64);

function withStore(fn: (s: StateStore) => void | Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-store-" });
    try {
      await fn(new StateStore(dir));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

/** What the store holds in `dir`; the event journal outlives the containers it records. */
function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => !/^(events\.jsonl(\.1)?|\.events\.lock)$/.test(n)).sort();
}

function stateFile(s: StateStore, id: string): string {
  return `${s.containerStateDir(id)}/state.json`;
}

function deadEntry(s: StateStore, id: string): DeadContainer {
  const e = s.readEntry(id);
  assert.ok(e && isDead(e), `expected ${id} to be dead, found ${JSON.stringify(e)}`);
  return e;
}

Deno.test(
  "StateStore creates, reads, lists oldest first, and removes",
  withStore((s) => {
    s.create(sample(idC, "late", "2024-01-02T00:00:00Z")).release();
    s.create(sample(idA, "early", "2024-01-01T00:00:00Z")).release();
    assert.deepEqual(s.list().map((c) => c.name), ["early", "late"]);
    assert.deepEqual(s.read(idA), sample(idA, "early", "2024-01-01T00:00:00Z"));
    assert.deepEqual(names(s.containerStateDir(idA)), [".lock", "resources.json", "state.json"]);
    s.withLock(idA, () => s.remove(idA));
    assert.equal(s.read(idA), null);
    assert.deepEqual(s.list().map((c) => c.name), ["late"]);
    assert.deepEqual(names(s.dir), [idC]);
  }),
);

Deno.test(
  "StateStore resolves by full ID, name, and unique prefix",
  withStore((s) => {
    s.create(sample(idA, "one")).release();
    s.create(sample(idB, "two")).release();
    s.create(sample(idC, "three")).release();
    assert.equal(s.resolve(idA).name, "one");
    assert.equal(s.resolve("two").id, idB);
    assert.equal(s.resolve("/two").id, idB);
    assert.equal(s.resolve("ccc").id, idC);
    assert.throws(() => s.resolve("aaa"), AmbiguousContainerError);
    assert.throws(() => s.resolve("nope"), NoSuchContainerError);
  }),
);

Deno.test("StateStore writes atomically and durably: fsync, rename, fsync of the directory", () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-store-" });
  const steps: string[] = [];
  const containerDir = `${dir}/${idA}`;
  const exitCode = () => JSON.parse(Deno.readTextFileSync(`${containerDir}/state.json`)).exitCode;
  // At each fsync, what a reader would see then: the old file until the rename, whole.
  const sync = (f: Deno.FsFile, path: string) => {
    f.syncSync();
    if (path.endsWith(`/${idA}/.state.json.tmp-${Deno.pid}`)) {
      steps.push(`file: temp has ${JSON.parse(Deno.readTextFileSync(path)).exitCode}`);
      steps.push(`file: target has ${exitCode()}`);
    } else if (path === containerDir) {
      steps.push(`dir: target has ${exitCode()}`);
      steps.push(`dir: entries ${names(path).join(",")}`);
    } else steps.push(`create: ${path.slice(dir.length + 1).replace(idA, "ID")}`);
  };
  const s = new StateStore(dir, sync);
  try {
    s.create(sample(idA, "x")).release();
    s.update(idA, (st) => {
      st.exitCode = 7;
    });
    assert.deepEqual(steps, [
      // create: both files and the new directory are synced before its rename, then the root.
      `create: .new-ID/.resources.json.tmp-${Deno.pid}`,
      `create: .new-ID/.state.json.tmp-${Deno.pid}`,
      "create: .new-ID",
      "create: ",
      "file: temp has 7",
      "file: target has undefined",
      "dir: target has 7",
      "dir: entries .lock,resources.json,state.json",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("StateStore's durabilities: whole syncs the file only, none nothing, tombstones nothing", () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-store-" });
  const synced: string[] = [];
  const s = new StateStore(dir, (f, path) => {
    f.syncSync();
    synced.push(path.slice(dir.length + 1).replace(idA, "ID").replace(`${Deno.pid}`, "PID"));
  });
  try {
    s.create(sample(idA, "x")).release();
    synced.length = 0;
    s.update(idA, (st) => void (st.exitCode = 1), "whole");
    assert.deepEqual(synced, ["ID/.state.json.tmp-PID"]);
    assert.equal(s.read(idA)?.exitCode, 1);
    synced.length = 0;
    s.update(idA, (st) => void (st.exitCode = 2), "none");
    assert.deepEqual(synced, []);
    assert.equal(s.read(idA)?.exitCode, 2);
    // Chosen from the state as changed (a --rm container's exit).
    const seen: number[] = [];
    s.update(idA, (st) => void (st.exitCode = 3), (st) => {
      seen.push(st.exitCode!);
      return "durable";
    });
    assert.deepEqual(seen, [3]);
    assert.deepEqual(synced, ["ID/.state.json.tmp-PID", "ID"]);
    synced.length = 0;
    s.writeTombstone(idA, 9);
    assert.deepEqual(synced, []);
    assert.equal(s.readTombstone(idA), 9);
    // No temporary file is left behind by the unsynced writes.
    assert.deepEqual(names(s.containerStateDir(idA)), [".lock", "resources.json", "state.json"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  "StateStore.withLock on a removed container does not run, and nothing re-creates it",
  withStore((s) => {
    s.create(sample(idA, "x")).release();
    s.withLock(idA, () => s.remove(idA));
    let ran = false;
    assert.equal(s.withLock(idA, () => (ran = true)), null);
    assert.equal(ran, false);
    assert.equal(s.update(idA, (st) => void (st.exitCode = 1)), null);
    assert.throws(() => Deno.statSync(s.containerStateDir(idA)), Deno.errors.NotFound);
  }),
);

Deno.test(
  "StateStore.update changes the state as it is now, not a stale copy",
  withStore((s) => {
    s.create(sample(idA, "x")).release();
    const stale = s.read(idA)!;
    // Another process (another store on the same root) records a stop meanwhile.
    new StateStore(s.dir).update(idA, (st) => void (st.stopRequested = true));
    const after = s.update(idA, (st) => {
      st.status = "running";
    });
    assert.equal(stale.stopRequested, undefined);
    assert.equal(after?.stopRequested, true);
    assert.equal(s.read(idA)?.stopRequested, true);
    assert.equal(s.read(idA)?.status, "running");
    // Returning false writes nothing.
    s.update(idA, (st) => {
      st.status = "exited";
      return false;
    });
    assert.equal(s.read(idA)?.status, "running");
  }),
);

/** A script run as another process against the same store (its root is the first argument). */
async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}.ts`;
  const store = new URL("../../src/state/store.ts", import.meta.url).href;
  await Deno.writeTextFile(
    path,
    `import { StateStore } from "${store}";\nconst s = new StateStore(Deno.args[0]);\n${body}\n`,
  );
  return path;
}

/** True when some process is blocked waiting for a flock on the file with inode `ino`. */
function someoneWaitsFor(ino: number): boolean {
  return Deno.readTextFileSync("/proc/locks").split("\n").some((l) =>
    l.includes("->") && l.includes(`:${ino} `)
  );
}

async function until(probe: () => boolean, what: string) {
  const deadline = Date.now() + 20_000;
  while (!probe()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("A write waiting on the lock while another process removes the container writes nothing", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-store-" });
  const s = new StateStore(`${dir}/state`);
  try {
    s.create(sample(idA, "x")).release();
    const lockIno = Deno.statSync(`${s.containerStateDir(idA)}/.lock`).ino!;
    const remover = await script(
      dir,
      "remover",
      `s.withLock("${idA}", () => {
        console.log("locked");
        Deno.stdin.readSync(new Uint8Array(1)); // until told to go on
        s.remove("${idA}");
      });`,
    );
    const writer = await script(
      dir,
      "writer",
      `const r = s.update("${idA}", (st) => { st.exitCode = 3; });
      console.log(r === null ? "gone" : "wrote");`,
    );
    const removing = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", remover, s.dir],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = removing.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await lines.read()).value?.trim(), "locked");
    const writing = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", writer, s.dir],
      stdout: "piped",
    }).spawn();
    await until(() => someoneWaitsFor(lockIno), "the writer to wait for the lock");
    const w = removing.stdin.getWriter();
    await w.write(new Uint8Array([1]));
    await w.close();
    await lines.cancel();
    assert.equal((await removing.status).code, 0);
    const out = await writing.output();
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "gone");
    assert.throws(() => Deno.statSync(s.containerStateDir(idA)), Deno.errors.NotFound);
    assert.deepEqual(names(s.dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(
  "A truncated, wrong-version or incomplete state file makes the container dead",
  withStore((s) => {
    const cases: Array<[string, (text: string) => string, RegExp]> = [
      ["truncated", (t) => t.slice(0, 100), /not valid JSON/],
      ["empty", () => "", /empty/],
      ["not an object", () => "[1]", /expected a JSON object/],
      ["another version", (t) => t.replace('"version":1', '"version":2'), /version 2, expected 1/],
      ["no version", (t) => t.replace('"version":1,', ""), /version none/],
      ["no args", (t) => t.replace(/"args":\[[^\]]*\],/, ""), /spec\.args: expected .*missing/],
      ["bad status", (t) => t.replace('"created"', '"paused"'), /status: expected/],
      ["bad pid", (t) => t.replace('"status"', '"pid":"12","status"'), /pid: expected a number/],
      ["bad mount", (t) => t.replace('"readonly":true', '"readonly":1'), /mounts\.0\.readonly/],
      ["bad cgroup", (t) => t.replace('"paths":{}', '"paths":{"x":1}'), /cgroup\.paths/],
      ["other id", (t) => t.replaceAll(idA, idB), /id: expected/],
    ];
    for (const [what, corrupt, error] of cases) {
      s.create(sample(idA, "web", "2024-01-01T00:00:00Z")).release();
      s.create(sample(idC, "fine", "2024-01-02T00:00:00Z")).release();
      const text = Deno.readTextFileSync(stateFile(s, idA));
      Deno.writeTextFileSync(stateFile(s, idA), corrupt(text));
      const dead = deadEntry(s, idA);
      assert.match(dead.error, error, what);
      // Its name and creation time still come from its resources record.
      assert.equal(dead.name, "web", what);
      assert.equal(dead.createdAt, "2024-01-01T00:00:00Z", what);
      assert.deepEqual(s.entries().map((e) => [e.name, e.status]), [
        ["web", "dead"],
        ["fine", "created"],
      ], what);
      assert.deepEqual(s.list().map((c) => c.name), ["fine"], what);
      assert.throws(() => s.read(idA), DeadContainerError, what);
      assert.throws(() => s.resolve("web"), /is dead .*rm -f aaaaaaaaaaaa/, what);
      assert.throws(() => s.update(idA, () => {}), DeadContainerError, what);
      assert.equal(s.resolveEntry("web").id, idA, what);
      // Nothing wrote over it.
      assert.equal(Deno.readTextFileSync(stateFile(s, idA)), corrupt(text), what);
      assert.equal(destroyContainer(s, idA), true, what);
      assert.equal(destroyContainer(s, idC), true, what);
      assert.deepEqual(names(s.dir), [], what);
    }
  }),
);

Deno.test(
  "A dead container is removed with what its resources record names",
  withStore((s) => {
    const st = sample(idA, "web");
    st.containerDir = `${s.dir}/rw-layer`;
    st.rootfs.mountPoint = `${st.containerDir}/merged`;
    s.create(st).release();
    Deno.mkdirSync(`${st.containerDir}/upper`, { recursive: true });
    Deno.writeTextFileSync(`${st.containerDir}/log`, "x");
    Deno.writeTextFileSync(stateFile(s, idA), "{");
    assert.equal(s.resolveEntry(idA.slice(0, 12)).status, "dead");
    assert.equal(destroyContainer(s, idA), true);
    assert.throws(() => Deno.statSync(st.containerDir), Deno.errors.NotFound);
    assert.deepEqual(names(s.dir), []);
  }),
);

Deno.test(
  "A state directory without a state file is dead once nobody holds its lock",
  withStore((s) => {
    // What a create killed before its first state was written would leave: an empty
    // directory, or one with only a temp file.
    Deno.mkdirSync(s.containerStateDir(idA), { recursive: true });
    Deno.mkdirSync(s.containerStateDir(idB));
    Deno.writeTextFileSync(`${s.containerStateDir(idB)}/.state.json.tmp-4242`, '{"ver');
    for (const id of [idA, idB]) assert.match(deadEntry(s, id).error, /create was interrupted/);
    assert.deepEqual(s.entries().map((e) => [e.id, e.status]).sort(), [
      [idA, "dead"],
      [idB, "dead"],
    ]);
    // While someone holds the lock (a create or a removal in progress) it is not shown.
    using held = Deno.openSync(`${s.containerStateDir(idA)}/.lock`, { write: true });
    held.lockSync(true);
    assert.equal(s.readEntry(idA), null);
    assert.deepEqual(s.entries().map((e) => e.id), [idB]);
    held.unlockSync();
    assert.equal(s.resolveEntry(idA).status, "dead");
    assert.equal(destroyContainer(s, idA), true);
    assert.equal(destroyContainer(s, idB), true);
    assert.deepEqual(names(s.dir), []);
  }),
);

Deno.test(
  "What a killed create or removal leaves under a hidden name is swept, not while in progress",
  withStore((s) => {
    s.create(sample(idC, "kept")).release();
    Deno.mkdirSync(`${s.dir}/.new-${idA}`);
    Deno.writeTextFileSync(`${s.dir}/.new-${idA}/.lock`, "");
    Deno.mkdirSync(`${s.dir}/.removing-${idB}`);
    Deno.writeTextFileSync(`${s.dir}/.removing-${idB}/resources.json`, "{}");
    // A create in progress holds the store lock; a removal holds the container's.
    s.withLock(null, () => {
      using removal = Deno.openSync(`${s.dir}/.removing-${idB}/.lock`, {
        write: true,
        create: true,
      });
      removal.lockSync(true);
      assert.deepEqual(s.entries().map((e) => e.name), ["kept"]);
      assert.deepEqual(names(s.dir), [".lock", `.new-${idA}`, `.removing-${idB}`, idC]);
    });
    assert.deepEqual(s.entries().map((e) => e.name), ["kept"]);
    assert.deepEqual(names(s.dir), [".lock", idC]);
  }),
);

Deno.test(
  "create leaves nothing when its first write fails, and never shows a half-made directory",
  withStore((s) => {
    const failing = new StateStore(s.dir, (_f, path) => {
      if (path.endsWith(".tmp-" + Deno.pid) && path.includes("state.json")) {
        // At the first state write, the container is not visible yet.
        assert.deepEqual(s.entries(), []);
        throw new Error("disk full");
      }
    });
    // As create.ts does: under the store lock, so that the half-made directory is not swept.
    assert.throws(() => s.withLock(null, () => failing.create(sample(idA, "x"))), /disk full/);
    assert.deepEqual(names(s.dir), [".lock"]);
  }),
);

Deno.test(
  "StateStore ignores stray entries in the state root",
  withStore((s) => {
    Deno.mkdirSync(`${s.dir}/not-a-container`);
    Deno.writeTextFileSync(`${s.dir}/.lock`, "");
    assert.deepEqual(s.entries(), []);
  }),
);
