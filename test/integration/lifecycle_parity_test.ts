/**
 * The lifecycle commands Docker users reach for, against real containers: `create` then
 * `start`, `rename`, `pause`/`unpause`, `update`, `container prune`, the `container ...`
 * spellings, and `--label`/`--label-file`. Messages and exit codes are Docker's, recorded
 * here from its source (moby/moby daemon/, docker/cli cli/command/container/) as facts.
 */
import assert from "node:assert/strict";
import { asRoot, NetSandbox, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();
/** For the one test on a user network: in network namespaces of its own. */
const net = new NetSandbox();

/** Docker's messages (moby daemon/*.go and docker/cli), with the container's ID filled in. */
const DOCKER = {
  // daemon/errors.go errNotRunning
  notRunning: (id: string) => `container ${id} is not running`,
  // daemon/pause.go
  alreadyPaused: (id: string) => `container ${id} is already paused`,
  // daemon/unpause.go
  notPaused: (id: string) => `Container ${id} is not paused`,
  // daemon/errors.go errExecPaused
  execPaused: (id: string) => `Container ${id} is paused, unpause the container before exec`,
  // daemon/start.go
  startPaused: "cannot start a paused container, try unpause instead",
  // daemon/delete.go (Docker 20.10's wording, as m-docker's rm of a running container)
  rmPaused: (id: string) =>
    `You cannot remove a paused container ${id}. ` +
    "Unpause and then stop the container before attempting removal or force remove",
  // daemon/rename.go
  sameName: "Renaming a container with the same name as its current name",
  emptyName: "Neither old nor new names may be empty",
  // daemon/names.go reserveName, wrapped by rename.go
  invalidName: (name: string) =>
    `Error when allocating new name: Invalid container name (/${name}), ` +
    "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
  nameInUse: (name: string, id: string) =>
    `Error when allocating new name: Conflict. The container name "/${name}" is already in ` +
    `use by container "${id}". You have to remove (or rename) that container to be able to ` +
    "reuse that name.",
  // docker/cli container/update.go
  updateNoFlags: "you must provide one or more flags when using this command",
  // daemon/container/container_unix.go UpdateContainer, wrapped by update.go errCannotUpdate
  updateSwap: (id: string) =>
    `Cannot update container ${id}: Memory limit should be smaller than already set ` +
    "memoryswap limit, update the memoryswap at the same time",
  updateAutoRemove: (id: string) =>
    `Cannot update container ${id}: Restart policy cannot be updated because AutoRemove is ` +
    "enabled for the container",
  // daemon verifyPlatformContainerResources
  reservationAboveMemory:
    "Minimum memory limit can not be less than memory reservation limit, see usage",
  // docker/cli container/prune.go
  pruneWarning: "WARNING! This will remove all stopped containers.\n" +
    "Are you sure you want to continue? [y/N] ",
  // docker/cli opts.ValidateLabel, as cobra reports a bad flag value
  emptyLabel: `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`,
  // docker/cli pkg/kvfile, wrapped by opts.go "--label-file: %w"
  labelFileBlank: (path: string) =>
    `--label-file: invalid env file (${path}): variable 'a b' contains whitespaces`,
};

// deno-lint-ignore no-explicit-any
type Doc = any;

/** Reads a file of a container's cgroup, by controller (v1) or from the unified directory. */
function cgroupFile(c: Doc, controller: string, file: string): string {
  const paths: Record<string, string> = c.Cgroup.Paths;
  const dir = Object.entries(paths).find(([k]) => k.split(",").includes(controller))?.[1] ??
    paths["unified"];
  return Deno.readTextFileSync(`${dir}/${file}`).trim();
}

/** True when the kernel reports the container's cgroup frozen. */
function frozen(c: Doc): boolean {
  if (c.Cgroup.Layout === "v2") return /^frozen 1$/m.test(cgroupFile(c, "", "cgroup.events"));
  return cgroupFile(c, "freezer", "freezer.state") === "FROZEN";
}

async function runDetached(...args: string[]): Promise<string> {
  return (await sb.ok(["run", "-d", ...args])).trim();
}

Deno.test(
  { name: "create prints the ID and leaves the container created", ...asRoot },
  async () => {
    const out = await sb.ok(["create", "--name", "made", "busybox", "sh", "-c", "echo made-ran"]);
    const id = out.trim();
    assert.match(out, /^[0-9a-f]{64}\n$/, "only the ID, as Docker prints it");
    const c = await sb.inspect("made");
    assert.equal(c.Id, id);
    assert.equal(c.State.Status, "created");
    assert.equal(c.State.Running, false);
    assert.match(await sb.ok(["ps", "-a"]), /Created\s+made/);
    assert.doesNotMatch(await sb.ok(["ps"]), /made/, "not running: plain ps leaves it out");
    // A plain start runs it detached, as Docker's; its log has the output.
    assert.equal(await sb.ok(["start", "made"]), "made\n");
    assert.equal((await sb.ok(["wait", "made"])).trim(), "0");
    await waitFor(async () => (await sb.ok(["logs", "made"])) === "made-ran\n", {
      what: "the created container's output in its log",
    });
    await sb.ok(["rm", "made"]);
  },
);

Deno.test({ name: "create then start -a attaches, with the exit code", ...asRoot }, async () => {
  await sb.ok(["create", "--name", "attached", "busybox", "sh", "-c", "echo out; echo err >&2"]);
  const r = await sb.run(["start", "-a", "attached"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  await sb.ok(["create", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
  assert.equal((await sb.run(["start", "-a", "three"])).code, 3);
  await sb.ok(["rm", "attached", "three"]);
});

Deno.test({ name: "create takes run's flags into the container", ...asRoot }, async () => {
  const id = (await sb.ok([
    "create",
    "-e",
    "X=1",
    "-w",
    "/tmp",
    "-m",
    "64m",
    "--restart",
    "on-failure:2",
    "--hostname",
    "made-host",
    "busybox",
    "ls",
    "-l",
  ])).trim();
  const c = await sb.inspect(id);
  assert.ok(c.Config.Env.includes("X=1"));
  assert.equal(c.Config.WorkingDir, "/tmp");
  assert.equal(c.Config.Hostname, "made-host");
  assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
  // `-l` after the image belongs to the command, not to create's --label.
  assert.deepEqual([c.Path, ...c.Args], ["ls", "-l"]);
  await sb.ok(["rm", id]);
});

Deno.test({ name: "create fails as run does: 125, nothing created", ...asRoot }, async () => {
  const before = sb.containerIds().length;
  const small = await sb.run(["create", "-m", "1k", "busybox", "true"]);
  assert.equal(small.code, 125);
  assert.match(small.stderr, /Minimum memory limit allowed is 6MB/);
  const missing = await sb.run(["create", "--pull", "never", "no-such-image:1", "true"]);
  assert.equal(missing.code, 125);
  assert.equal(missing.stdout, "");
  await sb.ok(["create", "--name", "taken", "busybox", "true"]);
  const twice = await sb.run(["create", "--name", "taken", "busybox", "true"]);
  assert.equal(twice.code, 125);
  assert.match(twice.stderr, /Conflict\. The container name "\/taken" is already in use/);
  assert.equal(sb.containerIds().length, before + 1, "only the first 'taken'");
  const detach = await sb.run(["create", "-d", "busybox", "true"]);
  assert.notEqual(detach.code, 0, "create has no -d, as Docker's");
  await sb.ok(["rm", "taken"]);
});

Deno.test({ name: "--label and --label-file on run and create", ...asRoot }, async () => {
  const file = `${sb.dir}/labels`;
  Deno.writeTextFileSync(file, "# a comment\n\n  file=from-file\na=0\nbare\n");
  for (const verb of ["run", "create"]) {
    const args = verb === "run" ? ["run", "-d"] : ["create"];
    const id = (await sb.ok([
      ...args,
      "--label-file",
      file,
      "-l",
      "a=1",
      "--label",
      "b",
      "--label",
      "c=x=y",
      "busybox",
      "true",
    ])).trim();
    const c = await sb.inspect(id);
    // The flags override the file; a bare key in a file is dropped, on the command line empty.
    assert.deepEqual(c.Config.Labels, { file: "from-file", a: "1", b: "", c: "x=y" }, verb);
    if (verb === "run") await sb.ok(["wait", id]);
    await sb.ok(["rm", id]);
  }
  const empty = await sb.run(["run", "--rm", "-l", "=x", "busybox", "true"]);
  assert.equal(empty.code, 125);
  assert.equal(empty.stderr, `m-docker: ${DOCKER.emptyLabel}\n`);
  Deno.writeTextFileSync(file, "a b=1\n");
  const blank = await sb.run(["create", "--label-file", file, "busybox", "true"]);
  assert.equal(blank.code, 125);
  assert.equal(blank.stderr, `m-docker: ${DOCKER.labelFileBlank(file)}\n`);
  const gone = await sb.run(["create", "--label-file", `${sb.dir}/nope`, "busybox", "true"]);
  assert.equal(gone.code, 125);
  assert.match(gone.stderr, /--label-file: /);
});

Deno.test({ name: "rename: Docker's rules, the hostname kept", ...asRoot }, async () => {
  const id = await runDetached("--name", "old-name", "busybox", "sleep", "600");
  const hostname = (await sb.ok(["exec", "old-name", "hostname"])).trim();
  const hosts = await sb.ok(["exec", "old-name", "cat", "/etc/hosts"]);
  const r = await sb.run(["rename", "old-name", "new-name"]);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], "Docker's rename prints nothing");
  assert.equal((await sb.inspect("new-name")).Name, "/new-name");
  assert.equal((await sb.inspect(id)).Name, "/new-name");
  const old = await sb.run(["inspect", "old-name"]);
  assert.notEqual(old.code, 0, "the old name is free");
  // Docker changes neither the hostname nor /etc/hosts of a running container.
  assert.equal((await sb.ok(["exec", "new-name", "hostname"])).trim(), hostname);
  assert.equal(await sb.ok(["exec", "new-name", "cat", "/etc/hosts"]), hosts);
  assert.match(await sb.ok(["ps"]), /new-name\n/);

  const other = (await sb.ok(["create", "--name", "other-name", "busybox", "true"])).trim();
  const failures: Array<[string[], string]> = [
    [["rename", "new-name", "new-name"], DOCKER.sameName],
    [["rename", "new-name", "/new-name"], DOCKER.sameName],
    [["rename", "new-name", "other-name"], DOCKER.nameInUse("other-name", other)],
    [["rename", "new-name", "bad name"], DOCKER.invalidName("bad name")],
    [["rename", "new-name", "x"], DOCKER.invalidName("x")],
    [["rename", "new-name", " "], DOCKER.emptyName],
    [["rename", "no-such-container", "whatever"], "No such container: no-such-container"],
  ];
  for (const [args, message] of failures) {
    const f = await sb.run(args);
    assert.equal(f.code, 1, `${args.join(" ")}: ${f.stderr}`);
    assert.equal(f.stderr, `Error response from daemon: ${message}\n`, args.join(" "));
  }
  // A stopped container is renamed too, and a leading slash is Docker's spelling.
  await sb.ok(["rename", "other-name", "/renamed-stopped"]);
  assert.equal((await sb.inspect(other)).Name, "/renamed-stopped");
  await sb.ok(["rm", "-f", id, other]);
});

Deno.test({ name: "rename: members of its network resolve the new name", ...asRoot }, async () => {
  await net.ok(["network", "create", "renames"]);
  await net.ok([
    "run",
    "-d",
    "--name",
    "before",
    "--network",
    "renames",
    "busybox",
    "sleep",
    "600",
  ]);
  const ip = (await net.inspect("before")).NetworkSettings.Networks.renames.IPAddress;
  await net.ok(["rename", "before", "after"]);
  const r = await net.run([
    "run",
    "--rm",
    "--network",
    "renames",
    "busybox",
    "sh",
    "-c",
    "nslookup after; echo; nslookup before || echo before-unknown",
  ]);
  assert.match(r.stdout, new RegExp(`Name:\\s+after\\nAddress: ${ip.replaceAll(".", "\\.")}`));
  assert.match(r.stdout, /before-unknown/, "the old name no longer resolves");
  await net.ok(["rm", "-f", "after"]);
  await net.ok(["network", "rm", "renames"]);
});

Deno.test({ name: "pause freezes the cgroup; unpause thaws it", ...asRoot }, async () => {
  const vol = Deno.makeTempDirSync({ dir: sb.dir });
  const id = await runDetached(
    "--name",
    "pausable",
    "-v",
    `${vol}:/v`,
    "busybox",
    "sh",
    "-c",
    "i=0; while :; do i=$((i+1)); echo $i > /v/n.tmp; mv /v/n.tmp /v/n; sleep 0.05; done",
  );
  const count = () => Number(Deno.readTextFileSync(`${vol}/n`).trim() || "0");
  await waitFor(() => count() > 0, { what: "the loop to start counting" });
  assert.equal(await sb.ok(["pause", "pausable"]), "pausable\n");
  let c = await sb.inspect(id);
  assert.ok(frozen(c), "the kernel reports the cgroup frozen");
  assert.equal(c.State.Status, "paused");
  assert.equal(c.State.Paused, true);
  assert.equal(c.State.Running, true, "a paused container is running, as Docker says");
  assert.match(await sb.ok(["ps"]), /Up .* \(Paused\)\s+pausable/);
  assert.equal(JSON.parse((await sb.ok(["ps", "--format", "json"])).trim()).State, "paused");

  const refusals: Array<[string[], string]> = [
    [["pause", "pausable"], DOCKER.alreadyPaused(id)],
    [["exec", "pausable", "true"], DOCKER.execPaused(id)],
    [["start", "pausable"], DOCKER.startPaused],
  ];
  for (const [args, message] of refusals) {
    const r = await sb.run(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    // docker start ends with its summary of the containers it could not start.
    const summary = args[0] === "start" ? `failed to start containers: ${args[1]}\n` : "";
    assert.equal(r.stderr, `Error response from daemon: ${message}\n${summary}`, args.join(" "));
  }
  const rm = await sb.run(["rm", "pausable"]);
  assert.notEqual(rm.code, 0);
  assert.equal(rm.stderr, `Error response from daemon: ${DOCKER.rmPaused(id)}\n`);
  // A signal that does not end it waits for the thaw: still paused, as Docker's kill.
  await sb.ok(["kill", "-s", "USR2", "pausable"]);
  assert.equal((await sb.inspect(id)).State.Status, "paused");

  assert.equal(await sb.ok(["unpause", "pausable"]), "pausable\n");
  c = await sb.inspect(id);
  assert.ok(!frozen(c));
  assert.equal(c.State.Status, "running");
  assert.equal(c.State.Paused, false);
  assert.doesNotMatch(await sb.ok(["ps"]), /Paused/);
  const resumed = count();
  await waitFor(() => count() > resumed, { what: "the loop to count again after unpause" });
  const again = await sb.run(["unpause", "pausable"]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, `Error response from daemon: ${DOCKER.notPaused(id)}\n`);
  await sb.ok(["rm", "-f", id]);

  const stopped = (await sb.ok(["create", "busybox", "true"])).trim();
  const notRunning = await sb.run(["pause", stopped]);
  assert.equal(notRunning.code, 1);
  assert.equal(notRunning.stderr, `Error response from daemon: ${DOCKER.notRunning(stopped)}\n`);
  const unknown = await sb.run(["pause", "no-such-container"]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    "Error response from daemon: No such container: no-such-container\n",
  );
  await sb.ok(["rm", stopped]);
});

Deno.test({ name: "stop, kill and rm -f of a paused container", ...asRoot }, async () => {
  // The stop signal reaches the command after the thaw: it exits by its own trap (7).
  const trap = await runDetached(
    "busybox",
    "sh",
    "-c",
    "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done",
  );
  await waitFor(async () => (await sb.ok(["logs", trap])) === "ready\n", { what: "the trap" });
  await sb.ok(["pause", trap]);
  assert.equal(await sb.ok(["stop", trap]), `${trap}\n`);
  let c = await sb.inspect(trap);
  assert.equal(c.State.Status, "exited");
  assert.equal(c.State.ExitCode, 7, "the stop signal, delivered after the thaw");
  assert.equal(c.State.Paused, false);
  // Started again, it is not paused.
  await sb.ok(["start", trap]);
  assert.equal((await sb.inspect(trap)).State.Paused, false);
  await sb.ok(["pause", trap]);
  await sb.ok(["kill", trap]);
  assert.equal((await sb.ok(["wait", trap])).trim(), "137");
  c = await sb.inspect(trap);
  assert.deepEqual([c.State.Status, c.State.Paused], ["exited", false]);
  await sb.ok(["rm", trap]);

  const forced = await runDetached("busybox", "sleep", "600");
  await sb.ok(["pause", forced]);
  assert.equal(await sb.ok(["rm", "-f", forced]), `${forced}\n`);
  assert.equal((await sb.run(["inspect", forced])).code === 0, false, "removed");
  assert.deepEqual(sb.leftoverCgroups(), []);
});

Deno.test({ name: "update changes the live cgroup and the spec", ...asRoot }, async () => {
  const id = await runDetached(
    "--name",
    "updatable",
    "-m",
    "64m",
    "--memory-swap",
    "128m",
    "--pids-limit",
    "50",
    "busybox",
    "sleep",
    "600",
  );
  const out = await sb.ok([
    "update",
    "-m",
    "100m",
    "--memory-swap",
    "300m",
    "--memory-reservation",
    "80m",
    "--pids-limit",
    "60",
    "--cpu-shares",
    "512",
    "--cpus",
    "0.5",
    "--cpuset-cpus",
    "0",
    "updatable",
  ]);
  assert.equal(out, "updatable\n", "each container updated, by the name given");
  let c = await sb.inspect(id);
  const MiB = 1024 * 1024;
  assert.equal(c.HostConfig.Memory, 100 * MiB);
  assert.equal(c.HostConfig.MemorySwap, 300 * MiB);
  assert.equal(c.HostConfig.MemoryReservation, 80 * MiB);
  assert.equal(c.HostConfig.PidsLimit, 60);
  assert.equal(c.HostConfig.CpuShares, 512);
  assert.equal(c.HostConfig.NanoCpus, 500_000_000);
  assert.equal(c.HostConfig.CpusetCpus, "0");
  const v2 = c.Cgroup.Layout === "v2";
  const memFile = v2 ? "memory.max" : "memory.limit_in_bytes";
  assert.equal(cgroupFile(c, "memory", memFile), String(100 * MiB));
  assert.equal(
    cgroupFile(c, "memory", v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"),
    String(v2 ? 200 * MiB : 300 * MiB),
  );
  assert.equal(cgroupFile(c, "pids", "pids.max"), "60");
  assert.equal(cgroupFile(c, "cpuset", "cpuset.cpus"), "0");
  if (v2) assert.equal(cgroupFile(c, "cpu", "cpu.max"), "50000 100000");
  else {
    assert.equal(cgroupFile(c, "cpu", "cpu.shares"), "512");
    assert.equal(cgroupFile(c, "cpu", "cpu.cfs_quota_us"), "50000");
  }
  // Memory raised above the memory+swap limit in force, with a new one: v1 needs memsw first.
  await sb.ok(["update", "-m", "400m", "--memory-swap", "500m", id]);
  c = await sb.inspect(id);
  assert.equal(cgroupFile(c, "memory", memFile), String(400 * MiB));
  assert.equal(c.HostConfig.MemorySwap, 500 * MiB);
  // --pids-limit -1 is unlimited.
  await sb.ok(["update", "--pids-limit", "-1", id]);
  assert.equal(cgroupFile(await sb.inspect(id), "pids", "pids.max"), "max");

  const refusals: Array<[string[], string]> = [
    [["update", "-m", "600m", id], DOCKER.updateSwap(id)],
    [["update", id], DOCKER.updateNoFlags],
    [["update", "--memory-reservation", "450m", id], DOCKER.reservationAboveMemory],
  ];
  for (const [args, message] of refusals) {
    const r = await sb.run(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, `Error response from daemon: ${message}\n`, args.join(" "));
  }
  c = await sb.inspect(id);
  assert.equal(c.HostConfig.Memory, 400 * MiB, "a refused update changes nothing");
  assert.equal(cgroupFile(c, "memory", memFile), String(400 * MiB));
  // A paused container is updated too, as Docker's.
  await sb.ok(["pause", id]);
  await sb.ok(["update", "--pids-limit", "70", id]);
  assert.equal(cgroupFile(await sb.inspect(id), "pids", "pids.max"), "70");
  await sb.ok(["rm", "-f", id]);
});

Deno.test(
  { name: "update of a stopped container: the next start applies it", ...asRoot },
  async () => {
    const vol = Deno.makeTempDirSync({ dir: sb.dir });
    const id = await runDetached(
      "-v",
      `${vol}:/v`,
      "busybox",
      "sh",
      "-c",
      "echo run >> /v/runs; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null" +
        " > /v/pids; exit 1",
    );
    assert.equal((await sb.ok(["wait", id])).trim(), "1");
    await sb.ok(["update", "--pids-limit", "42", "--restart", "on-failure:2", id]);
    assert.equal((await sb.inspect(id)).HostConfig.PidsLimit, 42);
    await sb.ok(["start", id]);
    // The first run, the start, then two restarts by the updated policy.
    const runs = () => Deno.readTextFileSync(`${vol}/runs`).trim().split("\n").length;
    await waitFor(async () => runs() === 4 && (await sb.inspect(id)).State.Status === "exited", {
      what: "the start and two restarts of the updated policy",
      timeoutMs: 30_000,
    });
    assert.equal(Deno.readTextFileSync(`${vol}/pids`).trim(), "42", "the new limit inside");
    await sb.ok(["rm", id]);

    const auto = await runDetached("--rm", "busybox", "sleep", "600");
    const r = await sb.run(["update", "--restart", "always", auto]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error response from daemon: ${DOCKER.updateAutoRemove(auto)}\n`);
    await sb.ok(["rm", "-f", auto]);
  },
);

Deno.test({ name: "container prune removes what is not running", ...asRoot }, async () => {
  const running = await runDetached("busybox", "sleep", "600");
  const exited = (await sb.ok([
    "run",
    "-d",
    "busybox",
    "dd",
    "if=/dev/zero",
    "of=/blob",
    "bs=1000",
    "count=50",
  ])).trim();
  assert.equal((await sb.ok(["wait", exited])).trim(), "0");
  const created = (await sb.ok(["create", "busybox", "true"])).trim();

  // Declined: the prompt, nothing more, nothing removed, and success (Docker's "cancelled").
  const no = await sb.run(["container", "prune"], { stdin: "n\n" });
  assert.deepEqual([no.code, no.stdout], [0, DOCKER.pruneWarning]);
  assert.equal(sb.containerIds().length, 3);

  const r = await sb.run(["container", "prune", "-f"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "Deleted Containers:");
  assert.deepEqual(lines.slice(1, 3).sort(), [exited, created].sort());
  assert.equal(lines[3], "", "a blank line before the total, as Docker's");
  const total = /^Total reclaimed space: ([\d.]+)kB$/.exec(lines[4]);
  assert.ok(total, lines[4]);
  assert.ok(Number(total[1]) >= 50, "the 50 kB the exited container wrote");
  assert.deepEqual(lines.slice(5), [""]);
  assert.deepEqual(sb.containerIds(), [running]);

  const none = await sb.run(["container", "prune"], { stdin: "y\n" });
  assert.equal(none.stdout, `${DOCKER.pruneWarning}Total reclaimed space: 0B\n`);
  await sb.ok(["rm", "-f", running]);
});

Deno.test(
  { name: "prune --filter: label, label!, until; Docker's errors", ...asRoot },
  async () => {
    const keep = (await sb.ok(["create", "-l", "keep=yes", "busybox", "true"])).trim();
    const tmp = (await sb.ok(["create", "-l", "tmp", "busybox", "true"])).trim();
    const plain = (await sb.ok(["create", "busybox", "true"])).trim();
    try {
      // until=1h: everything here is newer, nothing goes.
      const young = await sb.run(["container", "prune", "-f", "--filter", "until=1h"]);
      assert.deepEqual([young.code, young.stdout], [0, "Total reclaimed space: 0B\n"]);
      const byLabel = await sb.ok(["container", "prune", "-f", "--filter", "label=tmp"]);
      assert.equal(byLabel.split("\n").slice(0, 2).join("\n"), `Deleted Containers:\n${tmp}`);
      const notKeep = await sb.ok(["container", "prune", "-f", "--filter", "label!=keep=yes"]);
      assert.equal(notKeep.split("\n").slice(0, 2).join("\n"), `Deleted Containers:\n${plain}`);
      assert.deepEqual(sb.containerIds(), [keep]);
      // moby's daemon/prune.go messages, exit 1.
      for (
        const [args, message] of [
          [["container", "prune", "-f", "--filter", "color=red"], "invalid filter 'color'"],
          [
            ["container", "prune", "-f", "--filter", "until=soon"],
            `failed to parse value as time or duration: "soon"`,
          ],
          [
            ["container", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h"],
            "more than one until filter specified",
          ],
          [["volume", "prune", "-f", "--filter", "until=1h"], "invalid filter 'until'"],
          [["network", "prune", "-f", "--filter", "dangling=true"], "invalid filter 'dangling'"],
          [["image", "prune", "-f", "--filter", "name=x"], "invalid filter 'name'"],
        ] as Array<[string[], string]>
      ) {
        const r = await sb.run(args);
        assert.deepEqual(
          [r.code, r.stderr],
          [1, `Error response from daemon: ${message}\n`],
          args.join(" "),
        );
      }
      const sys = await sb.run(["system", "prune", "-f", "--volumes", "--filter", "until=1h"]);
      assert.deepEqual([sys.code, sys.stderr], [
        1,
        `ERROR: The "until" filter is not supported with "--volumes"\n`,
      ]);
      assert.deepEqual(sb.containerIds(), [keep]);
      // system prune passes the filter on: the labelled container stays, then goes.
      await sb.ok(["system", "prune", "-f", "--filter", "label!=keep"]);
      assert.deepEqual(sb.containerIds(), [keep]);
      assert.match(
        await sb.ok(["system", "prune", "-f", "--filter", "label=keep=yes"]),
        new RegExp(keep),
      );
      assert.deepEqual(sb.containerIds(), []);
    } finally {
      for (const id of sb.containerIds()) await sb.ok(["rm", "-f", id]);
    }
  },
);

Deno.test({ name: "container ... spells the same commands", ...asRoot }, async () => {
  const id =
    (await sb.ok(["container", "run", "-d", "--name", "spelled", "busybox", "sleep", "600"]))
      .trim();
  for (const ls of ["ls", "ps", "list"]) {
    assert.equal(await sb.ok(["container", ls, "-q"]), `${id.slice(0, 12)}\n`, ls);
  }
  assert.equal((JSON.parse(await sb.ok(["container", "inspect", "spelled"])))[0].Id, id);
  assert.equal(await sb.ok(["container", "exec", "spelled", "echo", "-n", "hi"]), "hi");
  await sb.ok(["container", "rename", "spelled", "spelled2"]);
  await sb.ok(["container", "pause", "spelled2"]);
  await sb.ok(["container", "unpause", "spelled2"]);
  await sb.ok(["container", "update", "--pids-limit", "30", "spelled2"]);
  assert.match(await sb.ok(["container", "top", "spelled2"]), /sleep 600/);
  await sb.ok(["container", "stop", "-t", "0", "spelled2"]);
  assert.equal((await sb.ok(["container", "wait", "spelled2"])).trim(), "137");
  const made = (await sb.ok(["container", "create", "busybox", "ls", "-l"])).trim();
  assert.deepEqual((await sb.inspect(made)).Args, ["-l"]);
  await sb.ok(["container", "rm", "spelled2", made]);
  for (
    const verb of [
      "start",
      "kill",
      "restart",
      "logs",
      "port",
      "attach",
      "commit",
      "export",
      "prune",
    ]
  ) {
    const help = await sb.run(["container", verb, "--help"]);
    assert.equal(help.code, 0, `container ${verb} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`container ${verb}`), verb);
  }
});

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
  await net.cleanup();
});
