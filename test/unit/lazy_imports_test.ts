/**
 * The commands that run most (`run --network none`, `exec`, `ps`, `inspect`) and the shim
 * reach no networking or log-reading code through static imports: wiring (network.ts and its
 * netlink, address and DNS modules), the embedded DNS server, health checks and the log
 * reader load with `await import(...)` only where a container needs them. The commands that
 * only look (`ps`, `inspect`, `logs`, `exec`) reach none of the code that gives back what a
 * dead container holds (cgroups, volumes, network table, nftables) either. The monitor (what
 * a shim becomes once its container runs) reaches no start code either: it imports that for
 * a restart only. An import added back statically fails here.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\sfrom\s+)?"(\.[^"]+\.ts)"/g;

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

/** Every module `entry` reaches through static, non-type imports. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set([entry]);
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    for (const m of Deno.readTextFileSync(ROOT + file).matchAll(IMPORT)) {
      const dep = resolve(file, m[1]);
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return seen;
}

const WIRING = [
  "src/container/network.ts",
  "src/container/networks.ts",
  "src/container/dns_server.ts",
  "src/network/ipam.ts",
  "src/network/dns.ts",
  "src/network/sysctl.ts",
  "ffi/netlink.ts",
  "ffi/rtnetlink.ts",
];
const READING = ["src/container/logs.ts", "src/container/log_watch.ts"];
// Docker's profile and the compiler: a start reads the cached program (seccomp_filter.ts).
const COMPILING = ["src/seccomp/compile.ts", "src/seccomp/docker_default.ts"];

for (
  const entry of [
    "src/cli/run.ts",
    "src/cli/exec.ts",
    "src/cli/ps.ts",
    "src/cli/inspect.ts",
    "src/roles/shim.ts",
  ]
) {
  Deno.test(`${entry} statically imports no network wiring, health, log reading or seccomp compiler`, () => {
    const reached = staticClosure(entry);
    assert.ok(reached.has("src/state/store.ts"), "the walk follows imports");
    const found = [...WIRING, ...READING, ...COMPILING, "src/container/health.ts"]
      .filter((m) => reached.has(m));
    assert.deepEqual(found, []);
  });
}

Deno.test("exec loads none of the start-up or log-writing code", () => {
  const reached = staticClosure("src/cli/exec.ts");
  assert.ok(reached.has("src/container/exec.ts"), "the walk follows imports");
  const found = [
    "src/container/start.ts",
    "src/rootfs/setup.ts",
    "src/container/foreground.ts",
    "src/container/log_writer.ts",
  ].filter((m) => reached.has(m));
  assert.deepEqual(found, []);
});

Deno.test("exec joins the container's cgroup without either cgroup manager", () => {
  // The join is a few file writes from the recorded paths (src/cgroups/join.ts); the managers
  // (v2's with the BPF device filter compiler) are a 40 KB chunk exec would load for nothing.
  const reached = staticClosure("src/cli/exec.ts");
  assert.ok(reached.has("src/cgroups/join.ts"), "the walk follows imports");
  const found = [
    "src/cgroups/manager.ts",
    "src/cgroups/v1.ts",
    "src/cgroups/v2.ts",
    "src/cgroups/device_filter.ts",
    "ffi/bpf.ts",
  ].filter((m) => reached.has(m));
  assert.deepEqual(found, []);
});

for (const entry of ["src/cli/inspect.ts", "src/cli/images.ts", "src/cli/ps.ts"]) {
  Deno.test(`${entry} statically imports no Go-template engine (a --format loads it)`, () => {
    const reached = staticClosure(entry);
    assert.ok(reached.has("src/util/tabwriter.ts") || reached.has("src/cli/inspect_print.ts"));
    const found = ["src/util/go_template.ts", "src/cli/format.ts"].filter((m) => reached.has(m));
    assert.deepEqual(found, []);
  });
}

// What giving back a dead container's resources takes (reconcile.ts loads it only then):
// the cgroup managers, volumes and mounts, the network table and the firewall.
const REPAIRING = [
  "src/container/cleanup.ts",
  "src/container/network_table.ts",
  "src/cgroups/manager.ts",
  "src/network/nftables.ts",
];

for (
  const entry of ["src/cli/ps.ts", "src/cli/inspect.ts", "src/cli/logs.ts", "src/cli/exec.ts"]
) {
  Deno.test(`${entry} statically imports none of the code that repairs a dead container`, () => {
    const reached = staticClosure(entry);
    assert.ok(reached.has("src/container/reconcile.ts"), "the walk follows imports");
    assert.deepEqual(REPAIRING.filter((m) => reached.has(m)), []);
  });
}

Deno.test("reconcile.ts loads the repair code with import() where it needs it", () => {
  const reached = staticClosure("src/container/reconcile.ts");
  assert.deepEqual(REPAIRING.filter((m) => reached.has(m)), []);
  const text = Deno.readTextFileSync(`${ROOT}src/container/reconcile.ts`);
  assert.match(text, /await import\("\.\/network_table\.ts"\)\)\.releaseContainer\(/);
  assert.match(text, /await import\("\.\/cleanup\.ts"\)\)\.destroyContainer\(/);
});

Deno.test("import loads the unpacker and the store, not the listing, template or prune code of images", () => {
  const reached = staticClosure("src/cli/import.ts");
  assert.ok(reached.has("src/image/layer_apply.ts"), "the walk follows imports");
  const found = [
    "src/cli/images.ts",
    "src/cli/format.ts",
    "src/util/go_template.ts",
    "src/container/prune.ts",
  ].filter((m) => reached.has(m));
  assert.deepEqual(found, []);
  const routes = Deno.readTextFileSync(`${ROOT}src/cli/routes.ts`);
  assert.match(routes, /importImage: Load = async \(\) => \(await import\("\.\/import\.ts"\)\)/);
});

// What starting a container takes, which a monitor holds only once it restarts one.
const STARTING = [
  "src/roles/launch.ts",
  "src/container/start.ts",
  "src/container/restart.ts",
  "src/rootfs/setup.ts",
  "ffi/nsclone.ts",
  "src/seccomp/container.ts",
  "src/seccomp/bpf.ts",
];

Deno.test("src/roles/monitor.ts statically imports no start code, wiring, health or log reading", () => {
  const reached = staticClosure("src/roles/monitor.ts");
  assert.ok(reached.has("src/container/log_writer.ts"), "the walk follows imports");
  const found = [...STARTING, ...WIRING, ...READING, ...COMPILING, "src/container/health.ts"]
    .filter((m) => reached.has(m));
  assert.deepEqual(found, []);
  for (const m of STARTING.slice(0, 2)) assert.ok(staticClosure("src/roles/shim.ts").has(m));
});

Deno.test("the lazy modules are still reached by the commands that need them", () => {
  assert.ok(staticClosure("src/cli/logs.ts").has("src/container/logs.ts"));
  assert.ok(staticClosure("src/cli/network.ts").has("src/container/network.ts"));
  assert.ok(staticClosure("src/container/network.ts").has("ffi/netlink.ts"));
  assert.ok(staticClosure("src/seccomp/container.ts").has("src/seccomp/docker_default.ts"));
});

// push and history load only for themselves: run and ps reach neither, nor the uploader.
for (const entry of ["src/cli/run.ts", "src/cli/ps.ts", "src/cli/images.ts"]) {
  Deno.test(`${entry} statically imports no push or history code`, () => {
    const reached = staticClosure(entry);
    assert.ok(reached.has("src/image/store.ts"), "the walk follows imports");
    const found = [
      "src/cli/push.ts",
      "src/cli/history.ts",
      "src/image/push.ts",
      ...(entry === "src/cli/images.ts" ? [] : ["src/image/history.ts"]),
    ].filter((m) => reached.has(m));
    assert.deepEqual(found, []);
  });
}
