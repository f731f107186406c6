/**
 * Checks the import graph of m-docker's own modules: every import must point down the
 * layers below (or stay inside its own layer without a cycle). Prints each back arrow and
 * each cycle, and exits 1 if there is any.
 *
 *   ffi/, src/util/ < src/config/ < src/{state,cgroups,rootfs,image,network,seccomp,volume}/ < src/container/,
 *   src/engine.ts < src/roles/ < src/cli/ < main.ts
 *
 * Usage: deno run --allow-read scripts/import-graph.ts [ROOT]
 *
 * @module
 */

const LAYERS: Array<[prefix: string, rank: number]> = [
  ["ffi/", 0],
  ["src/config/", 1],
  ["src/util/", 0],
  ["src/state/", 3],
  ["src/cgroups/", 3],
  ["src/rootfs/", 3],
  ["src/image/", 3],
  ["src/network/", 3],
  ["src/seccomp/", 3],
  ["src/volume/", 3],
  ["src/container/", 4],
  ["src/engine.ts", 4],
  ["src/runtime/", 4],
  ["src/build/", 4],
  ["src/roles/", 5],
  ["src/cli/", 6],
  ["main.ts", 7],
];

function rank(path: string): number {
  const hit = LAYERS.find(([prefix]) => path.startsWith(prefix));
  if (!hit) throw new Error(`${path}: not in any layer (add it to scripts/import-graph.ts)`);
  return hit[1];
}

function normalize(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

const root = Deno.args[0] ?? ".";
const files: string[] = [];
function walk(dir: string): void {
  for (const e of Deno.readDirSync(`${root}/${dir}`)) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) walk(path);
    else if (e.name.endsWith(".ts")) files.push(path);
  }
}
walk("ffi");
walk("src");
files.push("main.ts");

const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;
const graph = new Map<string, string[]>();
for (const file of files) {
  const text = Deno.readTextFileSync(`${root}/${file}`);
  const deps: string[] = [];
  for (const m of text.matchAll(importRe)) deps.push(normalize(file, m[1] ?? m[2]));
  graph.set(file, deps);
}

const problems: string[] = [];
for (const [file, deps] of graph) {
  for (const dep of deps) {
    if (rank(dep) > rank(file)) problems.push(`back arrow: ${file} -> ${dep}`);
  }
}

// Cycles: depth-first search over the whole graph, one report per cycle found.
const state = new Map<string, "open" | "done">();
const stack: string[] = [];
function visit(file: string): void {
  state.set(file, "open");
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === "open") {
      problems.push(`cycle: ${[...stack.slice(stack.indexOf(dep)), dep].join(" -> ")}`);
    } else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

for (const p of problems) console.log(p);
console.log(`${graph.size} modules, ${problems.length} problems`);
Deno.exit(problems.length ? 1 : 0);
