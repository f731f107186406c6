/**
 * containerd (`ctr`), podman and buildah run containers with the OCI runtime under test
 * (`ociRuntime()`: M_DOCKER_TEST_OCI_RUNTIME, else dist/m-docker-runc) as they do with runc.
 * Prove them against runc and crun:
 *
 *   M_DOCKER_TEST_OCI_RUNTIME=/usr/sbin/runc deno test -A --no-check test/integration/oci_peers_test.ts
 *
 * The harness (oci_peers.ts) runs every peer in a jail of the test's own; see there.
 */
import assert from "node:assert/strict";
import { asRoot, waitFor } from "./harness.ts";
import { IMAGE, PeerSandbox } from "./oci_peers.ts";

/** How long one terminal session may take before it is killed and the test fails. */
const SESSION_MS = 30_000;

/** A command that exits 0 at once on SIGTERM (a plain PID 1 ignores it). */
const SERVE = ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"];

/** Runs `body` with a fresh sandbox, which it cleans up (and checks) whatever happens. */
async function withPeers(name: string, body: (sb: PeerSandbox) => Promise<void>): Promise<void> {
  const sb = await PeerSandbox.start(name);
  try {
    await body(sb);
  } finally {
    await sb.cleanup();
  }
}

/** Types `input` into `argv` run under a pseudo-terminal; returns its exit code and output. */
async function underTerminal(
  sb: PeerSandbox,
  argv: string[],
  input: string,
): Promise<{ code: number; output: string }> {
  const t = sb.terminal(argv);
  try {
    await t.send(input);
    const { code } = await t.exited({ timeoutMs: SESSION_MS });
    return { code, output: t.stdout };
  } finally {
    await t.close();
  }
}

Deno.test({
  name: "containerd: ctr run --rm prints the container's output and exits with its code",
  ...asRoot,
}, () =>
  withPeers("ctr run --rm", async (sb) => {
    const cd = await sb.startContainerd();
    const r = await cd.ctr([
      "run",
      "--rm",
      "--runc-binary",
      sb.wrapper,
      IMAGE,
      "c1",
      "sh",
      "-c",
      "echo hi; exit 3",
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hi\n");
    assert.equal((await cd.ok(["c", "ls", "-q"])).trim(), "", "ctr run --rm left its container");
  }));

Deno.test({
  name: "containerd: run -d, task ls, exec, pause and resume, metrics, kill, task rm, c rm",
  ...asRoot,
}, () =>
  withPeers("ctr run -d", async (sb) => {
    const cd = await sb.startContainerd();
    await cd.ok(["run", "-d", "--runc-binary", sb.wrapper, IMAGE, "d1", ...SERVE]);
    assert.equal(await cd.taskStatus("d1"), "RUNNING");
    // The running container costs containerd's shim and nothing of the runtime's: no
    // process of it (a Deno, an init role) stays once the task runs.
    const runtime = sb.processes().filter((p) => /deno|m-docker-role|m-docker-runc/.test(p));
    assert.deepEqual(runtime, []);

    const e = await cd.ctr([
      "task",
      "exec",
      "--exec-id",
      "e1",
      "d1",
      "sh",
      "-c",
      "echo in-$((1+1)); exit 2",
    ]);
    assert.equal(e.code, 2, e.stderr);
    assert.equal(e.stdout, "in-2\n");

    await cd.ok(["task", "pause", "d1"]);
    assert.equal(await cd.taskStatus("d1"), "PAUSED");
    await cd.ok(["task", "resume", "d1"]);
    assert.equal(await cd.taskStatus("d1"), "RUNNING");

    assert.match(await cd.ok(["task", "metrics", "d1"]), /^memory\.\S+\s+\d+/m);

    await cd.ok(["task", "kill", "d1"]);
    await waitFor(async () => await cd.taskStatus("d1") === "STOPPED", {
      what: "task d1 to be STOPPED after ctr task kill",
    });
    await cd.ok(["task", "rm", "d1"]);
    assert.equal(await cd.taskStatus("d1"), undefined);
    await cd.ok(["c", "rm", "d1"]);
    assert.equal((await cd.ok(["c", "ls", "-q"])).trim(), "");
  }));

Deno.test({
  name: "containerd: ctr run --rm -t gives the container a terminal",
  ...asRoot,
}, () =>
  withPeers("ctr run -t", async (sb) => {
    const cd = await sb.startContainerd();
    const { code, output } = await underTerminal(
      sb,
      cd.ctrArgs(["run", "--rm", "-t", "--runc-binary", sb.wrapper, IMAGE, "t1", "sh"]),
      "echo $((6*7)); exit\n",
    );
    assert.equal(code, 0, output);
    assert.match(output, /^42\r?$/m);
  }));

Deno.test({
  name: "podman: run --rm prints the container's output and exits with its code",
  ...asRoot,
}, () =>
  withPeers("podman run --rm", async (sb) => {
    await sb.podmanLoad();
    const r = await sb.podman([
      "run",
      "--rm",
      ...sb.podmanRunOptions(),
      IMAGE,
      "sh",
      "-c",
      "echo hi; exit 3",
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "hi\n");
    assert.equal((await sb.podmanOk(["ps", "-a", "-q"])).trim(), "");
  }));

Deno.test({
  name: "podman: run -d, exec, pause and unpause, stop, rm; rm -f of a running one",
  ...asRoot,
}, () =>
  withPeers("podman run -d", async (sb) => {
    await sb.podmanLoad();
    const status = async (name: string) =>
      (await sb.podmanOk(["inspect", "--format", "{{.State.Status}}", name])).trim();
    await sb.podmanOk(["run", "-d", ...sb.podmanRunOptions(), "--name", "p1", IMAGE, ...SERVE]);
    assert.equal(await status("p1"), "running");

    const e = await sb.podman(["exec", "p1", "sh", "-c", "echo in-$((1+1)); exit 2"]);
    assert.equal(e.code, 2, e.stderr);
    assert.equal(e.stdout, "in-2\n");

    await sb.podmanOk(["pause", "p1"]);
    assert.equal(await status("p1"), "paused");
    await sb.podmanOk(["unpause", "p1"]);
    assert.equal(await status("p1"), "running");

    await sb.podmanOk(["stop", "p1"]);
    assert.equal(await status("p1"), "exited");
    assert.equal(
      (await sb.podmanOk(["inspect", "--format", "{{.State.ExitCode}}", "p1"])).trim(),
      "0",
    );
    await sb.podmanOk(["rm", "p1"]);

    await sb.podmanOk(["run", "-d", ...sb.podmanRunOptions(), "--name", "p2", IMAGE, ...SERVE]);
    assert.equal(await status("p2"), "running");
    await sb.podmanOk(["rm", "-f", "p2"]);
    assert.equal((await sb.podmanOk(["ps", "-a", "-q"])).trim(), "");
  }));

Deno.test({
  name: "podman: run --rm -it gives the container a terminal",
  ...asRoot,
}, () =>
  withPeers("podman run -it", async (sb) => {
    await sb.podmanLoad();
    const { code, output } = await underTerminal(
      sb,
      sb.podmanArgs(["run", "--rm", "-it", ...sb.podmanRunOptions(), IMAGE, "sh"]),
      "echo $((6*7)); exit\n",
    );
    assert.equal(code, 0, output);
    assert.match(output, /^42\r?$/m);
  }));

Deno.test({
  name: "buildah: bud runs a Dockerfile's RUN with the runtime, and the result has its file",
  ...asRoot,
}, () =>
  withPeers("buildah bud", async (sb) => {
    await sb.podmanLoad();
    const ctx = `${sb.dir}/context`;
    Deno.mkdirSync(ctx);
    Deno.writeTextFileSync(`${ctx}/Dockerfile`, `FROM ${IMAGE}\nRUN echo built > /built\n`);
    const cgroupParent = ["--cgroup-parent", `/${sb.tag}-buildah`];
    const isolation = ["--runtime", sb.wrapper, "--isolation", "oci", "--network", "none"];
    await sb.buildahOk([
      "bud",
      "--pull=never",
      ...isolation,
      ...cgroupParent,
      "-t",
      "localhost/built",
      ctx,
    ]);
    assert.ok(
      sb.invocations().some((l) => / create /.test(l)),
      `buildah bud did not create a container with the runtime: ${sb.invocations().join("; ")}`,
    );
    const from = ["from", "--pull=never", ...cgroupParent, "localhost/built"];
    const ctr = (await sb.buildahOk(from)).trim();
    const r = await sb.buildah(["run", ...isolation, ctr, "cat", "/built"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "built\n");
    await sb.buildahOk(["rm", ctr]);
  }));
