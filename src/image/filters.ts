/**
 * Which images `images` lists: the daemon's image filters (`dangling`, `label`, `before`,
 * `since`, `reference`, `until`) and `images REPOSITORY[:TAG]`. Pure.
 *
 * @module
 */

import {
  boolFilter,
  type Filters,
  globToRegExp,
  matchesLabels,
  validateFilters,
} from "../util/filters.ts";
import { ExitCodeError } from "../util/errors.ts";

/** The keys `images --filter` accepts (the daemon's acceptedImageFilterTags). */
export const IMAGE_FILTERS = ["dangling", "label", "before", "since", "reference", "until"];

/** What the filters look at in one image. */
export interface ImageFacts {
  id: string;
  /** Its references as Docker shows them: `busybox:latest`, `registry:5000/x/y:v1`. */
  tags: string[];
  created: string;
  labels: Record<string, string>;
}

/** `until=`: an RFC 3339 time, a Unix time, or a duration before `now` (`24h`, `90m`). */
function untilTime(value: string, now: number): number {
  const d = /^(\d+(?:\.\d+)?)(h|m|s|ms)$/.exec(value);
  if (d) return now - Number(d[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[d[2]]!;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new ExitCodeError(`failed to parse value as time or duration: "${value}"`, 1);
  }
  return t;
}

/** The repository part of a reference: `busybox:latest` -> `busybox`, `h:5000/x:1` -> `h:5000/x`. */
function repositoryOf(ref: string): string {
  const i = ref.lastIndexOf(":");
  return i > ref.lastIndexOf("/") ? ref.slice(0, i) : ref;
}

/**
 * The images to list and, for each, the references to show (all of them, or those a
 * `reference` filter matched; none for a dangling image). `find` looks an image up by
 * reference or ID, for `before` and `since`.
 */
export function filterImages<T extends ImageFacts>(
  images: readonly T[],
  filters: Filters,
  find: (ref: string) => T | undefined,
  now = Date.now(),
): Array<{ image: T; tags: string[] }> {
  validateFilters(filters, IMAGE_FILTERS);
  const dangling = filters.has("dangling") ? boolFilter(filters, "dangling", false) : undefined;
  const created = (ref: string) => {
    const image = find(ref);
    if (!image) throw new ExitCodeError(`No such image: ${ref}`, 1);
    return Date.parse(image.created);
  };
  // The earliest `before` and the latest `since` win, as in the daemon.
  const before = (filters.get("before") ?? []).map(created).reduce(
    (a, b) => Math.min(a, b),
    Infinity,
  );
  const since = (filters.get("since") ?? []).map(created).reduce(
    (a, b) => Math.max(a, b),
    -Infinity,
  );
  const until = (filters.get("until") ?? []).map((v) => untilTime(v, now)).reduce(
    (a, b) => Math.min(a, b),
    Infinity,
  );
  const patterns = (filters.get("reference") ?? []).map(globToRegExp);
  const out: Array<{ image: T; tags: string[] }> = [];
  for (const image of images) {
    const t = Date.parse(image.created);
    if (!(t < before) || !(t > since) || !(t < until)) continue;
    if (dangling !== undefined && dangling !== (image.tags.length === 0)) continue;
    if (!matchesLabels(filters, "label", image.labels)) continue;
    let tags = image.tags;
    if (patterns.length > 0) {
      tags = tags.filter((ref) => patterns.some((p) => p.test(ref) || p.test(repositoryOf(ref))));
      if (tags.length === 0) continue;
    }
    out.push({ image, tags });
  }
  return out;
}
