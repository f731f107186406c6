/**
 * Healthchecks as Docker's: `--health-*`, `--no-healthcheck` and the image's HEALTHCHECK,
 * probed by the container's monitor (the shim, or the CLI in the foreground), shown in
 * `inspect`'s State.Health and `ps`'s STATUS. Facts from Docker (moby daemon/health.go,
 * container/state.go and health.go; docker/cli opts.go): output kept to 4096 bytes then
 * "...", five log entries, exit code -1 and "Health check exceeded timeout (D)" on a
 * timeout, "health: starting" in `ps` until the first success, failures inside the start
 * period not counted, "unhealthy" once the monitor stops.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor, WatchedChild } from "./harness.ts";
import { writeTar } from "../../src/image/tar_writer.ts";

const sb = new Sandbox();

// deno-lint-ignore no-explicit-any
const health = async (ref: string): Promise<any> => (await sb.inspect(ref)).State.Health;

/** The STATUS column of `ps` for `name`. */
async function psStatus(name: string): Promise<string> {
  for (const line of (await sb.ok(["ps", "-a", "--format", "json"])).trim().split("\n")) {
    const c = JSON.parse(line);
    if (c.Names === name) return c.Status;
  }
  throw new Error(`${name} is not listed by ps`);
}

async function waitForHealth(
  ref: string,
  status: string,
  more?: (h: { FailingStreak: number; Log: unknown[] }) => boolean,
) {
  await waitFor(async () => {
    const h = await health(ref);
    return h?.Status === status && (more ? more(h) : true);
  }, { what: `${ref} to be ${status}`, detail: () => ref });
}

const fast = ["--health-interval", "100ms"];

Deno.test(
  {
    name: "--health-cmd: starting within the start period, then healthy; ps and inspect",
    ...asRoot,
  },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "web",
      "--health-cmd",
      "echo probing; test -e /tmp/ready",
      ...fast,
      "--health-start-period",
      "1h",
      "--health-start-interval",
      "100ms",
      "busybox",
      "sleep",
      "1000",
    ]);
    // Failures inside the start period leave it starting, with no streak.
    await waitForHealth("web", "starting", (h) => h.Log.length >= 2);
    const starting = await health("web");
    assert.equal(starting.FailingStreak, 0);
    assert.equal(starting.Log[0].ExitCode, 1);
    assert.equal(starting.Log[0].Output, "probing\n");
    assert.match(await psStatus("web"), /^Up .* \(health: starting\)$/);
    await sb.ok(["exec", "web", "touch", "/tmp/ready"]);
    await waitForHealth("web", "healthy");
    assert.match(await psStatus("web"), /^Up .* \(healthy\)$/);
    const doc = await sb.inspect("web");
    assert.deepEqual(Object.keys(doc.State.Health), ["Status", "FailingStreak", "Log"]);
    const last = doc.State.Health.Log.at(-1);
    assert.deepEqual(Object.keys(last), ["Start", "End", "ExitCode", "Output"]);
    assert.equal(last.ExitCode, 0);
    assert.ok(Date.parse(last.Start) <= Date.parse(last.End));
    assert.ok(Date.parse(last.Start) >= Date.parse(doc.State.StartedAt));
    // Docker's Config.Healthcheck: durations in nanoseconds, zero ones left out.
    assert.deepEqual(doc.Config.Healthcheck, {
      Test: ["CMD-SHELL", "echo probing; test -e /tmp/ready"],
      Interval: 100_000_000,
      StartPeriod: 3_600_000_000_000,
      StartInterval: 100_000_000,
    });
    // Once the container stops, Docker's monitor leaves it "unhealthy".
    await sb.ok(["stop", "-t", "0", "web"]);
    assert.equal((await health("web")).Status, "unhealthy");
    assert.match(await psStatus("web"), /^Exited \(137\)/);
    await sb.ok(["rm", "web"]);
  },
);

Deno.test(
  { name: "failing checks: unhealthy after --health-retries, five log entries", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "sick",
      "--health-cmd",
      "echo out; echo err >&2; exit 3",
      ...fast,
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "1000",
    ]);
    await waitForHealth("sick", "unhealthy");
    assert.ok((await health("sick")).FailingStreak >= 2);
    assert.match(await psStatus("sick"), /^Up .* \(unhealthy\)$/);
    await waitForHealth("sick", "unhealthy", (h) => h.FailingStreak >= 7);
    const h = await health("sick");
    assert.equal(h.Log.length, 5);
    for (const r of h.Log) {
      assert.equal(r.ExitCode, 3);
      assert.equal(r.Output, "out\nerr\n");
    }
    // Oldest first.
    assert.ok(Date.parse(h.Log[0].Start) < Date.parse(h.Log[4].Start));
    await sb.ok(["rm", "-f", "sick"]);
  },
);

Deno.test(
  { name: "a check that outlives --health-timeout is killed and fails with -1", ...asRoot },
  async () => {
    await sb.ok([
      "run",
      "-d",
      "--name",
      "slow",
      "--health-cmd",
      "echo begun; exec sleep 1000",
      ...fast,
      "--health-timeout",
      "200ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "1000",
    ]);
    await waitForHealth("slow", "unhealthy");
    const r = (await health("slow")).Log[0];
    assert.equal(r.ExitCode, -1);
    assert.equal(r.Output, "Health check exceeded timeout (200ms): begun\n");
    // The check itself was killed: no `sleep 1000` but the container's own.
    await waitFor(async () => {
      const ps = await sb.ok(["exec", "slow", "ps", "-o", "args"]);
      return ps.split("\n").filter((l) => l.trim() === "sleep 1000").length === 1;
    }, { what: "the timed-out check to be gone" });
    await sb.ok(["rm", "-f", "slow"]);
  },
);

Deno.test({ name: "probe output is kept to 4096 bytes, then ...", ...asRoot }, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "chatty",
    "--health-cmd",
    "head -c 5000 /dev/zero | tr '\\0' a",
    ...fast,
    "busybox",
    "sleep",
    "1000",
  ]);
  await waitForHealth("chatty", "healthy");
  assert.equal((await health("chatty")).Log[0].Output, "a".repeat(4096) + "...");
  await sb.ok(["rm", "-f", "chatty"]);
});

Deno.test({ name: "without a healthcheck there is no State.Health", ...asRoot }, async () => {
  await sb.ok(["run", "-d", "--name", "plain", "busybox", "sleep", "1000"]);
  const doc = await sb.inspect("plain");
  assert.equal(doc.State.Health, undefined);
  assert.equal(doc.Config.Healthcheck, undefined);
  assert.match(await psStatus("plain"), /^Up [^()]*$/);
  await sb.ok(["rm", "-f", "plain"]);
});

Deno.test(
  { name: "a foreground container is checked too, by its CLI", ...asRoot },
  async () => {
    const child = new WatchedChild(BIN, [
      "run",
      "--name",
      "fg",
      "--health-cmd",
      "true",
      ...fast,
      "busybox",
      "sh",
      "-c",
      "echo up; until [ -e /tmp/stop ]; do sleep 0.05; done; echo bye",
    ], { env: sb.env() });
    try {
      await waitForHealth("fg", "healthy");
      assert.match(await psStatus("fg"), /\(healthy\)$/);
      await sb.ok(["exec", "fg", "touch", "/tmp/stop"]);
      assert.equal((await child.child.status).code, 0);
      assert.equal(child.stdout, "up\nbye\n");
    } finally {
      try {
        child.child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.child.status;
    }
    assert.equal((await health("fg")).Status, "unhealthy");
    await sb.ok(["rm", "fg"]);
  },
);

/** A docker-archive of an image with busybox and the config's `config` object `cfg`. */
async function imageArchive(name: string, cfg: Record<string, unknown>): Promise<string> {
  const layer = writeTar([
    { name: "bin", type: "directory", mode: 0o755 },
    { name: "bin/busybox", mode: 0o755, body: Deno.readFileSync("/bin/busybox") },
    { name: "bin/sh", type: "symlink", linkname: "busybox" },
    { name: "tmp", type: "directory", mode: 0o1777 },
  ]);
  const hex = (b: ArrayBuffer) =>
    [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
  const diffId = `sha256:${hex(await crypto.subtle.digest("SHA-256", layer))}`;
  const config = new TextEncoder().encode(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: cfg,
    rootfs: { type: "layers", diff_ids: [diffId] },
  }));
  const configName = `${hex(await crypto.subtle.digest("SHA-256", config))}.json`;
  const manifest = [{ Config: configName, RepoTags: [name], Layers: ["layer.tar"] }];
  const path = `${sb.dir}/${name.replace(/[:/]/g, "_")}.tar`;
  Deno.writeFileSync(
    path,
    writeTar([
      { name: "layer.tar", body: layer },
      { name: configName, body: config },
      { name: "manifest.json", body: new TextEncoder().encode(JSON.stringify(manifest)) },
    ]),
  );
  return path;
}

Deno.test(
  {
    name: "the image's HEALTHCHECK: used, merged with --health-*, disabled by --no-healthcheck",
    ...asRoot,
  },
  async () => {
    await sb.ok([
      "load",
      "-i",
      await imageArchive("hc:1", {
        Cmd: ["/bin/busybox", "sleep", "1000"],
        Healthcheck: {
          Test: ["CMD", "/bin/busybox", "test", "-e", "/tmp/ok"],
          Interval: 100_000_000,
          Retries: 1,
        },
      }),
    ]);
    // The image's check, as it is.
    await sb.ok(["run", "-d", "--name", "img", "hc:1"]);
    await waitForHealth("img", "unhealthy");
    await sb.ok(["exec", "img", "/bin/busybox", "touch", "/tmp/ok"]);
    await waitForHealth("img", "healthy");
    await sb.ok(["rm", "-f", "img"]);
    // --health-* without --health-cmd keep the image's test and override the rest.
    await sb.ok(["run", "-d", "--name", "merged", "--health-retries", "4", "hc:1"]);
    assert.deepEqual((await sb.inspect("merged")).Config.Healthcheck, {
      Test: ["CMD", "/bin/busybox", "test", "-e", "/tmp/ok"],
      Interval: 100_000_000,
      Retries: 4,
    });
    await waitForHealth("merged", "unhealthy", (h) => h.FailingStreak >= 4);
    await sb.ok(["rm", "-f", "merged"]);
    // --no-healthcheck: Test NONE, and nothing is probed. The image's durations stay, as
    // Docker's merge (daemon/commit.go) fills every zero field from the image's.
    await sb.ok(["run", "-d", "--name", "none", "--no-healthcheck", "hc:1"]);
    const doc = await sb.inspect("none");
    assert.deepEqual(doc.Config.Healthcheck, {
      Test: ["NONE"],
      Interval: 100_000_000,
      Retries: 1,
    });
    assert.equal(doc.State.Health, undefined);
    await sb.ok(["rm", "-f", "none"]);

    // A CMD check that cannot be run fails with -1 and says why.
    await sb.ok([
      "load",
      "-i",
      await imageArchive("hc:missing", {
        Cmd: ["/bin/busybox", "sleep", "1000"],
        Healthcheck: { Test: ["CMD", "/no/such/check"], Interval: 100_000_000, Retries: 1 },
      }),
    ]);
    await sb.ok(["run", "-d", "--name", "broken", "hc:missing"]);
    await waitForHealth("broken", "unhealthy");
    const r = (await health("broken")).Log[0];
    assert.equal(r.ExitCode, -1);
    assert.match(r.Output, /\/no\/such\/check/);
    await sb.ok(["rm", "-f", "broken"]);
  },
);

Deno.test(
  { name: "health flags are checked as Docker's: exit 125, one line, nothing created", ...asRoot },
  async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["--no-healthcheck", "--health-cmd", "true"],
        /--no-healthcheck conflicts with --health-\* options/,
      ],
      [["--health-interval=-1s"], /--health-interval cannot be negative/],
      [["--health-timeout=-1s"], /--health-timeout cannot be negative/],
      [["--health-retries=-1"], /--health-retries cannot be negative/],
      [["--health-start-period=-1s"], /--health-start-period cannot be negative/],
      [["--health-start-interval=-1s"], /--health-start-interval cannot be negative/],
      [
        ["--health-cmd", "true", "--health-interval", "500us"],
        /Interval in Healthcheck cannot be less than 1ms/,
      ],
      [
        ["--health-cmd", "true", "--health-timeout", "1ns"],
        /Timeout in Healthcheck cannot be less than 1ms/,
      ],
      [
        ["--health-cmd", "true", "--health-start-period", "1us"],
        /StartPeriod in Healthcheck cannot be less than 1ms/,
      ],
      [
        ["--health-cmd", "true", "--health-start-interval", "1us"],
        /StartInterval in Healthcheck cannot be less than 1ms/,
      ],
      [["--health-interval", "10"], /missing unit in duration "10"/],
    ];
    for (const [flags, message] of cases) {
      const r = await sb.run(["run", "--rm", ...flags, "busybox", "true"]);
      assert.equal(r.code, 125, flags.join(" "));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal(await sb.ok(["ps", "-a", "-q"]), "");
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
