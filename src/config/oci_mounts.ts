/**
 * The mount options of an OCI config.json (`mounts[].options`, config.md "Linux mount
 * options") turned into what mount(2) and mount_setattr(2) take, with runc's semantics
 * (libcontainer/specconv's `parseMountOptions` and its tables): flags to set and to clear,
 * propagation changes applied after the mount, recursive attributes (`rro`, `rnosuid`, ...),
 * and every unknown word passed on as the filesystem's data string. Plain data: the numbers
 * are the kernel's, the callers make the system calls.
 *
 * @module
 */

/**
 * mount(2) flags (linux/mount.h). ffi/libc.ts has the ones the engine uses, but the config
 * layer may not import ffi/, so the numbers are repeated here (a unit test checks they agree).
 */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/**
 * mount_setattr(2) attributes (`struct mount_attr`'s attr_set/attr_clr). The access-time
 * attributes are an enum inside `_ATIME`, RELATIME being its zero.
 */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/** One flag word: whether it clears the flag (`rw` clears MS_RDONLY) or sets it. */
interface FlagWord {
  clear: boolean;
  flag: number;
}

const set = (flag: number): FlagWord => ({ clear: false, flag });
const clear = (flag: number): FlagWord => ({ clear: true, flag });

/**
 * The mount(2) flag words (runc's `mountFlags`). `acl` is not here: MS_POSIXACL cannot be
 * asked for from user space (runc issue 3738), so it is filesystem data like any other word.
 */
const MOUNT_FLAG_WORDS: Readonly<Record<string, FlagWord>> = {
  async: clear(MS.SYNCHRONOUS),
  atime: clear(MS.NOATIME),
  bind: set(MS.BIND),
  dev: clear(MS.NODEV),
  diratime: clear(MS.NODIRATIME),
  dirsync: set(MS.DIRSYNC),
  exec: clear(MS.NOEXEC),
  iversion: set(MS.I_VERSION),
  lazytime: set(MS.LAZYTIME),
  loud: clear(MS.SILENT),
  mand: set(MS.MANDLOCK),
  noatime: set(MS.NOATIME),
  nodev: set(MS.NODEV),
  nodiratime: set(MS.NODIRATIME),
  noexec: set(MS.NOEXEC),
  noiversion: clear(MS.I_VERSION),
  nolazytime: clear(MS.LAZYTIME),
  nomand: clear(MS.MANDLOCK),
  norelatime: clear(MS.RELATIME),
  nostrictatime: clear(MS.STRICTATIME),
  nosuid: set(MS.NOSUID),
  nosymfollow: set(MS.NOSYMFOLLOW),
  rbind: set(MS.BIND | MS.REC),
  relatime: set(MS.RELATIME),
  remount: set(MS.REMOUNT),
  ro: set(MS.RDONLY),
  rw: clear(MS.RDONLY),
  silent: set(MS.SILENT),
  strictatime: set(MS.STRICTATIME),
  suid: clear(MS.NOSUID),
  sync: set(MS.SYNCHRONOUS),
  symfollow: clear(MS.NOSYMFOLLOW),
};

/** The propagation words (runc's `mountPropagationMapping`), each one mount(2) call. */
const PROPAGATION_WORDS: Readonly<Record<string, number>> = {
  rprivate: MS.PRIVATE | MS.REC,
  private: MS.PRIVATE,
  rslave: MS.SLAVE | MS.REC,
  slave: MS.SLAVE,
  rshared: MS.SHARED | MS.REC,
  shared: MS.SHARED,
  runbindable: MS.UNBINDABLE | MS.REC,
  unbindable: MS.UNBINDABLE,
};

/** The recursive attribute words (runc's `recAttrFlags`), for mount_setattr(AT_RECURSIVE). */
const RECURSIVE_WORDS: Readonly<Record<string, FlagWord>> = {
  rro: set(MOUNT_ATTR.RDONLY),
  rrw: clear(MOUNT_ATTR.RDONLY),
  rnosuid: set(MOUNT_ATTR.NOSUID),
  rsuid: clear(MOUNT_ATTR.NOSUID),
  rnodev: set(MOUNT_ATTR.NODEV),
  rdev: clear(MOUNT_ATTR.NODEV),
  rnoexec: set(MOUNT_ATTR.NOEXEC),
  rexec: clear(MOUNT_ATTR.NOEXEC),
  rnodiratime: set(MOUNT_ATTR.NODIRATIME),
  rdiratime: clear(MOUNT_ATTR.NODIRATIME),
  rrelatime: set(MOUNT_ATTR.RELATIME),
  rnorelatime: clear(MOUNT_ATTR.RELATIME),
  rnoatime: set(MOUNT_ATTR.NOATIME),
  ratime: clear(MOUNT_ATTR.NOATIME),
  rstrictatime: set(MOUNT_ATTR.STRICTATIME),
  rnostrictatime: clear(MOUNT_ATTR.STRICTATIME),
  rnosymfollow: set(MOUNT_ATTR.NOSYMFOLLOW),
  rsymfollow: clear(MOUNT_ATTR.NOSYMFOLLOW),
};

/**
 * Words that are not mount(2) flags but requests of the runtime, reported by name so that a
 * caller that does not do them can refuse the mount instead of ignoring them: `tmpcopyup`
 * (copy the directory's content into the new tmpfs), `idmap`/`ridmap` (an ID-mapped mount).
 */
const NAMED_WORDS = ["tmpcopyup", "idmap", "ridmap"] as const;

/** What a mount's options ask for. */
export interface MountOptionFlags {
  /** MS_* flags to pass to mount(2) (MS_BIND, and MS_REC with it, for bind mounts). */
  flags: number;
  /** MS_* flags an option cleared (`rw`, `suid`, ...): for a remount, what to drop. */
  clearFlags: number;
  /** Propagation changes, in order, each for its own mount(2) call after the mount. */
  propagation: number[];
  /** mount_setattr(2) attributes to apply to the whole tree (`rro`, ...); 0 and 0 for none. */
  recursive: { set: number; clear: number };
  /** The options no table knows, comma-joined: the filesystem's own (`mode=755,size=64k`). */
  data: string;
  /** A bind mount (`bind` or `rbind`). */
  bind: boolean;
  /** A recursive bind mount (`rbind`). */
  recursiveBind: boolean;
  /** `tmpcopyup` was given. */
  tmpcopyup: boolean;
  /** `idmap` was given. */
  idmap: boolean;
  /** `ridmap` was given. */
  ridmap: boolean;
}

/**
 * Translates `mounts[].options` as runc does: a later word wins over an earlier one for the
 * same flag (`ro,rw` is read-write), propagation words are kept in order, an access-time
 * recursive word also clears the whole `_ATIME` field (mount_setattr(2) requires it), and
 * `defaults` is a no-op (mount(8)'s placeholder; runc passes it on as data, which
 * filesystems then refuse).
 */
export function mountOptionsToFlags(options: readonly string[]): MountOptionFlags {
  const out: MountOptionFlags = {
    flags: 0,
    clearFlags: 0,
    propagation: [],
    recursive: { set: 0, clear: 0 },
    data: "",
    bind: false,
    recursiveBind: false,
    tmpcopyup: false,
    idmap: false,
    ridmap: false,
  };
  const data: string[] = [];
  for (const o of options) {
    const flag = Object.hasOwn(MOUNT_FLAG_WORDS, o) ? MOUNT_FLAG_WORDS[o] : undefined;
    const rec = Object.hasOwn(RECURSIVE_WORDS, o) ? RECURSIVE_WORDS[o] : undefined;
    if (o === "defaults") continue;
    if (flag) {
      if (flag.clear) {
        out.flags &= ~flag.flag;
        out.clearFlags |= flag.flag;
      } else {
        out.flags |= flag.flag;
        out.clearFlags &= ~flag.flag;
      }
    } else if (Object.hasOwn(PROPAGATION_WORDS, o)) {
      out.propagation.push(PROPAGATION_WORDS[o]);
    } else if (rec) {
      if (rec.clear) {
        out.recursive.clear |= rec.flag;
        out.recursive.set &= ~rec.flag;
      } else {
        out.recursive.set |= rec.flag;
        out.recursive.clear &= ~rec.flag;
      }
      // "cannot simply specify the access-time setting in attr_set, but must also include
      // MOUNT_ATTR__ATIME in the attr_clr field" (mount_setattr(2)).
      if ((rec.flag & MOUNT_ATTR._ATIME) === rec.flag) out.recursive.clear |= MOUNT_ATTR._ATIME;
    } else if ((NAMED_WORDS as readonly string[]).includes(o)) {
      out[o as (typeof NAMED_WORDS)[number]] = true;
    } else {
      data.push(o);
    }
  }
  out.data = data.join(",");
  out.bind = (out.flags & MS.BIND) !== 0;
  out.recursiveBind = out.bind && (out.flags & MS.REC) !== 0;
  return out;
}

/**
 * The MS_* propagation flags of a propagation word (`rprivate` is MS_PRIVATE|MS_REC), for
 * `linux.rootfsPropagation` and mount options; undefined for any other word.
 */
export function propagationOf(word: string): number | undefined {
  return Object.hasOwn(PROPAGATION_WORDS, word) ? PROPAGATION_WORDS[word] : undefined;
}

/** The propagation words, as config.md lists them. */
export const PROPAGATION_NAMES: readonly string[] = Object.keys(PROPAGATION_WORDS);

/**
 * Every option word the table gives a meaning to (sorted, as `runc features` lists them):
 * the flag, propagation and recursive words, `defaults` and the named requests.
 */
export const MOUNT_OPTION_NAMES: readonly string[] = [
  ...Object.keys(MOUNT_FLAG_WORDS),
  "defaults",
  ...Object.keys(PROPAGATION_WORDS),
  ...Object.keys(RECURSIVE_WORDS),
  ...NAMED_WORDS,
].sort();
