/** .dockerignore: reading, the matching rules of Docker's documentation, and the context walk. */
import assert from "node:assert/strict";
import {
  contextFiles,
  IgnoreMatcher,
  loadIgnorePatterns,
  readIgnorePatterns,
} from "../../src/build/ignore.ts";

const excludes = (patterns: string[], path: string) =>
  new IgnoreMatcher(readIgnorePatterns(patterns.join("\n"))).excludes(path);

Deno.test("readIgnorePatterns: comments, blanks, cleaning, leading / and ./", () => {
  const text = "\ufeff# comment\n\n  *.md  \n/build/\n./dist\n!  keep/me\n a/../b \r\n#x\n";
  assert.deepEqual(readIgnorePatterns(text), ["*.md", "build", "dist", "!keep/me", "b"]);
});

Deno.test("the examples of Docker's .dockerignore documentation", () => {
  // */temp*: one level down.
  assert.equal(excludes(["*/temp*"], "somedir/temporary.txt"), true);
  assert.equal(excludes(["*/temp*"], "somedir/temp"), true);
  assert.equal(excludes(["*/temp*"], "temp"), false);
  assert.equal(excludes(["*/temp*"], "a/b/temp"), false);
  // */*/temp*: two levels down.
  assert.equal(excludes(["*/*/temp*"], "somedir/subdir/temporary.txt"), true);
  assert.equal(excludes(["*/*/temp*"], "somedir/temporary.txt"), false);
  // temp?: one character.
  assert.equal(excludes(["temp?"], "tempa"), true);
  assert.equal(excludes(["temp?"], "tempb"), true);
  assert.equal(excludes(["temp?"], "temp"), false);
  assert.equal(excludes(["temp?"], "tempab"), false);
  // **/*.go: any depth, the root included.
  assert.equal(excludes(["**/*.go"], "main.go"), true);
  assert.equal(excludes(["**/*.go"], "a/b/c/main.go"), true);
  assert.equal(excludes(["**/*.go"], "main.golang"), false);
  // An exception after the rule: the last match decides.
  assert.equal(excludes(["*.md", "!README.md"], "CHANGES.md"), true);
  assert.equal(excludes(["*.md", "!README.md"], "README.md"), false);
  // ... and a rule after the exception wins over it.
  assert.equal(excludes(["*.md", "!README*.md", "README-secret.md"], "README-secret.md"), true);
  assert.equal(excludes(["*.md", "!README*.md", "README-secret.md"], "README-public.md"), false);
});

Deno.test("a path is excluded when a parent directory matches", () => {
  assert.equal(excludes(["node_modules"], "node_modules/x/index.js"), true);
  assert.equal(excludes(["a/b"], "a/b/c/d"), true);
  assert.equal(excludes(["a/b"], "a/bc"), false);
  assert.equal(excludes(["**"], "anything/at/all"), true);
  assert.equal(excludes(["docs/**"], "docs/a/b"), true);
  assert.equal(excludes(["**/foo"], "foo"), true);
  assert.equal(excludes(["**/foo"], "x/foo/y"), true);
  assert.equal(excludes(["**/foo"], "xfoo"), false);
  assert.equal(excludes(["*"], "."), false, "the context's root is never excluded");
  // ** is any number of elements, none included; glued to other characters it still
  // crosses slashes.
  assert.equal(excludes(["logs/**"], "logs"), false, "logs/** needs something below logs");
  assert.equal(excludes(["logs/**"], "logs/2024/jan.txt"), true);
  assert.equal(excludes(["src/**/test"], "src/test"), true, "zero elements between");
  assert.equal(excludes(["src/**/test"], "src/a/b/test/x.go"), true);
  assert.equal(excludes(["src/**/test"], "src/a/btest"), false);
  assert.equal(excludes(["b**/*.md"], "build/docs/x/a.md"), true);
  assert.equal(excludes(["**/.env"], "app.env"), false, "**/ does not eat part of a name");
  assert.equal(excludes(["**/.env"], "deploy/.env"), true);
  // * and ? stay within one element; a class is any of its characters, / too, as in
  // filepath.Match.
  assert.equal(excludes(["docs/*.html"], "docs/api/index.html"), false);
  assert.equal(excludes(["docs/*.html"], "docs/index.html"), true);
  assert.equal(excludes(["?"], "a/b"), true, "a matches as the parent of a/b");
  assert.equal(excludes(["a?b"], "a/b"), false);
  assert.equal(excludes(["[a-c]/x"], "b/x"), true);
  assert.equal(excludes(["x[/]y"], "x/y"), true);
  assert.equal(excludes([".*"], ".git"), true);
  assert.equal(excludes([".*"], "git"), false);
  assert.equal(excludes(["v1.0"], "v1x0"), false, ". is a character");
  // An exception that names a directory brings back what is inside it, and a later rule
  // takes part of it away again.
  assert.equal(excludes(["*", "!public"], "public/css/site.css"), false);
  assert.equal(excludes(["*", "!public", "public/secret"], "public/secret/key"), true);
  assert.equal(excludes(["*", "!public", "public/secret"], "public/css"), false);
});

Deno.test("Docker's matching is case-sensitive and takes regex characters literally", () => {
  assert.equal(excludes(["*.MD"], "a.md"), false);
  assert.equal(excludes(["a+b"], "a+b"), true);
  assert.equal(excludes(["a+b"], "aab"), false);
  assert.equal(excludes(["(x)|y"], "(x)|y"), true);
  assert.equal(excludes(["(x)|y"], "y"), false);
  assert.equal(excludes(["file\\[1\\]"], "file[1]"), true);
  assert.equal(excludes(["[ab]c"], "bc"), true);
});

Deno.test("a pattern that would make a backtracking matcher crawl finishes", () => {
  const path = `${"a/".repeat(30)}a`;
  assert.equal(excludes(["**a**a**a**a**a**a**a**a**b"], path), false);
  assert.equal(excludes(["**/a/**/a/**/a/**/a/**/a"], path), true);
});

Deno.test("a malformed pattern is refused", () => {
  assert.throws(
    () => new IgnoreMatcher(["a["]),
    /invalid .dockerignore pattern "a\[": syntax error/,
  );
  assert.throws(() => new IgnoreMatcher(["!"]), /illegal exclusion pattern/);
});

function tree(files: string[]): string {
  const dir = Deno.makeTempDirSync({ prefix: "m-docker-ctx-" });
  for (const f of files) {
    if (f.endsWith("/")) Deno.mkdirSync(`${dir}/${f}`, { recursive: true });
    else {
      Deno.mkdirSync(`${dir}/${f}`.replace(/\/[^/]*$/, ""), { recursive: true });
      Deno.writeTextFileSync(`${dir}/${f}`, f);
    }
  }
  return dir;
}

Deno.test("contextFiles lists what the patterns leave, parents of exceptions included", () => {
  const dir = tree([
    "Dockerfile",
    ".dockerignore",
    "README.md",
    "NOTES.md",
    "src/main.go",
    "src/temp.txt",
    "node_modules/a/index.js",
    "build/out.bin",
    "build/keep/this.txt",
    "empty/",
  ]);
  try {
    Deno.symlinkSync("src/main.go", `${dir}/link`);
    Deno.writeTextFileSync(
      `${dir}/.dockerignore`,
      "*.md\n!README.md\nnode_modules\nbuild\n!build/keep\n*/temp*\n.dockerignore\n",
    );
    const m = new IgnoreMatcher(loadIgnorePatterns(dir));
    const listed = contextFiles(dir, m).map((e) => `${e.type}:${e.path}`);
    assert.deepEqual(listed, [
      "file:Dockerfile",
      "file:README.md",
      "dir:build",
      "dir:build/keep",
      "file:build/keep/this.txt",
      "dir:empty",
      "symlink:link",
      "dir:src",
      "file:src/main.go",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("without exceptions an excluded directory is not entered", () => {
  const dir = tree(["keep.txt", "big/a", "big/b/c", "other/x"]);
  const read: string[] = [];
  const readDirSync = Deno.readDirSync;
  // deno-lint-ignore no-explicit-any
  (Deno as any).readDirSync = (p: string) => {
    read.push(p.slice(dir.length));
    return readDirSync(p);
  };
  try {
    const listed = contextFiles(dir, new IgnoreMatcher(["big"])).map((e) => e.path);
    assert.deepEqual(listed, ["keep.txt", "other", "other/x"]);
    assert.deepEqual(read, ["", "/other"]);
    read.length = 0;
    contextFiles(dir, new IgnoreMatcher(["big", "!other/x"]));
    assert.deepEqual(read, ["", "/big", "/big/b", "/other"], "an exception makes it look inside");
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).readDirSync = readDirSync;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("loadIgnorePatterns prefers <Dockerfile>.dockerignore, and no file means no patterns", () => {
  const dir = tree(["Dockerfile", "sub/app.Dockerfile"]);
  try {
    assert.deepEqual(loadIgnorePatterns(dir, `${dir}/Dockerfile`), []);
    Deno.writeTextFileSync(`${dir}/.dockerignore`, "a\n");
    Deno.writeTextFileSync(`${dir}/sub/app.Dockerfile.dockerignore`, "b\n");
    assert.deepEqual(loadIgnorePatterns(dir, `${dir}/Dockerfile`), ["a"]);
    assert.deepEqual(loadIgnorePatterns(dir, `${dir}/sub/app.Dockerfile`), ["b"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
