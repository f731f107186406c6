/**
 * `prune --filter` (src/container/prune.ts): facts from moby's daemon/prune.go (accepted
 * filters per kind, getUntilFromPruneFilters, matchLabels).
 */
import assert from "node:assert/strict";
import { PRUNE_FILTERS, pruneFilter } from "../../src/container/prune.ts";

const now = new Date("2026-01-02T00:00:00Z");
const keep = (args: string[], accepted: readonly string[] = PRUNE_FILTERS.container) =>
  pruneFilter(args, accepted, now);

Deno.test("pruneFilter: until as a duration or a time; what was made later stays", () => {
  const old = { created: "2026-01-01T00:00:00Z" };
  const recent = { created: "2026-01-01T23:30:00Z" };
  assert.equal(keep(["until=2h"])(old), true);
  assert.equal(keep(["until=2h"])(recent), false);
  assert.equal(keep(["until=2026-01-01T12:00:00Z"])(old), true);
  assert.equal(keep(["until=2026-01-01T12:00:00Z"])(recent), false);
  assert.equal(keep([])(recent), true);
});

Deno.test("pruneFilter: label must all match, label! excludes what matches all of them", () => {
  const a = { labels: { a: "1", b: "2" } };
  const none = { labels: {} };
  assert.equal(keep(["label=a"])(a), true);
  assert.equal(keep(["label=a=1", "label=b"])(a), true);
  assert.equal(keep(["label=a=2"])(a), false);
  assert.equal(keep(["label=a"])(none), false);
  assert.equal(keep(["label!=a"])(a), false);
  assert.equal(keep(["label!=a"])(none), true);
  assert.equal(keep(["label!=a=2"])(a), true);
  // MatchKVList("label!"): only an object with every label! entry is kept out.
  assert.equal(keep(["label!=a", "label!=c"])(a), true);
});

Deno.test("pruneFilter: Docker's errors", () => {
  const fails = (args: string[], message: string, accepted?: readonly string[]) =>
    assert.throws(() => keep(args, accepted), (e: Error) => e.message === message);
  fails(["color=red"], "invalid filter 'color'");
  fails(["until=1h"], "invalid filter 'until'", PRUNE_FILTERS.volume);
  fails(["until=1h", "until=2h"], "more than one until filter specified");
  fails(["until=soon"], `failed to parse value as time or duration: "soon"`);
  assert.doesNotThrow(() => keep(["dangling=true", "until=1h"], PRUNE_FILTERS.image));
  assert.doesNotThrow(() => keep(["all=true", "label=x"], PRUNE_FILTERS.volume));
});
