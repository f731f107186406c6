/**
 * The harness of the OCI runtime peer tests: containerd (`ctr`), podman and buildah, the real
 * programs from Debian, driving the OCI runtime under test (`ociRuntime()`) through runc's
 * command line, as they drive runc.
 *
 * Each test gets a `PeerSandbox`: a temporary directory that holds everything the peers
 * write (containerd's root and state, podman's and buildah's storage and configuration, the
 * image archive), and a "jail" process that holds a new cgroup namespace rooted at the test's
 * own cgroup (`cgroup-jail`) and a private mount namespace in which /run and /var/tmp are the
 * sandbox's own directories. Every peer command runs in those namespaces (`nsenter`), so
 * the paths the peers hard-code (containerd's /run/containerd, runc's default root
 * /run/runc, buildah's /var/tmp bundles) land in the sandbox, every cgroup lands under the
 * test's own cgroup, and every mount dies with the jail.
 *
 * The peers call the runtime through a wrapper of the same base name (podman and buildah
 * look at the name) that appends its argv to `argv.log` and saves each bundle's config.json,
 * then execs the runtime: `PeerSandbox.invocations()` returns them, and with
 * M_DOCKER_TEST_OCI_ARGV_LOG=FILE set each test appends them to FILE (and the bundles'
 * config.json files to FILE.d/): the command lines the peers use, which are the runtime's spec.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BIN, waitFor, WatchedChild } from "./harness.ts";

const repo = new URL("../../", import.meta.url).pathname;

/** The OCI runtime under test: M_DOCKER_TEST_OCI_RUNTIME, else dist/m-docker-runc. */
export function ociRuntime(): string {
  return Deno.env.get("M_DOCKER_TEST_OCI_RUNTIME") ?? `${repo}dist/m-docker-runc`;
}

/** The cgroup jail (scripts/cgroup-jail, or M_DOCKER_TEST_CGROUP_JAIL). */
const JAIL = Deno.env.get("M_DOCKER_TEST_CGROUP_JAIL") ??
  `${repo}scripts/cgroup-jail`;

/** The image every peer runs: the built-in busybox, saved by m-docker, as both peers name it. */
export const IMAGE = "docker.io/library/busybox:latest";

/** How long one peer command may take before it is killed and its test fails. */
const COMMAND_MS = Number(Deno.env.get("M_DOCKER_TEST_TIMEOUT_MS") ?? 120_000);

/** Result of one peer command. */
export interface PeerRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Quotes `words` as one POSIX shell command line. */
export function shellLine(words: string[]): string {
  return words.map((w) => /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)
    .join(" ");
}

/** Fails the test with one clear line unless the runtime under test is an executable file. */
function requireRuntime(path: string): void {
  let mode: number | null = null;
  try {
    mode = Deno.statSync(path).mode;
  } catch {
    // Reported below.
  }
  assert.ok(
    mode !== null && (mode & 0o111) !== 0,
    `the OCI runtime under test ${path} does not exist or is not executable ` +
      `(build it with scripts/build, or set M_DOCKER_TEST_OCI_RUNTIME=/usr/sbin/runc)`,
  );
}

/** PIDs of the processes in the cgroups below `roots` (every hierarchy). */
function cgroupPids(roots: string[]): number[] {
  const out = new Set<number>();
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    try {
      for (const p of Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n")) {
        if (p) out.add(Number(p));
      }
    } catch { /* gone meanwhile */ }
    for (const e of entries) if (e.isDirectory) walk(`${dir}/${e.name}`);
  };
  roots.forEach(walk);
  return [...out];
}

/** The cgroup directories named `prefix*` at the root of each hierarchy the test sees. */
function cgroupRoots(prefix: string): string[] {
  const out: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").trim().split("\n")) {
    const [, controllers, path] = line.split(":");
    const name = controllers === ""
      ? (isHybrid() ? "unified" : "")
      : controllers.startsWith("name=")
      ? controllers.slice(5)
      : controllers;
    const base = `/sys/fs/cgroup${name ? `/${name}` : ""}${path === "/" ? "" : path}`;
    try {
      for (const e of Deno.readDirSync(base)) {
        if (e.isDirectory && e.name.startsWith(prefix)) out.push(`${base}/${e.name}`);
      }
    } catch { /* hierarchy not mounted */ }
  }
  return out;
}

/** Whether this host mounts cgroup v1 hierarchies with v2 at /sys/fs/cgroup/unified. */
function isHybrid(): boolean {
  try {
    return Deno.statSync("/sys/fs/cgroup/unified").isDirectory;
  } catch {
    return false;
  }
}

/** Every directory below `dir` (not `dir`), innermost first. */
export function subdirs(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isDirectory) continue;
      out.push(...subdirs(`${dir}/${e.name}`), `${dir}/${e.name}`);
    }
  } catch { /* gone */ }
  return out;
}

/** The mount namespace of `pid`, or null once it is gone. */
function mountNs(pid: number): string | null {
  try {
    return Deno.readLinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** A containerd of the sandbox's own, in its jail, with a generated config. */
export class Containerd {
  readonly socket: string;
  readonly namespace: string;
  child?: Deno.ChildProcess;

  constructor(private readonly sb: PeerSandbox) {
    this.socket = `${sb.dir}/containerd/containerd.sock`;
    // The containers' cgroups are /<namespace>/<id>: a namespace unique to the sandbox.
    this.namespace = sb.tag;
  }

  /** Starts containerd and waits for its socket; then imports the image. */
  async start(): Promise<void> {
    const d = `${this.sb.dir}/containerd`;
    Deno.mkdirSync(d, { recursive: true });
    // CRI (and the snapshotters that cannot work here) off: nothing but what ctr uses.
    Deno.writeTextFileSync(
      `${d}/config.toml`,
      `version = 2
root = "${d}/root"
state = "${d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${this.socket}"
[ttrpc]
  address = "${this.socket}.ttrpc"
[debug]
  address = "${d}/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
`,
    );
    const log = Deno.openSync(`${d}/containerd.log`, { write: true, create: true });
    this.child = new Deno.Command("nsenter", {
      args: [...this.sb.enter(), "containerd", "--config", `${d}/config.toml`],
      env: this.sb.env(),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // containerd's log goes to a file, read on failure.
    this.child.stderr.pipeTo(log.writable).catch(() => {});
    await waitFor(() => {
      try {
        return Deno.statSync(this.socket).isSocket === true;
      } catch {
        return false;
      }
    }, { what: "containerd's socket", detail: () => this.log() });
    await this.ok(["images", "import", this.sb.imageArchive]);
    // The archive's index names it (io.containerd.image.name) as the tests run it.
    assert.ok(
      (await this.ok(["images", "ls", "-q"])).split("\n").includes(IMAGE),
      `ctr images import did not make ${IMAGE}`,
    );
  }

  /** containerd's log so far. */
  log(): string {
    try {
      return Deno.readTextFileSync(`${this.sb.dir}/containerd/containerd.log`).slice(-4000);
    } catch {
      return "";
    }
  }

  /** `ctr` with the sandbox's socket and namespace. */
  ctrArgs(args: string[]): string[] {
    return ["ctr", "-a", this.socket, "-n", this.namespace, ...args];
  }

  /** Runs `ctr ARGS`. */
  ctr(args: string[], opts: { stdin?: string } = {}): Promise<PeerRun> {
    return this.sb.run("ctr", this.ctrArgs(args), opts);
  }

  /** Runs `ctr ARGS`; fails the test unless it exits 0. Returns stdout. */
  async ok(args: string[]): Promise<string> {
    const r = await this.ctr(args);
    assert.equal(r.code, 0, `ctr ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** The STATUS column of `ctr task ls` for task `id`, or undefined. */
  async taskStatus(id: string): Promise<string | undefined> {
    const out = await this.ok(["task", "ls"]);
    return out.split("\n").map((l) => l.trim().split(/\s+/)).find((w) => w[0] === id)?.[2];
  }

  /** Removes every task and container, then stops containerd (TERM, then KILL) and reaps it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    let removeError: unknown;
    try {
      const tasks = (await this.ctr(["task", "ls", "-q"])).stdout.split("\n").filter(Boolean);
      for (const t of tasks) await this.ctr(["task", "rm", "-f", t]);
      const cs = (await this.ctr(["c", "ls", "-q"])).stdout.split("\n").filter(Boolean);
      for (const c of cs) await this.ctr(["c", "rm", c]);
    } catch (e) {
      removeError = e;
    }
    let exited = false;
    child.status.then(() => exited = true);
    child.kill("SIGTERM");
    const stopped = await waitFor(() => exited, { what: "containerd to exit on SIGTERM" })
      .then(() => true, () => false);
    if (!stopped) child.kill("SIGKILL");
    await child.status;
    if (removeError) throw removeError;
    assert.ok(stopped, `containerd did not exit on SIGTERM: ${this.log()}`);
  }
}

/** One test's peers: a temporary directory, a jail, the runtime wrapper, the image archive. */
export class PeerSandbox {
  readonly dir: string;
  /** The unique prefix of every cgroup and name the test creates (lower case). */
  readonly tag: string;
  /** The runtime under test. */
  readonly runtime: string;
  /** The wrapper the peers are given: same base name as the runtime, logs argv, execs it. */
  readonly wrapper: string;
  readonly imageArchive: string;
  containerd?: Containerd;
  #jail?: WatchedChild;
  #jailPid = 0;
  #firstCall = new Map<string, number>();

  constructor(readonly name: string) {
    this.runtime = ociRuntime();
    this.dir = Deno.makeTempDirSync({ prefix: "m-docker-oci-" });
    this.tag = `m-docker-oci-${this.dir.slice(-6).toLowerCase()}`;
    const base = this.runtime.split("/").pop()!;
    this.wrapper = `${this.dir}/bin/${base}`;
    this.imageArchive = `${this.dir}/busybox.tar`;
  }

  /** Starts a sandbox: checks the runtime, writes the wrapper, starts the jail, saves the image. */
  static async start(name: string): Promise<PeerSandbox> {
    requireRuntime(ociRuntime());
    const sb = new PeerSandbox(name);
    try {
      await sb.#setUp();
    } catch (e) {
      await sb.cleanup().catch(() => {});
      throw e;
    }
    return sb;
  }

  async #setUp(): Promise<void> {
    for (const d of ["bin", "run", "tmp", "configs", "podman/tmp", "podman/net"]) {
      Deno.mkdirSync(`${this.dir}/${d}`, { recursive: true });
    }
    // bash for printf %q: one line per call, each word quoted so it can be pasted back.
    Deno.writeTextFileSync(
      this.wrapper,
      `#!/bin/bash
{ printf '%s' "\${0##*/}"; printf ' %q' "$@"; echo; } >> ${shellLine([`${this.dir}/argv.log`])}
prev=
for a in "$@"; do
  case $prev in --bundle|-b) cp "$a/config.json" ${
        shellLine([`${this.dir}/configs/`])
      }"config-$$.json" 2>/dev/null ;; esac
  prev=$a
done
exec ${shellLine([this.runtime])} "$@"
`,
      { mode: 0o755 },
    );
    this.#writePeerConfigs();
    this.#jail = new WatchedChild("unshare", [
      "--cgroup",
      "--mount",
      "--propagation",
      "private",
      JAIL,
      "sh",
      "-c",
      `mount --bind "$1/run" /run && mount --bind "$1/tmp" /var/tmp && echo jailed && exec sleep 2147483647`,
      "jail",
      this.dir,
    ]);
    await this.#jail.expect("jailed", { what: "the cgroup jail to start" });
    this.#jailPid = this.#jail.child.pid;
    // The image: m-docker's built-in busybox, in private m-docker roots. `save` does not
    // build the built-in image on a fresh root (it says "No such image"); `images` does.
    const md = { ...this.env(), ...this.#mDockerEnv() };
    for (const args of [["images", "-q"], ["save", "busybox", "-o", this.imageArchive]]) {
      const out = await new Deno.Command(BIN, { args, env: md, stdout: "piped", stderr: "piped" })
        .output();
      assert.equal(
        out.code,
        0,
        `m-docker ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  }

  #mDockerEnv(): Record<string, string> {
    return {
      M_DOCKER_ROOT: `${this.dir}/m-docker/root`,
      M_DOCKER_STATE: `${this.dir}/m-docker/state`,
      M_DOCKER_CGROUP_PARENT: this.tag,
      M_DOCKER_DEFAULT_NETWORK: "none",
    };
  }

  #writePeerConfigs(): void {
    const p = `${this.dir}/podman`;
    // No CAP_SYS_RESOURCE here: podman's default ulimits (nofile 1048576) cannot be set.
    Deno.writeTextFileSync(
      `${p}/containers.conf`,
      `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${p}/events.log"
tmp_dir = "${p}/tmp"
[network]
network_config_dir = "${p}/net"
`,
    );
    Deno.writeTextFileSync(
      `${p}/storage.conf`,
      `[storage]
driver = "overlay"
graphroot = "${p}/root"
runroot = "${p}/run"
`,
    );
  }

  /** The environment of every peer command: its configuration files and temporary directory. */
  env(): Record<string, string> {
    return {
      TMPDIR: `${this.dir}/tmp`,
      CONTAINERS_CONF: `${this.dir}/podman/containers.conf`,
      CONTAINERS_STORAGE_CONF: `${this.dir}/podman/storage.conf`,
    };
  }

  /** nsenter's arguments that put a command into the jail's mount and cgroup namespaces. */
  enter(): string[] {
    assert.ok(this.#jailPid > 0, "the sandbox's jail is not running");
    return ["-t", String(this.#jailPid), "-m", "-C", "--"];
  }

  /** The full command line that runs `argv` in the jail. */
  commandLine(argv: string[]): string[] {
    return ["nsenter", ...this.enter(), ...argv];
  }

  /** Runs `argv` in the jail; `peer` names it for the first-call timing. */
  async run(peer: string, argv: string[], opts: { stdin?: string } = {}): Promise<PeerRun> {
    const [program, ...args] = this.commandLine(argv);
    const started = performance.now();
    const child = new Deno.Command(program, {
      args,
      env: this.env(),
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, COMMAND_MS);
    const out = await child.output().finally(() => clearTimeout(timer));
    if (!this.#firstCall.has(peer)) this.#firstCall.set(peer, performance.now() - started);
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  }

  /** Starts containerd for this sandbox (and imports the image). */
  async startContainerd(): Promise<Containerd> {
    this.containerd = new Containerd(this);
    await this.containerd.start();
    return this.containerd;
  }

  /** podman's arguments before the subcommand: the sandbox's storage and the runtime. */
  podmanArgs(args: string[]): string[] {
    const p = `${this.dir}/podman`;
    return [
      "podman",
      "--root",
      `${p}/root`,
      "--runroot",
      `${p}/run`,
      "--runtime",
      this.wrapper,
      ...args,
    ];
  }

  /** Runs `podman ARGS` with the runtime under test. */
  podman(args: string[]): Promise<PeerRun> {
    return this.run("podman", this.podmanArgs(args));
  }

  /** Runs `podman ARGS`; fails the test unless it exits 0. Returns stdout. */
  async podmanOk(args: string[]): Promise<string> {
    const r = await this.podman(args);
    assert.equal(r.code, 0, `podman ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Loads the image into podman's (and buildah's) storage. */
  async podmanLoad(): Promise<void> {
    const out = await this.podmanOk(["load", "-i", this.imageArchive]);
    assert.match(out, new RegExp(`Loaded image: ${IMAGE.replaceAll(".", "\\.")}`));
  }

  /** podman's `run` options every test uses: no pull, no network, our cgroup parent. */
  podmanRunOptions(): string[] {
    return ["--pull", "never", "--network", "none", "--cgroup-parent", `/${this.tag}-podman`];
  }

  /** Runs `buildah ARGS` on podman's storage (the subcommand's own --runtime is the caller's). */
  buildah(args: string[]): Promise<PeerRun> {
    const p = `${this.dir}/podman`;
    return this.run("buildah", [
      "buildah",
      "--root",
      `${p}/root`,
      "--runroot",
      `${p}/run`,
      ...args,
    ]);
  }

  /** Runs `buildah ARGS`; fails the test unless it exits 0. Returns stdout. */
  async buildahOk(args: string[]): Promise<string> {
    const r = await this.buildah(args);
    assert.equal(r.code, 0, `buildah ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** `argv` run in the jail under a pseudo-terminal made by util-linux's `script`. */
  terminal(argv: string[]): WatchedChild {
    return new WatchedChild("script", ["-qefc", shellLine(this.commandLine(argv)), "/dev/null"], {
      env: this.env(),
      stdin: true,
    });
  }

  /** The runtime's command lines so far, one per call, words quoted as bash's %q does. */
  invocations(): string[] {
    try {
      return Deno.readTextFileSync(`${this.dir}/argv.log`).split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  /** Processes of this sandbox: in its jail's mount namespace, its cgroups, or naming its dir. */
  processes(): string[] {
    const ns = this.#jailPid ? mountNs(this.#jailPid) : null;
    const inCgroups = new Set(cgroupPids(cgroupRoots(this.tag)));
    const out: string[] = [];
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const pid = Number(e.name);
      if (pid === Deno.pid || pid === this.#jailPid) continue;
      try {
        const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
        if (cmd === "") continue; // a kernel thread, or a zombie
        const mine = inCgroups.has(pid) || (ns !== null && mountNs(pid) === ns) ||
          cmd.includes(this.dir) ||
          Deno.readTextFileSync(`/proc/${pid}/environ`).includes(this.dir);
        if (mine) out.push(`${pid} ${cmd}`);
      } catch { /* gone meanwhile */ }
    }
    return out;
  }

  /**
   * Container cgroups left: directories below the sandbox's cgroups other than podman's
   * own `conmon` (the runtime's `delete` removes a container's cgroup; the parents stay).
   */
  leftoverCgroups(): string[] {
    return cgroupRoots(this.tag).flatMap(subdirs).filter((d) => !/\/conmon$/.test(d));
  }

  /** Mounts of the sandbox's directory still there, in the jail or in the test's namespace. */
  leftoverMounts(): string[] {
    const lines: string[] = [];
    for (const pid of [this.#jailPid, Deno.pid]) {
      if (!pid) continue;
      try {
        for (const l of Deno.readTextFileSync(`/proc/${pid}/mountinfo`).split("\n")) {
          const f = l.split(" ");
          // The jail's own binds (/run, /var/tmp) and containers/storage's bind of its
          // overlay directory are the sandbox's, not a container's.
          if (["/run", "/var/tmp"].includes(f[4]) || f[4] === `${this.dir}/podman/root/overlay`) {
            continue;
          }
          if (l.includes(this.dir)) lines.push(`${pid === Deno.pid ? "host" : "jail"}: ${l}`);
        }
      } catch { /* the jail is gone */ }
    }
    return lines;
  }

  /**
   * Removes every container (containerd's; podman's and buildah's), stops containerd, then
   * asserts nothing of the runtime is left (processes, container cgroups, mounts); then
   * kills whatever is (so a failing test leaves the machine clean), removes the cgroups, the
   * jail and the directory.
   */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    const note = (what: string, e: unknown) => errors.push(`${what}: ${(e as Error).message ?? e}`);
    if (this.containerd) await this.containerd.stop().catch((e) => note("containerd", e));
    if (this.#jailPid && this.#firstCall.has("podman")) {
      await this.podman(["rm", "-a", "-f", "-t", "0"]).catch((e) => note("podman rm", e));
    }
    if (this.#jailPid && this.#firstCall.has("buildah")) {
      await this.buildah(["rm", "-a"]).catch((e) => note("buildah rm", e));
    }
    let leftovers = { processes: [] as string[], cgroups: [] as string[], mounts: [] as string[] };
    const look = () => ({
      processes: this.processes(),
      cgroups: this.leftoverCgroups(),
      mounts: this.leftoverMounts(),
    });
    // Shims and conmons exit on their own once their container is gone: a deadline, no sleep.
    await waitFor(() => {
      leftovers = look();
      return Object.values(leftovers).every((l) => l.length === 0);
    }, { what: "the runtime's processes, cgroups and mounts to go", timeoutMs: 5_000 })
      .catch(() => {});
    // Whatever is left is killed, then the jail (its mounts die with it).
    for (const line of leftovers.processes) {
      try {
        Deno.kill(Number(line.split(" ")[0]), "SIGKILL");
      } catch { /* gone */ }
    }
    if (this.#jail) await this.#jail.close();
    this.#jailPid = 0;
    await waitFor(() => this.processes().length === 0, { what: "the sandbox's processes to die" })
      .catch((e) => note("kill", e));
    for (const root of cgroupRoots(this.tag)) {
      for (const d of [...subdirs(root), root]) {
        try {
          Deno.removeSync(d);
        } catch (e) {
          note(`rmdir ${d}`, e);
        }
      }
    }
    this.#report();
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch (e) {
      note("rm -r", e);
    }
    assert.deepEqual({ ...leftovers, errors }, {
      processes: [],
      cgroups: [],
      mounts: [],
      errors: [],
    });
  }

  /** Prints each peer's first call's time; appends the argv log where asked. */
  #report(): void {
    const firsts = [...this.#firstCall].map(([p, ms]) => `${p} ${ms.toFixed(0)} ms`).join(", ");
    if (firsts) console.log(`${this.name}: first call: ${firsts}`);
    const log = Deno.env.get("M_DOCKER_TEST_OCI_ARGV_LOG");
    if (!log) return;
    const calls = this.invocations().map((l) => l.replaceAll(this.dir, "$SANDBOX"));
    Deno.writeTextFileSync(log, `# ${this.name}\n${calls.join("\n")}\n\n`, { append: true });
    const configs = `${log}.d`;
    Deno.mkdirSync(configs, { recursive: true });
    const slug = this.name.replace(/[^\w]+/g, "-").replace(/^-|-$/g, "");
    try {
      for (const e of Deno.readDirSync(`${this.dir}/configs`)) {
        Deno.copyFileSync(`${this.dir}/configs/${e.name}`, `${configs}/${slug}-${e.name}`);
      }
    } catch { /* none */ }
  }
}
