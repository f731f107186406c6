import assert from "node:assert/strict";
import {
  eventLine,
  journalFiles,
  JournalFollower,
  makeEvent,
  parseEventLine,
  readEvents,
  recordContainerEvent,
  recordEvent,
} from "../../src/state/events.ts";
import {
  eventMatches,
  formatEventLine,
  formatEventTime,
  parseEventFilters,
  parseGoDuration,
  parseTimestamp,
} from "../../src/state/event_query.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-test-events-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const ID = "0123456789abcdef".repeat(4);

Deno.test("a journal line is Docker's event JSON, timeNano an exact integer", () => {
  const e = makeEvent(
    {
      type: "container",
      action: "die",
      id: ID,
      attributes: { name: "web", image: "busybox", exitCode: "3" },
    },
    1704067200123456789n,
  );
  const line = eventLine(e);
  // Docker's key order (Go's struct order), attributes sorted as Go writes a map.
  assert.equal(
    line,
    `{"status":"die","id":"${ID}","from":"busybox","Type":"container","Action":"die",` +
      `"Actor":{"ID":"${ID}","Attributes":{"exitCode":"3","image":"busybox","name":"web"}},` +
      `"scope":"local","time":1704067200,"timeNano":1704067200123456789}`,
  );
  assert.deepEqual(parseEventLine(line), e);
  assert.equal(parseEventLine('{"torn":'), null);
});

Deno.test("Docker's event line: RFC3339NanoFixed, type, action, ID, sorted attributes", () => {
  const e = makeEvent(
    { type: "container", action: "start", id: ID, attributes: { name: "web", image: "busybox" } },
    1704067200000000005n,
  );
  const tz = Deno.env.get("TZ");
  Deno.env.set("TZ", "UTC");
  try {
    assert.equal(
      formatEventLine(e),
      `2024-01-01T00:00:00.000000005Z container start ${ID} (image=busybox, name=web)`,
    );
    assert.equal(
      formatEventLine(makeEvent({ type: "network", action: "create", id: "n1" }, 1n)),
      "1970-01-01T00:00:00.000000001Z network create n1",
    );
  } finally {
    if (tz === undefined) Deno.env.delete("TZ");
    else Deno.env.set("TZ", tz);
  }
  assert.match(
    formatEventTime(1704067200000000000n),
    /^2024-01-01T\d\d:\d\d:00\.000000000(Z|[+-]\d\d:\d\d)$/,
  );
});

Deno.test("recordEvent appends; the journal rotates and reads across the rotation", () => {
  withDir((dir) => {
    for (let i = 0; i < 30; i++) {
      recordEvent(dir, { type: "container", action: `a${i}`, id: ID }, 2000);
    }
    const { current, previous } = journalFiles(dir);
    assert.ok(Deno.statSync(previous).size >= 2000, "rotated once it passed the size");
    assert.ok(Deno.statSync(current).size < 2000 + 400);
    const actions = readEvents(dir).map((e) => e.Action);
    // Whatever is in the two files is in order and ends with the newest.
    assert.equal(actions.at(-1), "a29");
    const first = Number(actions[0].slice(1));
    assert.deepEqual(actions, Array.from({ length: 30 - first }, (_, i) => `a${first + i}`));
    assert.ok(first > 0, "the oldest events were dropped with the second rotation");
  });
});

Deno.test("recordEvent never throws: a journal it cannot write loses the event only", () => {
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/events`, "a file where the directory should be");
    recordEvent(dir, { type: "container", action: "start", id: ID });
    assert.deepEqual(readEvents(`${dir}/nowhere`), []);
  });
});

Deno.test("recordContainerEvent: image, name, labels and the extra attributes", () => {
  withDir((dir) => {
    recordContainerEvent(
      dir,
      { id: ID, name: "web", spec: { image: "busybox", labels: { tier: "front" } } },
      "kill",
      { signal: "15" },
    );
    const [e] = readEvents(dir);
    assert.equal(e.Action, "kill");
    assert.deepEqual(e.Actor.Attributes, {
      image: "busybox",
      name: "web",
      signal: "15",
      tier: "front",
    });
  });
});

Deno.test("JournalFollower sees only what comes after it, across a rotation", () => {
  withDir((dir) => {
    recordEvent(dir, { type: "container", action: "before", id: ID });
    const f = new JournalFollower(dir);
    try {
      assert.deepEqual(f.poll(), []);
      recordEvent(dir, { type: "container", action: "one", id: ID });
      assert.deepEqual(f.poll().map((e) => e.Action), ["one"]);
      // Small enough to rotate at every write: each poll must still see each event once.
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        recordEvent(dir, { type: "container", action: `r${i}`, id: ID }, 100);
        seen.push(...f.poll().map((e) => e.Action));
      }
      assert.deepEqual(seen, ["r0", "r1", "r2", "r3", "r4"]);
    } finally {
      f.close();
    }
  });
});

Deno.test("JournalFollower starts on a journal that does not exist yet", () => {
  withDir((dir) => {
    const f = new JournalFollower(dir);
    try {
      assert.deepEqual(f.poll(), []);
      recordEvent(dir, { type: "container", action: "first", id: ID });
      assert.deepEqual(f.poll().map((e) => e.Action), ["first"]);
    } finally {
      f.close();
    }
  });
});

Deno.test("Go durations and Docker's timestamps for --since and --until", () => {
  assert.equal(parseGoDuration("10m"), 600e9);
  assert.equal(parseGoDuration("1h30m"), 5400e9);
  assert.equal(parseGoDuration("1.5s"), 1.5e9);
  assert.equal(parseGoDuration("-2s"), -2e9);
  assert.equal(parseGoDuration("10"), null);
  assert.equal(parseGoDuration("abc"), null);
  const now = Date.UTC(2024, 0, 1, 12);
  assert.equal(parseTimestamp("1h", now), BigInt(Date.UTC(2024, 0, 1, 11)) * 1_000_000n);
  assert.equal(parseTimestamp("0", now), 0n);
  assert.equal(parseTimestamp("1704067200", now), 1704067200_000000000n);
  assert.equal(parseTimestamp("1704067200.5", now), 1704067200_500000000n);
  assert.equal(parseTimestamp("2024-01-01T00:00:00Z", now), 1704067200_000000000n);
  assert.equal(parseTimestamp("2024-01-01T00:00:00.25Z", now), 1704067200_250000000n);
  assert.equal(parseTimestamp("2024-01-01T02:00:00+02:00", now), 1704067200_000000000n);
  // No zone: local time, as Docker's ParseInLocation.
  assert.equal(
    parseTimestamp("2024-01-01", now),
    BigInt(new Date(2024, 0, 1).getTime()) * 1_000_000n,
  );
  assert.equal(
    parseTimestamp("2024-01-01T10", now),
    BigInt(new Date(2024, 0, 1, 10).getTime()) * 1_000_000n,
  );
  assert.throws(
    () => parseTimestamp("yesterday", now),
    { message: 'failed to parse value as time or duration: "yesterday"' },
  );
});

Deno.test("event filters: keys are ANDed, values of one key ORed, unknown keys refused", () => {
  const ev = (action: string, id: string, attrs: Record<string, string>) =>
    makeEvent({ type: "container", action, id, attributes: attrs }, 1n);
  const web = ev("start", ID, { image: "busybox", name: "web", tier: "front" });
  const db = ev("die", "f".repeat(64), { image: "redis:7", name: "db", exitCode: "1" });
  const f = (...args: string[]) => parseEventFilters(args);
  assert.ok(eventMatches(web, f("container=web")));
  assert.ok(eventMatches(web, f(`container=${ID}`)));
  assert.ok(eventMatches(web, f(`container=${ID.slice(0, 12)}`)));
  assert.ok(!eventMatches(db, f("container=web")));
  assert.ok(eventMatches(web, f("container=we")), "a name prefix matches, as moby's FuzzyMatch");
  assert.ok(eventMatches(db, f("container=web", "container=db")));
  assert.ok(eventMatches(web, f("event=start", "type=container")));
  assert.ok(!eventMatches(web, f("event=start", "container=db")));
  assert.ok(eventMatches(web, f("image=busybox:latest")));
  assert.ok(eventMatches(web, f("image=busybox")));
  assert.ok(!eventMatches(db, f("image=redis")));
  assert.ok(eventMatches(db, f("image=redis:7")));
  assert.ok(eventMatches(web, f("label=tier")));
  assert.ok(eventMatches(web, f("label=tier=front")));
  assert.ok(!eventMatches(web, f("label=tier=back")));
  assert.ok(eventMatches(ev("health_status: healthy", ID, {}), f("event=health_status")));
  assert.throws(() => f("colour=red"), { message: "Invalid filter 'colour'" });
  assert.throws(() => f("nonsense"), { message: "bad format of filter (expected name=value)" });
});
