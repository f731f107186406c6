/**
 * Named and anonymous volumes, `--mount` and `--volumes-from`, against real containers.
 * Docker's outputs and messages are recorded here as facts (moby's volume/service/errors.go,
 * volume/mounts/linux_parser.go and validate.go; docker/cli's opts/mount.go and its volume
 * commands).
 */
import assert from "node:assert/strict";
import { asRoot, Sandbox } from "./harness.ts";

const sb = new Sandbox();

/** Volume names in the sandbox, as `volume ls -q` prints them. */
async function volumeNames(): Promise<string[]> {
  return (await sb.ok(["volume", "ls", "-q"])).split("\n").filter((l) => l !== "");
}

Deno.test({ name: "volume create, ls, inspect and rm as Docker's", ...asRoot }, async () => {
  assert.equal(
    await sb.ok(["volume", "create", "--label", "team=db", "--opt", "o=", "v1"]),
    "v1\n",
  );
  const random = (await sb.ok(["volume", "create"])).trim();
  assert.match(random, /^[0-9a-f]{64}$/);
  // Docker's columns, and its inspect document with its keys in its order.
  const ls = await sb.ok(["volume", "ls"]);
  assert.match(ls, /^DRIVER\s+VOLUME NAME\n/);
  assert.match(ls, /\nlocal\s+v1\n/);
  const [doc] = JSON.parse(await sb.ok(["volume", "inspect", "v1"]));
  assert.deepEqual(Object.keys(doc), [
    "CreatedAt",
    "Driver",
    "Labels",
    "Mountpoint",
    "Name",
    "Options",
    "Scope",
  ]);
  assert.equal(doc.Driver, "local");
  assert.equal(doc.Scope, "local");
  assert.equal(doc.Name, "v1");
  assert.deepEqual(doc.Labels, { team: "db" });
  assert.deepEqual(doc.Options, { o: "" });
  assert.equal(doc.Mountpoint, `${sb.root}/volumes/v1/_data`);
  assert.match(doc.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Deno.statSync(doc.Mountpoint).isDirectory);
  // Filters and the placeholder --format.
  assert.deepEqual(
    (await sb.ok(["volume", "ls", "-q", "--filter", "label=team=db"])).trim(),
    "v1",
  );
  assert.equal((await sb.ok(["volume", "ls", "-q", "--filter", "name=^v1$"])).trim(), "v1");
  assert.equal(
    await sb.ok(["volume", "ls", "--filter", "name=v1", "--format", "{{.Name}} {{.Driver}}"]),
    "v1 local\n",
  );
  assert.equal(
    await sb.ok(["volume", "inspect", "-f", "{{.Mountpoint}}", "v1"]),
    `${doc.Mountpoint}\n`,
  );
  // Docker's messages for what is not there, exit 1; inspect still prints `[]`.
  const missing = await sb.run(["volume", "inspect", "nope"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "[]\n");
  assert.match(missing.stderr, /get nope: no such volume/);
  const rmMissing = await sb.run(["volume", "rm", "nope"]);
  assert.equal(rmMissing.code, 1);
  assert.match(rmMissing.stderr, /get nope: no such volume/);
  assert.equal((await sb.run(["volume", "rm", "-f", "nope"])).code, 0);
  const bad = await sb.run(["volume", "create", "a/b"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /"a\/b" includes invalid characters for a local volume name/);
  // Driver options that would mount a filesystem are kept, but refused at use, clearly.
  await sb.ok(["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "tv"]);
  const used = await sb.run(["run", "--rm", "-v", "tv:/x", "busybox", "true"]);
  assert.equal(used.code, 125);
  assert.match(used.stderr, /volume tv has driver options \(type, device\)/);
  const badOpt = await sb.run(["volume", "create", "--opt", "colour=red", "x2"]);
  assert.equal(badOpt.code, 1);
  assert.match(badOpt.stderr, /invalid option key: "colour"/);
  assert.equal(await sb.ok(["volume", "rm", "v1", random, "tv"]), `v1\n${random}\ntv\n`);
  assert.deepEqual(await volumeNames(), []);
});

Deno.test(
  { name: "-v NAME:/path creates the volume and seeds it from the image", ...asRoot },
  async () => {
    // First use creates it, and copy-up fills it with the image's /etc (owners and modes kept).
    assert.equal(
      await sb.ok([
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "sh",
        "-c",
        "cat /etc/passwd | head -1",
      ]),
      "root:x:0:0:root:/root:/bin/sh\n",
    );
    const data = `${sb.root}/volumes/etcvol/_data`;
    const image = JSON.parse(await sb.ok(["volume", "inspect", "etcvol"]))[0];
    assert.equal(image.Labels, null); // made by run: Docker's null, not {}
    assert.equal(Deno.statSync(`${data}/passwd`).mode! & 0o7777, 0o644);
    // What one container writes, the next sees; a volume with content is not seeded again.
    await sb.ok([
      "run",
      "--rm",
      "-v",
      "etcvol:/etc",
      "busybox",
      "sh",
      "-c",
      "echo mine > /etc/mine; rm /etc/group",
    ]);
    assert.equal(
      await sb.ok([
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "sh",
        "-c",
        "cat /etc/mine; ls /etc/group 2>&1 || true",
      ]),
      "mine\nls: /etc/group: No such file or directory\n",
    );
    // :ro mounts it read-only.
    const ro = await sb.run([
      "run",
      "--rm",
      "-v",
      "etcvol:/etc:ro",
      "busybox",
      "sh",
      "-c",
      "touch /etc/x",
    ]);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /Read-only file system/);
    // nocopy: an empty volume stays empty.
    await sb.ok(["run", "--rm", "-v", "empty:/etc:nocopy", "busybox", "true"]);
    assert.deepEqual([...Deno.readDirSync(`${sb.root}/volumes/empty/_data`)], []);
    await sb.ok(["volume", "rm", "etcvol", "empty"]);
  },
);

Deno.test(
  { name: "a volume in use, even by a stopped container, cannot be removed", ...asRoot },
  async () => {
    await sb.ok(["run", "--name", "stopped", "-v", "busy:/data", "busybox", "true"]);
    const ids = [(await sb.inspect("stopped")).Id];
    const r = await sb.run(["volume", "rm", "busy"]);
    assert.equal(r.code, 1);
    // Docker's: `remove NAME: volume is in use - [ID]`.
    assert.match(r.stderr, new RegExp(`remove busy: volume is in use - \\[${ids[0]}\\]`));
    assert.ok((await volumeNames()).includes("busy"));
    // dangling=false lists it, dangling=true does not.
    assert.equal((await sb.ok(["volume", "ls", "-q", "-f", "dangling=false"])).trim(), "busy");
    assert.equal((await sb.ok(["volume", "ls", "-q", "-f", "dangling=true"])).trim(), "");
    await sb.ok(["rm", ids[0]]);
    assert.equal(await sb.ok(["volume", "rm", "busy"]), "busy\n");
  },
);

Deno.test({ name: "anonymous volumes: -v /path, rm -v, and --rm", ...asRoot }, async () => {
  await sb.ok([
    "run",
    "--name",
    "anon",
    "-v",
    "/scratch",
    "-v",
    "kept:/kept",
    "busybox",
    "sh",
    "-c",
    "echo x > /scratch/f",
  ]);
  const doc = await sb.inspect("anon");
  const anon = doc.Mounts.find((m: { Destination: string }) => m.Destination === "/scratch");
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(doc.Config.Volumes, { "/scratch": {} });
  assert.deepEqual(doc.HostConfig.Binds, ["kept:/kept"]);
  const [vol] = JSON.parse(await sb.ok(["volume", "inspect", anon.Name]));
  assert.deepEqual(vol.Labels, { "com.docker.volume.anonymous": "" });
  // rm without -v keeps every volume; rm -v removes the anonymous ones only.
  await sb.ok(["run", "--name", "other", "-v", "/other", "busybox", "true"]);
  const otherId = "other";
  const otherVol = (await sb.inspect(otherId)).Mounts[0].Name;
  await sb.ok(["rm", otherId]);
  assert.ok((await volumeNames()).includes(otherVol));
  await sb.ok(["rm", "-v", "anon"]);
  const left = await volumeNames();
  assert.ok(!left.includes(anon.Name), "rm -v removed the anonymous volume");
  assert.ok(left.includes("kept"), "rm -v keeps named volumes");
  // --rm removes its anonymous volumes as it goes, never named ones.
  const before = await volumeNames();
  await sb.ok(["run", "--rm", "-v", "/gone", "-v", "kept:/kept", "busybox", "true"]);
  assert.deepEqual(await volumeNames(), before);
  // prune -f: unused anonymous volumes only; -a: named ones too.
  const pruned = await sb.ok(["volume", "prune", "-f"]);
  assert.match(pruned, new RegExp(`^Deleted Volumes:\\n${otherVol}\\n\\nTotal reclaimed space: `));
  assert.deepEqual(await volumeNames(), ["kept"]);
  // Without -f it asks; anything but y keeps everything.
  const asked = await sb.run(["volume", "prune", "-a"], { stdin: "n\n" });
  assert.equal(asked.code, 0);
  assert.match(
    asked.stdout,
    /^WARNING! This will remove all local volumes not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] $/,
  );
  assert.deepEqual(await volumeNames(), ["kept"]);
  assert.match(
    await sb.ok(["volume", "prune", "-a"], { stdin: "y\n" }),
    /Deleted Volumes:\nkept\n/,
  );
  assert.deepEqual(await volumeNames(), []);
});

Deno.test(
  { name: "a failed run never removes a volume that existed before it", ...asRoot },
  async () => {
    await sb.ok(["volume", "create", "precious"]);
    Deno.writeTextFileSync(`${sb.root}/volumes/precious/_data/keep`, "x");
    const before = await volumeNames();
    const r = await sb.run([
      "run",
      "--rm",
      "-v",
      "precious:/data",
      "-v",
      "/anon",
      "busybox",
      "/no/such/command",
    ]);
    assert.equal(r.code, 127, r.stderr);
    const r2 = await sb.run([
      "run",
      "-v",
      "precious:/data",
      "-v",
      "/anon",
      "busybox",
      "/no/such/command",
    ]);
    assert.equal(r2.code, 127, r2.stderr);
    // Nothing created is left (the anonymous volumes went with the failed containers).
    assert.deepEqual(await volumeNames(), before);
    assert.equal(Deno.readTextFileSync(`${sb.root}/volumes/precious/_data/keep`), "x");
    await sb.ok(["volume", "rm", "precious"]);
  },
);

Deno.test(
  { name: "--mount type=volume|bind|tmpfs, and Docker's messages for bad ones", ...asRoot },
  async () => {
    const host = `${sb.dir}/host`;
    Deno.mkdirSync(host);
    Deno.writeTextFileSync(`${host}/f`, "from the host\n");
    const out = await sb.ok([
      "run",
      "--name",
      "mounted",
      "--mount",
      "type=volume,src=mvol,dst=/v",
      "--mount",
      `type=bind,source=${host},target=/h,readonly`,
      "--mount",
      "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770",
      "busybox",
      "sh",
      "-c",
      "cat /h/f; touch /h/x 2>/dev/null || echo ro; grep ' /t ' /proc/mounts; stat -c %a /t",
    ]);
    const lines = out.split("\n");
    assert.equal(lines[0], "from the host");
    assert.equal(lines[1], "ro");
    assert.match(lines[2], /^tmpfs \/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770/);
    assert.equal(lines[3], "1770");
    const doc = await sb.inspect("mounted");
    const byDst = Object.fromEntries(
      doc.Mounts.map((m: { Destination: string }) => [m.Destination, m]),
    );
    assert.deepEqual(byDst["/v"], {
      Type: "volume",
      Name: "mvol",
      Source: `${sb.root}/volumes/mvol/_data`,
      Destination: "/v",
      Driver: "local",
      Mode: "",
      RW: true,
      Propagation: "",
    });
    assert.deepEqual(byDst["/h"], {
      Type: "bind",
      Source: host,
      Destination: "/h",
      Mode: "",
      RW: false,
      Propagation: "rprivate",
    });
    await sb.ok(["rm", "mounted"]);
    await sb.ok(["volume", "rm", "mvol"]);
    const cases: Array<[string, RegExp]> = [
      [
        "type=volume,dst=/x,bogus=1",
        /invalid argument "type=volume,dst=\/x,bogus=1" for "--mount" flag: unexpected key 'bogus' in 'bogus=1'/,
      ],
      ["type=bind,src=/tmp", /target is required/],
      ["type=bind,dst=/x", /invalid mount config for type "bind": field Source must not be empty/],
      [
        `type=bind,src=${sb.dir}/missing,dst=/x`,
        /invalid mount config for type "bind": bind source path does not exist: /,
      ],
      [
        "type=tmpfs,src=x,dst=/x",
        /invalid mount config for type "tmpfs": field Source must not be specified/,
      ],
      ["type=volume,dst=/x,readonly", /must not set ReadOnly mode when using anonymous volumes/],
      ["type=tmpfs,dst=/x,volume-nocopy", /cannot mix 'volume-\*' options with mount type 'tmpfs'/],
      ["type=nfs,dst=/x", /invalid mount config for type "nfs": mount type unknown/],
      ["type=bind,src=/tmp,dst=/x,bind-propagation=sideways", /invalid propagation mode: sideways/],
      ["type=volume,dst=/", /invalid specification: destination can't be '\/'/],
      ["type=volume,readonly=maybe,dst=/x", /invalid value for readonly: maybe/],
    ];
    for (const [spec, message] of cases) {
      const r = await sb.run(["run", "--rm", "--mount", spec, "busybox", "true"]);
      assert.equal(r.code, 125, `--mount ${spec}: ${r.stderr}`);
      assert.match(r.stderr, message, spec);
    }
    const dup = await sb.run([
      "run",
      "--rm",
      "-v",
      "a1:/x",
      "--mount",
      "type=volume,src=a2,dst=/x",
      "busybox",
      "true",
    ]);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /Duplicate mount point: \/x/);
    assert.deepEqual(await volumeNames(), []);
    assert.deepEqual(sb.containerIds(), []);
  },
);

Deno.test({ name: "--volumes-from C[:ro] mounts C's volumes and binds", ...asRoot }, async () => {
  const host = `${sb.dir}/shared`;
  Deno.mkdirSync(host);
  await sb.ok([
    "run",
    "--name",
    "data",
    "-v",
    "shared:/shared",
    "-v",
    `${host}:/host`,
    "busybox",
    "sh",
    "-c",
    "echo hello > /shared/f; echo bound > /host/b",
  ]);
  assert.equal(
    await sb.ok([
      "run",
      "--rm",
      "--volumes-from",
      "data",
      "busybox",
      "sh",
      "-c",
      "cat /shared/f /host/b; echo more >> /shared/f",
    ]),
    "hello\nbound\n",
  );
  const ro = await sb.run([
    "run",
    "--rm",
    "--volumes-from",
    "data:ro",
    "busybox",
    "sh",
    "-c",
    "cat /shared/f; touch /shared/g",
  ]);
  assert.equal(ro.code, 1);
  assert.equal(ro.stdout, "hello\nmore\n");
  assert.match(ro.stderr, /Read-only file system/);
  const missing = await sb.run(["run", "--rm", "--volumes-from", "nobody", "busybox", "true"]);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /No such container: nobody/);
  const badMode = await sb.run([
    "run",
    "--rm",
    "--volumes-from",
    "data:rshared",
    "busybox",
    "true",
  ]);
  assert.equal(badMode.code, 125);
  assert.match(badMode.stderr, /invalid mode: rshared/);
  await sb.ok(["rm", "data"]);
  await sb.ok(["volume", "rm", "shared"]);
});

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

function tar(args: string[]): void {
  const r = new Deno.Command("tar", { args }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

Deno.test(
  { name: "an image's VOLUME gets an anonymous volume seeded with its content", ...asRoot },
  async () => {
    // An image whose config says VOLUME /data, with files of other owners and modes there.
    const rootfs = `${sb.dir}/volimg`;
    Deno.mkdirSync(`${rootfs}/bin`, { recursive: true });
    Deno.copyFileSync("/bin/busybox", `${rootfs}/bin/busybox`);
    Deno.symlinkSync("busybox", `${rootfs}/bin/sh`);
    Deno.mkdirSync(`${rootfs}/data/sub`, { recursive: true });
    Deno.writeTextFileSync(`${rootfs}/data/seed.txt`, "seeded\n");
    Deno.chownSync(`${rootfs}/data/seed.txt`, 1234, 5678);
    Deno.chmodSync(`${rootfs}/data/seed.txt`, 0o640);
    Deno.symlinkSync("seed.txt", `${rootfs}/data/link`);
    Deno.chownSync(`${rootfs}/data/sub`, 42, 43);
    Deno.chmodSync(`${rootfs}/data/sub`, 0o700);
    Deno.chownSync(`${rootfs}/data`, 7, 8);
    Deno.chmodSync(`${rootfs}/data`, 0o750);
    const archive = `${sb.dir}/archive`;
    Deno.mkdirSync(archive);
    tar(["--numeric-owner", "-cf", `${archive}/layer.tar`, "-C", rootfs, "."]);
    const diffId = `sha256:${await sha256(Deno.readFileSync(`${archive}/layer.tar`))}`;
    Deno.writeTextFileSync(
      `${archive}/config.json`,
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/sh"], Volumes: { "/data": {} } },
        rootfs: { type: "layers", diff_ids: [diffId] },
      }),
    );
    Deno.writeTextFileSync(
      `${archive}/manifest.json`,
      JSON.stringify([{ Config: "config.json", RepoTags: ["volimg:1"], Layers: ["layer.tar"] }]),
    );
    tar([
      "-cf",
      `${sb.dir}/volimg.tar`,
      "-C",
      archive,
      "manifest.json",
      "config.json",
      "layer.tar",
    ]);
    await sb.ok(["load", "-i", `${sb.dir}/volimg.tar`]);

    const out = await sb.ok([
      "run",
      "--name",
      "vi",
      "volimg:1",
      "sh",
      "-c",
      "cat /data/seed.txt; stat -c '%u:%g %a' /data/seed.txt /data/sub /data; readlink /data/link",
    ]);
    assert.equal(out, "seeded\n1234:5678 640\n42:43 700\n7:8 750\nseed.txt\n");
    const doc = await sb.inspect("vi");
    assert.equal(doc.Mounts.length, 1);
    assert.equal(doc.Mounts[0].Type, "volume");
    assert.equal(doc.Mounts[0].Destination, "/data");
    assert.deepEqual(doc.Config.Volumes, { "/data": {} });
    // Something mounted at the path replaces the image's volume.
    await sb.ok(["run", "--rm", "-v", "named:/data", "volimg:1", "/bin/busybox", "true"]);
    assert.equal(Deno.readTextFileSync(`${sb.root}/volumes/named/_data/seed.txt`), "seeded\n");
    await sb.ok(["rm", "-v", "vi"]);
    assert.deepEqual(await volumeNames(), ["named"]);
    await sb.ok(["volume", "rm", "named"]);
  },
);

Deno.test({ name: "cleanup: nothing left behind", ...asRoot }, async () => {
  await sb.cleanup();
});
