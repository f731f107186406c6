/**
 * The OCI runtime's `update` and `events` on real containers, through dist/m-docker-runc
 * (or M_DOCKER_TEST_OCI_RUNTIME) as containerd's shim calls them. Every runtime command
 * runs in a cgroup jail of its own (`unshare --cgroup --mount` + cgroup-jail), and each
 * bundle's `linux.cgroupsPath` is relative, so every cgroup lands under the test's own
 * cgroup; each test has its own --root, deletes its containers and checks that no cgroup
 * is left. Last, podman's `update` (which writes a LinuxResources file and calls
 * `update --resources FILE`) through the peers' harness.
 */
import assert from "node:assert/strict";
import { asRoot, cgroupParentDirs, WatchedChild } from "./harness.ts";
import { IMAGE, PeerSandbox } from "./oci_peers.ts";

const repo = new URL("../../", import.meta.url).pathname;
const RUNTIME = Deno.env.get("M_DOCKER_TEST_OCI_RUNTIME") ?? `${repo}dist/m-docker-runc`;
const JAIL = Deno.env.get("M_DOCKER_TEST_CGROUP_JAIL") ?? `${repo}scripts/cgroup-jail`;

/** v1 hierarchies (this host's hybrid layout too), or the unified v2 one. */
const V1 = (() => {
  try {
    return Deno.statSync("/sys/fs/cgroup/memory").isDirectory;
  } catch {
    return false;
  }
})();

const MiB = 1024 * 1024;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A state root, bundles and a cgroup parent of one test's own. */
class RuntimeBox {
  readonly dir = Deno.makeTempDirSync({ prefix: "m-docker-test-rtupdate-" });
  readonly root = `${this.dir}/state`;
  readonly parent = `m-docker-rt-test-${crypto.randomUUID().slice(0, 8)}`;
  readonly ids: string[] = [];

  /** The runtime's argv in a jail of its own. */
  argv(args: string[]): string[] {
    return [
      "--cgroup",
      "--mount",
      "--propagation",
      "private",
      JAIL,
      RUNTIME,
      "--root",
      this.root,
      ...args,
    ];
  }

  /**
   * Runs the runtime. `create` and `start` hand their stdio on to the container (as runc's
   * do), which would hold a pipe open: theirs go to files, through a shell.
   */
  async run(args: string[], stdin?: string): Promise<Result> {
    if (args[0] === "create" || args[0] === "start") return this.runToFiles(args);
    const child = new Deno.Command("unshare", {
      args: this.argv(args),
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  private async runToFiles(args: string[]): Promise<Result> {
    const out = `${this.dir}/out`, err = `${this.dir}/err`;
    const { code } = await new Deno.Command("sh", {
      args: ["-c", `exec "$@" >${out} 2>${err}`, "sh", "unshare", ...this.argv(args)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return { code, stdout: Deno.readTextFileSync(out), stderr: Deno.readTextFileSync(err) };
  }

  async ok(args: string[], stdin?: string): Promise<string> {
    const r = await this.run(args, stdin);
    assert.equal(r.code, 0, `${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Creates container `id` from a busybox bundle running `args` with `resources`. */
  async create(id: string, args: string[], resources: Record<string, unknown>): Promise<void> {
    const bundle = `${this.dir}/${id}`;
    Deno.mkdirSync(`${bundle}/rootfs/bin`, { recursive: true });
    Deno.copyFileSync("/bin/busybox", `${bundle}/rootfs/bin/busybox`);
    for (const name of ["sh", "sleep", "tail"]) {
      Deno.symlinkSync("busybox", `${bundle}/rootfs/bin/${name}`);
    }
    await this.ok(["spec", "--bundle", bundle]);
    const config = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`));
    config.process.terminal = false;
    config.process.args = args;
    config.linux.cgroupsPath = `${this.parent}/${id}`;
    config.linux.resources = { ...config.linux.resources, ...resources };
    Deno.writeTextFileSync(`${bundle}/config.json`, JSON.stringify(config));
    this.ids.push(id);
    await this.ok(["create", "--bundle", bundle, id]);
  }

  /** A file of container `id`'s cgroup: v1's `v1` in `controller`, else v2's `v2`. */
  cgroupFile(id: string, controller: string, v1: string, v2: string): string {
    const dirs = cgroupParentDirs(this.parent);
    const dir = V1 ? dirs.find((d) => d.startsWith(`/sys/fs/cgroup/${controller}/`)) : dirs[0];
    assert.ok(dir, `no ${controller} hierarchy for ${this.parent}`);
    return Deno.readTextFileSync(`${dir}/${id}/${V1 ? v1 : v2}`).trim();
  }

  memoryLimit(id: string): string {
    return this.cgroupFile(id, "memory", "memory.limit_in_bytes", "memory.max");
  }

  pidsMax(id: string): string {
    return this.cgroupFile(id, "pids", "pids.max", "pids.max");
  }

  /** Deletes every container (kill first), then checks that no cgroup is left behind. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    for (const id of this.ids) {
      const r = await this.run(["delete", "--force", id]);
      if (r.code !== 0 && !r.stderr.includes("does not exist")) errors.push(r.stderr.trim());
    }
    const exists = (d: string) => {
      try {
        return Deno.statSync(d).isDirectory;
      } catch {
        return false;
      }
    };
    // A hybrid host's empty cgroup2 too: runc makes its directories there.
    const unified = Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)?.[1] ?? "/";
    const dirs = (path: string) => [
      ...cgroupParentDirs(path),
      ...(V1 ? [`/sys/fs/cgroup/unified${unified === "/" ? "" : unified}/${path}`] : []),
    ];
    const left = this.ids.flatMap((id) => dirs(`${this.parent}/${id}`)).filter(exists);
    // m-docker removes the emptied parent too; runc leaves it: gone either way.
    for (const d of dirs(this.parent).filter(exists)) {
      try {
        Deno.removeSync(d);
      } catch {
        left.push(d);
      }
    }
    Deno.removeSync(this.dir, { recursive: true });
    assert.deepEqual(errors, [], "delete -f failed");
    assert.deepEqual(left, [], "cgroups left behind");
  }
}

async function withBox(body: (box: RuntimeBox) => Promise<void>): Promise<void> {
  const box = new RuntimeBox();
  try {
    await body(box);
  } finally {
    await box.cleanup();
  }
}

const SLEEP = ["sleep", "1000"];

Deno.test("runtime update --memory writes the live cgroup's memory limit", asRoot, async () => {
  await withBox(async (box) => {
    await box.create("mem", SLEEP, { memory: { limit: 32 * MiB } });
    await box.ok(["start", "mem"]);
    assert.equal(box.memoryLimit("mem"), String(32 * MiB));
    await box.ok(["update", "--memory", "48m", "mem"]);
    assert.equal(box.memoryLimit("mem"), String(48 * MiB));
  });
});

Deno.test(
  "runtime update --resources - reads LinuxResources on stdin; flags override it",
  asRoot,
  async () => {
    await withBox(async (box) => {
      await box.create("res", SLEEP, { memory: { limit: 32 * MiB }, pids: { limit: 20 } });
      await box.ok(["start", "res"]);
      const resources = JSON.stringify({ memory: { limit: 40 * MiB }, pids: { limit: 5 } });
      await box.ok(["update", "--resources", "-", "res"], resources);
      assert.equal(box.memoryLimit("res"), String(40 * MiB));
      assert.equal(box.pidsMax("res"), "5");
      await box.ok(["update", "--resources", "-", "--pids-limit", "7", "res"], resources);
      assert.equal(box.pidsMax("res"), "7");
    });
  },
);

Deno.test("runtime update --pids-limit sets pids.max, and -1 lifts it", asRoot, async () => {
  await withBox(async (box) => {
    await box.create("pids", SLEEP, {});
    await box.ok(["start", "pids"]);
    assert.equal(box.pidsMax("pids"), "max");
    await box.ok(["update", "--pids-limit", "10", "pids"]);
    assert.equal(box.pidsMax("pids"), "10");
    await box.ok(["update", "--pids-limit", "-1", "pids"]);
    assert.equal(box.pidsMax("pids"), "max");
  });
});

Deno.test(
  "runtime update refuses what cannot be applied, exit 1, and the old limits stay",
  asRoot,
  async () => {
    await withBox(async (box) => {
      await box.create("bad", SLEEP, { memory: { limit: 32 * MiB, swap: 32 * MiB } });
      await box.ok(["start", "bad"]);
      // Above the memory+swap limit in force: refused before anything is written.
      const over = await box.run(["update", "--memory", "64m", "bad"]);
      assert.equal(over.code, 1, over.stderr);
      assert.equal(over.stderr.trim().split("\n").length, 1, over.stderr);
      assert.match(over.stderr, /memoryswap/);
      assert.equal(box.memoryLimit("bad"), String(32 * MiB));
      // A CPU the host does not have: the kernel refuses it.
      const cpus = box.cgroupFile("bad", "cpuset", "cpuset.cpus", "cpuset.cpus.effective");
      const nocpu = await box.run(["update", "--cpuset-cpus", "4095", "bad"]);
      assert.equal(nocpu.code, 1, nocpu.stderr);
      assert.match(nocpu.stderr, /cpuset\.cpus/);
      assert.equal(box.cgroupFile("bad", "cpuset", "cpuset.cpus", "cpuset.cpus.effective"), cpus);
      // Something this runtime cannot update: named, and refused.
      const rt = await box.run(
        ["update", "--resources", "-", "bad"],
        JSON.stringify({ cpu: { realtimeRuntime: 1000 } }),
      );
      assert.equal(rt.code, 1, rt.stderr);
      assert.match(rt.stderr, /cpu\.realtimeRuntime/);
      // The refusals were not recorded: an update both limits allow still goes through.
      await box.ok(["update", "--memory", "24m", "bad"]);
      assert.equal(box.memoryLimit("bad"), String(24 * MiB));
    });
  },
);

Deno.test("runtime events --stats prints one stats line with memory and pids", asRoot, async () => {
  await withBox(async (box) => {
    await box.create("st", SLEEP, { pids: { limit: 50 } });
    await box.ok(["start", "st"]);
    const out = await box.ok(["events", "--stats", "st"]);
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 1, out);
    const event = JSON.parse(lines[0]);
    assert.equal(event.type, "stats");
    assert.equal(event.id, "st");
    assert.ok(event.data.memory.usage.usage > 0, out);
    assert.ok(event.data.pids.current >= 1, out);
    assert.equal(event.data.pids.limit, 50);
    assert.ok(event.data.cpu.usage.total > 0, out);
  });
});

Deno.test(
  "runtime events reports the OOM kill and ends when the container stops",
  asRoot,
  async () => {
    await withBox(async (box) => {
      await box.create("oom", ["tail", "/dev/zero"], {
        memory: { limit: 16 * MiB, swap: 16 * MiB },
      });
      const events = new WatchedChild("unshare", box.argv(["events", "--interval", "1s", "oom"]));
      try {
        // A first stats line: events has read the kill counter, so the kill to come is new.
        await events.expect(/"type":"stats","id":"oom"/, { what: "a first stats line" });
        await box.ok(["start", "oom"]);
        const status = await events.exited({ what: "events to end once the container stops" });
        assert.equal(status.code, 0, events.transcript());
        const types = events.stdout.trim().split("\n").map((l) => JSON.parse(l).type);
        assert.ok(types.includes("oom"), events.transcript());
      } finally {
        await events.close();
      }
      const state = JSON.parse(await box.ok(["state", "oom"]));
      assert.equal(state.status, "stopped");
    });
  },
);

Deno.test("podman update drives the runtime's update --resources FILE", asRoot, async () => {
  const sb = await PeerSandbox.start("podman update");
  try {
    await sb.podmanLoad();
    const id = (await sb.podmanOk([
      "run",
      "-d",
      ...sb.podmanRunOptions(),
      "--name",
      "u1",
      "-m",
      "32m",
      IMAGE,
      ...SLEEP,
    ])).trim();
    await sb.podmanOk(["update", "--memory", "48m", "u1"]);
    assert.ok(
      sb.invocations().some((l) => / update --resources[= ]/.test(l)),
      sb.invocations().join("\n"),
    );
    const dirs = cgroupParentDirs(`${sb.tag}-podman/libpod-${id}`);
    const dir = V1 ? dirs.find((d) => d.startsWith("/sys/fs/cgroup/memory/")) : dirs[0];
    const file = `${dir}/${V1 ? "memory.limit_in_bytes" : "memory.max"}`;
    assert.equal(Deno.readTextFileSync(file).trim(), String(48 * MiB));
    await sb.podmanOk(["rm", "-f", "u1"]);
  } finally {
    await sb.cleanup();
  }
});
