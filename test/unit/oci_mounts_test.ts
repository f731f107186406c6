/**
 * The OCI mount option table (src/config/oci_mounts.ts) against runc's
 * (libcontainer/specconv/spec_linux.go `mountFlags`, `mountPropagationMapping`,
 * `recAttrFlags`, `extensionFlags`, `complexFlags`, and `parseMountOptions`' order rules),
 * recorded here as facts.
 */
import assert from "node:assert/strict";
import {
  MOUNT_ATTR,
  MOUNT_OPTION_NAMES,
  mountOptionsToFlags,
  MS,
  PROPAGATION_NAMES,
  propagationOf,
} from "../../src/config/oci_mounts.ts";
import { MOUNT_ATTR as LIBC_MOUNT_ATTR, MS as LIBC_MS } from "../../ffi/libc.ts";

Deno.test("the MS_* and MOUNT_ATTR_* numbers agree with ffi/libc.ts's", () => {
  for (const [k, v] of Object.entries(LIBC_MS)) {
    assert.equal(MS[k as keyof typeof MS], v, `MS.${k}`);
  }
  for (const [k, v] of Object.entries(LIBC_MOUNT_ATTR)) {
    assert.equal(MOUNT_ATTR[k as keyof typeof MOUNT_ATTR], v, `MOUNT_ATTR.${k}`);
  }
});

/** runc's mountFlags: word, whether it clears, the MS_* flag (linux/mount.h numbers). */
const RUNC_MOUNT_FLAGS: Array<[string, boolean, number]> = [
  ["async", true, 16],
  ["atime", true, 1024],
  ["bind", false, 4096],
  ["dev", true, 4],
  ["diratime", true, 2048],
  ["dirsync", false, 128],
  ["exec", true, 8],
  ["iversion", false, 1 << 23],
  ["lazytime", false, 1 << 25],
  ["loud", true, 32768],
  ["mand", false, 64],
  ["noatime", false, 1024],
  ["nodev", false, 4],
  ["nodiratime", false, 2048],
  ["noexec", false, 8],
  ["noiversion", true, 1 << 23],
  ["nolazytime", true, 1 << 25],
  ["nomand", true, 64],
  ["norelatime", true, 1 << 21],
  ["nostrictatime", true, 1 << 24],
  ["nosuid", false, 2],
  ["nosymfollow", false, 256],
  ["rbind", false, 4096 | 16384],
  ["relatime", false, 1 << 21],
  ["remount", false, 32],
  ["ro", false, 1],
  ["rw", true, 1],
  ["silent", false, 32768],
  ["strictatime", false, 1 << 24],
  ["suid", true, 2],
  ["sync", false, 16],
  ["symfollow", true, 256],
];

Deno.test("each mount(2) flag word sets or clears its flag, as in runc's table", () => {
  for (const [word, clears, flag] of RUNC_MOUNT_FLAGS) {
    const r = mountOptionsToFlags([word]);
    assert.equal(r.flags, clears ? 0 : flag, `${word} flags`);
    assert.equal(r.clearFlags, clears ? flag : 0, `${word} clearFlags`);
    assert.equal(r.data, "", `${word} data`);
    assert.deepEqual(r.propagation, []);
  }
});

Deno.test("a later word wins over an earlier one for the same flag", () => {
  assert.deepEqual(
    [mountOptionsToFlags(["ro", "rw"]).flags, mountOptionsToFlags(["ro", "rw"]).clearFlags],
    [0, MS.RDONLY],
  );
  assert.deepEqual(
    [mountOptionsToFlags(["rw", "ro"]).flags, mountOptionsToFlags(["rw", "ro"]).clearFlags],
    [MS.RDONLY, 0],
  );
  const r = mountOptionsToFlags(["nosuid", "nodev", "suid", "ro"]);
  assert.equal(r.flags, MS.NODEV | MS.RDONLY);
  assert.equal(r.clearFlags, MS.NOSUID);
});

Deno.test("bind and rbind: MS_BIND, with MS_REC for rbind, whatever the order", () => {
  const bind = mountOptionsToFlags(["bind", "ro"]);
  assert.equal(bind.flags, MS.BIND | MS.RDONLY);
  assert.deepEqual([bind.bind, bind.recursiveBind], [true, false]);
  for (const opts of [["rbind"], ["rbind", "bind"], ["bind", "rbind"]]) {
    const r = mountOptionsToFlags(opts);
    assert.equal(r.flags, MS.BIND | MS.REC, opts.join(","));
    assert.deepEqual([r.bind, r.recursiveBind], [true, true]);
  }
  const none = mountOptionsToFlags(["nosuid"]);
  assert.deepEqual([none.bind, none.recursiveBind], [false, false]);
});

Deno.test("the eight propagation words, kept in order apart from the flags", () => {
  const expected: Record<string, number> = {
    rprivate: (1 << 18) | 16384,
    private: 1 << 18,
    rslave: (1 << 19) | 16384,
    slave: 1 << 19,
    rshared: (1 << 20) | 16384,
    shared: 1 << 20,
    runbindable: (1 << 17) | 16384,
    unbindable: 1 << 17,
  };
  assert.deepEqual([...PROPAGATION_NAMES].sort(), Object.keys(expected).sort());
  for (const [word, flags] of Object.entries(expected)) {
    assert.equal(propagationOf(word), flags, word);
    const r = mountOptionsToFlags([word]);
    assert.deepEqual(r.propagation, [flags]);
    assert.equal(r.flags, 0);
  }
  const r = mountOptionsToFlags(["rbind", "rprivate", "shared", "ro"]);
  assert.deepEqual(r.propagation, [MS.PRIVATE | MS.REC, MS.SHARED]);
  assert.equal(r.flags, MS.BIND | MS.REC | MS.RDONLY);
  assert.equal(propagationOf("rpivate"), undefined);
  assert.equal(propagationOf("ro"), undefined);
  assert.equal(propagationOf("toString"), undefined);
});

Deno.test("recursive words: mount_setattr's set and clear, atime words clearing _ATIME", () => {
  const cases: Array<[string[], number, number]> = [
    [["rro"], MOUNT_ATTR.RDONLY, 0],
    [["rrw"], 0, MOUNT_ATTR.RDONLY],
    [["rro", "rrw"], 0, MOUNT_ATTR.RDONLY],
    [["rrw", "rro"], MOUNT_ATTR.RDONLY, 0],
    [["rnosuid", "rnodev", "rnoexec"], 0x2 | 0x4 | 0x8, 0],
    [["rsuid", "rdev", "rexec"], 0, 0x2 | 0x4 | 0x8],
    [["rnodiratime"], 0x80, 0],
    [["rdiratime"], 0, 0x80],
    [["rnoatime"], 0x10, 0x70],
    [["rstrictatime"], 0x20, 0x70],
    // RELATIME is the zero of the access-time enum: setting it is clearing the field.
    [["rrelatime"], 0, 0x70],
    [["rnorelatime"], 0, 0x70],
    [["ratime"], 0, 0x70],
    [["rnostrictatime"], 0, 0x70],
    [["rnosymfollow"], 0x200000, 0],
    [["rsymfollow"], 0, 0x200000],
    [["rro", "rnoatime"], 0x1 | 0x10, 0x70],
  ];
  for (const [opts, set, clear] of cases) {
    const r = mountOptionsToFlags(opts);
    assert.deepEqual(r.recursive, { set, clear }, opts.join(","));
    assert.equal(r.flags, 0);
    assert.equal(r.data, "");
  }
  assert.deepEqual(mountOptionsToFlags(["ro"]).recursive, { set: 0, clear: 0 });
});

Deno.test("unknown words are the filesystem's data, comma-joined in order", () => {
  const r = mountOptionsToFlags(["nosuid", "strictatime", "mode=755", "size=65536k"]);
  assert.equal(r.flags, MS.NOSUID | MS.STRICTATIME);
  assert.equal(r.data, "mode=755,size=65536k");
  // runc's default /dev/pts mount.
  const pts = mountOptionsToFlags([
    "nosuid",
    "noexec",
    "newinstance",
    "ptmxmode=0666",
    "mode=0620",
    "gid=5",
  ]);
  assert.equal(pts.flags, MS.NOSUID | MS.NOEXEC);
  assert.equal(pts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  // MS_POSIXACL cannot be asked for (runc issue 3738): acl is data, as any unknown word.
  assert.equal(mountOptionsToFlags(["acl", "noacl", "lowerdir=/a"]).data, "acl,noacl,lowerdir=/a");
  assert.equal(mountOptionsToFlags([]).data, "");
});

Deno.test("defaults changes nothing", () => {
  const r = mountOptionsToFlags(["defaults"]);
  assert.deepEqual([r.flags, r.clearFlags, r.data], [0, 0, ""]);
  assert.equal(mountOptionsToFlags(["ro", "defaults"]).flags, MS.RDONLY);
});

Deno.test("tmpcopyup, idmap and ridmap are reported by name, not passed to mount(2)", () => {
  const r = mountOptionsToFlags(["rbind", "tmpcopyup", "idmap"]);
  assert.deepEqual([r.tmpcopyup, r.idmap, r.ridmap, r.data], [true, true, false, ""]);
  assert.equal(mountOptionsToFlags(["ridmap"]).ridmap, true);
  const plain = mountOptionsToFlags(["ro"]);
  assert.deepEqual([plain.tmpcopyup, plain.idmap, plain.ridmap], [false, false, false]);
});

/** `runc features`' mountOptions, runc 1.1.5 on this machine. */
const RUNC_115_MOUNT_OPTIONS = [
  "acl",
  "async",
  "atime",
  "bind",
  "defaults",
  "dev",
  "diratime",
  "dirsync",
  "exec",
  "iversion",
  "lazytime",
  "loud",
  "mand",
  "noacl",
  "noatime",
  "nodev",
  "nodiratime",
  "noexec",
  "noiversion",
  "nolazytime",
  "nomand",
  "norelatime",
  "nostrictatime",
  "nosuid",
  "nosymfollow",
  "private",
  "ratime",
  "rbind",
  "rdev",
  "rdiratime",
  "relatime",
  "remount",
  "rexec",
  "rnoatime",
  "rnodev",
  "rnodiratime",
  "rnoexec",
  "rnorelatime",
  "rnostrictatime",
  "rnosuid",
  "rnosymfollow",
  "ro",
  "rprivate",
  "rrelatime",
  "rro",
  "rrw",
  "rshared",
  "rslave",
  "rstrictatime",
  "rsuid",
  "rsymfollow",
  "runbindable",
  "rw",
  "shared",
  "silent",
  "slave",
  "strictatime",
  "suid",
  "symfollow",
  "sync",
  "tmpcopyup",
  "unbindable",
];

Deno.test("the table knows runc 1.1.5's words, less acl/noacl (data since), plus idmap/ridmap", () => {
  const expected = [
    ...RUNC_115_MOUNT_OPTIONS.filter((w) => w !== "acl" && w !== "noacl"),
    "idmap",
    "ridmap",
  ].sort();
  assert.deepEqual(MOUNT_OPTION_NAMES, expected);
  // Every word of the table means something: none of them falls through to data.
  for (const w of MOUNT_OPTION_NAMES) assert.equal(mountOptionsToFlags([w]).data, "", w);
});
