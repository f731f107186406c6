import assert from "node:assert/strict";
import {
  ADJECTIVES,
  isValidContainerName,
  newContainerId,
  randomContainerName,
  SURNAMES,
} from "../../src/util/names.ts";
import { createdAgo, humanDuration, humanSize, statusText } from "../../src/util/humanize.ts";
import { formatCommand, truncateId } from "../../src/util/table.ts";

Deno.test("randomContainerName makes adjective_surname names, never boring_wozniak", () => {
  assert.match(randomContainerName(), /^[a-z]+_[a-z]+$/);
  // A random source that picks boring_wozniak first must be re-rolled to the next pick.
  const at = (list: string[], word: string) => (list.indexOf(word) + 0.5) / list.length;
  const picks = [
    at(ADJECTIVES, "boring"),
    at(SURNAMES, "wozniak"),
    at(ADJECTIVES, "eager"),
    at(SURNAMES, "hopper"),
  ];
  let i = 0;
  assert.equal(randomContainerName(() => picks[i++]), "eager_hopper");
});

Deno.test("isValidContainerName follows Docker's rule", () => {
  for (const ok of ["web", "web-1", "a.b_c", "/web", "1x"]) assert.ok(isValidContainerName(ok), ok);
  for (const bad of ["", "w", "-web", "we b", "a/b", "_x", "ünï"]) {
    assert.ok(!isValidContainerName(bad), bad);
  }
});

Deno.test("newContainerId is 64 hex characters and unique", () => {
  const ids = new Set(Array.from({ length: 100 }, newContainerId));
  assert.equal(ids.size, 100);
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.doesNotMatch(id, /^\d{12}/);
  }
});

Deno.test("humanDuration uses go-units' words and thresholds", () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(1 * s), "1 second");
  assert.equal(humanDuration(59 * s), "59 seconds");
  assert.equal(humanDuration(60 * s), "About a minute");
  assert.equal(humanDuration(2 * m), "2 minutes");
  assert.equal(humanDuration(59 * m), "59 minutes");
  assert.equal(humanDuration(60 * m), "About an hour");
  assert.equal(humanDuration(47 * h), "47 hours");
  assert.equal(humanDuration(3 * d), "3 days");
  assert.equal(humanDuration(15 * d), "2 weeks");
  assert.equal(humanDuration(90 * d), "3 months");
  assert.equal(humanDuration(800 * d), "2 years");
  assert.equal(createdAgo(2 * m), "2 minutes ago");
});

Deno.test("statusText reads like docker ps", () => {
  assert.equal(statusText({ status: "created" }, 0), "Created");
  assert.equal(statusText({ status: "running", startedAt: 0 }, 3000), "Up 3 seconds");
  assert.equal(
    statusText({ status: "exited", exitCode: 137, finishedAt: 0 }, 120_000),
    "Exited (137) 2 minutes ago",
  );
});

Deno.test("humanSize uses decimal units and three significant digits", () => {
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(999), "999B");
  assert.equal(humanSize(4261), "4.26kB");
  assert.equal(humanSize(1_234_567), "1.23MB");
  assert.equal(humanSize(5_500_000_000), "5.5GB");
});

Deno.test("formatCommand quotes and truncates as docker ps", () => {
  assert.equal(formatCommand(["sleep", "60"], false), '"sleep 60"');
  assert.equal(formatCommand(["sh", "-c", "echo a b"], true), `"sh -c 'echo a b'"`);
  assert.equal(
    formatCommand(["sh", "-c", "while true; do sleep 1; done"], false),
    `"sh -c 'while true; …"`,
  );
  assert.equal(truncateId("sha256:0123456789abcdef"), "0123456789ab");
});
