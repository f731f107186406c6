/**
 * `run -d`: hand a created container to a shim and return once it runs. The shim is a new
 * session with stdio on /dev/null, so it outlives the CLI and any terminal (seed 003).
 *
 * @module
 */

import { close, O, pipe, read, spawn } from "../../ffi/libc.ts";
import { ROLE, selfCommand } from "../roles/self.ts";
import type { ShimReport } from "../roles/shim.ts";
import type { StateStore } from "../state/store.ts";
import type { ContainerState } from "../state/types.ts";
import { removeContainerFiles } from "./create.ts";
import { ContainerStartError } from "./start.ts";

/**
 * Starts `state` under a new shim. Resolves once the container runs; throws the start
 * error otherwise (the shim has already removed the container by then).
 */
export function startDetached(store: StateStore, state: ContainerState): void {
  const [reportRead, reportWrite] = pipe();
  const self = selfCommand(ROLE.shim, [store.dir, state.id]);
  const env = Object.entries(Deno.env.toObject()).map(([k, v]) => `${k}=${v}`);
  let text = "";
  try {
    spawn({
      path: self.path,
      args: self.args,
      env,
      newSession: true,
      fds: [
        { kind: "open", fd: 0, path: "/dev/null", flags: O.RDONLY },
        { kind: "open", fd: 1, path: "/dev/null", flags: O.WRONLY },
        { kind: "open", fd: 2, path: "/dev/null", flags: O.WRONLY },
        { kind: "dup", from: reportWrite, to: 3 },
      ],
    });
    close(reportWrite);
    const buf = new Uint8Array(4096);
    for (let n = read(reportRead, buf); n > 0; n = read(reportRead, buf)) {
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    close(reportRead);
  }
  let report: ShimReport;
  try {
    report = JSON.parse(text);
  } catch {
    // The shim died before it could report: clean up what it may have left.
    const current = store.read(state.id);
    if (current) removeContainerFiles(store, current);
    throw new ContainerStartError("the container's shim exited before the container started", 125);
  }
  if (!report.ok) throw new ContainerStartError(report.error, report.exitCode);
}
