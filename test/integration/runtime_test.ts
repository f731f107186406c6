/**
 * m-docker's OCI runtime (dist/m-docker-runc, runc's command line) against the runtime spec
 * (runtime.md's lifecycle and operations, config.md, config-linux.md): real containers from
 * bundles this test writes (a rootfs of the host's static busybox, config.json from `spec`
 * then edited), each command run as a peer runs runc, in a cgroup jail of the test's own
 * (`unshare --cgroup --mount` + cgroup-jail), with a temporary `--root` and a relative
 * `linux.cgroupsPath` (`m-docker-rt-test-XXXXXX/<id>`), so every cgroup lands under the test's
 * own. Every test ends with `delete -f` of what is left and a check that no process, cgroup,
 * state directory or mount of it remains.
 */
import assert from "node:assert/strict";
import { asRoot, waitFor } from "./harness.ts";
import { ociRuntime, subdirs } from "./oci_peers.ts";
import { isProcessAlive } from "../../src/state/proc.ts";
import { lstatOrNull } from "../../src/util/fs.ts";

const exists = (path: string) => lstatOrNull(path) !== null;
/** Whether `pid` is alive (a zombie is not). */
const alive = (pid: number) => isProcessAlive(pid, undefined);

const repo = new URL("../../", import.meta.url).pathname;
const RUNC = ociRuntime();
const JAIL = Deno.env.get("M_DOCKER_TEST_CGROUP_JAIL") ?? `${repo}scripts/cgroup-jail`;
const COMMAND_MS = Number(Deno.env.get("M_DOCKER_TEST_TIMEOUT_MS") ?? 120_000);
/** The jail: every cgroup the runtime makes nests under the test's own cgroup. */
const JAILED = ["unshare", "--cgroup", "--mount", "--propagation", "private", JAIL];

/** Result of one runtime command. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// deno-lint-ignore no-explicit-any
type Config = any;

/** busybox's applets, linked in every rootfs. */
let applets: string[] | undefined;
function busyboxApplets(): string[] {
  applets ??= new TextDecoder().decode(
    new Deno.Command("/bin/busybox", { args: ["--list"], stdout: "piped" }).outputSync().stdout,
  ).trim().split("\n").filter((a) => a && a !== "busybox");
  return applets;
}

/** The cgroup directory `rel` (relative to this process's own cgroup) in every hierarchy. */
function cgroupDirs(rel: string): Map<string, string> {
  const out = new Map<string, string>();
  const hybrid = isDir("/sys/fs/cgroup/unified");
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").trim().split("\n")) {
    const [, controllers, path] = line.split(":");
    const name = controllers === ""
      ? (hybrid ? "unified" : "")
      : controllers.startsWith("name=")
      ? controllers.slice(5)
      : controllers;
    const mount = `/sys/fs/cgroup${name ? `/${name}` : ""}`;
    if (!isDir(mount)) continue;
    out.set(name || "unified", `${mount}${path === "/" ? "" : path}/${rel}`);
  }
  return out;
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** One test's runtime: its temporary directory, `--root`, cgroup parent and bundles. */
class Rt {
  readonly dir = Deno.makeTempDirSync({ prefix: "m-docker-rt-test-" });
  readonly root = `${this.dir}/root`;
  /** The cgroup parent, relative: `<own cgroup>/<tag>/<id>` in every hierarchy. */
  readonly tag = `m-docker-rt-test-${this.dir.slice(-6)}`;
  /** Init pids seen, checked gone at the end. */
  readonly pids = new Set<number>();
  #busybox?: string;
  #commands = 0;

  /**
   * Runs the runtime in the jail with `args` (after `--root`); `prefix` wraps the jail. Its
   * stdout and stderr are files, as a shim's are: a container's init (and an exec'd process)
   * keeps the runtime's stdio, so pipes would not see EOF until the container is gone.
   */
  async run(
    args: string[],
    opts: {
      stdin?: string;
      prefix?: string[];
      global?: string[];
      /** Called with the runtime's process once it runs (the wrapper execs it). */
      started?: (child: Deno.ChildProcess) => void;
    } = {},
  ): Promise<Run> {
    const n = this.#commands++;
    Deno.mkdirSync(`${this.dir}/io`, { recursive: true });
    const out = `${this.dir}/io/${n}.out`, err = `${this.dir}/io/${n}.err`;
    const argv = [...(opts.prefix ?? []), ...JAILED, RUNC, "--root", this.root];
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'o=$1 e=$2; shift 2; exec "$@" >"$o" 2>"$e"',
        "sh",
        out,
        err,
        ...argv,
        ...(opts.global ?? []),
        ...args,
      ],
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    opts.started?.(child);
    // A hung command must fail its test, not hang the file.
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, COMMAND_MS);
    const status = await child.status.finally(() => clearTimeout(timer));
    const read = (f: string) => {
      try {
        return Deno.readTextFileSync(f);
      } catch {
        return "";
      }
    };
    return { code: status.code, stdout: read(out), stderr: read(err) };
  }

  /** Runs the runtime and asserts it exits 0; returns stdout. */
  async ok(args: string[], opts: { stdin?: string; prefix?: string[] } = {}): Promise<string> {
    const r = await this.run(args, opts);
    assert.equal(r.code, 0, `m-docker-runc ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs the runtime and asserts it fails with exit 1 and one line matching `what`. */
  async fails(args: string[], what: RegExp, opts: { prefix?: string[] } = {}): Promise<Run> {
    const r = await this.run(args, opts);
    assert.equal(r.code, 1, `m-docker-runc ${args.join(" ")} exited ${r.code}, not 1: ${r.stderr}`);
    assert.match(r.stderr, what);
    assert.equal(r.stderr.trim().split("\n").length, 1, `not one line: ${r.stderr}`);
    return r;
  }

  /** `state ID`, parsed. */
  async state(id: string): Promise<Config> {
    const s = JSON.parse(await this.ok(["state", id]));
    if (s.pid > 0) this.pids.add(s.pid);
    return s;
  }

  async status(id: string): Promise<string> {
    return (await this.state(id)).status;
  }

  async waitStatus(id: string, status: string): Promise<void> {
    let last = "";
    await waitFor(async () => (last = await this.status(id)) === status, {
      what: `${id} to be ${status}`,
      detail: () => `it is ${last}`,
    });
  }

  /**
   * A bundle `dir/<id>` for container `id`: busybox in rootfs/bin, config.json from `spec`
   * with `args` as the command, no terminal, a writable root and the test's cgroup parent,
   * then `edit`ed. Returns the bundle's path.
   */
  async bundle(
    id: string,
    args: string[],
    edit: (c: Config) => void = () => {},
    text: (json: string) => string = (j) => j,
  ): Promise<string> {
    const b = `${this.dir}/${id}`;
    Deno.mkdirSync(`${b}/rootfs/bin`, { recursive: true });
    if (!this.#busybox) {
      this.#busybox = `${this.dir}/busybox`;
      Deno.copyFileSync("/bin/busybox", this.#busybox);
    }
    Deno.linkSync(this.#busybox, `${b}/rootfs/bin/busybox`);
    for (const a of busyboxApplets()) Deno.symlinkSync("busybox", `${b}/rootfs/bin/${a}`);
    for (const d of ["proc", "dev", "sys", "tmp", "etc"]) Deno.mkdirSync(`${b}/rootfs/${d}`);
    Deno.chmodSync(`${b}/rootfs/tmp`, 0o1777);
    const spec = await new Deno.Command(RUNC, { args: ["spec", "--bundle", b], stderr: "piped" })
      .output();
    assert.equal(spec.code, 0, new TextDecoder().decode(spec.stderr));
    const c = JSON.parse(Deno.readTextFileSync(`${b}/config.json`));
    c.process.terminal = false;
    c.process.args = args;
    c.root.readonly = false;
    c.linux.cgroupsPath = `${this.tag}/${id}`;
    edit(c);
    Deno.writeTextFileSync(`${b}/config.json`, text(JSON.stringify(c, null, 2)));
    return b;
  }

  /** `run ID` of a bundle with `args` (foreground): its exit code and output. */
  async runIn(
    id: string,
    args: string[],
    edit?: (c: Config) => void,
    text?: (json: string) => string,
  ): Promise<Run> {
    const b = await this.bundle(id, args, edit, text);
    return await this.run(["run", "--bundle", b, id]);
  }

  /** `runIn` that must exit 0; its stdout. */
  async output(
    id: string,
    args: string[],
    edit?: (c: Config) => void,
    text?: (json: string) => string,
  ): Promise<string> {
    const r = await this.runIn(id, args, edit, text);
    assert.equal(r.code, 0, `run ${id} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** `run -d` of a bundle whose command serves until SIGTERM; returns the bundle. */
  async serve(id: string, edit?: (c: Config) => void): Promise<string> {
    const b = await this.bundle(id, SERVE, edit);
    await this.ok(["run", "-d", "--bundle", b, id]);
    await this.state(id);
    await this.serving(b);
    return b;
  }

  /** Waits until a started SERVE bundle's command has set its trap. */
  async serving(bundle: string): Promise<void> {
    await waitFor(() => exists(`${bundle}/rootfs/serving`), { what: `${bundle} to serve` });
  }

  /** The container's cgroup directory in one hierarchy (`memory`, `freezer`, ...). */
  cgroup(controller: string, id: string): string {
    const d = cgroupDirs(`${this.tag}/${id}`).get(controller);
    assert.ok(d, `no ${controller} hierarchy`);
    return d;
  }

  /** What this test left: state directories, cgroups (and their pids), live inits, mounts. */
  leftovers(): string[] {
    const out: string[] = [];
    try {
      for (const e of Deno.readDirSync(this.root)) out.push(`state ${this.root}/${e.name}`);
    } catch { /* never made */ }
    for (const dir of cgroupDirs(this.tag).values()) {
      for (const d of subdirs(dir)) out.push(`cgroup ${d}`);
      try {
        const procs = Deno.readTextFileSync(`${dir}/cgroup.procs`).trim();
        if (procs) out.push(`processes ${procs.split("\n").join(",")} in ${dir}`);
      } catch { /* none made */ }
    }
    for (const pid of this.pids) if (alive(pid)) out.push(`process ${pid}`);
    for (const l of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
      if (l.includes(this.dir)) out.push(`mount ${l}`);
    }
    return out;
  }

  /** Asserts that nothing of the runtime is left now. */
  assertClean(): void {
    assert.deepEqual(this.leftovers(), []);
  }

  /** `delete -f` of every container, then the check, then the directory and cgroup parents. */
  async cleanup(): Promise<void> {
    try {
      const ids = (await this.run(["list", "-q"])).stdout.trim().split("\n").filter(Boolean);
      for (const id of ids) {
        try {
          await this.state(id);
        } catch { /* reported by the check */ }
        await this.run(["delete", "-f", id]);
      }
      let left: string[] = [];
      await waitFor(() => (left = this.leftovers()).length === 0, {
        what: "the runtime's processes, cgroups, state and mounts to go",
        detail: () => left.join("; "),
        timeoutMs: 5_000,
      });
    } finally {
      for (const pid of this.pids) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      for (const dir of cgroupDirs(this.tag).values()) {
        for (const d of [...subdirs(dir), dir]) {
          try {
            Deno.removeSync(d);
          } catch { /* not there */ }
        }
      }
      Deno.removeSync(this.dir, { recursive: true });
    }
  }
}

/**
 * A command that exits 0 at once on SIGTERM (a plain PID 1 ignores it), once /serving
 * exists (its trap is set: `Rt.serving` waits for it before a test sends the signal).
 */
const SERVE = ["sh", "-c", "trap 'exit 0' TERM; touch /serving; sleep 1000 & wait"];

/** Runs `body` with a fresh Rt, cleaned up and checked whatever happens. */
function rtTest(name: string, body: (rt: Rt) => Promise<void>): void {
  Deno.test({
    name,
    ...asRoot,
    async fn() {
      const rt = new Rt();
      try {
        await body(rt);
      } finally {
        await rt.cleanup();
      }
    },
  });
}

// ---------------------------------------------------------------------------------------
// Lifecycle (runtime.md "Lifecycle" and "Operations")

rtTest(
  "create leaves a created container: the pid file written, init waiting, the command not run",
  async (rt) => {
    const b = await rt.bundle("life", [
      "sh",
      "-c",
      "trap 'exit 0' TERM; touch /ran; sleep 1000 & wait",
    ]);
    const pidFile = `${rt.dir}/life.pid`;
    await rt.ok(["create", "--bundle", b, "--pid-file", pidFile, "life"]);
    // Written before create returned.
    const pid = Number(Deno.readTextFileSync(pidFile));
    rt.pids.add(pid);
    const s = await rt.state("life");
    assert.equal(s.status, "created");
    assert.equal(s.pid, pid);
    assert.equal(s.id, "life");
    assert.equal(s.bundle, b);
    assert.equal(s.ociVersion.split(".")[0], "1");
    assert.ok(alive(pid), `init ${pid} is not alive`);
    assert.ok(!exists(`${b}/rootfs/ran`), "the command ran before start");

    await rt.ok(["start", "life"]);
    assert.equal(await rt.status("life"), "running");
    await waitFor(() => exists(`${b}/rootfs/ran`), { what: "the command to run after start" });
    await rt.fails(["start", "life"], /running/);

    // Refused without --force, and the container still runs.
    await rt.fails(["delete", "life"], /not stopped/);
    assert.equal(await rt.status("life"), "running");

    // The default signal is SIGTERM, which the command traps.
    await rt.ok(["kill", "life"]);
    await rt.waitStatus("life", "stopped");
    assert.equal((await rt.state("life")).pid, 0);
    await rt.fails(["start", "life"], /stopped/);
    await rt.ok(["delete", "life"]);
    await rt.fails(["state", "life"], /does not exist/);
    rt.assertClean();
  },
);

rtTest("kill by name and by number delivers that signal", async (rt) => {
  const b = await rt.bundle("sig", [
    "sh",
    "-c",
    "trap 'touch /usr1' USR1; trap 'touch /usr2' USR2; trap 'exit 0' TERM; " +
    "touch /ran; while :; do sleep 1000 & wait; done",
  ]);
  await rt.ok(["run", "-d", "--bundle", b, "sig"]);
  await waitFor(() => exists(`${b}/rootfs/ran`), { what: "the command to run" });
  await rt.ok(["kill", "sig", "USR1"]);
  await waitFor(() => exists(`${b}/rootfs/usr1`), { what: "SIGUSR1 by name" });
  assert.ok(!exists(`${b}/rootfs/usr2`));
  await rt.ok(["kill", "sig", "12"]);
  await waitFor(() => exists(`${b}/rootfs/usr2`), { what: "SIGUSR2 by number" });
  await rt.ok(["kill", "sig", "SIGTERM"]);
  await rt.waitStatus("sig", "stopped");
  await rt.fails(["kill", "sig", "KILL"], /not running/);
});

rtTest(
  "delete -f kills a running container; a created one can be killed and deleted",
  async (rt) => {
    await rt.serve("run1");
    const pid = (await rt.state("run1")).pid;
    await rt.ok(["delete", "-f", "run1"]);
    await rt.fails(["state", "run1"], /does not exist/);
    assert.ok(!alive(pid), `init ${pid} survived delete -f`);

    const b = await rt.bundle("made", ["sh", "-c", "touch /ran"]);
    await rt.ok(["create", "--bundle", b, "made"]);
    assert.equal(await rt.status("made"), "created");
    await rt.ok(["kill", "made", "KILL"]);
    await rt.waitStatus("made", "stopped");
    await rt.ok(["delete", "made"]);
    assert.ok(!exists(`${b}/rootfs/ran`), "a killed created container ran its command");
    rt.assertClean();
  },
);

rtTest("state of an unknown id fails; create with an existing id fails", async (rt) => {
  await rt.fails(["state", "nosuch"], /container does not exist: nosuch/);
  await rt.fails(["kill", "nosuch"], /does not exist/);
  await rt.fails(["delete", "nosuch"], /does not exist/);
  const b = await rt.bundle("dup", SERVE);
  await rt.ok(["create", "--bundle", b, "dup"]);
  const pid = (await rt.state("dup")).pid;
  await rt.fails(["create", "--bundle", b, "dup"], /exists/);
  // The first one is untouched.
  assert.equal(await rt.status("dup"), "created");
  assert.equal((await rt.state("dup")).pid, pid);
});

rtTest("run in the foreground passes the output and exits with the command's code", async (rt) => {
  const r = await rt.runIn("fg", ["sh", "-c", "echo out; echo err >&2; exit 7"]);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, "out\n");
  assert.match(r.stderr, /err/);
  // run deletes what it ran.
  await rt.fails(["state", "fg"], /does not exist/);
  rt.assertClean();
});

rtTest(
  "run in the foreground forwards a signal to the container and exits with its code",
  async (rt) => {
    const b = await rt.bundle("fwd", [
      "sh",
      "-c",
      "trap 'echo got-term; exit 3' TERM; touch /ready; sleep 1000 & wait",
    ]);
    let runtime: Deno.ChildProcess | undefined;
    const done = rt.run(["run", "--bundle", b, "fwd"], { started: (c) => runtime = c });
    await waitFor(() => exists(`${b}/rootfs/ready`), { what: "the container to run" });
    await rt.state("fwd");
    runtime!.kill("SIGTERM");
    const r = await done;
    assert.equal(r.code, 3, `run exited ${r.code}: ${r.stderr}`);
    assert.equal(r.stdout, "got-term\n");
    await rt.fails(["state", "fwd"], /does not exist/);
  },
);

rtTest("run -d returns with the container running; list (table, json, -q); ps", async (rt) => {
  const b = await rt.serve("bg");
  await rt.serve("bg2");
  assert.equal(await rt.status("bg"), "running");
  const pid = (await rt.state("bg")).pid;

  const table = (await rt.ok(["list"])).trim().split("\n");
  assert.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  assert.equal(table.length, 3);
  assert.match(table[1], new RegExp(`^bg\\s+${pid}\\s+running\\s+${b}\\s`));
  const json = JSON.parse(await rt.ok(["list", "--format", "json"]));
  assert.deepEqual(json.map((s: Config) => [s.id, s.status]), [["bg", "running"], [
    "bg2",
    "running",
  ]]);
  assert.equal(json[0].pid, pid);
  assert.equal(await rt.ok(["list", "-q"]), "bg\nbg2\n");

  // sh and its sleep, which sh starts after its trap.
  let pids: number[] = [];
  await waitFor(
    async () => (pids = JSON.parse(await rt.ok(["ps", "--format", "json", "bg"]))).length === 2,
    { what: "sh and its sleep in ps", detail: () => JSON.stringify(pids) },
  );
  await rt.ok(["kill", "bg2"]);
  await rt.waitStatus("bg2", "stopped");
  assert.deepEqual(JSON.parse(await rt.ok(["ps", "--format", "json", "bg2"])), []);
  assert.ok(pids.includes(pid), `ps: ${JSON.stringify(pids)}`);
  assert.match(await rt.ok(["ps", "bg"]), new RegExp(`^PID\\n(\\d+\\n)*${pid}\\n`));
});

rtTest("pause freezes the cgroup and resume thaws it", async (rt) => {
  await rt.serve("frz");
  await rt.ok(["pause", "frz"]);
  assert.equal(await rt.status("frz"), "paused");
  const freezer = rt.cgroup("freezer", "frz");
  assert.equal(Deno.readTextFileSync(`${freezer}/freezer.state`).trim(), "FROZEN");
  await rt.fails(["pause", "frz"], /not running/);
  await rt.ok(["resume", "frz"]);
  assert.equal(await rt.status("frz"), "running");
  assert.equal(Deno.readTextFileSync(`${freezer}/freezer.state`).trim(), "THAWED");
  await rt.fails(["resume", "frz"], /not paused/);
  // A paused container is deleted with --force too.
  await rt.ok(["pause", "frz"]);
  await rt.fails(["delete", "frz"], /not stopped: paused/);
  await rt.ok(["delete", "-f", "frz"]);
  rt.assertClean();
});

rtTest("--log FILE --log-format json gets one JSON line per error", async (rt) => {
  const log = `${rt.dir}/log.json`;
  const r = await rt.run(["state", "nosuch"], { global: ["--log", log, "--log-format", "json"] });
  assert.equal(r.code, 1);
  const lines = Deno.readTextFileSync(log).trim().split("\n");
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.level, "error");
  assert.match(line.msg, /container does not exist: nosuch/);
  assert.ok(!Number.isNaN(Date.parse(line.time)), `time: ${line.time}`);
  const text = `${rt.dir}/log.txt`;
  await rt.run(["state", "nosuch"], { global: ["--log", text] });
  assert.match(Deno.readTextFileSync(text), /^time="[^"]+" level=error msg=".*nosuch"\n$/);
});

// ---------------------------------------------------------------------------------------
// config.json (config.md, config-linux.md)

rtTest(
  "an invalid config.json fails create in one line naming the field, leaving nothing",
  async (rt) => {
    const b = await rt.bundle("bad", SERVE, (c) => c.linux.namespaces[0].type = "foo");
    await rt.fails(["create", "--bundle", b, "bad"], /linux\.namespaces\[0\]\.type/);
    rt.assertClean();
    // What the runtime refuses (not the parser) names the field too.
    const t = await rt.bundle("timens", SERVE, (c) => c.linux.namespaces.push({ type: "time" }));
    await rt.fails(["create", "--bundle", t, "timens"], /linux\.namespaces\[\d\]\.type.*time/);
    rt.assertClean();
    const nx = await rt.bundle("nocmd", ["no-such-command"]);
    await rt.fails(["create", "--bundle", nx, "nocmd"], /no-such-command.*not found/);
    rt.assertClean();
    const m = await rt.bundle("nort", SERVE, (c) => c.root.path = "missing");
    const r = await rt.fails(["create", "--bundle", m, "nort"], /missing/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    rt.assertClean();
  },
);

rtTest("process: env, and a relative mount destination is taken from /", async (rt) => {
  const b = await rt.bundle("env", ["sh", "-c", "echo $FOO $BAR; cat /rel/f"], (c) => {
    c.process.env.push("FOO=foo", "BAR=b a r");
    // A relative source is the bundle's, a relative destination is under / (deprecated).
    c.mounts.push({ destination: "rel", type: "bind", source: "data", options: ["bind"] });
  });
  Deno.mkdirSync(`${b}/data`);
  Deno.writeTextFileSync(`${b}/data/f`, "in-bundle\n");
  assert.equal(await rt.ok(["run", "--bundle", b, "env"]), "foo b a r\nin-bundle\n");
});

rtTest("process: a missing cwd is created; user, additionalGids and umask", async (rt) => {
  assert.equal(
    await rt.output("cwd", ["pwd"], (c) => c.process.cwd = "/made/here"),
    "/made/here\n",
  );
  const out = await rt.output(
    "user",
    ["sh", "-c", "id -u; id -g; id -G; umask; touch /tmp/f; stat -c %a /tmp/f"],
    (c) => c.process.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o027 },
  );
  const [uid, gid, groups, umask, mode] = out.trim().split("\n");
  assert.equal(uid, "1000");
  assert.equal(gid, "1001");
  assert.deepEqual(groups.split(" ").map(Number).sort((a, b) => a - b), [10, 20, 1001]);
  assert.equal(umask, "0027");
  assert.equal(mode, "640");
});

rtTest("process: capabilities.bounding, rlimits, noNewPrivileges, oomScoreAdj", async (rt) => {
  const status = (out: string, key: string) =>
    out.match(new RegExp(`^${key}:\\s*(\\S+)$`, "m"))?.[1];
  const out = await rt.output(
    "caps",
    [
      "sh",
      "-c",
      "cat /proc/self/status; echo nofile $(ulimit -n) $(ulimit -Hn); cat /proc/self/oom_score_adj",
    ],
    (c) => {
      const caps = ["CAP_CHOWN", "CAP_KILL"];
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      c.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 123, hard: 456 }];
      c.process.noNewPrivileges = true;
      c.process.oomScoreAdj = 345;
    },
  );
  assert.equal(status(out, "CapBnd"), "0000000000000021"); // bits 0 (CHOWN) and 5 (KILL)
  assert.equal(status(out, "CapEff"), "0000000000000021");
  assert.equal(status(out, "NoNewPrivs"), "1");
  assert.match(out, /^nofile 123 456$/m);
  assert.match(out, /^345$/m);
  const off = await rt.output(
    "nnp",
    ["cat", "/proc/self/status"],
    (c) => c.process.noNewPrivileges = false,
  );
  assert.equal(status(off, "NoNewPrivs"), "0");
});

rtTest("hostname, a read-only root, maskedPaths and readonlyPaths", async (rt) => {
  const out = await rt.output("names", ["hostname"], (c) => c.hostname = "rt-host");
  assert.equal(out, "rt-host\n");
  // Without runc's read-only /proc/sys, the domainname is set too.
  const dn = await rt.output("dn", ["cat", "/proc/sys/kernel/domainname"], (c) => {
    c.domainname = "rt.example";
    c.linux.readonlyPaths = c.linux.readonlyPaths.filter((p: string) => p !== "/proc/sys");
  });
  assert.equal(dn, "rt.example\n");

  const ro = await rt.runIn("ro", ["touch", "/x"], (c) => c.root.readonly = true);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);

  const b = await rt.bundle("mask", [
    "sh",
    "-c",
    "cat /etc/secret.txt; ls /etc/secret; echo --; touch /data/x || echo ro-ok; cat /data/f",
  ], (c) => {
    c.linux.maskedPaths = ["/etc/secret.txt", "/etc/secret", "/no/such"];
    c.linux.readonlyPaths = ["/data", "/no/such2"];
  });
  Deno.writeTextFileSync(`${b}/rootfs/etc/secret.txt`, "SECRET\n");
  Deno.mkdirSync(`${b}/rootfs/etc/secret`);
  Deno.writeTextFileSync(`${b}/rootfs/etc/secret/inside`, "x");
  Deno.mkdirSync(`${b}/rootfs/data`);
  Deno.writeTextFileSync(`${b}/rootfs/data/f`, "readable\n");
  const r = await rt.run(["run", "--bundle", b, "mask"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "--\nro-ok\nreadable\n");
  assert.ok(!exists(`${b}/rootfs/data/x`));
});

rtTest(
  "domainname with runc's default read-only /proc/sys (init writes it after: EROFS)",
  async (rt) => {
    const out = await rt.output("dn", ["cat", "/proc/sys/kernel/domainname"], (c) => {
      c.domainname = "rt.example";
      assert.ok(c.linux.readonlyPaths.includes("/proc/sys"));
    });
    assert.equal(out, "rt.example\n");
  },
);

rtTest("sysctl: kernel and net values in the container's own namespaces", async (rt) => {
  const host = () =>
    ["kernel/shm_rmid_forced", "net/ipv4/ip_forward"].map((k) =>
      Deno.readTextFileSync(`/proc/sys/${k}`).trim()
    );
  const before = host();
  const value = (v: string) => v === "1" ? "0" : "1";
  const out = await rt.output(
    "sysctl",
    ["sh", "-c", "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_forward"],
    (c) =>
      c.linux.sysctl = {
        "kernel.shm_rmid_forced": value(before[0]),
        "net.ipv4.ip_forward": value(before[1]),
      },
  );
  assert.equal(out, `${value(before[0])}\n${value(before[1])}\n`);
  // The host's own namespaces keep their values.
  assert.deepEqual(host(), before);
});

rtTest(
  "mounts: bind ro and rw, tmpfs size and mode, rbind against bind, propagation",
  async (rt) => {
    const ro = `${rt.dir}/host-ro`, rw = `${rt.dir}/host-rw`, tree = `${rt.dir}/tree`;
    for (const d of [ro, rw, `${tree}/sub`]) Deno.mkdirSync(d, { recursive: true });
    Deno.writeTextFileSync(`${ro}/f`, "ro-data\n");
    const b = await rt.bundle("mnt", [
      "sh",
      "-c",
      [
        "cat /ro/f",
        "echo x > /ro/g && echo ro-writable",
        "echo rw-data > /rw/g",
        "stat -c %a /t",
        "df -k /t | tail -1 | awk '{print $2}'",
        "cat /rtree/sub/f",
        "ls /btree/sub",
        "echo --",
        "grep ' /shared ' /proc/self/mountinfo",
        "grep ' /private ' /proc/self/mountinfo",
      ].join("; "),
    ], (c) => {
      c.mounts.push(
        { destination: "/ro", type: "bind", source: ro, options: ["bind", "ro"] },
        { destination: "/rw", type: "bind", source: rw, options: ["rbind", "rw"] },
        {
          destination: "/t",
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "size=2m", "mode=1777"],
        },
        { destination: "/rtree", type: "bind", source: tree, options: ["rbind"] },
        { destination: "/btree", type: "bind", source: tree, options: ["bind"] },
        { destination: "/shared", type: "tmpfs", source: "tmpfs", options: ["shared"] },
        { destination: "/private", type: "tmpfs", source: "tmpfs", options: ["rprivate"] },
      );
    });
    // A submount of the tree, in a mount namespace of the runtime's own: rbind carries it.
    const prefix = [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t tmpfs tmpfs "$0/sub" && echo sub-data > "$0/sub/f" && exec "$@"',
      tree,
    ];
    const r = await rt.run(["run", "--bundle", b, "mnt"], { prefix });
    assert.equal(r.code, 0, r.stderr);
    const [before, after] = r.stdout.split("--\n");
    assert.equal(before, "ro-data\n1777\n2048\nsub-data\n");
    assert.match(r.stderr, /Read-only file system/);
    assert.equal(Deno.readTextFileSync(`${rw}/g`), "rw-data\n");
    assert.ok(!exists(`${ro}/g`));
    const [shared, priv] = after.trim().split("\n");
    assert.match(shared, / shared:\d+/);
    assert.doesNotMatch(priv, / (shared|master):\d+/);
  },
);

rtTest(
  "without a network namespace of its own, a read-only sysfs is /sys bound read-only, submounts and all",
  async (rt) => {
    const out = await rt.output(
      "sysbind",
      ["awk", '$5 ~ "^/sys" { print $5, $6 }', "/proc/self/mountinfo"],
      (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== "network");
        // No cgroup mount over /sys/fs/cgroup: what is under /sys is what the bind brought.
        c.mounts = c.mounts.filter((m: Config) => m.type !== "cgroup");
      },
    );
    const lines = out.trim().split("\n");
    assert.match(lines[0], /^\/sys ro,/);
    for (const l of lines) assert.match(l, /^\S+ ro[,\n]?/, `writable under /sys: ${l}`);
  },
);

rtTest("linux.devices: the node is made and allowed; other devices are denied", async (rt) => {
  // Char major 240 is for local use: no driver here, so an allowed open fails with ENXIO, and
  // one the device cgroup denies with EPERM.
  const node = `${rt.dir}/denied-node`;
  const mk = new Deno.Command("mknod", { args: [node, "c", "240", "1"] }).outputSync();
  assert.equal(mk.code, 0, new TextDecoder().decode(mk.stderr));
  const probe = [
    "sh",
    "-c",
    "stat -c '%t:%T %F %a' /dev/rt-null /dev/probe; echo x > /dev/rt-null && echo written; " +
    "cat /dev/probe; cat /denied",
  ];
  const edit = (rules?: unknown[]) => (c: Config) => {
    c.linux.devices = [
      { path: "/dev/rt-null", type: "c", major: 1, minor: 3, fileMode: 0o640 },
      { path: "/dev/probe", type: "c", major: 240, minor: 0 },
    ];
    c.mounts.push({ destination: "/denied", type: "bind", source: node, options: ["bind"] });
    if (rules) c.linux.resources.devices = rules;
  };
  // runc's spec (deny all first), an allowlist without the deny-all, and none at all.
  for (
    const [i, rules] of [
      undefined,
      [{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }],
      [],
    ].entries()
  ) {
    const r = await rt.runIn(`dev${i}`, probe, edit(rules));
    assert.equal(
      r.stdout,
      "1:3 character special file 640\nf0:0 character special file 666\nwritten\n",
      r.stderr,
    );
    assert.match(r.stderr, /\/dev\/probe'?: No such device or address/);
    assert.match(r.stderr, /\/denied'?: Operation not permitted/);
  }
});

rtTest("resources: memory, pids and cpu limits are the container cgroup's", async (rt) => {
  await rt.serve("mem", (c) => {
    c.linux.resources.memory = { limit: 64 * 1024 * 1024 };
    c.linux.resources.pids = { limit: 50 };
    c.linux.resources.cpu = { shares: 512, quota: 50000, period: 100000 };
  });
  const dir = rt.cgroup("memory", "mem");
  assert.equal(Deno.readTextFileSync(`${dir}/memory.limit_in_bytes`).trim(), String(64 << 20));
  assert.equal(Deno.readTextFileSync(`${rt.cgroup("pids", "mem")}/pids.max`).trim(), "50");
  const cpu = rt.cgroup("cpu", "mem");
  assert.equal(Deno.readTextFileSync(`${cpu}/cpu.shares`).trim(), "512");
  assert.equal(Deno.readTextFileSync(`${cpu}/cpu.cfs_quota_us`).trim(), "50000");
  const pid = (await rt.state("mem")).pid;
  assert.ok(
    Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").includes(String(pid)),
    "init is not in its memory cgroup",
  );
});

rtTest("a network namespace joined by path", async (rt) => {
  const holder = new Deno.Command("unshare", { args: ["--net", "sleep", "1000"] }).spawn();
  try {
    const own = Deno.readLinkSync("/proc/self/ns/net");
    let ns = own;
    await waitFor(() => (ns = Deno.readLinkSync(`/proc/${holder.pid}/ns/net`)) !== own, {
      what: "the holder's network namespace",
    });
    const out = await rt.output("netns", ["readlink", "/proc/self/ns/net"], (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: Config) =>
        n.type === "network" ? { type: "network", path: `/proc/${holder.pid}/ns/net` } : n
      );
    });
    assert.equal(out.trim(), ns);
  } finally {
    holder.kill("SIGKILL");
    await holder.status;
  }
});

rtTest("hooks: prestart, poststart and poststop get the state on stdin", async (rt) => {
  const log = `${rt.dir}/hooks.log`;
  const hook = `${rt.dir}/hook.sh`;
  Deno.writeTextFileSync(
    hook,
    `#!/bin/sh\nprintf '%s ' "$1" >> ${log}\ncat >> ${log}\necho >> ${log}\n`,
  );
  Deno.chmodSync(hook, 0o755);
  const h = (name: string) => [{ path: hook, args: ["hook.sh", name] }];
  const b = await rt.bundle("hooks", SERVE, (c) => {
    c.hooks = { prestart: h("prestart"), poststart: h("poststart"), poststop: h("poststop") };
  });
  await rt.ok(["create", "--bundle", b, "hooks"]);
  const entries = () =>
    exists(log)
      ? Deno.readTextFileSync(log).trim().split("\n").map((l) => {
        const sp = l.indexOf(" ");
        return { name: l.slice(0, sp), state: JSON.parse(l.slice(sp + 1)) };
      })
      : [];
  assert.deepEqual(entries().map((e) => e.name), ["prestart"]);
  await rt.ok(["start", "hooks"]);
  await rt.serving(b);
  assert.deepEqual(entries().map((e) => e.name), ["prestart", "poststart"]);
  await rt.ok(["kill", "hooks"]);
  await rt.waitStatus("hooks", "stopped");
  await rt.ok(["delete", "hooks"]);
  const all = entries();
  assert.deepEqual(all.map((e) => e.name), ["prestart", "poststart", "poststop"]);
  for (const e of all) {
    assert.equal(e.state.id, "hooks");
    assert.equal(e.state.bundle, b);
  }
  assert.deepEqual(all.map((e) => e.state.status), ["created", "running", "stopped"]);
  assert.ok(all[0].state.pid > 0 && all[1].state.pid === all[0].state.pid);
});

rtTest("a failing prestart hook fails create and leaves nothing", async (rt) => {
  const b = await rt.bundle("badhook", SERVE, (c) => {
    c.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "echo nope >&2; exit 3"] }] };
  });
  const r = await rt.fails(["create", "--bundle", b, "badhook"], /prestart.*exit status 3.*nope/);
  assert.ok(r.stderr.length > 0);
  await rt.fails(["state", "badhook"], /does not exist/);
  rt.assertClean();
});

rtTest(
  "a failing prestart hook still runs the poststop hooks (runtime.md lifecycle steps 3, 12, 13)",
  async (rt) => {
    const log = `${rt.dir}/poststop.log`;
    const b = await rt.bundle("stopafter", SERVE, (c) => {
      c.hooks = {
        prestart: [{ path: "/bin/false" }],
        poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${log}`] }],
      };
    });
    await rt.fails(["create", "--bundle", b, "stopafter"], /prestart/);
    rt.assertClean();
    assert.ok(exists(log), "the poststop hook did not run");
    assert.equal(JSON.parse(Deno.readTextFileSync(log)).id, "stopafter");
  },
);

rtTest("seccomp: a profile denying mkdir with EPERM", async (rt) => {
  const r = await rt.runIn(
    "sec",
    ["sh", "-c", "mkdir /d1; echo $?; touch /f && echo touched"],
    (c) => {
      c.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
      };
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "1\ntouched\n");
  assert.match(r.stderr, /Operation not permitted/);
});

rtTest("exec gets the container's seccomp filter and bounding set", async (rt) => {
  await rt.serve("secx", (c) => {
    const caps = ["CAP_KILL", "CAP_SETUID", "CAP_SETGID"];
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    c.linux.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    };
  });
  const r = await rt.run([
    "exec",
    "secx",
    "sh",
    "-c",
    "mkdir /d; echo $?; grep CapBnd /proc/self/status",
  ]);
  assert.equal(r.code, 0, r.stderr);
  // KILL (5), SETGID (6), SETUID (7).
  assert.match(r.stdout, /^1\nCapBnd:\s*00000000000000e0\n$/);
  assert.match(r.stderr, /Operation not permitted/);
});

rtTest(
  "a user namespace: the bundle's maps, root inside is an unprivileged id outside",
  async (rt) => {
    // The rootfs must belong to the container's root, as it does with runc.
    const b = await rt.bundle("userns", [
      "sh",
      "-c",
      "id -u; cat /proc/self/uid_map; ls -ln /dev/null | cut -c1-10; touch /tmp/made",
    ], (c) => {
      c.linux.namespaces.push({ type: "user" });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    new Deno.Command("chown", { args: ["-R", "100000:100000", `${b}/rootfs`] }).outputSync();
    // The container's root must be able to reach its rootfs, as with runc.
    for (const d of [rt.dir, b]) Deno.chmodSync(d, 0o711);
    const r = await rt.run(["run", "--bundle", b, "userns"]);
    assert.equal(r.code, 0, r.stderr);
    const [uid, map, dev] = r.stdout.trim().split("\n");
    assert.equal(uid, "0");
    assert.match(map, /^\s*0\s+100000\s+65536$/);
    assert.equal(dev, "crw-rw-rw-", "the device node is bound from the host's");
    assert.equal(Deno.statSync(`${b}/rootfs/tmp/made`).uid, 100000);
    rt.assertClean();
  },
);

rtTest("createContainer and startContainer hooks run in the container's namespaces", async (rt) => {
  const b = await rt.bundle("inhooks", ["cat", "/hooks.log"], (c) => {
    c.hostname = "inside";
    c.hooks = {
      createContainer: [{
        path: "/bin/sh",
        args: ["sh", "-c", 'hostname > /hooks.log; grep -o \'"status":"created"\' >> /hooks.log'],
      }],
      startContainer: [{
        path: "/bin/sh",
        args: ["sh", "-c", 'grep -o \'"status":"running"\' >> /hooks.log'],
      }],
    };
  });
  const r = await rt.run(["run", "--bundle", b, "inhooks"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'inside\n"status":"created"\n"status":"running"\n');
  // A failing createContainer hook fails create and leaves nothing.
  const bad = await rt.bundle("badhook", ["true"], (c) => {
    c.hooks = { createContainer: [{ path: "/bin/false" }] };
  });
  const f = await rt.run(["create", "--bundle", bad, "badhook"]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /createContainer hook #0 \(\/bin\/false\): exit status 1/);
  rt.assertClean();
});

// ---------------------------------------------------------------------------------------
// exec

rtTest(
  "exec: output and exit code, --process, --env/--cwd/--user, --detach --pid-file",
  async (rt) => {
    await rt.serve("ex");
    const r = await rt.run(["exec", "ex", "sh", "-c", "echo hi; exit 5"]);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, "hi\n");

    const pf = `${rt.dir}/process.json`;
    Deno.writeTextFileSync(
      pf,
      JSON.stringify({
        args: ["sh", "-c", "echo $FOO; pwd; id -u"],
        env: ["FOO=from-file", "PATH=/bin"],
        cwd: "/tmp",
        user: { uid: 123, gid: 456 },
      }),
    );
    assert.equal(await rt.ok(["exec", "--process", pf, "ex"]), "from-file\n/tmp\n123\n");

    const flags = await rt.ok([
      "exec",
      "--env",
      "FOO=flag",
      "--cwd",
      "/etc",
      "--user",
      "1000:1000",
      "ex",
      "sh",
      "-c",
      "echo $FOO; pwd; id -u; id -g",
    ]);
    assert.equal(flags, "flag\n/etc\n1000\n1000\n");

    const pidFile = `${rt.dir}/exec.pid`;
    await rt.ok(["exec", "--detach", "--pid-file", pidFile, "ex", "sleep", "1000"]);
    const pid = Number(Deno.readTextFileSync(pidFile));
    rt.pids.add(pid);
    assert.ok(alive(pid), `exec'd ${pid} is not alive`);
    const init = (await rt.state("ex")).pid;
    assert.equal(
      Deno.readLinkSync(`/proc/${pid}/ns/pid`),
      Deno.readLinkSync(`/proc/${init}/ns/pid`),
      "the exec'd process is not in the container's PID namespace",
    );
    assert.ok(JSON.parse(await rt.ok(["ps", "--format", "json", "ex"])).includes(pid));
  },
);

rtTest("exec into a stopped or created container fails", async (rt) => {
  const b = await rt.bundle("exs", SERVE);
  await rt.ok(["create", "--bundle", b, "exs"]);
  await rt.fails(["exec", "exs", "true"], /created/);
  await rt.ok(["start", "exs"]);
  await rt.serving(b);
  await rt.ok(["kill", "exs"]);
  await rt.waitStatus("exs", "stopped");
  await rt.fails(["exec", "exs", "true"], /stopped/);
});

// ---------------------------------------------------------------------------------------
// More of the spec's corners

rtTest(
  "kill --all signals every process in the cgroup; annotations are in the state",
  async (rt) => {
    const b = await rt.bundle("all", [
      "sh",
      "-c",
      "trap 'touch /init-usr1' USR1; " +
      "sh -c 'trap \"touch /child-usr1\" USR1; touch /child; while :; do sleep 1000 & wait; done' & " +
      "while :; do sleep 1000 & wait; done",
    ], (c) => c.annotations = { "org.example.key": "value" });
    await rt.ok(["run", "-d", "--bundle", b, "all"]);
    assert.deepEqual((await rt.state("all")).annotations, { "org.example.key": "value" });
    await waitFor(() => exists(`${b}/rootfs/child`), { what: "the child shell" });
    await rt.ok(["kill", "--all", "all", "USR1"]);
    await waitFor(() => exists(`${b}/rootfs/child-usr1`) && exists(`${b}/rootfs/init-usr1`), {
      what: "SIGUSR1 in both shells",
    });
  },
);

rtTest("rlimits of RLIM_INFINITY are unlimited", async (rt) => {
  const out = await rt.output("inf", ["sh", "-c", "ulimit -c; ulimit -Hc"], (c) => {
    // 2^64-1 as config.json writes it (not representable as a double).
    c.process.rlimits = [{ type: "RLIMIT_CORE", soft: 0, hard: 0 }];
  }, (json) =>
    json.replace('"soft": 0,\n', '"soft": 18446744073709551615,\n')
      .replace('"hard": 0\n', '"hard": 18446744073709551615\n'));
  assert.equal(out, "unlimited\nunlimited\n");
});

rtTest(
  "hooks: env and args reach the hook, a timeout kills it, failing post hooks only warn",
  async (rt) => {
    const log = `${rt.dir}/env.log`;
    const b = await rt.bundle("hookenv", SERVE, (c) => {
      c.hooks = {
        prestart: [{
          path: "/bin/sh",
          args: ["sh", "-c", `echo "$HOOKVAR $0 $1" > ${log}`, "zero", "one"],
          env: ["HOOKVAR=set"],
        }],
        // Without env, the runtime's own environment (runc's): PATH finds programs.
        createRuntime: [{
          path: "/bin/sh",
          args: ["sh", "-c", `echo "path=$PATH" >> ${log}; command -v busybox >> ${log}`],
        }],
        poststart: [{ path: "/bin/false" }],
        poststop: [{ path: "/bin/false" }],
      };
    });
    await rt.ok(["create", "--bundle", b, "hookenv"]);
    const [first, path, found] = Deno.readTextFileSync(log).split("\n");
    assert.equal(first, "set zero one");
    assert.equal(path, `path=${Deno.env.get("PATH")}`);
    assert.match(found, /busybox$/);
    const started = await rt.run(["start", "hookenv"]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stderr, /poststart/);
    assert.equal(await rt.status("hookenv"), "running");
    const deleted = await rt.run(["delete", "-f", "hookenv"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, /poststop/);
    await rt.fails(["state", "hookenv"], /does not exist/);

    const slow = await rt.bundle("slowhook", SERVE, (c) => {
      c.hooks = { prestart: [{ path: "/bin/sleep", args: ["sleep", "1000"], timeout: 1 }] };
    });
    await rt.fails(["create", "--bundle", slow, "slowhook"], /prestart.*timed out/);
    rt.assertClean();
  },
);

rtTest(
  "without a PID namespace, delete of a stopped container kills what is left in its cgroup",
  async (rt) => {
    const b = await rt.bundle(
      "hostpid",
      ["sh", "-c", "sleep 1000 & echo $! > /bg; exit 0"],
      (c) => {
        c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== "pid");
      },
    );
    await rt.ok(["run", "-d", "--bundle", b, "hostpid"]);
    await rt.waitStatus("hostpid", "stopped");
    await waitFor(() => exists(`${b}/rootfs/bg`), { what: "the background sleep's pid" });
    const bg = Number(Deno.readTextFileSync(`${b}/rootfs/bg`));
    rt.pids.add(bg);
    assert.ok(alive(bg), "the background sleep is not running");
    await rt.ok(["delete", "hostpid"]);
    await waitFor(() => !alive(bg), { what: "the sleep left in the cgroup to be killed" });
    rt.assertClean();
  },
);

rtTest("linux.rootfsPropagation: each word works; rshared gives a shared root", async (rt) => {
  for (const word of ["rshared", "shared", "rprivate", "private", "rslave", "slave"]) {
    const out = await rt.output(
      `prop-${word}`,
      ["awk", '$5 == "/"', "/proc/self/mountinfo"],
      (c) => c.linux.rootfsPropagation = word,
    );
    if (word.endsWith("shared")) assert.match(out, / shared:\d+ /, `${word}: ${out}`);
    else assert.doesNotMatch(out, / shared:\d+ /, `${word}: ${out}`);
  }
});
