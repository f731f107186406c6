/**
 * The bodies of the `volume` commands (loaded only when one runs): Docker's output, JSON
 * and messages; every error exits 1, as Docker's volume commands do.
 *
 * @module
 */

import { confirm } from "./prompt.ts";
import { renderList } from "./format.ts";
import { goMap } from "../util/go_template.ts";
import { listVolumes, pruneVolumes, removeVolume, usedVolumeNames } from "../container/volumes.ts";
import { humanSize } from "../util/humanize.ts";
import { UsageError } from "../util/errors.ts";
import { ANONYMOUS_LABEL, randomVolumeName, type Volume, VolumeStore } from "../volume/store.ts";
import { action, type CliContext, println, reportError } from "./context.ts";
import { PRUNE_FILTERS, pruneFilter } from "../container/prune.ts";

/** `volume create` flags. */
export interface VolumeCreateFlags {
  driver?: string;
  label?: string[];
  opt?: string[];
  name?: string;
}

/** `volume ls` flags. */
export interface VolumeLsFlags {
  quiet?: boolean;
  filter?: string[];
  format?: string;
}

/** `volume inspect` flags. */
export interface VolumeInspectFlags {
  format?: string;
}

/** `volume rm` flags. */
export interface VolumeRmFlags {
  force?: boolean;
}

/** `volume prune` flags. */
export interface VolumePruneFlags {
  force?: boolean;
  all?: boolean;
  filter?: string[];
}

function store(ctx: CliContext): VolumeStore {
  return new VolumeStore(ctx.engine.roots.root);
}

function keyValues(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list ?? []) {
    const eq = s.indexOf("=");
    out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? "" : s.slice(eq + 1);
  }
  return out;
}

/** The local driver's options (Docker's: `type`, `device`, `o`, `size`). */
const LOCAL_OPTIONS = new Set(["type", "device", "o", "size"]);

/** Docker's inspect document of one volume (its keys in Docker's order). */
export function volumeDocument(v: Volume): Record<string, unknown> {
  return {
    CreatedAt: v.CreatedAt,
    Driver: v.Driver,
    Labels: v.Labels,
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Options: v.Options,
    Scope: "local",
  };
}

/** `volume ls`'s fields for --format (Docker's names). */
function lsFields(v: Volume): Record<string, unknown> {
  return {
    Name: v.Name,
    Driver: v.Driver,
    Scope: "local",
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(","),
    CreatedAt: v.CreatedAt,
  };
}

/** `volume create [NAME]`: prints the name. */
export const createVolumeCommand = action(function (
  this: CliContext,
  flags: VolumeCreateFlags,
  positional?: string,
) {
  if (flags.name && positional && flags.name !== positional) {
    throw new UsageError(
      `conflicting options: either specify --name or provide positional arg, not both`,
    );
  }
  if (flags.driver && flags.driver !== "local") {
    throw new UsageError(`volume driver ${flags.driver} is not supported: use local`);
  }
  const options = keyValues(flags.opt);
  for (const k of Object.keys(options)) {
    if (!LOCAL_OPTIONS.has(k)) throw new UsageError(`create: invalid option key: "${k}"`);
  }
  const name = positional ?? flags.name ?? randomVolumeName();
  const { volume } = store(this).ensure(name, { labels: keyValues(flags.label), options });
  println(this, volume.Name);
});

/** A `--filter KEY=VALUE` list: values by key (OR within a key, AND across keys). */
function parseFilters(list: string[] | undefined, allowed: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of list ?? []) {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`bad format of filter (expected name=value)`);
    const key = f.slice(0, eq).toLowerCase(), value = f.slice(eq + 1);
    if (!allowed.includes(key)) throw new UsageError(`invalid filter '${key}'`);
    out.set(key, [...out.get(key) ?? [], value]);
  }
  return out;
}

/** Docker's label filter: `KEY` (present) or `KEY=VALUE`. */
function labelMatches(labels: Record<string, string> | null, want: string): boolean {
  const eq = want.indexOf("=");
  const key = eq < 0 ? want : want.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq < 0 || labels[key] === want.slice(eq + 1);
}

/** Docker's name filter: the value as a regular expression anywhere in the name. */
function nameMatches(name: string, want: string): boolean {
  try {
    return new RegExp(want).test(name);
  } catch {
    return name.includes(want);
  }
}

function danglingValue(v: string): boolean {
  if (["true", "1"].includes(v.toLowerCase())) return true;
  if (["false", "0"].includes(v.toLowerCase())) return false;
  throw new UsageError(`invalid filter 'dangling=${v}'`);
}

/** `volume ls`: `DRIVER  VOLUME NAME`, or names (`-q`), or `--format`. */
export const lsVolumesCommand = action(function (this: CliContext, flags: VolumeLsFlags) {
  const filters = parseFilters(flags.filter, ["name", "label", "dangling", "driver"]);
  const dangling = filters.get("dangling")?.map(danglingValue);
  const rows = listVolumes(this.engine.containers, store(this)).filter((v) =>
    (filters.get("name")?.some((n) => nameMatches(v.Name, n)) ?? true) &&
    (filters.get("label")?.every((l) => labelMatches(v.Labels, l)) ?? true) &&
    (filters.get("driver")?.some((d) => d === v.Driver) ?? true) &&
    (dangling?.some((d) => d === !v.inUse) ?? true)
  );
  if (flags.quiet) {
    for (const v of rows) println(this, v.Name);
  } else {
    // No format, or "table": docker/cli's default volume table.
    const format = flags.format && flags.format !== "table"
      ? flags.format
      : "table {{.Driver}}\t{{.Name}}";
    this.process.stdout.write(
      renderList(format, rows.map((v) => goMap(lsFields(v))), {
        Name: "VOLUME NAME",
        Driver: "DRIVER",
        Scope: "SCOPE",
        Mountpoint: "MOUNTPOINT",
        Labels: "LABELS",
      }),
    );
  }
});

/** `volume inspect NAME...`: Docker's JSON array; `[]` and exit 1 when one is missing. */
export const inspectVolumesCommand = action(function (
  this: CliContext,
  flags: VolumeInspectFlags,
  ...refs: string[]
) {
  const volumes = store(this);
  const docs: Record<string, unknown>[] = [];
  let status = 0;
  for (const ref of refs) {
    try {
      docs.push(volumeDocument(volumes.get(ref)));
    } catch (e) {
      status = reportError(this, e);
    }
  }
  if (flags.format) {
    this.process.stdout.write(renderList(flags.format, docs, {}));
  } else {
    println(this, JSON.stringify(docs, null, 4));
  }
  return status === 0 ? 0 : 1;
});

/** `volume rm NAME...`: prints each name removed; in use or missing: exit 1. */
export const rmVolumesCommand = action(function (
  this: CliContext,
  flags: VolumeRmFlags,
  ...refs: string[]
) {
  const volumes = store(this);
  let failed = false;
  for (const ref of refs) {
    try {
      if (flags.force && !volumes.find(ref)) {
        println(this, ref);
        continue;
      }
      removeVolume(this.engine.containers, volumes, ref);
      println(this, ref);
    } catch (e) {
      reportError(this, e);
      failed = true;
    }
  }
  return failed ? 1 : 0;
});

/** `volume prune [-a] [-f]`: Docker's prompt, list and reclaimed space. */
export const pruneVolumesCommand = action(
  async function (this: CliContext, flags: VolumePruneFlags) {
    // moby's volumesAcceptedFilters: no `until` ("invalid filter 'until'").
    const filters = parseFilters(flags.filter, [...PRUNE_FILTERS.volume]);
    const keep = pruneFilter(filters, PRUNE_FILTERS.volume);
    const all = flags.all || (filters.get("all")?.some((v) => ["true", "1"].includes(v)) ??
      false);
    const warning = `WARNING! This will remove ${
      all ? "all" : "anonymous"
    } local volumes not used by at least one container.\nAre you sure you want to continue?`;
    if (!flags.force && !(await confirm(this, warning))) return 0;
    const volumes = store(this);
    let removed: Array<{ name: string; bytes: number }>;
    if (filters.has("label") || filters.has("label!")) {
      // With a label filter, only the matching unused volumes go.
      removed = [];
      const used = usedVolumeNames(this.engine.containers, volumes);
      for (const v of volumes.list()) {
        if (used.has(v.Name) || !keep({ labels: v.Labels })) continue;
        if (!all && !(v.Labels && ANONYMOUS_LABEL in v.Labels)) continue;
        const bytes = volumes.size(v.Name);
        try {
          removeVolume(this.engine.containers, volumes, v.Name);
          removed.push({ name: v.Name, bytes });
        } catch (e) {
          reportError(this, e);
        }
      }
    } else {
      removed = pruneVolumes(this.engine.containers, volumes, all);
    }
    if (removed.length > 0) {
      println(this, `Deleted Volumes:\n${removed.map((r) => r.name).join("\n")}\n`);
    }
    println(this, `Total reclaimed space: ${humanSize(removed.reduce((a, r) => a + r.bytes, 0))}`);
  },
);
