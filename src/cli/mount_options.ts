/**
 * The syntax of `run`'s mount flags, as Docker's CLI and daemon parse them: `-v`
 * (`HOST:CTR[:MODE]`, `NAME:CTR[:MODE]`, `CTR`), `--mount type=bind|volume|tmpfs,...` and
 * `--volumes-from C[:ro|rw]`. Each turns into plain data for the request; the messages for
 * bad input are Docker's (docker/cli opts/mount.go, moby volume/mounts/linux_parser.go).
 *
 * @module
 */

import {
  type BindMount,
  MOUNT_PROPAGATIONS,
  type MountPropagation,
  type TmpfsMount,
  type VolumeMountRequest,
  type VolumesFromRequest,
} from "../config/container.ts";
import { UsageError } from "../util/errors.ts";
import { parseMemorySize } from "../util/units.ts";
import { InvalidVolumeNameError, isValidVolumeName } from "../volume/store.ts";

/** What one mount flag asks for. */
export type MountChoice =
  | { type: "bind"; bind: BindMount }
  | { type: "volume"; volume: VolumeMountRequest }
  | { type: "tmpfs"; tmpfs: TmpfsMount };

const RW_MODES = new Set(["rw", "ro", "ro-non-recursive", "ro-force-recursive", "rro"]);
const LABEL_MODES = new Set(["z", "Z"]);
const COPY_MODES = new Set(["nocopy"]);
const CONSISTENCY_MODES = new Set(["consistent", "cached", "delegated"]);
const PROPAGATIONS = new Set<string>(MOUNT_PROPAGATIONS);

/** Docker's linuxValidMountMode: known words only, at most one of each kind. */
function validMode(mode: string): boolean {
  if (mode === "") return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(",")) {
    const kind = [RW_MODES, LABEL_MODES, PROPAGATIONS, COPY_MODES, CONSISTENCY_MODES]
      .findIndex((set) => set.has(o));
    if (kind < 0) return false;
    counts[kind]++;
  }
  return counts.every((n) => n <= 1);
}

function destinationError(type: string, target: string): string | null {
  const clean = target.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
  if (clean === "/") {
    return `invalid mount config for type "${type}": invalid specification: destination can't be '/'`;
  }
  if (!target.startsWith("/")) {
    return `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`;
  }
  return null;
}

/** A path as Docker's path.Clean leaves it: no doubled or trailing slashes, no `.`. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/**
 * Parses `-v`: `/host:/ctr[:MODE]` is a bind mount, `NAME:/ctr[:MODE]` a named volume and
 * `/ctr` an anonymous one. MODE is Docker's comma list (`ro`, `rw`, `z`, `nocopy`,
 * `rshared`, ...).
 *
 * @example
 * ```ts
 * parseVolume("/srv/data:/data:ro"); // { type: "bind", bind: { source: "/srv/data", destination: "/data", readonly: true, mode: "ro" } }
 * parseVolume("cache:/cache");       // { type: "volume", volume: { name: "cache", destination: "/cache", readonly: false } }
 * ```
 */
export function parseVolume(raw: string): MountChoice {
  const invalid = (why?: string) =>
    new UsageError(`invalid volume specification: '${raw}'${why ? `: ${why}` : ""}`);
  const parts = raw.split(":");
  if (parts[0] === "" || parts.length > 3) throw invalid();
  let source = "", target: string, mode = "";
  if (parts.length === 1) {
    target = parts[0];
  } else if (parts.length === 2) {
    // `/foo:rw` is a destination and a mode, which no volume can be.
    if (validMode(parts[1])) throw invalid();
    [source, target] = parts;
  } else {
    [source, target, mode] = parts;
  }
  if (!validMode(mode)) throw new UsageError(`invalid mode: ${mode}`);
  const words = mode === "" ? [] : mode.split(",");
  const readonly = words.some((w) => w === "ro" || w.startsWith("ro-") || w === "rro");
  const bind = source.startsWith("/");
  const type = bind ? "bind" : "volume";
  const bad = destinationError(type, target);
  if (bad) throw invalid(bad);
  const destination = cleanPath(target);
  const propagation = words.find((w) => PROPAGATIONS.has(w)) as MountPropagation | undefined;
  if (bind) {
    if (words.includes("nocopy")) throw invalid();
    const m: BindMount = {
      source: source.replace(/\/+$/, "") || "/",
      destination,
      readonly,
    };
    if (mode !== "") m.mode = mode;
    if (propagation) m.propagation = propagation;
    return { type: "bind", bind: m };
  }
  if (source !== "" && !isValidVolumeName(source)) {
    throw new UsageError(new InvalidVolumeNameError(source).message);
  }
  if (source === "" && readonly) {
    throw invalid(
      `invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes`,
    );
  }
  const v: VolumeMountRequest = { destination, readonly };
  if (source !== "") v.name = source;
  if (mode !== "") v.mode = mode;
  if (words.includes("nocopy")) v.noCopy = true;
  return { type: "volume", volume: v };
}

/** Go's encoding/csv, one record: commas split, double quotes group (`""` is a quote). */
function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false, i = 0;
  while (i < s.length) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") {
      quoted = true;
    } else if (c === ",") {
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
    i++;
  }
  if (quoted) {
    throw new Error(
      `parse error on line 1, column ${s.length}: extraneous or missing " in quoted-field`,
    );
  }
  out.push(cur);
  return out;
}

function parseBool(key: string, val: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(val)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(val)) return false;
  throw new Error(`invalid value for ${key}: ${val}`);
}

/** go-units' size with the largest suffix that divides it, as Docker's ConvertTmpfsOptions. */
function tmpfsSize(bytes: number): string {
  for (const [suffix, div] of [["g", 2 ** 30], ["m", 2 ** 20], ["k", 2 ** 10]] as const) {
    if (bytes % div === 0) return `${bytes / div}${suffix}`;
  }
  return String(bytes);
}

/** The options a `--mount type=tmpfs` starts from (Docker's defaults for a tmpfs mount). */
export const MOUNT_TMPFS_OPTIONS = ["rw", "noexec", "nosuid", "nodev"];

/**
 * Parses `--mount`: comma-separated `key=value` fields, Docker's keys and checks. Bad
 * input says so as Docker's CLI does: `invalid argument "..." for "--mount" flag: ...`,
 * or, for what the daemon checks, `invalid mount config for type "...": ...`.
 *
 * @example
 * ```ts
 * parseMount("type=volume,src=data,dst=/data,readonly");
 * // { type: "volume", volume: { name: "data", destination: "/data", readonly: true, viaMount: true } }
 * ```
 */
export function parseMount(value: string): MountChoice {
  const flagError = (why: string) =>
    new UsageError(`invalid argument "${value}" for "--mount" flag: ${why}`);
  let fields: string[];
  try {
    fields = csvFields(value);
  } catch (e) {
    throw flagError((e as Error).message);
  }
  let type = "volume", source = "", target = "", readonly = false;
  let propagation: string | undefined, nonRecursive: boolean | undefined;
  let noCopy: boolean | undefined, sizeBytes: number | undefined, mode: number | undefined;
  let driver: string | undefined;
  let labels: Record<string, string> | undefined, options: Record<string, string> | undefined;
  const setOn = (map: Record<string, string>, kv: string) => {
    const eq = kv.indexOf("=");
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k !== "") map[k] = eq < 0 ? "" : kv.slice(eq + 1);
  };
  try {
    for (const field of fields) {
      const eq = field.indexOf("=");
      if (eq < 0) {
        if (field === "readonly" || field === "ro") readonly = true;
        else if (field === "volume-nocopy") noCopy = true;
        else if (field === "bind-nonrecursive") nonRecursive = true;
        else throw new Error(`invalid field '${field}' must be a key=value pair`);
        continue;
      }
      const key = field.slice(0, eq), val = field.slice(eq + 1);
      switch (key) {
        case "type":
          type = val.toLowerCase();
          break;
        case "source":
        case "src":
          source = val;
          if (val === "." || val.startsWith("./")) source = cleanPath(`${Deno.cwd()}/${val}`);
          break;
        case "target":
        case "dst":
        case "destination":
          target = val;
          break;
        case "readonly":
        case "ro":
          readonly = parseBool(key, val);
          break;
        case "consistency":
          break; // Linux has one consistency: Docker ignores it there too.
        case "bind-propagation":
          propagation = val.toLowerCase();
          break;
        case "bind-nonrecursive":
          nonRecursive = parseBool(key, val);
          break;
        case "volume-nocopy":
          try {
            noCopy = parseBool(key, val);
          } catch {
            throw new Error(`invalid value for volume-nocopy: ${val}`);
          }
          break;
        case "volume-label":
          setOn(labels ??= {}, val);
          break;
        case "volume-driver":
          driver = val;
          break;
        case "volume-opt":
          setOn(options ??= {}, val);
          break;
        case "tmpfs-size":
          try {
            sizeBytes = parseMemorySize(val);
          } catch {
            throw new Error(`invalid value for ${key}: ${val}`);
          }
          break;
        case "tmpfs-mode":
          if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) {
            throw new Error(`invalid value for ${key}: ${val}`);
          }
          mode = parseInt(val, 8);
          break;
        default:
          throw new Error(`unexpected key '${key}' in '${field}'`);
      }
    }
    if (type === "") throw new Error("type is required");
    if (target === "") throw new Error("target is required");
    const volumeOpts = noCopy !== undefined || labels || options || driver !== undefined;
    if (volumeOpts && type !== "volume") {
      throw new Error(`cannot mix 'volume-*' options with mount type '${type}'`);
    }
    if ((propagation !== undefined || nonRecursive !== undefined) && type !== "bind") {
      throw new Error(`cannot mix 'bind-*' options with mount type '${type}'`);
    }
    if ((sizeBytes !== undefined || mode !== undefined) && type !== "tmpfs") {
      throw new Error(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
    }
  } catch (e) {
    throw flagError((e as Error).message);
  }
  // What the daemon checks (ValidateMountConfig).
  const config = (why: string) => new UsageError(`invalid mount config for type "${type}": ${why}`);
  const bad = destinationError(type, target);
  if (bad) throw new UsageError(bad);
  const destination = cleanPath(target);
  switch (type) {
    case "bind": {
      if (source === "") throw config("field Source must not be empty");
      if (propagation !== undefined && !PROPAGATIONS.has(propagation)) {
        throw config(`invalid propagation mode: ${propagation}`);
      }
      if (!source.startsWith("/")) {
        throw config(`invalid mount path: '${source}' mount path must be absolute`);
      }
      if (nonRecursive) {
        throw new UsageError("--mount bind-nonrecursive is not supported by m-docker");
      }
      const m: BindMount = { source: cleanPath(source), destination, readonly, viaMount: true };
      if (propagation) m.propagation = propagation as MountPropagation;
      return { type: "bind", bind: m };
    }
    case "volume": {
      if (source === "" && readonly) {
        throw config("must not set ReadOnly mode when using anonymous volumes");
      }
      if (driver !== undefined && driver !== "" && driver !== "local") {
        throw new UsageError(`volume driver ${driver} is not supported: use local`);
      }
      if (source !== "" && !isValidVolumeName(source)) {
        throw new UsageError(new InvalidVolumeNameError(source).message);
      }
      const v: VolumeMountRequest = { destination, readonly, viaMount: true };
      if (source !== "") v.name = source;
      if (noCopy) v.noCopy = true;
      if (labels) v.labels = labels;
      if (options) v.options = options;
      return { type: "volume", volume: v };
    }
    case "tmpfs": {
      if (source !== "") throw config("field Source must not be specified");
      const opts = [...MOUNT_TMPFS_OPTIONS];
      if (readonly) opts.push("ro");
      if (mode !== undefined && mode !== 0) opts.push(`mode=${mode.toString(8)}`);
      if (sizeBytes !== undefined && sizeBytes !== 0) opts.push(`size=${tmpfsSize(sizeBytes)}`);
      return { type: "tmpfs", tmpfs: { destination, options: opts } };
    }
    default:
      throw config("mount type unknown");
  }
}

/** Parses `--volumes-from CONTAINER[:ro|rw]` (Docker's ParseVolumesFrom). */
export function parseVolumesFrom(spec: string): VolumesFromRequest {
  if (spec === "") throw new UsageError("volumes-from specification cannot be an empty string");
  const colon = spec.indexOf(":");
  const container = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? "" : spec.slice(colon + 1);
  if (mode === "") return { container };
  if (mode !== "ro" && mode !== "rw") throw new UsageError(`invalid mode: ${mode}`);
  return { container, mode };
}

/** Splits parsed mount flags into the request's binds, volumes and tmpfs mounts. */
export function sortMounts(
  choices: MountChoice[],
): { mounts: BindMount[]; volumes: VolumeMountRequest[]; tmpfs: TmpfsMount[] } {
  const out = {
    mounts: [] as BindMount[],
    volumes: [] as VolumeMountRequest[],
    tmpfs: [] as TmpfsMount[],
  };
  for (const c of choices) {
    if (c.type === "bind") out.mounts.push(c.bind);
    else if (c.type === "volume") out.volumes.push(c.volume);
    else out.tmpfs.push(c.tmpfs);
  }
  return out;
}
