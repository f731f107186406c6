/**
 * config.json's hooks (config.md "POSIX-platform Hooks"): each runs with the container's
 * state document on its stdin, its own args (args[0] is its argv[0], which Deno does not
 * set) and env (the runtime's when it has none), killed at its timeout. A failing prestart
 * or createRuntime hook fails the create; a failing poststart or poststop hook is reported
 * on stderr and does not, as the spec asks.
 *
 * @module
 */

/** One hook. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

const FATAL = new Set(["prestart", "createRuntime"]);

/** Runs `hooks` in order with `state` (the OCI state document) on stdin. */
export async function runHooks(name: string, hooks: readonly Hook[], state: object): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    try {
      await runHook(hook, JSON.stringify(state));
    } catch (e) {
      const message = `${name} hook #${i} (${hook.path}): ${(e as Error).message}`;
      if (FATAL.has(name)) throw new Error(message);
      console.error(`m-docker: warning: ${message}`);
    }
  }
}

async function runHook(hook: Hook, stdin: string): Promise<void> {
  // A hook with `env` gets exactly it; one without inherits the runtime's environment, as
  // with runc (Go's exec.Cmd with a nil Env): hooks such as nvidia's look programs up in PATH.
  const env = hook.env && Object.fromEntries(
    hook.env.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  const child = new Deno.Command(hook.path, {
    args: (hook.args ?? []).slice(1),
    env,
    clearEnv: env !== undefined,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = hook.timeout
    ? setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, hook.timeout * 1000)
    : undefined;
  try {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    } catch { /* a hook that does not read its stdin */ }
    const out = await child.output();
    if (timedOut) throw new Error(`timed out after ${hook.timeout} s`);
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
      throw new Error(`exit status ${out.code}${err ? `: ${err}` : ""}`);
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
