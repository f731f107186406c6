/** COPY's source patterns: Go's filepath.Match, checked against Go's own table of cases. */
import assert from "node:assert/strict";
import { BadPatternError, cleanPath, globMatch, hasGlobMeta } from "../../src/build/glob.ts";

// [pattern, name, match, bad pattern]: Go's path/filepath match_test.go cases.
const GO_CASES: Array<[string, string, boolean, boolean?]> = [
  ["abc", "abc", true],
  ["*", "abc", true],
  ["*c", "abc", true],
  ["a*", "a", true],
  ["a*", "abc", true],
  ["a*", "ab/c", false],
  ["a*/b", "abc/b", true],
  ["a*/b", "a/c/b", false],
  ["a*b*c*d*e*/f", "axbxcxdxe/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
  ["a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false],
  ["a*b*c*d*e*/f", "axbxcxdxexxx/fff", false],
  ["a*b?c*x", "abxbbxdbxebxczzx", true],
  ["a*b?c*x", "abxbbxdbxebxczzy", false],
  ["ab[c]", "abc", true],
  ["ab[b-d]", "abc", true],
  ["ab[e-g]", "abc", false],
  ["ab[^c]", "abc", false],
  ["ab[^b-d]", "abc", false],
  ["ab[^e-g]", "abc", true],
  ["a\\*b", "a*b", true],
  ["a\\*b", "ab", false],
  ["a?b", "a☺b", true],
  ["a[^a]b", "a☺b", true],
  ["a???b", "a☺b", false],
  ["a[^a][^a][^a]b", "a☺b", false],
  ["[a-ζ]*", "α", true],
  ["*[a-ζ]", "A", false],
  ["a?b", "a/b", false],
  ["a*b", "a/b", false],
  ["[\\]a]", "]", true],
  ["[\\-]", "-", true],
  ["[x\\-]", "x", true],
  ["[x\\-]", "-", true],
  ["[x\\-]", "z", false],
  ["[\\-x]", "x", true],
  ["[\\-x]", "-", true],
  ["[\\-x]", "a", false],
  ["[]a]", "]", false, true],
  ["[-]", "-", false, true],
  ["[x-]", "x", false, true],
  ["[x-]", "-", false, true],
  ["[x-]", "z", false, true],
  ["[-x]", "x", false, true],
  ["[-x]", "-", false, true],
  ["[-x]", "a", false, true],
  ["\\", "a", false, true],
  ["[a-b-c]", "a", false, true],
  ["[", "a", false, true],
  ["[^", "a", false, true],
  ["[^bc", "a", false, true],
  ["a[", "a", false, true],
  ["a[", "ab", false, true],
  ["a[", "x", false, true],
  ["a/b[", "x", false, true],
  ["*x", "xxx", true],
];

Deno.test("globMatch agrees with Go's filepath.Match on Go's cases", () => {
  for (const [pattern, name, want, bad] of GO_CASES) {
    const label = `Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`;
    if (bad) assert.throws(() => globMatch(pattern, name), BadPatternError, label);
    else assert.equal(globMatch(pattern, name), want, label);
  }
});

Deno.test("hasGlobMeta: the characters that make a COPY source a pattern", () => {
  assert.equal(hasGlobMeta("src/main.go"), false);
  for (const p of ["*.go", "a?", "[ab]", "a\\b"]) assert.equal(hasGlobMeta(p), true, p);
});

Deno.test("cleanPath is Go's path.Clean", () => {
  const cases: Array<[string, string]> = [
    ["", "."],
    ["a/b/../c", "a/c"],
    ["/../a", "/a"],
    ["../../a", "../../a"],
    ["a//b/./c/", "a/b/c"],
    ["/", "/"],
    ["./", "."],
    ["a/..", "."],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
});
