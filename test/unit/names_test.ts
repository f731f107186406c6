import assert from "node:assert/strict";
import {
  ADJECTIVES,
  isValidContainerName,
  newContainerId,
  randomContainerName,
  SURNAMES,
} from "../../src/util/names.ts";

/** A `Math.random` stand-in that returns `values` in turn, counting the calls. */
function sequence(...values: number[]): (() => number) & { calls: number } {
  const random = Object.assign(() => values[random.calls++], { calls: 0 });
  return random;
}

/** The random number that picks `word` from `list`. */
const at = (list: string[], word: string) => (list.indexOf(word) + 0.5) / list.length;

Deno.test("the word lists are big enough, lowercase letters only, and without duplicates", () => {
  assert.ok(ADJECTIVES.length >= 100, `${ADJECTIVES.length} adjectives`);
  assert.ok(SURNAMES.length >= 150, `${SURNAMES.length} surnames`);
  for (const list of [ADJECTIVES, SURNAMES]) {
    assert.equal(new Set(list).size, list.length);
    for (const word of list) assert.match(word, /^[a-z]+$/);
  }
  assert.ok(ADJECTIVES.includes("boring") && SURNAMES.includes("wozniak"));
});

Deno.test("randomContainerName makes a valid adjective_surname name", () => {
  for (let i = 0; i < 200; i++) {
    const name = randomContainerName();
    const [adjective, surname, ...rest] = name.split("_");
    assert.deepEqual(rest, []);
    assert.ok(ADJECTIVES.includes(adjective), name);
    assert.ok(SURNAMES.includes(surname), name);
    assert.ok(isValidContainerName(name), name);
  }
});

Deno.test("randomContainerName uses the injected random source, ends included", () => {
  assert.equal(randomContainerName(() => 0), `${ADJECTIVES[0]}_${SURNAMES[0]}`);
  assert.equal(randomContainerName(() => 0.999999), `${ADJECTIVES.at(-1)}_${SURNAMES.at(-1)}`);
  // A source that strays out of [0, 1) is clamped to the lists' ends.
  assert.equal(randomContainerName(() => 1), `${ADJECTIVES.at(-1)}_${SURNAMES.at(-1)}`);
  assert.equal(randomContainerName(() => -0.5), `${ADJECTIVES[0]}_${SURNAMES[0]}`);
  const random = sequence(at(ADJECTIVES, "eager"), at(SURNAMES, "hopper"));
  assert.equal(randomContainerName(random), "eager_hopper");
  assert.equal(random.calls, 2);
});

Deno.test("randomContainerName never gives boring_wozniak, but boring and wozniak apart", () => {
  const random = sequence(
    at(ADJECTIVES, "boring"),
    at(SURNAMES, "wozniak"),
    at(ADJECTIVES, "boring"),
    at(SURNAMES, "turing"),
  );
  assert.equal(randomContainerName(random), "boring_turing");
  assert.equal(random.calls, 4);
  const again = sequence(
    at(ADJECTIVES, "boring"),
    at(SURNAMES, "wozniak"),
    at(ADJECTIVES, "eager"),
    at(SURNAMES, "wozniak"),
  );
  assert.equal(randomContainerName(again), "eager_wozniak");
});

Deno.test("isValidContainerName accepts Docker's names", () => {
  for (const name of ["ab", "web", "web-1", "a.b_c", "A9", "1x", "x--", "x..", "x__", "/web"]) {
    assert.ok(isValidContainerName(name), name);
  }
});

Deno.test("isValidContainerName refuses what Docker refuses", () => {
  const bad = [
    "", // empty
    "a", // one character
    "/", // only the slash
    "/a", // one character after the slash
    "//web", // two slashes
    "-web",
    ".web",
    "_web", // must start with a letter or digit
    "we b",
    "a/b",
    "web!",
    "wéb", // ASCII only
    "web\n", // the end of the string is the end of the name
    "a:b",
  ];
  for (const name of bad) assert.ok(!isValidContainerName(name), JSON.stringify(name));
});

Deno.test("newContainerId is 64 lowercase hex characters, unique, never a numeric short ID", () => {
  const ids = new Set(Array.from({ length: 200 }, () => newContainerId()));
  assert.equal(ids.size, 200);
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.doesNotMatch(id, /^[0-9]{12}/);
  }
});

Deno.test("newContainerId draws again when the 12-character prefix is all digits", () => {
  const draws = [
    [0x01, 0x23, 0x45, 0x67, 0x89, 0x01, 0xab], // "012345678901ab...": all digits, drawn again
    [0x01, 0x23, 0x45, 0x67, 0x89, 0x0a], // "01234567890a": 11 digits then a letter, kept
  ];
  let calls = 0;
  const id = newContainerId((bytes) => {
    bytes.fill(0xff);
    bytes.set(draws[calls++]);
  });
  assert.equal(calls, 2);
  assert.equal(id, "01234567890a" + "ff".repeat(26));
});
