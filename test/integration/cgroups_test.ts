/**
 * The cgroup manager on this machine's real cgroupfs, as root: limits land in the kernel's
 * files, processes join, are listed and killed, OOM kills are seen, and nothing is left.
 * Every cgroup is made under a relative parent, so under this test's own cgroup in each
 * hierarchy, and removed at the end.
 */
import assert from "node:assert/strict";
import { type CgroupManager, newCgroupManager } from "../../src/cgroups/manager.ts";
import { detectCgroupLayout, parseProcCgroup } from "../../src/cgroups/detect.ts";
import { CgroupWriteError } from "../../src/cgroups/errors.ts";

const own = parseProcCgroup(Deno.readTextFileSync("/proc/self/cgroup"));

/** Why these tests cannot run here, if they cannot. */
function reasonToSkip(): string | undefined {
  if (Deno.uid() !== 0) return "cgroup integration tests need root";
  try {
    const layout = detectCgroupLayout();
    // v2's "no internal processes" rule: a relative parent under a busy cgroup gets no
    // controllers. The pure-v2 suite (test/v2) runs from the root cgroup instead.
    if (layout === "v2" && (own.get("") ?? "/") !== "/") {
      return "on cgroup v2 this test must run in the root cgroup";
    }
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

const skip = reasonToSkip();
if (skip) console.warn(`skipping test/integration/cgroups_test.ts: ${skip}`);
const ignore = skip !== undefined;

const PARENT = `m-docker-test-${crypto.randomUUID().slice(0, 8)}`;
const MiB = 1024 * 1024;

function newId(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

const read = (p: string) => Deno.readTextFileSync(p).trim();

/** The directory of a controller's files in a manager's paths. */
function dirOf(m: CgroupManager, controller: string): string {
  if (m.layout === "v2") return m.paths.unified;
  const key = Object.keys(m.paths).find((k) => k.split(",").includes(controller));
  assert.ok(key, `no ${controller} hierarchy in ${Object.keys(m.paths)}`);
  return m.paths[key];
}

/** Removes the test's parent directories (destroy leaves shared parents), asserting it can. */
function removeParents(m: CgroupManager): void {
  for (const dir of Object.values(m.paths)) {
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    assert.ok(parent.endsWith(`/${PARENT}`), parent);
    if (exists(parent)) Deno.removeSync(parent);
  }
}

/** Runs `body` with a fresh manager, then destroys it and removes the parents, whatever happens. */
async function withCgroup(body: (m: CgroupManager) => Promise<void> | void): Promise<void> {
  const m = newCgroupManager({ id: newId(), parent: PARENT });
  try {
    await body(m);
  } finally {
    m.destroy();
    removeParents(m);
  }
  for (const dir of Object.values(m.paths)) assert.ok(!exists(dir), `left behind: ${dir}`);
}

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
}

Deno.test({ name: "cgroups: paths nest under our own cgroup in every hierarchy", ignore }, () => {
  const m = newCgroupManager({ id: newId(), parent: PARENT });
  assert.ok(Object.keys(m.paths).length > 0);
  for (const [name, dir] of Object.entries(m.paths)) {
    const controllers = m.layout === "v2"
      ? ""
      : [...own.keys()].find((c) => c !== "" && c.replace(/^name=/, "") === name);
    assert.ok(controllers !== undefined, `hierarchy ${name} is not in /proc/self/cgroup`);
    const mine = own.get(controllers)!;
    const base = m.layout === "v2" ? "/sys/fs/cgroup" : `/sys/fs/cgroup/${name}`;
    assert.ok(dir.startsWith(`${base}${mine === "/" ? "" : mine}/${PARENT}/`), dir);
    assert.match(dir, new RegExp(`/${PARENT}/m-docker-[0-9a-f]{64}$`));
  }
});

Deno.test(
  { name: "cgroups: limits are written, a process joins, is killed, all removed", ignore },
  async () => {
    await withCgroup(async (m) => {
      m.create({
        memoryBytes: 64 * MiB,
        cpuQuotaUs: 50_000,
        cpuPeriodUs: 100_000,
        cpuShares: 512,
        cpusetCpus: "0",
        pidsLimit: 20,
        memoryReservationBytes: 32 * MiB,
        oomKillDisable: true,
      });
      for (const dir of Object.values(m.paths)) assert.ok(exists(dir), dir);
      if (m.layout === "v2") {
        const dir = m.paths.unified;
        assert.equal(read(`${dir}/memory.max`), String(64 * MiB));
        assert.equal(read(`${dir}/cpu.max`), "50000 100000");
        assert.equal(read(`${dir}/cpu.weight`), "20");
        assert.equal(read(`${dir}/cpuset.cpus`), "0");
        assert.equal(read(`${dir}/pids.max`), "20");
        assert.equal(read(`${dir}/memory.low`), String(32 * MiB));
      } else {
        assert.equal(read(`${dirOf(m, "memory")}/memory.limit_in_bytes`), String(64 * MiB));
        assert.equal(read(`${dirOf(m, "cpu")}/cpu.cfs_quota_us`), "50000");
        assert.equal(read(`${dirOf(m, "cpu")}/cpu.cfs_period_us`), "100000");
        assert.equal(read(`${dirOf(m, "cpu")}/cpu.shares`), "512");
        assert.equal(read(`${dirOf(m, "cpuset")}/cpuset.cpus`), "0");
        assert.notEqual(read(`${dirOf(m, "cpuset")}/cpuset.mems`), "", "mems copied from parent");
        assert.equal(read(`${dirOf(m, "pids")}/pids.max`), "20");
        const memory = dirOf(m, "memory");
        assert.equal(read(`${memory}/memory.soft_limit_in_bytes`), String(32 * MiB));
        assert.match(read(`${memory}/memory.oom_control`), /^oom_kill_disable 1$/m);
        if (m.paths.devices) {
          const list = read(`${m.paths.devices}/devices.list`).split("\n");
          assert.ok(list.includes("c 1:3 rwm") && list.includes("c 136:* rwm"), list.join("|"));
          assert.ok(!list.includes("a *:* rwm"), "everything else is denied");
        }
      }
      const child = sleeper();
      try {
        m.addProcess(child.pid);
        assert.deepEqual(m.pids(), [child.pid]);
        const where = read(`/proc/${child.pid}/cgroup`);
        for (const dir of Object.values(m.paths)) {
          const tail = dir.slice(dir.indexOf(`/${PARENT}/`));
          assert.ok(where.includes(tail), `${where} lacks ${tail}`);
        }
        assert.equal(m.oomKilled(), false);
        m.killAll();
        assert.deepEqual(m.pids(), []);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* already dead, as it should be */ }
        const status = await child.status;
        assert.equal(status.signal, "SIGKILL");
      }
    });
  },
);

Deno.test(
  { name: "cgroups: killAll with SIGTERM signals once; destroy kills the rest", ignore },
  async () => {
    await withCgroup(async (m) => {
      m.create({});
      const a = sleeper(), b = sleeper();
      m.addProcess(a.pid);
      m.addProcess(b.pid);
      assert.deepEqual(m.pids(), [a.pid, b.pid].sort((x, y) => x - y));
      m.killAll("SIGTERM");
      assert.equal((await a.status).signal, "SIGTERM");
      assert.equal((await b.status).signal, "SIGTERM");
      const c = sleeper();
      m.addProcess(c.pid);
      m.destroy(); // kills c, then removes the cgroup
      assert.equal((await c.status).signal, "SIGKILL");
    });
  },
);

Deno.test(
  { name: "cgroups: a cgroup nested in the container's is listed and removed", ignore },
  async () => {
    await withCgroup(async (m) => {
      m.create({ pidsLimit: 10 });
      const dir = dirOf(m, "pids");
      Deno.mkdirSync(`${dir}/inner`);
      const child = sleeper();
      m.addProcess(child.pid);
      // A program in the container moves itself into a cgroup of its own.
      Deno.writeTextFileSync(`${dir}/inner/cgroup.procs`, String(child.pid));
      assert.deepEqual(m.pids(), [child.pid]);
      m.destroy();
      assert.equal((await child.status).signal, "SIGKILL");
      assert.ok(!exists(`${dir}/inner`));
    });
  },
);

Deno.test({ name: "cgroups: a limit the kernel refuses leaves nothing behind", ignore }, () => {
  const m = newCgroupManager({ id: newId(), parent: PARENT });
  const parentExisted = Object.values(m.paths).map((d) => exists(d.slice(0, d.lastIndexOf("/"))));
  assert.throws(
    () => m.create({ cpusetCpus: "4095" }),
    // The kernel says EINVAL or ERANGE, depending on its version.
    (e: Error) =>
      /^write \/sys\/fs\/cgroup\/.*\/cpuset\.cpus: (Invalid argument|Numerical result out of range)$/
        .test(e.message),
  );
  // The kernel's errno, as a value, with the file and the value written.
  try {
    m.create({ cpusetCpus: "4095" });
    assert.fail("the kernel took cpuset.cpus 4095");
  } catch (e) {
    assert.ok(e instanceof CgroupWriteError, String(e));
    assert.ok(e.code === "EINVAL" || e.code === "ERANGE", e.code);
    assert.deepEqual([e.file, e.value, e.appliesLimit], ["cpuset.cpus", "4095", true]);
  }
  for (const dir of Object.values(m.paths)) assert.ok(!exists(dir), dir);
  assert.ok(parentExisted.every((p) => !p));
  for (const d of Object.values(m.paths)) {
    assert.ok(!exists(d.slice(0, d.lastIndexOf("/"))), "the parents it made are gone too");
  }
});

Deno.test(
  { name: "cgroups: a process over its memory limit is OOM-killed, and we see it", ignore },
  async () => {
    await withCgroup(async (m) => {
      // No swap either, where the kernel can limit it: else the process would page out.
      try {
        m.create({ memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB });
      } catch (e) {
        if (!/does not support memory swap limit/.test((e as Error).message)) throw e;
        m.create({ memoryBytes: 32 * MiB });
      }
      // It waits on stdin until it has joined the cgroup; tail buffers its one 200 MB line.
      const child = new Deno.Command("sh", {
        args: ["-c", "read go; head -c 200m /dev/zero | tail"],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      m.addProcess(child.pid);
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("go\n"));
      await w.close();
      const status = await child.status;
      assert.equal(status.code, 137, "tail was SIGKILLed");
      assert.equal(m.oomKilled(), true);
    });
  },
);
