/**
 * reconcile's repair of a container that died unseen: recorded exited with 255, its
 * addresses given back from the network table, an `--rm` one removed; and the look at the
 * table's text that decides whether the network code is loaded at all.
 */
import assert from "node:assert/strict";
import { mayHoldNetwork, reconcile, UNKNOWN_EXIT_CODE } from "../../src/container/reconcile.ts";
import { NetworkStore } from "../../src/network/store.ts";
import { StateStore } from "../../src/state/store.ts";
import type { ContainerState } from "../../src/state/types.ts";

const ID = "d".repeat(64);
const OTHER = "e".repeat(64);

/** A container recorded running whose process is gone (this PID, another start time). */
function crashed(id: string, networkDir?: string): ContainerState {
  return {
    version: 1,
    id,
    name: "web",
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
    status: "running",
    pid: Deno.pid,
    pidStartTime: 1,
    createdAt: new Date().toISOString(),
    rootfs: { lowerDirs: [], upperDir: "", workDir: "", mountPoint: "" },
    containerDir: "",
    logPath: "",
    cgroup: { layout: "v1", paths: {} },
    networkDir,
  };
}

/** Puts an endpoint of `id` on the bridge network of the table in `dir`. */
function addEndpoint(dir: string, id: string, stateDir: string, ip: string): void {
  new NetworkStore(dir).update((db) => {
    db.endpoints.push({
      networkId: db.networks.find((n) => n.name === "bridge")!.id,
      containerId: id,
      stateDir,
      name: id.slice(0, 4),
      aliases: [],
      ip,
      mac: "02:42:ac:11:00:02",
      hostVeth: "mdv0",
    });
  });
}

function withDirs(fn: (store: StateStore, networkDir: string) => Promise<void> | void) {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-reconcile-" });
    try {
      await fn(new StateStore(`${dir}/containers`), `${dir}/network`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test(
  "the network table is looked at only when it exists and names the container",
  withDirs((_store, networkDir) => {
    assert.equal(mayHoldNetwork(crashed(ID)), false, "no network directory recorded");
    assert.equal(mayHoldNetwork(crashed(ID, networkDir)), false, "no table yet");
    addEndpoint(networkDir, OTHER, "/nowhere", "172.17.0.3");
    assert.equal(mayHoldNetwork(crashed(ID, networkDir)), false, "another container's");
    addEndpoint(networkDir, ID, "/nowhere", "172.17.0.2");
    assert.equal(mayHoldNetwork(crashed(ID, networkDir)), true);
    // A table that cannot be read is releaseContainer's to report, not a "no".
    const unreadable = `${networkDir}/unreadable`;
    Deno.mkdirSync(`${unreadable}/networks.json`, { recursive: true });
    assert.equal(mayHoldNetwork(crashed(ID, unreadable)), true);
  }),
);

Deno.test(
  "a container that died unseen is recorded exited, and its address is given back",
  withDirs(async (store, networkDir) => {
    store.create(crashed(ID, networkDir)).release();
    addEndpoint(networkDir, ID, store.dir, "172.17.0.2");
    addEndpoint(networkDir, OTHER, store.dir, "172.17.0.3");
    const now = await reconcile(store, store.read(ID)!);
    assert.equal(now?.status, "exited");
    assert.equal(now?.exitCode, UNKNOWN_EXIT_CODE);
    assert.equal(store.read(ID)?.status, "exited");
    const db = new NetworkStore(networkDir).read();
    assert.deepEqual(db.endpoints.map((e) => e.containerId), [OTHER]);
  }),
);

Deno.test(
  "an --rm container that died unseen is removed, and leaves its exit code",
  withDirs(async (store, networkDir) => {
    const state = crashed(ID, networkDir);
    state.spec.autoRemove = true;
    store.create(state).release();
    addEndpoint(networkDir, ID, store.dir, "172.17.0.2");
    assert.equal(await reconcile(store, store.read(ID)!), null);
    assert.equal(store.read(ID), null);
    assert.equal(store.readTombstone(ID), UNKNOWN_EXIT_CODE);
    assert.deepEqual(new NetworkStore(networkDir).read().endpoints, []);
  }),
);
