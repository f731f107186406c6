/**
 * `checkpoint` and `restore` of the OCI runtime, through CRIU as runc does them
 * (libcontainer's Checkpoint/Restore): `criu dump` of init's process tree into an image
 * directory, then the container destroyed (unless `--leave-running`); `criu restore` of such
 * a directory into a new container of the same ID, recorded in the store as `create` records
 * one, so that `state`, `kill` and `delete` work on it.
 *
 * CRIU is driven by its command line, not by its RPC socket (`criu swrk`) as runc does:
 * the RPC needs protobuf messages this code base has no encoder for, and the command line
 * carries every option used here. What the RPC gives runc beyond that (notifications for
 * hooks and network locking scripts) is not used. Each command runs `criu check` first, so
 * that a kernel CRIU cannot work on is reported in one line instead of a dump log.
 *
 * @module
 */

import { CLONE, kill, mount, MS, umount, waitAsync } from "../../ffi/libc.ts";
import { newCgroupManager } from "../cgroups/manager.ts";
import type { CgroupManager } from "../cgroups/types.ts";
import { parseCgroupMounts } from "../cgroups/detect.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";
import { deleteContainer, RuntimeStateError, statusOf } from "./lifecycle.ts";
import { cgroupName, newRecord, readBundle } from "./create.ts";
import type { RuntimeStore } from "./store.ts";
import type { BundlePlan } from "./convert.ts";

/** CRIU is missing, or cannot work on this kernel (`criu check` failed). */
export class CriuUnavailableError extends Error {
  override name = "CriuUnavailableError";
}

/** What `checkpoint` is given besides the ID (runc's flags of the same names). */
export interface CheckpointOptions {
  /** Where the images go; `./checkpoint` by default, as with runc. */
  imagePath?: string;
  /** Where CRIU writes its log (`dump.log`); the image directory by default. */
  workPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  fileLocks?: boolean;
  shellJob?: boolean;
  /** The criu binary (the global `--criu`); `criu` from PATH by default. */
  criu?: string;
}

/** What `restore` is given besides the ID. */
export interface RestoreOptions {
  /** The bundle the container is restored into (its config.json and rootfs). */
  bundle: string;
  imagePath?: string;
  /** Where CRIU writes its log (`restore.log`); the image directory by default. */
  workPath?: string;
  pidFile?: string;
  /** Return once restored; else wait for the container's exit, then delete it (runc). */
  detach?: boolean;
  tcpEstablished?: boolean;
  fileLocks?: boolean;
  shellJob?: boolean;
  criu?: string;
}

/** Init's stdio as /proc/PID/fd shows it, kept beside the images (runc's descriptors.json). */
const DESCRIPTORS = "descriptors.json";

/**
 * Runs `criu check` (nothing is cached: the answer is the kernel's, and cheap to ask).
 * Throws `CriuUnavailableError` with one line, `<what>: ...`, naming CRIU's last error.
 */
export async function criuCheck(criu = "criu", what = "checkpoint"): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(criu, {
      args: ["check"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CriuUnavailableError(`${what}: criu is not installed (apt-get install criu)`);
    }
    throw e;
  }
  if (out.success) return;
  const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
  throw new CriuUnavailableError(
    `${what}: CRIU cannot run on this kernel: ${
      lastCriuError(text) ?? `criu check exited with status ${out.code}`
    }`,
  );
}

/**
 * The last `Error (file:line): message` line of CRIU's output or log, as its message; else
 * the last non-empty line; null for nothing at all.
 */
export function lastCriuError(text: string): string | null {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const line = lines.filter((l) => ERROR_LINE.test(l)).at(-1) ?? lines.at(-1);
  return line === undefined ? null : line.replace(ERROR_PREFIX, "");
}

/**
 * The cause in a dump or restore log, as its message: the last `Error` line before CRIU's
 * summary (`Dumping FAILED.`). Earlier ones may be probes that failed harmlessly (kerndat's
 * helper programs), so the first is not the cause. Null when there is no error line.
 */
export function criuLogError(text: string): string | null {
  const errors = text.split("\n").map((l) => l.trim()).filter((l) => ERROR_LINE.test(l))
    .map((l) => l.replace(ERROR_PREFIX, ""));
  return errors.filter((e) => !/^\w+ing FAILED\.?$/.test(e)).at(-1) ?? errors.at(-1) ?? null;
}

/** `Error (file.c:N): `, after the timestamp a log line may start with. */
const ERROR_LINE = /^(\(\s*[\d.]+\)\s*)?Error\b/;
const ERROR_PREFIX = /^(\(\s*[\d.]+\)\s*)?Error (\([^)]*\))?:?\s*/;

/** `checkpoint ID`: dumps a running (or paused) container's process tree with CRIU. */
export async function checkpointContainer(
  store: RuntimeStore,
  id: string,
  opts: CheckpointOptions = {},
): Promise<void> {
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status !== "running" && status !== "paused") {
    throw new RuntimeStateError(`Container cannot be checkpointed in ${status} state`);
  }
  await criuCheck(opts.criu, "checkpoint");
  const { plan } = readBundle(record.bundle, id);
  refuseJoinedNamespaces(plan, "checkpoint");
  const images = absolute(opts.imagePath ?? "checkpoint");
  Deno.mkdirSync(images, { recursive: true, mode: 0o700 });
  const logDir = opts.workPath ? absolute(opts.workPath) : images;
  Deno.mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const descriptors = [0, 1, 2].map((fd) => {
    try {
      return Deno.readLinkSync(`/proc/${record.pid}/fd/${fd}`);
    } catch {
      return "/dev/null";
    }
  });
  Deno.writeTextFileSync(`${images}/${DESCRIPTORS}`, JSON.stringify(descriptors));
  const args = [
    "dump",
    "--tree",
    String(record.pid),
    "--images-dir",
    images,
    "--work-dir",
    logDir,
    "--log-file",
    "dump.log",
    "-v4",
    "--root",
    record.rootfs,
    "--manage-cgroups",
    // Network devices are not the runtime's to save (runc dumps the same way): the
    // namespace is made again, empty, on restore.
    "--empty-ns",
    "net",
    ...commonFlags(opts),
  ];
  if (opts.leaveRunning) args.push("--leave-running");
  const freezer = record.cgroup.paths.unified ?? record.cgroup.paths.freezer;
  if (freezer) args.push("--freeze-cgroup", freezer);
  // Bind mounts come from outside the container: CRIU records them by their destination.
  for (const m of [...externalMounts(plan), ...cgroupBinds(plan, record.cgroup.paths)]) {
    args.push("--ext-mount-map", `${m.destination}:${m.destination}`);
  }
  await runCriu(opts.criu, args, `${logDir}/dump.log`, "checkpoint: criu dump failed");
  if (!opts.leaveRunning) await deleteContainer(store, id, true);
}

/**
 * `restore ID`: a new container from the bundle and a checkpoint's images. Returns the
 * container's exit code unless `detach` (then null, once it runs).
 */
export async function restoreContainer(
  store: RuntimeStore,
  id: string,
  opts: RestoreOptions,
): Promise<number | null> {
  await criuCheck(opts.criu, "restore");
  const { bundle, spec, plan, mountinfo } = readBundle(opts.bundle, id);
  refuseJoinedNamespaces(plan, "restore");
  const images = absolute(opts.imagePath ?? "checkpoint");
  let descriptors: string[];
  try {
    descriptors = JSON.parse(Deno.readTextFileSync(`${images}/${DESCRIPTORS}`));
  } catch (e) {
    throw new Error(`restore: ${images} holds no checkpoint (${(e as Error).message})`);
  }
  const logDir = opts.workPath ? absolute(opts.workPath) : images;
  Deno.mkdirSync(logDir, { recursive: true, mode: 0o700 });
  store.claim(id);
  let cgroup: CgroupManager | undefined;
  let pid = 0;
  // CRIU wants its root to be a mount point whose parent is not overmounted (runc binds
  // the rootfs into its state directory the same way).
  const root = `${store.dir(id)}/criu-root`;
  let mounted = false;
  try {
    cgroup = newCgroupManager({ id: cgroupName(id), path: plan.cgroupsPath, mountinfo });
    cgroup.create(plan.limits, plan.deviceRules);
    Deno.mkdirSync(root);
    mount(plan.init.root, root, null, MS.BIND | MS.REC);
    mounted = true;
    const pidFile = `${store.dir(id)}/criu.pid`;
    const args = [
      "restore",
      "--images-dir",
      images,
      "--work-dir",
      logDir,
      "--log-file",
      "restore.log",
      "-v4",
      "--root",
      root,
      "--manage-cgroups",
      "--empty-ns",
      "net",
      "--evasive-devices",
      // Detached, as a sibling of criu: init is then this process's child, as after `create`.
      "--restore-detached",
      "--restore-sibling",
      "--pidfile",
      pidFile,
      ...commonFlags(opts),
    ];
    for (const [controller, path] of cgroupRoots(cgroup, mountinfo)) {
      args.push("--cgroup-root", controller ? `${controller}:${path}` : path);
    }
    for (const m of [...externalMounts(plan), ...cgroupBinds(plan, cgroup.paths)]) {
      args.push("--ext-mount-map", `${m.destination}:${m.source}`);
    }
    // Init's stdio pipes are this process's own stdio now (CRIU inherits it).
    descriptors.forEach((d, fd) => {
      if (d.startsWith("pipe:")) args.push("--inherit-fd", `fd[${fd}]:${d}`);
    });
    await runCriu(opts.criu, args, `${logDir}/restore.log`, "restore: criu restore failed");
    pid = Number(Deno.readTextFileSync(pidFile).trim());
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new Error(`restore: criu wrote no pid to ${pidFile}`);
    }
    // The limits too, which `update` merges into: restore's cgroup was made with them.
    store.write(newRecord(id, { bundle, spec, plan }, cgroup, pid));
    if (opts.pidFile) writeFileAtomic(opts.pidFile, new TextEncoder().encode(String(pid)));
  } catch (e) {
    if (pid > 0) kill(pid, 9);
    try {
      cgroup?.destroy();
    } catch { /* the first error is the one to report */ }
    if (mounted) unmountQuietly(root);
    try {
      store.remove(id);
    } catch { /* likewise */ }
    throw e;
  }
  unmountQuietly(root);
  try {
    Deno.removeSync(root);
  } catch { /* an empty directory left in the state directory: delete removes it */ }
  if (opts.detach) return null;
  const code = (await waitAsync(pid)).exitCode;
  await deleteContainer(store, id, true);
  return code;
}

/** The flags `checkpoint` and `restore` pass alike. */
function commonFlags(opts: CheckpointOptions | RestoreOptions): string[] {
  // The container's network namespace is locked during the dump (and unlocked by the
  // restore) with nftables, which CRIU does in-process: its default, iptables, needs the
  // iptables-restore binaries, which a host using nft may not have.
  const out: string[] = ["--network-lock", "nftables"];
  if (opts.tcpEstablished) out.push("--tcp-established");
  if (opts.fileLocks) out.push("--file-locks");
  if (opts.shellJob) out.push("--shell-job");
  return out;
}

/**
 * Namespaces joined by path would be CRIU's "external" namespaces, handed over as open
 * descriptors; the command line cannot pass those, so they are refused in one line.
 */
function refuseJoinedNamespaces(plan: BundlePlan, what: string): void {
  if (plan.pid.kind === "join" || plan.net.kind === "join") {
    throw new Error(
      `${what}: a container that joins a pid or network namespace by path is not supported yet`,
    );
  }
}

/**
 * The cgroup mounts that, without a cgroup namespace, bind the container's own cgroup
 * directories (see create.ts): external to CRIU as bind mounts are (runc registers them the
 * same way), each to be bound again from the restored container's new cgroup.
 */
function cgroupBinds(
  plan: BundlePlan,
  paths: Record<string, string>,
): { destination: string; source: string }[] {
  if (plan.init.unshare & CLONE.NEWCGROUP) return [];
  return plan.init.mounts.filter((m) => m.cgroup).flatMap((m) => {
    const dest = m.destination.replace(/\/+$/, "");
    if (m.cgroup!.version === 2) {
      return paths.unified ? [{ destination: dest, source: paths.unified }] : [];
    }
    return m.cgroup!.hierarchies
      .filter((h) => paths[h.dir] !== undefined)
      .map((h) => ({ destination: `${dest}/${h.dir}`, source: paths[h.dir] }));
  });
}

/** The bundle's bind mounts (sources outside the container). */
function externalMounts(plan: BundlePlan): { destination: string; source: string }[] {
  return plan.init.mounts
    .filter((m) => m.fstype === null && m.source !== null && !m.cgroup)
    .map((m) => ({ destination: m.destination, source: m.source as string }));
}

/**
 * Where CRIU puts the restored tasks: the new cgroup's path inside each hierarchy (what
 * /proc/PID/cgroup would show), keyed by controller list on v1 and by "" for cgroup2.
 */
function cgroupRoots(cgroup: CgroupManager, mountinfo: string): [string, string][] {
  const mounts = parseCgroupMounts(mountinfo);
  const out: [string, string][] = [];
  for (const [key, dir] of Object.entries(cgroup.paths)) {
    const m = mounts
      .filter((m) => dir === m.mountPoint || dir.startsWith(m.mountPoint + "/"))
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!m) continue;
    const path = (m.root.replace(/\/$/, "") + dir.slice(m.mountPoint.length)) || "/";
    if (m.fsType === "cgroup2") {
      if (cgroup.layout === "v2") out.push(["", path]);
    } else out.push([key, path]);
  }
  return out;
}

/** Runs criu; on failure throws `<what>: <CRIU's last error> (log: <log>)`. */
async function runCriu(criu = "criu", args: string[], log: string, what: string): Promise<void> {
  const child = new Deno.Command(criu, {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  if (status.success) return;
  let text = "";
  try {
    text = Deno.readTextFileSync(log);
  } catch { /* no log: the status says it */ }
  throw new Error(
    `${what}: ${criuLogError(text) ?? `criu exited with status ${status.code}`} (log: ${log})`,
  );
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function unmountQuietly(path: string): void {
  try {
    umount(path, true);
  } catch { /* not mounted */ }
}
