/**
 * m-docker's entry point. A re-exec role (init, shim, monitor, health) is dispatched before anything else
 * is loaded, so those processes import only what they use; everything else is the CLI.
 *
 * @module
 */

import { ROLE } from "./src/container/reexec.ts";

const [first, ...rest] = Deno.args;
if (first === ROLE.init) {
  const { runInit } = await import("./src/roles/init.ts");
  runInit();
} else if (first === ROLE.shim) {
  const { runShim } = await import("./src/roles/shim.ts");
  await runShim(rest);
} else if (first === ROLE.monitor) {
  const { runMonitor } = await import("./src/roles/monitor.ts");
  await runMonitor(rest);
} else if (first === ROLE.health) {
  const { runHealthProbe } = await import("./src/roles/health.ts");
  await runHealthProbe(rest);
} else if (first === "runtime") {
  // The OCI runtime personality (runc's command line; the launcher's m-docker-runc name).
  const { runtimeMain } = await import("./src/cli/runtime.ts");
  Deno.exit(await runtimeMain(rest, runtimeIo()));
} else {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}

/** Plain stdout and stderr writers for the runtime personality. */
function runtimeIo() {
  const encoder = new TextEncoder();
  const writer = (file: typeof Deno.stdout) => ({
    write(s: string) {
      const bytes = encoder.encode(s);
      for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
    },
  });
  return { stdout: writer(Deno.stdout), stderr: writer(Deno.stderr) };
}
