/**
 * `cp` beyond the basics of observe_test.ts: files larger than memory would like, streamed
 * (the CLI's peak RSS stays far below the file's size, either way and through a tar stream),
 * and containers run with `--userns=remap`, running or stopped, whose files keep the
 * remapped owners: what is copied in is the container root's (the range's first host id),
 * and what comes out carries the container's own ids, as Docker's daemon translates them.
 */
import assert from "node:assert/strict";
import { asRoot, BIN, Sandbox, waitFor } from "./harness.ts";

const sb = new Sandbox();

/** Over 200 MiB, as real blocks (dd from /dev/zero), with a marker at the end. */
const BIG_MIB = 300;
const MARKER = "end-of-the-big-file\n";
const BIG_BYTES = BIG_MIB * 1024 * 1024 + MARKER.length;
const TIME = "/usr/bin/time";

/**
 * Runs `sh -c script` (m-docker as "$M") under GNU time; returns the exit code and the peak
 * RSS in bytes of the largest process it waited for (the CLI: sh itself is far smaller).
 */
function peakRss(script: string): { code: number; rssBytes: number; stderr: string } {
  assert.ok(
    (() => {
      try {
        return Deno.statSync(TIME).isFile;
      } catch {
        return false;
      }
    })(),
    `${TIME} (Debian's "time" package) measures the CLI's peak memory: install it`,
  );
  const report = `${sb.dir}/time-${crypto.randomUUID()}`;
  const out = new Deno.Command(TIME, {
    args: ["-f", "%M", "-o", report, "sh", "-c", script],
    env: { ...sb.env(), M: BIN },
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  const kib = Number(Deno.readTextFileSync(report).trim().split("\n").at(-1));
  Deno.removeSync(report);
  return { code: out.code, rssBytes: kib * 1024, stderr: new TextDecoder().decode(out.stderr) };
}

/** The last bytes of a host file. */
function tail(path: string, n: number): string {
  using f = Deno.openSync(path);
  f.seekSync(-n, Deno.SeekMode.End);
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) off += f.readSync(buf.subarray(off)) ?? n;
  return new TextDecoder().decode(buf);
}

Deno.test({
  name: "cp streams: a 300 MiB file out, in, and through tar streams in bounded memory",
  ...asRoot,
}, async () => {
  await sb.ok([
    "run",
    "-d",
    "--name",
    "cp-big",
    "busybox",
    "sh",
    "-c",
    `mkdir /data && { dd if=/dev/zero bs=1M count=${BIG_MIB} 2>/dev/null; printf '${MARKER.trim()}\\n'; } > /data/big && touch /ready && sleep 600`,
  ]);
  await waitFor(async () => (await sb.run(["exec", "cp-big", "test", "-f", "/ready"])).code === 0, {
    what: "cp-big to write its file",
  });
  const out = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-big-" });
  // Half the file's size is far above what streaming needs (the CLI's own start is ~45 MB)
  // and far below what holding the file (once, or as a tar too) takes.
  const bound = BIG_BYTES / 2;
  const cases: Array<[string, string]> = [
    ["a directory to the host", `"$M" cp cp-big:/data ${out}/dir`],
    ["a tar stream on stdout", `"$M" cp cp-big:/data - > ${out}/data.tar`],
    ["a tar stream on stdin", `"$M" cp - cp-big:/tmp < ${out}/data.tar`],
    ["a directory into the container", `"$M" cp ${out}/dir cp-big:/back`],
  ];
  for (const [what, script] of cases) {
    const r = peakRss(script);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    assert.ok(
      r.rssBytes < bound,
      `${what}: the CLI's peak RSS was ${r.rssBytes} bytes for a ${BIG_BYTES}-byte file`,
    );
  }
  assert.equal(Deno.statSync(`${out}/dir/big`).size, BIG_BYTES);
  assert.equal(tail(`${out}/dir/big`, MARKER.length), MARKER);
  const listing = new TextDecoder().decode(
    new Deno.Command("tar", { args: ["-tvf", `${out}/data.tar`], stdout: "piped" }).outputSync()
      .stdout,
  );
  assert.match(listing, new RegExp(` ${BIG_BYTES} .* data/big\\n`));
  for (const copy of ["/tmp/data/big", "/back/big"]) {
    const same = await sb.run(["exec", "cp-big", "cmp", "/data/big", copy]);
    assert.equal(same.code, 0, `${copy} differs from /data/big: ${same.stdout}${same.stderr}`);
  }
  await sb.ok(["rm", "-f", "cp-big"]);
});

const BASE = 100000;
const ids = `${sb.dir}/ids`;
const REMAP_ENV = {
  M_DOCKER_SUBUID_FILE: `${ids}/subuid`,
  M_DOCKER_SUBGID_FILE: `${ids}/subgid`,
};
if (asRoot.ignore === false) {
  Deno.mkdirSync(ids, { recursive: true });
  Deno.writeTextFileSync(REMAP_ENV.M_DOCKER_SUBUID_FILE, `dockremap:${BASE}:65536\n`);
  Deno.writeTextFileSync(REMAP_ENV.M_DOCKER_SUBGID_FILE, `dockremap:${BASE}:65536\n`);
}
const remapped = (args: string[], stdin?: string) => sb.run(args, { env: REMAP_ENV, stdin });
const remappedOk = (args: string[]) => sb.ok(args, { env: REMAP_ENV });
const owner = (path: string) => {
  const i = Deno.lstatSync(path);
  return `${i.uid}:${i.gid}`;
};

/** A host directory with a file owned by 1234:1234, to copy in. */
function hostSource(): string {
  const dir = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-userns-in-" });
  Deno.writeTextFileSync(`${dir}/f`, "from host\n");
  Deno.chownSync(`${dir}/f`, 1234, 1234);
  return dir;
}

/** The owners a tar archive lists for its members, as `uid/gid name` lines. */
async function tarOwners(tar: Uint8Array): Promise<string[]> {
  const list = new Deno.Command("tar", {
    args: ["-tv", "--numeric-owner"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = list.stdin.getWriter();
  await w.write(tar);
  await w.close();
  const o = await list.output();
  return new TextDecoder().decode(o.stdout).trim().split("\n").map((l) => {
    const f = l.split(/\s+/);
    return `${f[1]} ${f.at(-1)}`;
  });
}

Deno.test({
  name: "cp of a stopped --userns=remap container, both ways: remapped owners kept",
  ...asRoot,
}, async () => {
  // First run: makes /made (owned by the container's 5:5). Started again, it reports the
  // owners of what cp put in, as the container sees them.
  const script = "if [ -e /put ]; then stat -c '%u:%g %n' /put /kept /etc/dir/f; " +
    "else echo made > /made && chown 5:5 /made; fi";
  await remappedOk(["run", "--userns=remap", "--name", "cp-remap", "busybox", "sh", "-c", script]);
  const upper = (await sb.inspect("cp-remap")).GraphDriver.Data.UpperDir;
  assert.equal(owner(`${upper}/made`), `${BASE + 5}:${BASE + 5}`, "the upper layer's own ids");
  const out = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-userns-out-" });
  // Out: the caller's owner without -a; with -a the container's ids, not the host's.
  await remappedOk(["cp", "cp-remap:/made", `${out}/made`]);
  assert.equal(Deno.readTextFileSync(`${out}/made`), "made\n");
  assert.equal(owner(`${out}/made`), "0:0");
  await remappedOk(["cp", "-a", "cp-remap:/made", `${out}/made-a`]);
  assert.equal(owner(`${out}/made-a`), "5:5");
  // An image file (in an idmapped lower layer): the container's root.
  await remappedOk(["cp", "-a", "cp-remap:/etc/passwd", `${out}/passwd`]);
  assert.equal(owner(`${out}/passwd`), "0:0");
  const tar = new Deno.Command(BIN, {
    args: ["cp", "cp-remap:/made", "-"],
    env: { ...sb.env(), ...REMAP_ENV },
    stdout: "piped",
  }).outputSync();
  assert.equal(tar.code, 0);
  assert.deepEqual(await tarOwners(tar.stdout), ["5/5 made"]);
  // In: the container's root is the range's first id on the host; -a maps the source's.
  const src = hostSource();
  await remappedOk(["cp", `${src}/f`, "cp-remap:/put"]);
  assert.equal(owner(`${upper}/put`), `${BASE}:${BASE}`);
  await remappedOk(["cp", "-a", `${src}/f`, "cp-remap:/kept"]);
  assert.equal(owner(`${upper}/kept`), `${BASE + 1234}:${BASE + 1234}`);
  // A tar stream on stdin into an image directory (copied up from an idmapped layer).
  const tarIn = new Deno.Command("tar", {
    args: ["-C", src, "-c", "--owner=7", "--group=7", "f"],
    stdout: "piped",
  }).outputSync().stdout;
  Deno.mkdirSync(`${out}/tar-src`);
  Deno.writeFileSync(`${out}/in.tar`, tarIn);
  const mk = await remapped(["cp", `${out}/tar-src`, "cp-remap:/etc/dir"]);
  assert.equal(mk.code, 0, mk.stderr);
  const streamed = new Deno.Command("sh", {
    args: ["-c", `"${BIN}" cp - cp-remap:/etc/dir < ${out}/in.tar`],
    env: { ...sb.env(), ...REMAP_ENV },
    stderr: "piped",
  }).outputSync();
  assert.equal(streamed.code, 0, new TextDecoder().decode(streamed.stderr));
  assert.equal(owner(`${upper}/etc/dir/f`), `${BASE}:${BASE}`, "root's without -a");
  assert.equal(owner(`${upper}/etc`), `${BASE}:${BASE}`, "/etc copied up as root's");
  assert.deepEqual(sb.leftoverMounts(), [], "the overlay was mounted only in cp's namespace");
  // Inside, started again: all of it is root's, or the -a owner's.
  const seen = await remappedOk(["start", "-a", "cp-remap"]);
  assert.deepEqual(seen.trim().split("\n"), ["0:0 /put", "1234:1234 /kept", "0:0 /etc/dir/f"]);
  await sb.ok(["rm", "cp-remap"]);
});

Deno.test({
  name: "cp into a running --userns=remap container: the container's root owns it",
  ...asRoot,
}, async () => {
  await remappedOk([
    "run",
    "-d",
    "--userns=remap",
    "--name",
    "cp-remap-live",
    "busybox",
    "sleep",
    "600",
  ]);
  const src = hostSource();
  await remappedOk(["cp", `${src}/f`, "cp-remap-live:/tmp/put"]);
  await remappedOk(["cp", "-a", `${src}/f`, "cp-remap-live:/tmp/kept"]);
  const seen = await remappedOk([
    "exec",
    "cp-remap-live",
    "stat",
    "-c",
    "%u:%g %n",
    "/tmp/put",
    "/tmp/kept",
  ]);
  assert.deepEqual(seen.trim().split("\n"), ["0:0 /tmp/put", "1234:1234 /tmp/kept"]);
  const out = Deno.makeTempDirSync({ dir: sb.dir, prefix: "cp-userns-live-" });
  await remappedOk(["cp", "-a", "cp-remap-live:/tmp/kept", `${out}/kept`]);
  assert.equal(owner(`${out}/kept`), "1234:1234", "the container's ids, not the host's");
  await sb.ok(["rm", "-f", "cp-remap-live"]);
});

Deno.test({ name: "cp_test cleanup", ...asRoot }, async () => {
  await sb.cleanup();
});
