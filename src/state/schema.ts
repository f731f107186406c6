/**
 * Checking a state file before trusting it: the fields the code relies on, with their
 * types, and the version. A file that fails (truncated by a crash, edited, written by
 * another version) is not guessed at: its container is reported `dead` with the reason.
 *
 * Hand-written on purpose: a few checks, no library in the shim's import graph.
 *
 * @module
 */

import { type ContainerState, STATE_VERSION } from "./types.ts";

/** A state file that is not valid JSON of the expected shape and version. */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
}

type Obj = Record<string, unknown>;

/** Checks one value; `where` names it in the error (`spec.args`). */
class Checker {
  constructor(private readonly root: Obj) {}

  private at(path: string): unknown {
    let v: unknown = this.root;
    for (const k of path.split(".")) {
      v = isObject(v) || Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    }
    return v;
  }

  private fail(path: string, want: string): never {
    const v = this.at(path);
    const got = v === undefined ? "missing" : Array.isArray(v) ? "an array" : typeof v;
    throw new InvalidStateError(`${path}: expected ${want}, found ${got}`);
  }

  object(path: string, optional = false): void {
    const v = this.at(path);
    if (optional && v === undefined) return;
    if (!isObject(v)) this.fail(path, "an object");
  }

  string(path: string, optional = false): void {
    const v = this.at(path);
    if (optional && v === undefined) return;
    if (typeof v !== "string") this.fail(path, "a string");
  }

  number(path: string, optional = false): void {
    const v = this.at(path);
    if (optional && v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(path, "a number");
  }

  boolean(path: string, optional = false): void {
    const v = this.at(path);
    if (optional && v === undefined) return;
    if (typeof v !== "boolean") this.fail(path, "a boolean");
  }

  strings(path: string): void {
    const v = this.at(path);
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.fail(path, "an array of strings");
    }
  }

  array(path: string): unknown[] {
    const v = this.at(path);
    if (!Array.isArray(v)) this.fail(path, "an array");
    return v;
  }

  oneOf(path: string, values: readonly string[]): void {
    const v = this.at(path);
    if (typeof v !== "string" || !values.includes(v)) this.fail(path, values.join(" or "));
  }

  stringMap(path: string): void {
    const v = this.at(path);
    if (!isObject(v) || Object.values(v).some((x) => typeof x !== "string")) {
      this.fail(path, "an object of strings");
    }
  }
}

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses JSON text, turning a syntax error (a truncated file, say) into InvalidStateError. */
export function parseJson(text: string): unknown {
  if (text.trim() === "") throw new InvalidStateError("the file is empty");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidStateError(`not valid JSON (${(e as Error).message})`);
  }
}

/** Checks the version first: a file from another version is not checked field by field. */
function checkVersion(v: Obj, want: number): void {
  if (v.version !== want) {
    const got = v.version === undefined ? "none" : JSON.stringify(v.version);
    throw new InvalidStateError(`version ${got}, expected ${want}`);
  }
}

/**
 * The container state in `value`, checked: the version is `STATE_VERSION`, the ID is `id`
 * (the directory it was found in), and every field the code reads has its type.
 */
export function validateState(value: unknown, id: string): ContainerState {
  if (!isObject(value)) throw new InvalidStateError("expected a JSON object");
  checkVersion(value, STATE_VERSION);
  if (value.id !== id) throw new InvalidStateError(`id: expected ${id}`);
  const c = new Checker(value);
  c.string("name");
  c.oneOf("status", ["created", "running", "exited"]);
  c.string("createdAt");
  for (const f of ["startedAt", "finishedAt", "error"]) c.string(f, true);
  for (const f of ["pid", "pidStartTime", "monitorPid", "monitorStartTime", "exitCode"]) {
    c.number(f, true);
  }
  c.number("restartCount", true);
  c.boolean("oomKilled", true);
  c.boolean("stopRequested", true);
  c.boolean("paused", true);
  c.object("spec");
  for (const f of ["image", "imageId", "cwd", "hostname"]) c.string(`spec.${f}`);
  c.strings("spec.args");
  c.strings("spec.env");
  for (const f of ["uid", "gid", "stopSignal", "stopTimeout"]) c.number(`spec.${f}`);
  for (const f of ["tty", "interactive", "detach", "autoRemove"]) c.boolean(`spec.${f}`);
  c.array("spec.mounts").forEach((_, i) => {
    c.string(`spec.mounts.${i}.source`);
    c.string(`spec.mounts.${i}.destination`);
    c.boolean(`spec.mounts.${i}.readonly`);
  });
  c.object("spec.limits");
  c.string("spec.cgroupParent", true);
  c.object("spec.restart", true);
  c.object("rootfs");
  c.strings("rootfs.lowerDirs");
  for (const f of ["upperDir", "workDir", "mountPoint"]) c.string(`rootfs.${f}`);
  c.string("containerDir");
  c.string("logPath");
  checkCgroup(c);
  return value as unknown as ContainerState;
}

function checkCgroup(c: Checker): void {
  c.object("cgroup");
  c.oneOf("cgroup.layout", ["v1", "v2", "hybrid"]);
  c.stringMap("cgroup.paths");
}

/** The version of `resources.json`. */
export const RESOURCES_VERSION = 1;

/**
 * What a container owns on the host, recorded once when it is created, before any of it
 * exists, and never rewritten: so that a container whose state file is lost can still be
 * removed with everything it owned.
 */
export interface ContainerResources {
  version: number;
  id: string;
  name: string;
  createdAt: string;
  /** Its rw layer, generated /etc files and log. */
  containerDir: string;
  logPath: string;
  /** Where its overlay is mounted (inside its own mount namespace, normally). */
  mountPoint: string;
  cgroup: ContainerState["cgroup"];
}

/** The resources record in `value`, checked like `validateState`. */
export function validateResources(value: unknown, id: string): ContainerResources {
  if (!isObject(value)) throw new InvalidStateError("expected a JSON object");
  checkVersion(value, RESOURCES_VERSION);
  if (value.id !== id) throw new InvalidStateError(`id: expected ${id}`);
  const c = new Checker(value);
  for (const f of ["name", "createdAt", "containerDir", "logPath", "mountPoint"]) c.string(f);
  checkCgroup(c);
  return value as unknown as ContainerResources;
}

/** The resources record of a container about to be created. */
export function resourcesOf(state: ContainerState): ContainerResources {
  return {
    version: RESOURCES_VERSION,
    id: state.id,
    name: state.name,
    createdAt: state.createdAt,
    containerDir: state.containerDir,
    logPath: state.logPath,
    mountPoint: state.rootfs.mountPoint,
    cgroup: state.cgroup,
  };
}
