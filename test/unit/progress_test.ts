import assert from "node:assert/strict";
import { progressBar, TerminalProgress } from "../../src/cli/progress.ts";

Deno.test("progressBar draws Docker's bar", () => {
  assert.equal(progressBar(0, 100, 10), "[          ]");
  assert.equal(progressBar(50, 100, 10), "[====>     ]");
  assert.equal(progressBar(100, 100, 10), "[=========>]");
  assert.equal(progressBar(5, 0, 4), "[    ]");
});

Deno.test("TerminalProgress keeps a line per layer and redraws them in place", () => {
  let out = "";
  const p = new TerminalProgress((s) => out += s);
  p.update("aaa", "Pulling fs layer");
  p.update("bbb", "Pulling fs layer");
  out = "";
  p.update("aaa", "Pull complete");
  // Up two lines, then both lines again, each cleared first.
  assert.equal(out, "\x1b[2A\x1b[2Kaaa: Pull complete\n\x1b[2Kbbb: Pulling fs layer\n");
});
