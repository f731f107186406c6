import assert from "node:assert/strict";
import { escapeTrailingCommand, kebab, mayDetach, parseGlobalOptions } from "../../src/cli/argv.ts";

const VALUE_FLAGS = new Set(["name", "env", "e", "memory", "m", "v", "volume"]);

Deno.test("escapeTrailingCommand puts -- before the image", () => {
  assert.deepEqual(
    escapeTrailingCommand(["--rm", "busybox", "ls", "-l"], VALUE_FLAGS),
    ["--rm", "--", "busybox", "ls", "-l"],
  );
});

Deno.test("escapeTrailingCommand skips the values of value flags", () => {
  assert.deepEqual(
    escapeTrailingCommand(["--name", "web", "-e", "A=1", "-m", "1g", "img", "-x"], VALUE_FLAGS),
    ["--name", "web", "-e", "A=1", "-m", "1g", "--", "img", "-x"],
  );
  assert.deepEqual(
    escapeTrailingCommand(["--name=web", "img", "sh"], VALUE_FLAGS),
    ["--name=web", "--", "img", "sh"],
  );
  assert.deepEqual(
    escapeTrailingCommand(["--name=", "img", "--name="], VALUE_FLAGS),
    ["--name", "", "--", "img", "--name="],
  );
});

Deno.test("escapeTrailingCommand understands batched short flags", () => {
  assert.deepEqual(escapeTrailingCommand(["-it", "img", "sh"], VALUE_FLAGS), [
    "-it",
    "--",
    "img",
    "sh",
  ]);
  // -dm takes its value from the next argument
  assert.deepEqual(escapeTrailingCommand(["-dm", "1g", "img"], VALUE_FLAGS), [
    "-dm",
    "1g",
    "--",
    "img",
  ]);
});

Deno.test("escapeTrailingCommand leaves an explicit -- alone", () => {
  assert.deepEqual(escapeTrailingCommand(["-d", "--", "img"], VALUE_FLAGS), ["-d", "--", "img"]);
});

Deno.test("parseGlobalOptions takes --root, --state and --debug before the command", () => {
  const { options, rest } = parseGlobalOptions([
    "--root",
    "/a",
    "--state=/b",
    "--debug",
    "ps",
    "--root",
  ]);
  assert.deepEqual(options, { root: "/a", state: "/b", debug: true });
  assert.deepEqual(rest, ["ps", "--root"]);
  assert.throws(() => parseGlobalOptions(["--root"]), /needs an argument/);
});

Deno.test("kebab converts camelCase flag names", () => {
  assert.equal(kebab("memorySwap"), "memory-swap");
  assert.equal(kebab("cpusetCpus"), "cpuset-cpus");
});

Deno.test("mayDetach guesses -d among run's flags, before the image", async (t) => {
  const yes = [
    ["-d", "busybox"],
    ["--detach", "busybox"],
    ["--detach=true", "busybox"],
    ["-dit", "busybox", "sh"],
    ["--rm", "-d", "busybox"],
    ["--name", "web", "-d", "busybox"], // the word after a flag may be its value: scan on
  ];
  const no = [
    ["busybox", "sh", "-d"], // the command's own -d
    ["--rm", "busybox", "true"],
    ["-it", "busybox", "sh", "-c", "x", "-d"],
    ["--", "-d"],
    ["--detach=false", "busybox"],
    [],
  ];
  for (const args of yes) {
    await t.step(args.join(" "), () => assert.equal(mayDetach(args), true));
  }
  for (const args of no) {
    await t.step(args.join(" ") || "(none)", () => assert.equal(mayDetach(args), false));
  }
});
