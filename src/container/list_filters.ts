/**
 * Which containers `ps` lists: the Docker daemon's list loop (daemon/list.go) over facts of
 * each container, newest first, with its filters (`name`, `id`, `status`, `label`,
 * `ancestor`, `exited`, `before`, `since`, `volume`, `network`, `publish`, `expose`,
 * `health`), `-a` and `-n`. Pure.
 *
 * @module
 */

import {
  exactMatches,
  type Filters,
  matches,
  matchesLabels,
  validateFilters,
} from "../util/filters.ts";
import { ExitCodeError } from "../util/errors.ts";

/** The filter keys `ps` accepts (the daemon's acceptedPsFilterTags). */
export const PS_FILTERS = [
  "ancestor",
  "before",
  "exited",
  "id",
  "isolation",
  "label",
  "name",
  "status",
  "health",
  "since",
  "volume",
  "network",
  "is-task",
  "publish",
  "expose",
] as const;

/** Docker's container states, the values `status=` takes. */
export const CONTAINER_STATES = [
  "created",
  "running",
  "paused",
  "restarting",
  "removing",
  "exited",
  "dead",
];

const HEALTH_STATES = ["starting", "healthy", "unhealthy", "none"];

/** What the filters look at in one container. */
export interface ContainerFacts {
  id: string;
  name: string;
  /** Docker's State: created, running, exited, paused, dead... */
  state: string;
  exitCode: number;
  /** True once it has been started (Docker: StartedAt is not zero). */
  started: boolean;
  labels: Record<string, string>;
  imageId: string;
  /** Bind mount sources (or volume names) and destinations. */
  mounts: Array<{ name: string; destination: string }>;
  networks: Array<{ name: string; id: string }>;
  /** Published (host) and exposed (container) ports, as `8080/tcp`. */
  published: string[];
  exposed: string[];
  /** Health status; "none" without a healthcheck. */
  health: string;
}

/** How many to list: `-a`, and `-n N` (`-l` is `-n 1`); -1 for no limit. */
export interface ListOptions {
  all: boolean;
  limit: number;
}

/** `8080`, `8080/udp`, `8000-8010/tcp` as the set of `port/proto` it covers. */
function portSet(key: string, values: string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes(":")) {
      throw new ExitCodeError(`filter for '${key}' should not contain ':': ${v}`, 1);
    }
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(v);
    if (!m) throw new ExitCodeError(`error while looking up for ${key} ${v}: invalid port`, 1);
    const first = Number(m[1]), last = Number(m[2] ?? m[1]);
    for (let p = first; p <= last; p++) out.add(`${p}/${m[3] ?? "tcp"}`);
  }
  return out;
}

/** An image as the `ancestor` filter sees it: its ID and its layers, bottom first. */
export interface ImageLineage {
  id: string;
  layers: readonly string[];
}

/**
 * The image `id` and its descendants, the images `ancestor=` also matches containers of.
 * m-docker's store keeps no parent link (Docker 29 reads a parent label that its builder
 * and `commit` set), so a descendant is what moby's containerd image store took for a child
 * before that label (v24-v25 Children): an image whose layers extend `id`'s, not only equal
 * them. A `commit`ted image adds a layer to its image's, so it is one.
 */
export function imageWithDescendants(id: string, images: readonly ImageLineage[]): string[] {
  const root = images.find((i) => i.id === id);
  if (!root) return [id];
  const isChild = (i: ImageLineage) =>
    i.layers.length > root.layers.length && root.layers.every((l, n) => i.layers[n] === l);
  return [id, ...images.filter(isChild).map((i) => i.id)];
}

/**
 * The containers `ps` shows, in the order given (newest first), as the daemon picks them.
 * `resolve` finds a container by ID or name (for `before`/`since`), `imagesOf` the IDs an
 * `ancestor=` value stands for: the image it names (by name, `name:tag`, full or short ID)
 * and its descendants (`imageWithDescendants`), none when there is no such image (the
 * daemon then only logs a warning, and no container matches).
 */
export function filterContainers<T extends ContainerFacts>(
  containers: readonly T[],
  filters: Filters,
  opts: ListOptions,
  resolve: (ref: string) => T | undefined,
  imagesOf: (ref: string) => readonly string[],
): T[] {
  validateFilters(filters, PS_FILTERS);
  const exited = (filters.get("exited") ?? []).map((v) => {
    if (!/^[+-]?\d+$/.test(v)) {
      throw new ExitCodeError(
        `invalid filter 'exited=${v}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`,
        1,
      );
    }
    return Number(v);
  });
  let all = opts.all;
  for (const v of filters.get("status") ?? []) {
    if (!CONTAINER_STATES.includes(v)) {
      throw new ExitCodeError(
        `invalid filter 'status=${v}': invalid value for state (${v}): must be one of ${
          CONTAINER_STATES.join(", ")
        }`,
        1,
      );
    }
    all = true; // a status filter lists stopped containers too
  }
  for (const v of filters.get("health") ?? []) {
    if (!HEALTH_STATES.includes(v)) {
      throw new ExitCodeError(
        `invalid filter 'health=${v}': invalid value for health (${v}): must be one of ${
          HEALTH_STATES.join(", ")
        }`,
        1,
      );
    }
  }
  const find = (v: string) => {
    const c = resolve(v);
    if (!c) throw new ExitCodeError(`No such container: ${v}`, 1);
    return c;
  };
  let before = (filters.get("before") ?? []).map(find).at(-1);
  const since = (filters.get("since") ?? []).map(find).at(-1);
  const ancestors = filters.has("ancestor")
    ? new Set((filters.get("ancestor") ?? []).flatMap(imagesOf))
    : undefined;
  const publish = portSet("publish", filters.get("publish") ?? []);
  const expose = portSet("expose", filters.get("expose") ?? []);

  const out: T[] = [];
  for (const c of containers) {
    if (before) {
      if (c.id === before.id) before = undefined;
      continue;
    }
    if (since && c.id === since.id) break;
    if (c.state !== "running" && c.state !== "paused" && !all && opts.limit <= 0) continue;
    if (!matches(filters, "name", `/${c.name}`) && !matches(filters, "name", c.name)) continue;
    if (!matches(filters, "id", c.id)) continue;
    if (!matchesLabels(filters, "label", c.labels)) continue;
    if (opts.limit > 0 && out.length === opts.limit) break;
    if (
      exited.length > 0 &&
      !exited.some((e) => e === c.exitCode && c.state !== "running" && c.started)
    ) {
      continue;
    }
    if (!matches(filters, "status", c.state)) continue;
    if (!exactMatches(filters, "health", c.health)) continue;
    const volumes = filters.get("volume");
    if (
      volumes && !volumes.some((v) => c.mounts.some((m) => m.destination === v || m.name === v))
    ) {
      continue;
    }
    if (ancestors && !ancestors.has(c.imageId)) continue;
    const networks = filters.get("network");
    if (
      networks &&
      !networks.some((v) =>
        c.networks.some((n) => n.name === v || (v !== "" && n.id.startsWith(v)))
      )
    ) continue;
    if (publish.size > 0 || expose.size > 0) {
      if (!c.published.some((p) => publish.has(p)) && !c.exposed.some((p) => expose.has(p))) {
        continue;
      }
    }
    out.push(c);
  }
  return out;
}
