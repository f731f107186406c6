/**
 * COPY's source patterns: Go's filepath.Match as its documentation states the pattern
 * syntax (each rule of the grammar below, and each way to break it), and path.Clean's rules.
 */
import assert from "node:assert/strict";
import { BadPatternError, cleanPath, globMatch, hasGlobMeta } from "../../src/build/glob.ts";

/** [pattern, names it matches, names it does not]. */
const RULES: Array<[string, string, string[], string[]]> = [
  ["c matches itself, and the pattern must match all of the name", "main.go", ["main.go"], [
    "main.g",
    "xmain.go",
    "main.go2",
  ]],
  ["* is any run of non-separators, the empty one too", "lib*.so", [
    "lib.so",
    "libc.so",
    "libssl3.so",
  ], ["lib/c.so", "libc.so.6"]],
  ["* alone is one whole element", "*", ["Dockerfile", ".hidden", ""], ["src/main"]],
  ["several stars backtrack", "*-*-*.txt", ["a-b-c.txt", "x--y-z.txt"], ["a-b.txt"]],
  ["* stops at / even when the rest would match", "src*", ["src", "srcs"], ["src/x"]],
  ["? is exactly one non-separator", "v?.?", ["v1.2", "vx.y"], ["v1.22", "v.2", "v1/2"]],
  ["? is one character, not one byte", "?", ["é", "世", "😀"], ["ab"]],
  ["a class is one of its characters", "file[123].txt", ["file1.txt", "file3.txt"], [
    "file4.txt",
    "file12.txt",
  ]],
  ["a range is inclusive at both ends", "[b-d]", ["b", "c", "d"], ["a", "e", "B"]],
  ["ranges and characters mix", "[a-cx0-2]", ["a", "x", "1"], ["d", "3", "y"]],
  ["ranges go by code point", "[α-ω]", ["β", "ω"], ["a", "Ω"]],
  ["^ negates the class", "[^0-9]x", ["ax", "_x"], ["1x", "x"]],
  ["^ elsewhere in a class is a plain character", "[a^]", ["a", "^"], ["b"]],
  ["a backslash takes the next character literally", "a\\*b", ["a*b"], ["ab", "axb"]],
  ["\\? and \\[ are literal too", "\\?\\[", ["?["], ["x["]],
  ["in a class, an escaped ] or - is a member", "[\\]\\-]", ["]", "-"], ["\\"]],
  ["an escaped range end", "[a-\\c]", ["b"], ["d"]],
  [". is not special", "a.b", ["a.b"], ["axb"]],
];

Deno.test("globMatch follows each rule of filepath.Match's pattern syntax", () => {
  for (const [rule, pattern, yes, no] of RULES) {
    for (const name of yes) assert.equal(globMatch(pattern, name), true, `${rule}: ${name}`);
    for (const name of no) assert.equal(globMatch(pattern, name), false, `${rule}: ${name}`);
  }
});

Deno.test("a malformed pattern is ErrBadPattern, whatever the name", () => {
  const bad: Array<[string, string]> = [
    ["[ab", "a class that never closes"],
    ["x[^", "a negated class that never closes"],
    ["[]", "an empty class"],
    ["[^]", "an empty negated class"],
    ["[]x]", "] as a class's first character"],
    ["[-z]", "a range with no low end"],
    ["[a-]", "a range with no high end"],
    ["[a-c-e]", "a range running into another -"],
    ["ab\\", "a backslash with nothing after it"],
    ["[a\\", "a backslash at the end inside a class"],
  ];
  for (const [pattern, what] of bad) {
    for (const name of ["", "a", "zzz", "x["]) {
      assert.throws(() => globMatch(pattern, name), BadPatternError, `${what}: ${pattern}`);
    }
  }
  // The whole pattern is checked: a mismatch before the bad part does not hide it.
  assert.throws(() => globMatch("no[", "yes"), BadPatternError);
  assert.throws(() => globMatch("*.txt[", "a.md"), BadPatternError);
});

Deno.test("many stars against a long name: no runaway backtracking", () => {
  const name = "a".repeat(200);
  assert.equal(globMatch("*a*a*a*a*a*a*a*a*a*a*b", name), false);
  assert.equal(globMatch("*a*a*a*a*a*a*a*a*a*a*", name), true);
});

Deno.test("hasGlobMeta: the characters that make a COPY source a pattern", () => {
  assert.equal(hasGlobMeta("src/main.go"), false);
  for (const p of ["*.go", "a?", "[ab]", "a\\b"]) assert.equal(hasGlobMeta(p), true, p);
});

Deno.test("cleanPath applies path.Clean's documented rules", () => {
  const cases: Array<[string, string, string]> = [
    ["many slashes become one", "usr//local///bin", "usr/local/bin"],
    [". elements go", "./etc/./ssl/.", "etc/ssl"],
    ["an inner .. takes the element before it", "srv/www/../logs", "srv/logs"],
    ["..s in a row take several", "a/b/c/../../d", "a/d"],
    ["a relative path keeps the ..s it cannot cancel", "x/../../y/..", ".."],
    ["/.. at the start of a rooted path is /", "/../../opt", "/opt"],
    ["only the root keeps its trailing slash", "/var/lib/", "/var/lib"],
    ["the root", "//", "/"],
    ["nothing left is .", "a/b/../..", "."],
    ["the empty path is .", "", "."],
    ["a clean path stays as it is", "/usr/share/doc", "/usr/share/doc"],
  ];
  for (const [rule, input, want] of cases) assert.equal(cleanPath(input), want, rule);
});
