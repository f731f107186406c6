/**
 * What every integration test shares: it runs the built `dist/m-docker` (or M_DOCKER_BIN)
 * as root, in roots of its own under /tmp and a cgroup parent of its own nested under the
 * test's own cgroup, and checks at the end that nothing was left behind.
 *
 * @module
 */

import assert from "node:assert/strict";

const repo = new URL("../../", import.meta.url).pathname;

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

/** A sandbox of roots and cgroup parent for one test file. */
export class Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly cgroupParent: string;

  constructor() {
    this.dir = Deno.makeTempDirSync({ prefix: "m-docker-test-" });
    this.root = `${this.dir}/root`;
    this.state = `${this.dir}/state`;
    this.cgroupParent = `m-docker-test-${this.dir.slice(-6)}`;
  }

  /** The environment that points m-docker at this sandbox. */
  env(): Record<string, string> {
    return {
      M_DOCKER_ROOT: this.root,
      M_DOCKER_STATE: this.state,
      M_DOCKER_CGROUP_PARENT: this.cgroupParent,
    };
  }

  /** Runs m-docker with `args`, optionally feeding `stdin`. */
  async run(
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {},
  ): Promise<Run> {
    const child = new Deno.Command(BIN, {
      args,
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
  async ok(args: string[], opts: { stdin?: string } = {}): Promise<string> {
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

/** Waits until `probe` returns true, polling; fails the test after `ms`. */
export async function eventually(
  probe: () => boolean | Promise<boolean>,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Skips a whole file unless running as root. */
export const asRoot = { ignore: Deno.uid() !== 0, sanitizeOps: false, sanitizeResources: false };
