/**
 * Small helpers for scripts/bench (JSON in, text out), run by the pinned Deno:
 *
 *   deno run --no-config --no-lock -A scripts/bench.d/bench.ts spec CONFIG ROOTFS CGROUPS_PATH ARG...
 *       adjusts a `runc spec` config.json in place: process.args, terminal false, an absolute
 *       rootfs shared by several bundles, linux.cgroupsPath.
 *   ... bench.ts ratios HYPERFINE_JSON [BASE_NAME]
 *       prints each command's mean against BASE_NAME's (default "m-docker"), both ways.
 *   ... bench.ts state-pids STATE_JSON
 *       prints two pids from a container's state.json: its shim's (`shimPid`, or
 *       `monitorPid`, the name m-docker's state uses) and its PID 1's (`pid`), "-" if absent.
 */

const [cmd, ...args] = Deno.args;

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(Deno.readTextFileSync(path));
}

switch (cmd) {
  case "spec": {
    const [path, rootfs, cgroupsPath, ...argv] = args;
    const spec = readJson(path) as {
      process: { args: string[]; terminal: boolean };
      root: { path: string; readonly: boolean };
      linux: { cgroupsPath?: string };
    };
    spec.process.args = argv;
    spec.process.terminal = false;
    spec.root.path = rootfs;
    spec.linux.cgroupsPath = cgroupsPath;
    Deno.writeTextFileSync(path, JSON.stringify(spec, null, 2) + "\n");
    break;
  }
  case "ratios": {
    const [path, base = "m-docker"] = args;
    const { results } = readJson(path) as {
      results: { command: string; mean: number; stddev: number | null }[];
    };
    const ref = results.find((r) => r.command === base) ?? results[0];
    const width = Math.max(8, ...results.map((r) => r.command.length));
    const row = (cells: string[]) =>
      console.log(
        `  ${cells[0].padEnd(width)}  ${cells[1].padStart(16)}  ${cells[2].padStart(13)}  ${
          cells[3].padStart(13)
        }`,
      );
    row(["runtime", "mean", `x ${ref.command}`, `${ref.command} x`]);
    row(["-".repeat(width), "-".repeat(16), "-".repeat(13), "-".repeat(13)]);
    for (const r of results) {
      const ms = `${(r.mean * 1000).toFixed(1)} ± ${((r.stddev ?? 0) * 1000).toFixed(1)} ms`;
      row([r.command, ms, (r.mean / ref.mean).toFixed(2), (ref.mean / r.mean).toFixed(2)]);
    }
    console.log(
      `  (x ${ref.command}: mean of the runtime / mean of ${ref.command}, above 1 means ` +
        `slower than ${ref.command}; ${ref.command} x: the inverse)`,
    );
    break;
  }
  case "state-pids": {
    const state = readJson(args[0]);
    const pid = (v: unknown) => (typeof v === "number" ? String(v) : "-");
    console.log(`${pid(state.shimPid ?? state.monitorPid)} ${pid(state.pid)}`);
    break;
  }
  default:
    console.error(`bench.ts: unknown command ${cmd ?? "(none)"}`);
    Deno.exit(2);
}
