/**
 * The lazily loaded command table (src/cli/routes.ts): the route map built for one command
 * holds that command, the very object the whole table holds, under the same name and with the
 * aliases that lead to it; anything that names no command gets the whole table.
 */
import assert from "node:assert/strict";
import type { RouteMap } from "@stricli/core";
import {
  allRoutes,
  allTrailing,
  routesFor,
  takesProgram,
  trailingFlags,
} from "../../src/cli/routes.ts";
import type { CliContext } from "../../src/cli/context.ts";

type Map = RouteMap<CliContext>;

/** The route names of `map`, in order. */
function names(map: Map): string[] {
  return map.getAllEntries().map((e) => e.name.original);
}

/** The route map at `name` in `map`. */
function sub(map: Map, name: string): Map {
  const target = map.getRoutingTargetForInput(name);
  assert.ok(target && "getAllEntries" in target, `${name} is not a route map`);
  return target as Map;
}

/** The top-level commands in `--help`'s order, as the static table had them (and push, history). */
const ROOT_NAMES = [
  "run",
  "create",
  "rename",
  "pause",
  "unpause",
  "update",
  "container",
  "exec",
  "attach",
  "ps",
  "logs",
  "start",
  "restart",
  "stop",
  "kill",
  "rm",
  "inspect",
  "wait",
  "top",
  "port",
  "network",
  "volume",
  "images",
  "pull",
  "push",
  "login",
  "logout",
  "tag",
  "commit",
  "save",
  "export",
  "load",
  "rmi",
  "history",
  "image",
  "import",
  "completion",
  "events",
  "stats",
  "info",
  "version",
  "system",
  "cp",
  "build",
  "builder",
  "diff",
];

const CONTAINER_NAMES = [
  "ls",
  "inspect",
  "rm",
  "start",
  "stop",
  "kill",
  "restart",
  "logs",
  "exec",
  "run",
  "create",
  "rename",
  "pause",
  "unpause",
  "update",
  "top",
  "port",
  "wait",
  "attach",
  "commit",
  "export",
  "prune",
];

Deno.test("routes: the whole table keeps the commands' order, container's and image's", async () => {
  const all = await allRoutes();
  assert.deepEqual(names(all), ROOT_NAMES);
  assert.deepEqual(names(sub(all, "container")), CONTAINER_NAMES);
  assert.deepEqual(
    sub(all, "container").getAllEntries().find((e) => e.name.original === "ls")?.aliases,
    ["ps", "list"],
  );
  assert.deepEqual(names(sub(all, "image")), ["ls", "inspect", "prune", "rm", "history", "push"]);
});

Deno.test("routes: one command's map holds only it, the same object as the whole table's", async () => {
  const all = await allRoutes();
  for (const name of ROOT_NAMES.filter((n) => n !== "container")) {
    const one = await routesFor([name, "--help"]);
    assert.deepEqual(names(one), [name]);
    const [mine, theirs] = [one, all].map((m) => m.getRoutingTargetForInput(name));
    if (name === "image") {
      // Built afresh each time, from the same commands.
      const targets = (m: unknown) => (m as Map).getAllEntries().map((e) => e.target);
      assert.deepEqual(targets(mine), targets(theirs));
    } else {
      assert.equal(mine, theirs, name);
    }
  }
});

Deno.test("routes: container SUB holds only SUB, its aliases (ps, list) lead to ls", async () => {
  const full = sub(await allRoutes(), "container");
  for (const name of CONTAINER_NAMES) {
    const container = sub(await routesFor(["container", name, "x"]), "container");
    assert.deepEqual(names(container), [name]);
    assert.equal(
      container.getRoutingTargetForInput(name),
      full.getRoutingTargetForInput(name),
      name,
    );
  }
  for (const alias of ["ps", "list", "ls"]) {
    const container = sub(await routesFor(["container", alias]), "container");
    assert.deepEqual(names(container), ["ls"]);
    assert.deepEqual(container.getAllEntries()[0].aliases, ["ps", "list"]);
    assert.equal(container.getRoutingTargetForInput(alias), full.getRoutingTargetForInput("ls"));
  }
});

Deno.test("routes: help, no command, an unknown one or flags first get the whole table", async () => {
  for (
    const words of [
      [],
      ["--help"],
      ["pss"],
      ["--bogus"],
      ["--version", "ps"],
      ["container"],
      ["container", "--help"],
      ["container", "lss"],
      ["__proto__"],
      ["container", "__proto__"],
    ]
  ) {
    const map = await routesFor(words);
    assert.deepEqual(names(map), ROOT_NAMES, words.join(" "));
    assert.deepEqual(names(sub(map, "container")), CONTAINER_NAMES, words.join(" "));
  }
});

Deno.test("routes: --version alone loads one small command only", async () => {
  assert.deepEqual(names(await routesFor(["--version"])), ["completion"]);
});

Deno.test("routes: run, exec and create take a program; their value flags end the flags", async () => {
  assert.deepEqual(["run", "exec", "create", "ps", "container", undefined].map(takesProgram), [
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
  const run = await trailingFlags("run");
  for (const f of ["name", "env", "e", "volume", "v", "network"]) assert.ok(run.has(f), f);
  for (const f of ["detach", "d", "rm", "interactive", "i", "tty", "t"]) assert.ok(!run.has(f), f);
  const exec = await trailingFlags("exec");
  for (const f of ["env", "e", "workdir", "w", "user", "u"]) assert.ok(exec.has(f), f);
  assert.ok(!exec.has("detach"));
  const all = await allTrailing();
  assert.deepEqual(Object.keys(all).sort(), ["create", "exec", "run"]);
  assert.deepEqual(all.run, run);
});
