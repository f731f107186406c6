import assert from "node:assert/strict";
import {
  AmbiguousContainerError,
  NoSuchContainerError,
  StateStore,
} from "../../src/state/store.ts";
import type { ContainerState } from "../../src/state/types.ts";

function sample(id: string, name: string, createdAt = new Date().toISOString()): ContainerState {
  return {
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
      mounts: [],
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

function withStore(fn: (s: StateStore) => void) {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-store-" });
  try {
    fn(new StateStore(dir));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("StateStore writes, reads, lists oldest first, and removes", () => {
  withStore((s) => {
    s.write(sample(idC, "late", "2024-01-02T00:00:00Z"));
    s.write(sample(idA, "early", "2024-01-01T00:00:00Z"));
    assert.deepEqual(s.list().map((c) => c.name), ["early", "late"]);
    assert.equal(s.read(idA)?.name, "early");
    s.remove(idA);
    assert.equal(s.read(idA), null);
    assert.deepEqual(s.list().map((c) => c.name), ["late"]);
  });
});

Deno.test("StateStore resolves by full ID, name, and unique prefix", () => {
  withStore((s) => {
    s.write(sample(idA, "one"));
    s.write(sample(idB, "two"));
    s.write(sample(idC, "three"));
    assert.equal(s.resolve(idA).name, "one");
    assert.equal(s.resolve("two").id, idB);
    assert.equal(s.resolve("/two").id, idB);
    assert.equal(s.resolve("ccc").id, idC);
    assert.throws(() => s.resolve("aaa"), AmbiguousContainerError);
    assert.throws(() => s.resolve("nope"), NoSuchContainerError);
  });
});

Deno.test("StateStore writes atomically: no temp file is left and the content is whole", () => {
  withStore((s) => {
    const st = sample(idA, "x");
    for (let i = 0; i < 20; i++) {
      st.exitCode = i;
      s.write(st);
    }
    assert.equal(s.read(idA)?.exitCode, 19);
    const files = [...Deno.readDirSync(s.containerStateDir(idA))].map((e) => e.name).sort();
    assert.deepEqual(files, ["state.json"]);
  });
});

Deno.test("StateStore.withLock on a removed container runs without recreating it", () => {
  withStore((s) => {
    s.write(sample(idA, "x"));
    s.remove(idA);
    const seen = s.withLock(idA, () => s.read(idA));
    assert.equal(seen, null);
    assert.throws(() => Deno.statSync(s.containerStateDir(idA)), Deno.errors.NotFound);
  });
});

Deno.test("StateStore ignores stray entries in the state root", () => {
  withStore((s) => {
    Deno.mkdirSync(`${s.dir}/not-a-container`);
    Deno.writeTextFileSync(`${s.dir}/.lock`, "");
    assert.deepEqual(s.list(), []);
  });
});
