/**
 * A container's logging driver (`--log-driver`, `--log-opt`), as plain data with Docker's
 * rules: `json-file` (the default), `local` and `none`. Validated once, at create, with
 * Docker's messages (moby's daemon/logger: the factory, jsonfilelog and local packages).
 *
 * `local` has Docker's defaults (20 MiB files, 5 of them, rotated files gzipped) and Docker's
 * format (length-framed protobuf, src/container/log_proto.ts). `mode=non-blocking` (with
 * `max-buffer-size`, 1 MB by default) puts a bounded buffer between the container's output
 * and the file, for every driver.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";

/** The logging drivers m-docker has. */
export type LogDriver = "json-file" | "local" | "none";

/** HostConfig.LogConfig: the driver and its options, as given. */
export interface LogConfig {
  type: LogDriver;
  config: Record<string, string>;
}

/** What a container gets when `--log-driver` is not given (dockerd's default). */
export const DEFAULT_LOG_CONFIG: LogConfig = { type: "json-file", config: {} };

/**
 * How the writer rotates: files of at most `maxSize` bytes (-1: no limit), `maxFiles` kept,
 * the rotated ones gzipped with `compress`.
 */
export interface LogRotation {
  maxSize: number;
  maxFiles: number;
  compress: boolean;
}

/**
 * Docker's `local` defaults (moby daemon/logger/local/local.go: `defaultMaxFileSize` is
 * 20 * 1024 * 1024, `defaultMaxFileCount` 5, `defaultCompressLogs` true).
 */
const LOCAL_DEFAULTS: LogRotation = { maxSize: 20 * 1024 * 1024, maxFiles: 5, compress: true };

/** The options every reading driver accepts besides its own (attributes and the tag). */
const ATTRIBUTE_OPTS = ["labels", "labels-regex", "env", "env-regex", "tag"];
/** Handled by the daemon for every driver, whatever it is. */
const BUILTIN_OPTS = ["mode", "max-buffer-size"];

const DRIVER_OPTS: Record<Exclude<LogDriver, "none">, string[]> = {
  "json-file": ["max-file", "max-size", "compress", ...ATTRIBUTE_OPTS],
  local: ["max-file", "max-size", "compress", ...ATTRIBUTE_OPTS],
};

function fail(message: string): never {
  throw new InvalidConfigError("logConfig", message);
}

/**
 * go-units' `FromHumanSize`: a decimal size (`10m` is 10,000,000 bytes, `1.5k`, `20MB`,
 * `3 kib`), as `--log-opt max-size` takes it.
 */
export function parseHumanSize(s: string): number {
  let sep = -1;
  for (let i = s.length - 1; i >= 0; i--) {
    if ("0123456789. ".includes(s[i])) {
      sep = i;
      break;
    }
  }
  if (sep === -1) fail(`invalid size: '${s}'`);
  const num = s[sep] === " " ? s.slice(0, sep) : s.slice(0, sep + 1);
  let sfx = s.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) {
    fail(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  }
  const size = Number(num);
  if (size < 0) fail(`invalid size: '${s}'`);
  if (sfx === "") return Math.trunc(size);
  const bad = () => fail(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === "b") {
    if (sfx.length > 1) bad();
    return Math.trunc(size);
  }
  const mul = ({ k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 } as Record<string, number>)[sfx[0]];
  if (mul === undefined) bad();
  if ((sfx.length === 2 && sfx[1] !== "b") || (sfx.length === 3 && sfx.slice(1) !== "ib")) bad();
  return Math.trunc(size * mul);
}

/** Go's strconv.Atoi, for `max-file`. */
function atoi(key: string, v: string, local: boolean): number {
  if (!/^[+-]?\d+$/.test(v)) {
    const err = `strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`;
    fail(local ? `invalid value for ${key}: ${v}: ${err}` : err);
  }
  return Number(v);
}

/** Go's strconv.ParseBool, for `compress`. */
function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  return undefined;
}

/**
 * The rotation a driver's options ask for. Throws `InvalidConfigError` with Docker's message
 * for a bad size, count or compress value (Docker says these when the container starts; here
 * they fail `run`/`create` at once, with the same exit code 125).
 */
export function logRotation(cfg: LogConfig): LogRotation {
  const o = cfg.config;
  const local = cfg.type === "local";
  let { maxSize, maxFiles, compress } = local
    ? LOCAL_DEFAULTS
    : { maxSize: -1, maxFiles: 1, compress: false };
  if (o["max-size"] !== undefined) {
    const size = parseHumanSize(o["max-size"]);
    if (local) {
      maxSize = size === 0 ? -1 : size;
    } else {
      if (size <= 0) fail("max-size must be a positive number");
      maxSize = size;
    }
  }
  if (o["max-file"] !== undefined) {
    maxFiles = atoi("max-file", o["max-file"], local);
    if (local && maxFiles < 0) fail("max-file must not be negative");
    if (!local && maxFiles < 1) fail("max-file cannot be less than 1");
    if (local && maxFiles === 0) maxFiles = 1;
  }
  if (o.compress !== undefined) {
    const given = parseBool(o.compress);
    if (given === undefined) {
      const err = `strconv.ParseBool: parsing ${JSON.stringify(o.compress)}: invalid syntax`;
      fail(local ? `invalid boolean value for compress: ${err}` : err);
    }
    compress = given;
    if (compress && !local && (maxFiles === 1 || maxSize === -1)) {
      fail("compress cannot be true when max-file is less than 2 or max-size is not set");
    }
  }
  // moby local/config.go validateConfig: compression applies to rotated files only.
  if (local && compress && maxFiles <= 1) {
    fail("compression cannot be enabled when max file count is 1");
  }
  return { maxSize, maxFiles, compress };
}

/** `--log-opt mode=` and `max-buffer-size=`: whether the log has a buffer, and its bound. */
export interface LogMode {
  nonBlocking: boolean;
  /** Bytes; Docker's `defaultRingMaxSize` (1e6) unless `max-buffer-size` says. */
  maxBufferSize: number;
}

/**
 * go-units' `RAMInBytes`, which Docker uses for `max-buffer-size`: binary units (`1m` is
 * 1048576 bytes), `k`/`m`/`g`/`t`/`p`, an optional `i` and `b`, any case.
 */
export function parseRamInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) fail(`invalid size: '${s}'`);
  const mul = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[
    (m[2] ?? "").toLowerCase() as "k"
  ] ?? 1;
  return Math.trunc(Number(m[1]) * mul);
}

/** The mode a driver's options ask for (moby container.StartLogger: the ring logger). */
export function logMode(cfg: LogConfig): LogMode {
  const nonBlocking = cfg.config.mode === "non-blocking";
  const size = cfg.config["max-buffer-size"];
  return {
    nonBlocking,
    maxBufferSize: nonBlocking && size !== undefined ? parseRamInBytes(size) : 1e6,
  };
}

/**
 * Checks a driver and its options with Docker's rules and messages: an unknown driver, an
 * option the driver does not take, a bad value, a bad regex.
 */
export function validateLogConfig(cfg: LogConfig): void {
  if (cfg.type === "none") return;
  const mode = cfg.config.mode;
  if (mode !== undefined && mode !== "" && mode !== "blocking" && mode !== "non-blocking") {
    fail(`logger: logging mode not supported: ${mode}`);
  }
  if (cfg.config["max-buffer-size"] !== undefined && mode !== "non-blocking") {
    fail("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
  }
  const known = DRIVER_OPTS[cfg.type];
  if (!known) fail(`logger: no log driver named '${cfg.type}' is registered`);
  for (const key of Object.keys(cfg.config)) {
    if (BUILTIN_OPTS.includes(key) || known.includes(key)) continue;
    fail(
      cfg.type === "local"
        ? `unknown log opt '${key}' for log driver local`
        : `unknown log opt '${key}' for json-file log driver`,
    );
  }
  for (const key of ["labels-regex", "env-regex"]) {
    const re = cfg.config[key];
    if (!re) continue;
    try {
      new RegExp(re);
    } catch {
      fail(`error parsing regexp: invalid ${key}: \`${re}\``);
    }
  }
  logRotation(cfg);
  logMode(cfg);
}

/**
 * `--log-driver` and `--log-opt KEY=VALUE` as Docker's CLI turns them into a LogConfig (a
 * KEY without `=` has the empty value). Options for `none` are refused, as Docker's CLI does.
 */
export function logConfigFromFlags(driver: string | undefined, opts: string[]): LogConfig {
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf("=");
    config[eq < 0 ? o : o.slice(0, eq)] = eq < 0 ? "" : o.slice(eq + 1);
  }
  const type = (driver || DEFAULT_LOG_CONFIG.type) as LogDriver;
  if (type === "none" && opts.length > 0) fail("invalid logging opts for driver none");
  return { type, config };
}

/**
 * The attributes every entry carries (`--log-opt labels=`, `labels-regex=`, `env=`,
 * `env-regex=`, `tag=`), as moby's `Info.ExtraAttributes`: `logs --details` shows them.
 * A tag is taken literally, except the `{{.ID}}`, `{{.FullID}}`, `{{.Name}}` and
 * `{{.ImageName}}` markup, which is replaced.
 */
export function logAttributes(
  cfg: LogConfig,
  c: {
    id: string;
    name: string;
    image: string;
    env: string[];
    labels?: Record<string, string>;
  },
): Record<string, string> {
  const o = cfg.config;
  const attrs: Record<string, string> = {};
  const labels = c.labels ?? {};
  for (const l of o.labels ? o.labels.split(",") : []) {
    if (l in labels) attrs[l] = labels[l];
  }
  if (o["labels-regex"]) {
    const re = new RegExp(o["labels-regex"]);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) attrs[k] = v;
  }
  const env: Record<string, string> = {};
  for (const e of c.env) {
    const eq = e.indexOf("=");
    if (eq >= 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  for (const k of o.env ? o.env.split(",") : []) if (k in env) attrs[k] = env[k];
  if (o["env-regex"]) {
    const re = new RegExp(o["env-regex"]);
    for (const [k, v] of Object.entries(env)) if (re.test(k)) attrs[k] = v;
  }
  if (o.tag) {
    attrs.tag = o.tag.replace(
      /\{\{\s*\.(ID|FullID|Name|ImageName)\s*\}\}/g,
      (_, f) =>
        f === "ID" ? c.id.slice(0, 12) : f === "FullID" ? c.id : f === "Name" ? c.name : c.image,
    );
  }
  return attrs;
}
