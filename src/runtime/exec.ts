/**
 * `exec`: another process in a running bundle container, as containerd's shim and conmon
 * ask runc for one (`exec --process FILE` with an OCI Process document, or the command and
 * flags). The same code as the Docker-style `exec` (src/container/exec.ts) enters the
 * container: this module only says what the process is. Its stdio is the runtime's own
 * (the caller's pipes or FIFOs); `--detach` returns once it runs, leaving it to the caller,
 * a subreaper, as runc does; otherwise this waits and exits with its status.
 *
 * @module
 */

import { close, connectUnix, sendFd, waitAsync } from "../../ffi/libc.ts";
import { type OciProcess, parseOciSpec } from "../config/oci_spec.ts";
import { capabilityNumbers, normalizeCapabilities } from "../config/capabilities.ts";
import { execInTarget, type ExecTarget } from "../container/exec.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { RuntimeStateError, statusOf } from "./lifecycle.ts";
import { profileJson, ulimitsOf } from "./convert.ts";
import type { RuntimeStore } from "./store.ts";

/** What `exec` was asked, besides the ID. */
export interface RuntimeExecOptions {
  /** `--process FILE`: the whole process; the other fields are then ignored. */
  processFile?: string;
  args: string[];
  env: string[];
  cwd?: string;
  /** `--user UID[:GID]`. */
  user?: string;
  /** `--cap` additions to the bounding set. */
  caps: string[];
  tty: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
}

/** Runs the process; returns its exit code, or 0 once it runs with `detach`. */
export async function execProcess(
  store: RuntimeStore,
  id: string,
  opts: RuntimeExecOptions,
): Promise<number> {
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status !== "running") {
    throw new RuntimeStateError(`cannot exec in a ${status} container`);
  }
  const configText = Deno.readTextFileSync(`${record.bundle}/config.json`);
  const spec = parseOciSpec(configText, `${record.bundle}/config.json`);
  const process = opts.processFile
    ? readProcess(opts.processFile)
    : processFromFlags(spec.process ?? { cwd: "/", user: { uid: 0, gid: 0 }, args: [] }, opts);
  const lastCap = Number(Deno.readTextFileSync("/proc/sys/kernel/cap_last_cap").trim());
  const capabilities = new Set(capabilityNumbers(
    normalizeCapabilities(
      process.capabilities?.bounding ?? [],
      "process.capabilities.bounding",
      lastCap,
    ),
    lastCap,
  ));
  const user = process.user ?? { uid: 0, gid: 0 };
  const seccomp = spec.linux?.seccomp;
  const target: ExecTarget = {
    id,
    pid: record.pid,
    cgroup: record.cgroup,
    env: [],
    cwd: process.cwd ?? "/",
    uid: user.uid,
    gid: user.gid,
    capabilities,
    noNewPrivileges: process.noNewPrivileges ?? false,
    ulimits: ulimitsOf(process.rlimits),
    oomScoreAdj: process.oomScoreAdj,
    remapped: false,
    async filter(extra) {
      if (!seccomp) return undefined;
      const { containerSeccompFilter } = await import("../seccomp/container.ts");
      return containerSeccompFilter({ profileJson: profileJson(seccomp) }, capabilities, extra);
    },
  };
  const tty = process.terminal ?? false;
  const started = await execInTarget(target, {
    args: process.args ?? [],
    env: process.env ?? [],
    ids: { uid: user.uid, gid: user.gid, groups: [user.gid, ...(user.additionalGids ?? [])] },
    tty,
    consoleSize: process.consoleSize &&
      { rows: process.consoleSize.height, columns: process.consoleSize.width },
    // The runtime's own stdio is the process's: the caller's pipes, or nothing to wait on.
    interactive: true,
    detach: false,
  });
  if (started.ttyMaster !== undefined) {
    try {
      if (!opts.consoleSocket) throw new Error("a terminal needs --console-socket");
      const socket = connectUnix(opts.consoleSocket);
      try {
        sendFd(socket, started.ttyMaster);
      } finally {
        close(socket);
      }
    } finally {
      close(started.ttyMaster);
    }
  }
  if (opts.pidFile) writeFileAtomic(opts.pidFile, new TextEncoder().encode(String(started.pid)));
  if (opts.detach) return 0;
  return (await waitAsync(started.pid)).exitCode;
}

/** `--process FILE` (or `-`, stdin), checked as config.json's `process` would be. */
function readProcess(path: string): OciProcess {
  const text = path === "-"
    ? new TextDecoder().decode(Deno.readFileSync("/dev/stdin"))
    : Deno.readTextFileSync(path);
  let process: unknown;
  try {
    process = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not JSON: ${(e as Error).message}`);
  }
  // The spec's own checks, on a document that holds only this process.
  const doc = JSON.stringify({ ociVersion: "1.0.0", root: { path: "/" }, process });
  const spec = parseOciSpec(doc, path);
  return spec.process!;
}

/** The container's process with the command line's overrides, as runc builds one. */
function processFromFlags(base: OciProcess, opts: RuntimeExecOptions): OciProcess {
  if (opts.args.length === 0) throw new Error("exec: a command is required");
  const p: OciProcess = structuredClone(base);
  p.args = opts.args;
  p.terminal = opts.tty;
  if (opts.cwd) p.cwd = opts.cwd;
  if (opts.env.length) p.env = [...(p.env ?? []), ...opts.env];
  if (opts.user) {
    const [uid, gid] = opts.user.split(":");
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
      throw new Error(`exec: --user must be UID[:GID] in numbers, not ${opts.user}`);
    }
    p.user = { uid: Number(uid), gid: Number(gid ?? 0) };
  }
  if (opts.caps.length) {
    const caps = p.capabilities ??= {};
    caps.bounding = [...new Set([...(caps.bounding ?? []), ...opts.caps])];
  }
  return p;
}
