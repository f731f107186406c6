/**
 * Image references as Docker reads them: `[registry[:port]/]repository[:tag][@digest]`,
 * with Docker Hub's defaults (`busybox` is `docker.io/library/busybox:latest`).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Docker Hub's name in references, and the host its API is served from. */
export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

/** A parsed reference. */
export interface ImageReference {
  /** Registry host, with port if any (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path in that registry (`library/busybox`). */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** distribution/reference's NameTotalLengthMax. */
const NAME_TOTAL_LENGTH_MAX = 255;

/**
 * Parses a reference. The first path component is a registry when it has a dot or a port,
 * or is `localhost` (Docker's rule).
 *
 * @example
 * ```ts
 * parseReference("busybox"); // { registry: "docker.io", repository: "library/busybox", tag: "latest" }
 * ```
 */
export function parseReference(ref: string): ImageReference {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      throw new UsageError(`invalid reference format: bad digest in "${ref}"`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new UsageError(`invalid reference format: bad tag in "${ref}"`);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  if (registry === DOCKER_HUB && !rest.includes("/")) rest = `library/${rest}`;
  if (!REPOSITORY.test(rest)) {
    throw new UsageError(`invalid reference format: repository name must be lowercase: "${ref}"`);
  }
  // Docker's limit is on the full name (`docker.io/library/...`), tag and digest excluded.
  if (`${registry}/${rest}`.length > NAME_TOTAL_LENGTH_MAX) {
    throw new UsageError(
      `invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  if (!tag && !digest) tag = "latest";
  return { registry, repository: rest, tag, digest };
}

/** The short name Docker shows: `busybox:latest`, `user/app:1`, `127.0.0.1:5000/x:y`. */
export function familiarName(r: ImageReference): string {
  let name = `${r.registry}/${r.repository}`;
  if (r.registry === DOCKER_HUB) {
    name = r.repository.startsWith("library/") ? r.repository.slice(8) : r.repository;
  }
  return r.digest && !r.tag ? `${name}@${r.digest}` : `${name}:${r.tag}`;
}

/** The registry's API host (Docker Hub's differs from its name). */
export function registryHost(r: ImageReference): string {
  return r.registry === DOCKER_HUB ? DOCKER_HUB_API : r.registry;
}

/** Plain HTTP for local registries (localhost, 127.0.0.0/8, ::1) and those listed insecure. */
export function usesPlainHttp(registry: string, insecure: readonly string[] = []): boolean {
  const host = registry.replace(/:\d+$/, "");
  return insecure.includes(registry) || host === "localhost" || /^127\./.test(host) ||
    host === "[::1]";
}
