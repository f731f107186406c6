/**
 * `-v`, `--mount` and `--volumes-from` parsing, with Docker's results and messages (docker/cli
 * opts/mount.go; moby volume/mounts/linux_parser.go, validate.go) recorded as facts.
 */
import assert from "node:assert/strict";
import {
  parseMount,
  parseVolume,
  parseVolumesFrom,
  sortMounts,
} from "../../src/cli/mount_options.ts";
import { UsageError } from "../../src/util/errors.ts";

Deno.test("-v: binds, named and anonymous volumes, modes", () => {
  assert.deepEqual(parseVolume("data:/data"), {
    type: "volume",
    volume: { name: "data", destination: "/data", readonly: false },
  });
  assert.deepEqual(parseVolume("/cache/"), {
    type: "volume",
    volume: { destination: "/cache", readonly: false },
  });
  assert.deepEqual(parseVolume("data:/data:ro,nocopy"), {
    type: "volume",
    volume: { name: "data", destination: "/data", readonly: true, mode: "ro,nocopy", noCopy: true },
  });
  assert.deepEqual(parseVolume("/h:/c:rshared"), {
    type: "bind",
    bind: {
      source: "/h",
      destination: "/c",
      readonly: false,
      mode: "rshared",
      propagation: "rshared",
    },
  });
  assert.deepEqual(parseVolume("/h:/c:z,rw"), {
    type: "bind",
    bind: { source: "/h", destination: "/c", readonly: false, mode: "z,rw" },
  });
});

Deno.test("-v: Docker's messages for what it refuses", () => {
  const cases: Array<[string, string]> = [
    ["/foo:rw", "invalid volume specification: '/foo:rw'"],
    ["a:b:c:d", "invalid volume specification: 'a:b:c:d'"],
    [":/x", "invalid volume specification: ':/x'"],
    ["/a:/b:xx", "invalid mode: xx"],
    ["/a:/b:ro,rw", "invalid mode: ro,rw"],
    [
      "/a:/",
      `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
    ],
    [
      "v:rel",
      `invalid volume specification: 'v:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`,
    ],
    [
      "a/b:/x",
      `create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    ],
    [
      "/anon:ro",
      "invalid volume specification: '/anon:ro'",
    ],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseVolume(spec), (e: Error) => {
      assert.ok(e instanceof UsageError, spec);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("--mount: each type, Docker's keys and their aliases", () => {
  assert.deepEqual(parseMount("type=volume,src=data,dst=/data,readonly"), {
    type: "volume",
    volume: { name: "data", destination: "/data", readonly: true, viaMount: true },
  });
  // volume is the default type; an absent source is an anonymous volume.
  assert.deepEqual(parseMount("target=/x,volume-nocopy,volume-label=a=b,volume-opt=o=size=1m"), {
    type: "volume",
    volume: {
      destination: "/x",
      readonly: false,
      viaMount: true,
      noCopy: true,
      labels: { a: "b" },
      options: { o: "size=1m" },
    },
  });
  assert.deepEqual(
    parseMount("type=bind,source=/h//a/,destination=/c,ro=true,bind-propagation=rslave"),
    {
      type: "bind",
      bind: {
        source: "/h/a",
        destination: "/c",
        readonly: true,
        viaMount: true,
        propagation: "rslave",
      },
    },
  );
  assert.deepEqual(parseMount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777"), {
    type: "tmpfs",
    tmpfs: {
      destination: "/t",
      options: ["rw", "noexec", "nosuid", "nodev", "mode=1777", "size=64m"],
    },
  });
  // ConvertTmpfsOptions: the largest suffix that divides the size.
  assert.deepEqual(parseMount("type=tmpfs,dst=/t,tmpfs-size=1536k,readonly").type, "tmpfs");
  const t = parseMount("type=tmpfs,dst=/t,tmpfs-size=1536k,readonly");
  assert.ok(
    t.type === "tmpfs" && t.tmpfs.options.includes("size=1536k") && t.tmpfs.options.includes("ro"),
  );
  // Go's csv: a quoted field may hold a comma.
  const q = parseMount(`type=bind,"src=/a,b",dst=/c`);
  assert.ok(q.type === "bind" && q.bind.source === "/a,b");
  const rel = parseMount("type=bind,src=./here,dst=/c");
  assert.ok(rel.type === "bind" && rel.bind.source === `${Deno.cwd()}/here`);
});

Deno.test("--mount: Docker's messages for bad input", () => {
  const flag = (v: string, why: string) => `invalid argument "${v}" for "--mount" flag: ${why}`;
  const cases: Array<[string, string]> = [
    [
      "type=volume,dst=/x,bogus=1",
      flag("type=volume,dst=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
    ],
    ["dst=/x,shiny", flag("dst=/x,shiny", "invalid field 'shiny' must be a key=value pair")],
    ["type=bind,src=/a", flag("type=bind,src=/a", "target is required")],
    ["type=,dst=/x", flag("type=,dst=/x", "type is required")],
    ["dst=/x,readonly=maybe", flag("dst=/x,readonly=maybe", "invalid value for readonly: maybe")],
    [
      "dst=/x,volume-nocopy=maybe",
      flag("dst=/x,volume-nocopy=maybe", "invalid value for volume-nocopy: maybe"),
    ],
    [
      "type=tmpfs,dst=/x,tmpfs-size=lots",
      flag("type=tmpfs,dst=/x,tmpfs-size=lots", "invalid value for tmpfs-size: lots"),
    ],
    [
      "type=tmpfs,dst=/x,tmpfs-mode=9",
      flag("type=tmpfs,dst=/x,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"),
    ],
    [
      "type=bind,src=/a,dst=/x,volume-nocopy",
      flag(
        "type=bind,src=/a,dst=/x,volume-nocopy",
        "cannot mix 'volume-*' options with mount type 'bind'",
      ),
    ],
    [
      "type=volume,dst=/x,bind-propagation=shared",
      flag(
        "type=volume,dst=/x,bind-propagation=shared",
        "cannot mix 'bind-*' options with mount type 'volume'",
      ),
    ],
    [
      "type=bind,src=/a,dst=/x,tmpfs-size=1m",
      flag(
        "type=bind,src=/a,dst=/x,tmpfs-size=1m",
        "cannot mix 'tmpfs-*' options with mount type 'bind'",
      ),
    ],
    ["type=bind,dst=/x", `invalid mount config for type "bind": field Source must not be empty`],
    [
      "type=bind,src=rel,dst=/x",
      `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`,
    ],
    [
      "type=bind,src=/a,dst=/x,bind-propagation=odd",
      `invalid mount config for type "bind": invalid propagation mode: odd`,
    ],
    [
      "type=tmpfs,src=a,dst=/x",
      `invalid mount config for type "tmpfs": field Source must not be specified`,
    ],
    [
      "type=volume,dst=/x,ro",
      `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`,
    ],
    ["type=npipe,dst=/x", `invalid mount config for type "npipe": mount type unknown`],
    [
      "dst=/",
      `invalid mount config for type "volume": invalid specification: destination can't be '/'`,
    ],
    [
      "dst=rel",
      `invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute`,
    ],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parseMount(spec), (e: Error) => {
      assert.ok(e instanceof UsageError, spec);
      assert.equal(e.message, message, spec);
      return true;
    });
  }
});

Deno.test("--volumes-from: C, C:ro, C:rw and Docker's refusals", () => {
  assert.deepEqual(parseVolumesFrom("data"), { container: "data" });
  assert.deepEqual(parseVolumesFrom("data:ro"), { container: "data", mode: "ro" });
  assert.deepEqual(parseVolumesFrom("data:rw"), { container: "data", mode: "rw" });
  assert.throws(() => parseVolumesFrom(""), /volumes-from specification cannot be an empty string/);
  assert.throws(() => parseVolumesFrom("data:rshared"), /invalid mode: rshared/);
});

Deno.test("sortMounts splits binds, volumes and tmpfs in order", () => {
  const sorted = sortMounts([
    parseVolume("/h:/a"),
    parseVolume("vol:/b"),
    parseMount("type=tmpfs,dst=/c"),
    parseMount("type=bind,src=/h,dst=/d"),
  ]);
  assert.deepEqual(sorted.mounts.map((m) => m.destination), ["/a", "/d"]);
  assert.deepEqual(sorted.volumes.map((m) => m.destination), ["/b"]);
  assert.deepEqual(sorted.tmpfs.map((m) => m.destination), ["/c"]);
});
