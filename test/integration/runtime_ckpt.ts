/**
 * What the checkpoint/restore tests share (runtime_checkpoint_test.ts on the host,
 * test/v2/checkpoint_v2_test.ts in the cgroup v2 guest): a bundle of static busybox whose
 * process counts into /tmp/n, and `m-docker-runc` runs whose stdio are pipes this process
 * holds (CRIU dumps pipes, not a host /dev/null it cannot find in the container's mounts).
 *
 * @module
 */

import { BIN, type Run } from "./harness.ts";

const repo = new URL("../../", import.meta.url).pathname;

/** The counting process of the brief: it writes the next number every 0.1 s. */
export const COUNTER = "i=0; while :; do echo $i > /tmp/n; i=$((i+1)); sleep 0.1; done";

/** The OCI runtime under test: the link beside the executable. */
export const RUNC = BIN.replace(/m-docker$/, "m-docker-runc");

/** The cgroup jail (scripts/cgroup-jail), for runtimes run on the host. */
export const CGROUP_JAIL = Deno.env.get("M_DOCKER_TEST_CGROUP_JAIL") ??
  `${repo}scripts/cgroup-jail`;

/** A bundle in `dir`: rootfs with busybox, config.json from `spec`, running `COUNTER`. */
export function countingBundle(dir: string, id: string): { bundle: string; rootfs: string } {
  const bundle = `${dir}/bundle`;
  const rootfs = `${bundle}/rootfs`;
  for (const d of ["bin", "tmp", "proc", "sys", "dev"]) {
    Deno.mkdirSync(`${rootfs}/${d}`, { recursive: true });
  }
  Deno.copyFileSync("/bin/busybox", `${rootfs}/bin/busybox`);
  Deno.chmodSync(`${rootfs}/bin/busybox`, 0o755);
  for (const applet of ["sh", "sleep", "cat"]) {
    Deno.symlinkSync("busybox", `${rootfs}/bin/${applet}`);
  }
  const out = new Deno.Command(RUNC, { args: ["spec"], cwd: bundle, stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(`spec: ${new TextDecoder().decode(out.stderr)}`);
  const config = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`));
  config.process.terminal = false;
  config.process.args = ["sh", "-c", COUNTER];
  config.root.readonly = false;
  config.linux.cgroupsPath = `m-docker-rt-ckpt/${id}`;
  Deno.writeTextFileSync(`${bundle}/config.json`, JSON.stringify(config, null, 2));
  return { bundle, rootfs };
}

/** A runtime run; `held` keeps its stdio pipes, which a container may hold past its exit. */
export interface HeldRun {
  code: number;
  /** Its stderr, read only when it failed (a running container holds the pipe open). */
  stderr: string;
  /** Closes this side of the pipes. */
  release(): Promise<void>;
}

/**
 * Runs `m-docker-runc --root ROOT ARGS...` (in the cgroup jail when `jail`) with piped
 * stdio, and waits for it to exit, not for its pipes to close.
 */
export async function runtimeHeld(root: string, args: string[], jail: boolean): Promise<HeldRun> {
  const argv = [RUNC, "--root", root, ...args];
  const cmd = jail
    ? ["unshare", "--cgroup", "--mount", "--propagation", "private", CGROUP_JAIL, ...argv]
    : argv;
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const status = await child.status;
  let stderr = "";
  if (!status.success) stderr = await new Response(child.stderr).text();
  return {
    code: status.code,
    stderr,
    async release() {
      await child.stdin.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      if (status.success) await child.stderr.cancel().catch(() => {});
    },
  };
}

/** Runs `m-docker-runc --root ROOT ARGS...` to completion (stdio not held by a container). */
export async function runtime(root: string, args: string[], jail: boolean): Promise<Run> {
  const argv = [RUNC, "--root", root, ...args];
  const cmd = jail
    ? ["unshare", "--cgroup", "--mount", "--propagation", "private", CGROUP_JAIL, ...argv]
    : argv;
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The counter's value, or null while the file is missing or being rewritten. */
export function count(rootfs: string): number | null {
  try {
    const text = Deno.readTextFileSync(`${rootfs}/tmp/n`).trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** `criu check`: whether it passed, and the last `Error` line it printed (prefix and all). */
export function criuCheck(): { ok: boolean; lastError: string | null; output: string } {
  try {
    const out = new Deno.Command("criu", { args: ["check"], stdout: "piped", stderr: "piped" })
      .outputSync();
    const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const errors = output.split("\n").filter((l) => l.startsWith("Error"));
    return { ok: out.success, lastError: errors.at(-1) ?? null, output };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: false, lastError: null, output: "" };
    throw e;
  }
}
