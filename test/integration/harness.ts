/**
 * What every integration test shares: it runs the built `dist/m-docker` (or M_DOCKER_BIN)
 * as root, in roots of its own under /tmp and a cgroup parent of its own nested under the
 * test's own cgroup, and checks at the end that nothing was left behind.
 *
 * @module
 */

import assert from "node:assert/strict";

const repo = new URL("../../", import.meta.url).pathname;

/** Integration tests need root; without it each skips itself (`asRoot`). */
const isRoot = Deno.uid() === 0;

/** The executable under test. */
export const BIN = Deno.env.get("M_DOCKER_BIN") ?? `${repo}dist/m-docker`;

/** How long one m-docker command may take before the harness kills it (TCG guests are slow). */
const COMMAND_TIMEOUT_MS = Number(Deno.env.get("M_DOCKER_TEST_TIMEOUT_MS") ?? 120_000);

/** Result of one m-docker invocation. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** True when strace runs here (the tests that trace what m-docker opens or syncs). */
export const haveStrace = (() => {
  try {
    return new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** A sandbox of roots and cgroup parent for one test file. */
export class Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly cgroupParent: string;

  constructor() {
    // When every test skips itself, nothing would remove the directory: make none.
    this.dir = isRoot
      ? Deno.makeTempDirSync({ prefix: "m-docker-test-" })
      : `${Deno.env.get("TMPDIR") ?? "/tmp"}/m-docker-test-skipped`;
    this.root = `${this.dir}/root`;
    this.state = `${this.dir}/state`;
    this.cgroupParent = `m-docker-test-${this.dir.slice(-6)}`;
    if (isRoot) globalThis.addEventListener("unload", () => this.removeIfLeft());
  }

  /**
   * A run that filtered out the file's cleanup test (`deno test --filter`) would leave the
   * sandbox behind: at exit, what is still there is removed as the cleanup would, unless a
   * mount is still in it (then it stays, for someone to look at, and says so).
   */
  private removeIfLeft(): void {
    try {
      Deno.statSync(this.dir);
    } catch {
      return; // the cleanup test ran
    }
    const ids = this.containerIds();
    if (ids.length > 0) {
      const [bin, ...args] = this.commandLine(["rm", "-f", ...ids]);
      new Deno.Command(bin, { args, env: this.env(), stdout: "null", stderr: "null" })
        .outputSync();
    }
    if (this.leftoverMounts().length > 0) {
      console.error(`${this.dir}: mounts are left in it; not removed`);
      return;
    }
    for (const dir of cgroupParentDirs(this.cgroupParent).reverse()) {
      try {
        Deno.removeSync(dir);
      } catch { /* not created in this hierarchy, or not empty */ }
    }
    Deno.removeSync(this.dir, { recursive: true });
  }

  /** The environment that points m-docker at this sandbox. */
  env(): Record<string, string> {
    return {
      M_DOCKER_ROOT: this.root,
      M_DOCKER_STATE: this.state,
      M_DOCKER_CGROUP_PARENT: this.cgroupParent,
      // These tests run in the machine's own network namespace, which no test may change:
      // no default bridge here (dockerd's --bridge=none). Network tests use NetSandbox.
      M_DOCKER_DEFAULT_NETWORK: "none",
    };
  }

  /** The command line that runs m-docker with `args` (a NetSandbox runs it in its namespace). */
  commandLine(args: string[]): string[] {
    return [BIN, ...args];
  }

  /** Runs m-docker with `args`, optionally feeding `stdin`. */
  async run(
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {},
  ): Promise<Run> {
    const [program, ...argv] = this.commandLine(args);
    const child = new Deno.Command(program, {
      args: argv,
      env: { ...this.env(), ...opts.env },
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    // A hung command must fail its test, not hang the suite.
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, COMMAND_TIMEOUT_MS);
    const out = await child.output().finally(() => clearTimeout(timer));
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  }

  /** Runs m-docker and asserts it exits 0; returns stdout. */
  async ok(
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {},
  ): Promise<string> {
    const r = await this.run(args, opts);
    assert.equal(r.code, 0, `m-docker ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** `m-docker inspect REF`, parsed: Docker's document for one container. */
  // deno-lint-ignore no-explicit-any
  async inspect(ref: string): Promise<any> {
    return JSON.parse(await this.ok(["inspect", ref]))[0];
  }

  /** The state directories of the containers this sandbox knows. */
  containerIds(): string[] {
    try {
      return [...Deno.readDirSync(this.state)].filter((e) => e.isDirectory).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** Container cgroup directories left anywhere under this sandbox's parent. */
  leftoverCgroups(): string[] {
    return cgroupParentDirs(this.cgroupParent).flatMap((dir) => {
      try {
        return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) =>
          `${dir}/${e.name}`
        );
      } catch {
        return [];
      }
    });
  }

  /** Mounts that mention this sandbox, in the test's own mount namespace. */
  leftoverMounts(): string[] {
    return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").filter((l) =>
      l.includes(this.dir)
    );
  }

  /**
   * Removes every container, then asserts nothing is left: no state, no cgroup, no mount,
   * no process; then removes the sandbox itself.
   */
  async cleanup(): Promise<void> {
    const ids = this.containerIds();
    if (ids.length > 0) await this.run(["rm", "-f", ...ids]);
    const leftovers = {
      state: this.containerIds(),
      cgroups: this.leftoverCgroups(),
      mounts: this.leftoverMounts(),
      processes: processesMentioning(this.dir),
    };
    for (const dir of cgroupParentDirs(this.cgroupParent).reverse()) {
      try {
        Deno.removeSync(dir);
      } catch { /* not created in this hierarchy */ }
    }
    Deno.removeSync(this.dir, { recursive: true });
    assert.deepEqual(leftovers, { state: [], cgroups: [], mounts: [], processes: [] });
  }
}

/** The directories a relative cgroup parent occupies: one per v1 hierarchy, nested in ours. */
export function cgroupParentDirs(parent: string): string[] {
  const out: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/cgroup").trim().split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers === "") continue; // the unified (v2) line: handled below on v2 hosts
    const name = controllers.startsWith("name=") ? controllers.slice(5) : controllers;
    const mount = `/sys/fs/cgroup/${name}`;
    try {
      Deno.statSync(mount);
    } catch {
      continue;
    }
    out.push(`${mount}${path === "/" ? "" : path}/${parent}`);
  }
  if (out.length === 0) {
    const own = Deno.readTextFileSync("/proc/self/cgroup").match(/^0::(.*)$/m)?.[1] ?? "/";
    out.push(`/sys/fs/cgroup${own === "/" ? "" : own}/${parent}`);
  }
  return out;
}

/** Host PIDs (not this process) whose argv satisfies `match`. */
export function pidsWhere(match: (argv: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0").slice(0, -1);
      if (match(argv)) out.push(Number(e.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Host PIDs whose command line is exactly `argv`. */
export function processesRunning(argv: string[]): number[] {
  return pidsWhere((a) => a.length === argv.length && a.every((w, i) => w === argv[i]));
}

/** Host processes whose command line mentions `text` (m-docker's own, from this sandbox). */
export function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      const env = Deno.readTextFileSync(`/proc/${e.name}/environ`);
      if (cmd.includes(text) || env.includes(text)) out.push(`${e.name} ${cmd}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** How long a test waits for a condition before it fails, unless it says otherwise. */
export const WAIT_MS = Number(Deno.env.get("M_DOCKER_TEST_WAIT_MS") ?? 10_000);

/**
 * Waits until `predicate` holds, polling it; fails the test naming `what` once `timeoutMs`
 * has passed. A predicate that throws counts as not yet, and its last error is reported.
 * This, not a sleep, is how a test waits for something to happen.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  opts: { what: string; timeoutMs?: number; detail?: () => string },
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last === undefined ? "" : ` (last error: ${(last as Error).message ?? last})`;
      const detail = opts.detail ? `; ${opts.detail()}` : "";
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}${detail}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `waitFor` in positional form, as older tests call it. */
export function eventually(
  probe: () => boolean | Promise<boolean>,
  ms = WAIT_MS,
  what = "condition",
): Promise<void> {
  return waitFor(probe, { what, timeoutMs: ms });
}

/**
 * A child process whose stdout and stderr are read in the background, so that no read in a
 * test can block: tests wait on what has arrived (`expect`), with a deadline, and a child
 * still running at a deadline is killed before the test fails.
 */
export class WatchedChild {
  readonly child: Deno.ChildProcess;
  /** Everything the child has written to stdout so far. */
  stdout = "";
  /** Everything the child has written to stderr so far. */
  stderr = "";
  #mark = 0;
  #exited = false;
  #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  #pumps: Promise<void>[];
  #writer?: WritableStreamDefaultWriter<Uint8Array>;

  constructor(
    command: string,
    args: string[],
    opts: { env?: Record<string, string>; stdin?: boolean } = {},
  ) {
    this.child = new Deno.Command(command, {
      args,
      env: opts.env,
      stdin: opts.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (opts.stdin) this.#writer = this.child.stdin.getWriter();
    this.#pumps = [
      this.#pump(this.child.stdout, (t) => this.stdout += t),
      this.#pump(this.child.stderr, (t) => this.stderr += t),
    ];
    this.child.status.then(() => this.#exited = true);
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    const reader = stream.getReader();
    this.#readers.push(reader);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        add(decoder.decode(value, { stream: true }));
      }
    } catch {
      // Cancelled by close().
    }
  }

  /** What the child has written so far, for failure messages. */
  transcript(): string {
    return `stdout ${JSON.stringify(this.stdout)}, stderr ${JSON.stringify(this.stderr)}`;
  }

  /** Writes `text` to the child's stdin. */
  async send(text: string): Promise<void> {
    assert.ok(this.#writer, "the child was started without stdin");
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Closes the child's stdin. */
  async closeStdin(): Promise<void> {
    await this.#writer?.close().catch(() => {});
    this.#writer = undefined;
  }

  /**
   * Waits until stdout, after what earlier calls matched, contains `pattern`; returns the
   * match. At the deadline the child is killed and the test fails with what it wrote.
   */
  async expect(
    pattern: string | RegExp,
    opts: { what?: string; timeoutMs?: number } = {},
  ): Promise<RegExpMatchArray> {
    const re = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : pattern;
    let found: RegExpMatchArray | null = null;
    try {
      await waitFor(() => (found = this.stdout.slice(this.#mark).match(re)) !== null, {
        what: opts.what ?? `${re} on the child's stdout`,
        timeoutMs: opts.timeoutMs,
        detail: () => this.transcript(),
      });
    } catch (e) {
      await this.close();
      throw e;
    }
    const m = found as unknown as RegExpMatchArray;
    this.#mark += m.index! + m[0].length;
    return m;
  }

  /** Sends `signal` to the child. */
  kill(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Waits for the child to exit; at the deadline it is killed and the test fails. */
  async exited(opts: { what?: string; timeoutMs?: number } = {}): Promise<Deno.CommandStatus> {
    try {
      await waitFor(() => this.#exited, {
        what: opts.what ?? "the child to exit",
        timeoutMs: opts.timeoutMs,
        detail: () => this.transcript(),
      });
    } catch (e) {
      await this.close();
      throw e;
    }
    return await this.child.status;
  }

  /**
   * Kills the child if it still runs and stops reading its output (a container may hold the
   * pipes open after the child is gone).
   */
  async close(): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone meanwhile */ }
    }
    await this.child.status;
    await this.closeStdin();
    for (const r of this.#readers) await r.cancel().catch(() => {});
    await Promise.all(this.#pumps);
  }
}

/** Skips a whole file unless running as root. */
export const asRoot = { ignore: !isRoot, sanitizeOps: false, sanitizeResources: false };

/** Runs a command to completion; fails the test when it fails. Returns stdout. */
export function sh(cmd: string[], opts: { check?: boolean } = {}): string {
  const out = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .outputSync();
  const text = new TextDecoder().decode(out.stdout);
  if (opts.check !== false && out.code !== 0) {
    assert.fail(`${cmd.join(" ")} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/**
 * A sandbox whose "host" is a network namespace of its own (no test may change the
 * machine's), joined by a veth pair to a second namespace that plays the outside world:
 * the host is 192.0.2.2/24 with its default route to the outside at 192.0.2.1. m-docker
 * runs in the host namespace with its default bridge, as a user's would.
 */
export class NetSandbox extends Sandbox {
  readonly hostNs: string;
  readonly outsideNs: string;
  static readonly HOST_IP = "192.0.2.2";
  static readonly OUTSIDE_IP = "192.0.2.1";
  private readonly servers: Deno.ChildProcess[] = [];

  constructor() {
    super();
    const tag = this.dir.slice(-6).replace(/[^a-zA-Z0-9]/g, "x");
    this.hostNs = `mdt-h-${tag}`;
    this.outsideNs = `mdt-o-${tag}`;
    if (!isRoot) return;
    sh(["ip", "netns", "add", this.hostNs]);
    sh(["ip", "netns", "add", this.outsideNs]);
    const inHost = ["ip", "-n", this.hostNs], inOut = ["ip", "-n", this.outsideNs];
    sh([...inHost, "link", "add", "tst-up", "type", "veth", "peer", "name", "tst-world"]);
    sh([...inHost, "link", "set", "tst-world", "netns", this.outsideNs]);
    sh([...inHost, "addr", "add", `${NetSandbox.HOST_IP}/24`, "dev", "tst-up"]);
    sh([...inOut, "addr", "add", `${NetSandbox.OUTSIDE_IP}/24`, "dev", "tst-world"]);
    for (
      const [ns, dev] of [[inHost, "tst-up"], [inOut, "tst-world"], [inHost, "lo"], [
        inOut,
        "lo",
      ]] as const
    ) sh([...ns, "link", "set", dev, "up"]);
    sh([...inHost, "route", "add", "default", "via", NetSandbox.OUTSIDE_IP]);
  }

  override env(): Record<string, string> {
    const { M_DOCKER_DEFAULT_NETWORK: _, ...rest } = super.env();
    return rest;
  }

  override commandLine(args: string[]): string[] {
    return ["nsenter", `--net=/run/netns/${this.hostNs}`, BIN, ...args];
  }

  /** Runs a command in the host namespace (`outside`: in the outside one). */
  exec(cmd: string[], where: "host" | "outside" = "host", check = true): string {
    const ns = where === "host" ? this.hostNs : this.outsideNs;
    return sh(["ip", "netns", "exec", ns, ...cmd], { check });
  }

  /** Starts a long-running server in a namespace; it is killed at cleanup. */
  serve(cmd: string[], where: "host" | "outside" = "outside"): Deno.ChildProcess {
    const ns = where === "host" ? this.hostNs : this.outsideNs;
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...cmd],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.servers.push(child);
    return child;
  }

  /** m-docker's interfaces (`md*`) still in the host namespace. */
  leftoverInterfaces(): string[] {
    return this.exec(["ip", "-o", "link"]).split("\n").map((l) => l.split(": ")[1] ?? "")
      .map((n) => n.split("@")[0]).filter((n) => n.startsWith("md") && n !== "md0");
  }

  /** Published ports still in m-docker's firewall maps. */
  leftoverPorts(): string[] {
    const out = this.exec(["nft", "-j", "list", "table", "ip", "m-docker"], "host", false);
    if (!out) return [];
    // deno-lint-ignore no-explicit-any
    const items = (JSON.parse(out).nftables as any[]).filter((i) => i.map?.elem?.length);
    return items.map((i) => `${i.map.name}: ${JSON.stringify(i.map.elem)}`);
  }

  override async cleanup(): Promise<void> {
    try {
      const ids = this.containerIds();
      if (ids.length > 0) await this.run(["rm", "-f", ...ids]);
      // The kernel tears namespaces down in the background, one at a time under the RTNL
      // lock: after 50 containers on a loaded machine that was seen to take over 10 s.
      await waitFor(() => this.leftoverInterfaces().length === 0, {
        what: "containers' veths to go with their namespaces",
        timeoutMs: Math.max(WAIT_MS, 60_000),
        detail: () => this.leftoverInterfaces().join(" "),
      });
      assert.deepEqual(this.leftoverPorts(), [], "no published port left in the firewall");
      const db = `${this.root}/network/networks.json`;
      try {
        const table = JSON.parse(Deno.readTextFileSync(db));
        assert.deepEqual([table.endpoints, table.ports], [[], []], "no address or port left");
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    } finally {
      for (const s of this.servers) {
        try {
          s.kill("SIGKILL");
        } catch { /* gone */ }
        await s.status;
      }
      sh(["ip", "netns", "del", this.hostNs], { check: false });
      sh(["ip", "netns", "del", this.outsideNs], { check: false });
    }
    await super.cleanup();
  }
}
