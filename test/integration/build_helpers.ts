/** What the build tests share: writing a context, building, and running what was built. */
import assert from "node:assert/strict";
import { processesRunning, type Sandbox, waitFor } from "./harness.ts";

/** The build tests' helpers, bound to their sandbox. */
export function buildHelpers(sb: Sandbox) {
  return {
    /** Writes a context directory from `files` (path -> content); returns its path. */
    context(name: string, files: Record<string, string>): string {
      const dir = `${sb.dir}/ctx-${name}`;
      for (const [path, content] of Object.entries(files)) {
        const full = `${dir}/${path}`;
        Deno.mkdirSync(full.slice(0, full.lastIndexOf("/")), { recursive: true });
        Deno.writeTextFileSync(full, content);
      }
      return dir;
    },
    /** Runs `m-docker build` and asserts it succeeds; returns its stderr (the progress). */
    async build(args: string[], opts: { env?: Record<string, string> } = {}): Promise<string> {
      const r = await sb.run(["build", "--progress", "plain", ...args], opts);
      assert.equal(r.code, 0, `build ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stderr;
    },
    /**
     * Starts `m-docker build --progress plain ARGS` in the background: `progress` gathers
     * its stderr as it comes, `done` is its exit status once that has all been read.
     */
    startBuild(args: string[]) {
      const argv = sb.commandLine(["build", "--progress", "plain", ...args]);
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: sb.env(),
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const out = { progress: "", child, done: null as unknown as Promise<Deno.CommandStatus> };
      out.done = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of child.stderr) out.progress += decoder.decode(chunk);
        return await child.status;
      })();
      return out;
    },
    /**
     * Kills a build with SIGKILL while its RUN runs `sleep SECONDS`, and waits until that
     * step has died with it (its parent-death signal) and a later command has removed its
     * container (build containers are --rm). The sleep can vanish while the kernel still
     * tears the init's PID namespace down, when the init still looks alive: so this polls
     * `ps -a` rather than asks once.
     */
    async killBuild(child: Deno.ChildProcess, seconds: string): Promise<void> {
      child.kill("SIGKILL");
      await child.status;
      await waitFor(() => processesRunning(["sleep", seconds]).length === 0, {
        what: "the killed build's RUN to die with it",
      });
      await waitFor(async () => {
        await sb.ok(["ps", "-a"]);
        return sb.containerIds().length === 0;
      }, { what: "reconcile to remove the killed build's step container" });
    },
    /** Runs `sh -c script` in a new container of `image`; returns its stdout. */
    run: (image: string, script: string) =>
      sb.ok(["run", "--rm", "--entrypoint", "", image, "sh", "-c", script]),
  };
}
