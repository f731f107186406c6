/**
 * The syntax of `run`'s string options: `-v HOST:CONTAINER[:ro|rw]`, `-e KEY[=VALUE]`,
 * `--env-file FILE` and `--restart POLICY`. The CLI turns them into the request's plain data here; the library
 * never sees the strings.
 *
 * @module
 */

import { type DeviceRequest, isDeviceAccess } from "../config/devices.ts";
import type { RestartPolicy } from "../config/container.ts";
import type { ExtraHost, PortMapping } from "../config/network.ts";
import { UsageError } from "../util/errors.ts";

/** `-v` is parsed with the other mount flags (src/cli/mount_options.ts). */
export { parseVolume } from "./mount_options.ts";

/**
 * Reads an `--env-file`'s text: KEY=VALUE lines, `#` comments, a bare KEY taken from
 * `lookup` (the caller's environment), empty when it is not set there.
 *
 * @example
 * ```ts
 * parseEnvFile("vars", "A=1\n# note\nHOME\n", () => "/root"); // ["A=1", "HOME=/root"]
 * ```
 */
export function parseEnvFile(
  path: string,
  text: string,
  lookup: (key: string) => string | undefined,
): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const key = line.split("=", 1)[0];
    if (key === "" || /\s/.test(key)) {
      throw new UsageError(`${path}:${i + 1}: variable '${key}' contains whitespaces`);
    }
    out.push(line.includes("=") ? line : `${key}=${lookup(key) ?? ""}`);
  }
  return out;
}

/** A bare `KEY` as Docker reads it: the caller's value, or nothing when it is unset. */
function explicitEntry(key: string, lookup: (key: string) => string | undefined): string | null {
  const value = lookup(key);
  return value === undefined ? null : `${key}=${value}`;
}

/**
 * Turns `-e` values into `KEY=VALUE` entries: a bare `KEY` takes the caller's value and is
 * dropped when the caller has none, as Docker does.
 *
 * @example
 * ```ts
 * parseEnvFlags(["A=1", "USER"], (k) => ({ USER: "root" })[k]); // ["A=1", "USER=root"]
 * ```
 */
export function parseEnvFlags(
  entries: string[],
  lookup: (key: string) => string | undefined,
): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.startsWith("=")) throw new UsageError(`invalid environment variable: ${e}`);
    const entry = e.includes("=") ? e : explicitEntry(e, lookup);
    if (entry !== null) out.push(entry);
  }
  return out;
}

/** Reads every `--env-file` and the `-e` flags into one list: files first, then flags. */
export function requestEnv(
  envFiles: string[],
  envFlags: string[],
  lookup: (key: string) => string | undefined = (k) => Deno.env.get(k),
): string[] {
  const fromFiles = envFiles.flatMap((f) => {
    let text: string;
    try {
      text = Deno.readTextFileSync(f);
    } catch (e) {
      throw new UsageError(`open ${f}: ${(e as Error).message}`);
    }
    return parseEnvFile(f, text, lookup);
  });
  return [...fromFiles, ...parseEnvFlags(envFlags, lookup)];
}

/**
 * Parses `no`, `always`, `on-failure` or `on-failure:N`.
 *
 * @example
 * ```ts
 * parseRestartPolicy("on-failure:3"); // { name: "on-failure", maxRetries: 3 }
 * ```
 */
export function parseRestartPolicy(s: string): RestartPolicy {
  if (s === "no") return { name: "no" };
  if (s === "always") return { name: "always" };
  const m = /^on-failure(?::(\d+))?$/.exec(s);
  if (m) {
    return m[1] === undefined
      ? { name: "on-failure" }
      : { name: "on-failure", maxRetries: Number(m[1]) };
  }
  if (s === "unless-stopped") {
    throw new UsageError("restart policy unless-stopped is not supported yet: use always");
  }
  throw new UsageError(
    `invalid restart policy "${s}": use no, always, or on-failure[:max-retries]`,
  );
}

function parsePortRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const first = m ? Number(m[1]) : NaN;
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!m || first < 1 || last > 65535 || last < first) {
    throw new UsageError(`invalid ${what} '${s}' in '${spec}'`);
  }
  return [first, last];
}

/**
 * Parses `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]`, ranges included
 * (`8080-8081:80-81`; a container range alone publishes each to a host port chosen at
 * start). A missing host port is 0: chosen at start.
 *
 * @example
 * ```ts
 * parsePublish("127.0.0.1:8080:80/udp");
 * // [{ hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, protocol: "udp" }]
 * ```
 */
export function parsePublish(spec: string): PortMapping[] {
  const slash = spec.lastIndexOf("/");
  const proto = slash >= 0 ? spec.slice(slash + 1) : "tcp";
  if (proto !== "tcp" && proto !== "udp") {
    throw new UsageError(`invalid proto '${proto}' in '${spec}': use tcp or udp`);
  }
  const parts = (slash >= 0 ? spec.slice(0, slash) : spec).split(":");
  if (parts.length > 3) throw new UsageError(`invalid port specification: '${spec}'`);
  const [ip, host, container] = parts.length === 3
    ? parts
    : parts.length === 2
    ? [undefined, parts[0], parts[1]]
    : [undefined, "", parts[0]];
  const [cFirst, cLast] = parsePortRange(container, "containerPort", spec);
  const count = cLast - cFirst + 1;
  let hFirst = 0;
  if (host !== "" && host !== undefined) {
    const [first, last] = parsePortRange(host, "hostPort", spec);
    if (last - first + 1 !== count) {
      throw new UsageError(
        `invalid ranges specified for container and host ports in '${spec}': they must be as long`,
      );
    }
    hFirst = first;
  }
  const hostIp = ip === undefined || ip === "" ? undefined : ip.replace(/^\[|\]$/g, "");
  return Array.from({ length: count }, (_, i) => ({
    ...(hostIp !== undefined ? { hostIp } : {}),
    hostPort: hFirst === 0 ? 0 : hFirst + i,
    containerPort: cFirst + i,
    protocol: proto,
  }));
}

/**
 * Parses `--expose PORT[-PORT][/PROTO]` into `80/tcp`-style keys, as image configs name
 * exposed ports.
 */
export function parseExpose(spec: string): string[] {
  const [range, proto = "tcp"] = spec.split("/");
  if (proto !== "tcp" && proto !== "udp") {
    throw new UsageError(`invalid proto '${proto}' in '${spec}'`);
  }
  const [first, last] = parsePortRange(range, "port", spec);
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto}`);
}

/** Parses `--add-host NAME:IP` (IP may be `host-gateway`). */
export function parseAddHost(spec: string): ExtraHost {
  const i = spec.indexOf(":");
  const name = spec.slice(0, i), address = spec.slice(i + 1);
  if (i <= 0 || address === "") {
    throw new UsageError(`bad format for add-host: "${spec}": use NAME:IP`);
  }
  return { name, address };
}

/**
 * `--device HOST[:CONTAINER][:PERMISSIONS]`, as Docker splits it: a second field made only
 * of `rwm` letters is the permissions, anything else the container path.
 */
export function parseDevice(spec: string): DeviceRequest {
  const parts = spec.split(":");
  if (parts.length > 3 || parts[0] === "") {
    throw new UsageError(`invalid device specification: ${spec}`);
  }
  let containerPath = "", access = "rwm";
  if (parts.length === 3) {
    containerPath = parts[1];
    access = parts[2];
    if (!isDeviceAccess(access)) throw new UsageError(`invalid device mode: ${access}`);
  } else if (parts.length === 2) {
    if (isDeviceAccess(parts[1])) access = parts[1];
    else containerPath = parts[1];
  }
  containerPath ||= parts[0];
  if (!containerPath.startsWith("/")) throw new UsageError(`bad format for path: ${containerPath}`);
  return { hostPath: parts[0], containerPath, access };
}
