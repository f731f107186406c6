/** Docker's word processing: quotes, escapes and every substitution form, as BuildKit's lexer. */
import assert from "node:assert/strict";
import { ShellLex } from "../../src/build/shell_lex.ts";

const ENV: Record<string, string> = { PWD: "/home", SHELL: "bash", NULL: "", KOREAN: "한국어" };
const lookup = (k: string) => ENV[k];
const word = (w: string, escape = "\\") => new ShellLex(escape).processWord(w, lookup).result;

Deno.test("processWord: quotes and escapes", () => {
  const cases: Array<[string, string]> = [
    ["hello", "hello"],
    ["he'll'o", "hello"],
    ["he\\'llo", "he'llo"],
    ["abc\\tdef", "abctdef"],
    ['"abc\\tdef"', "abc\\tdef"], // inside "", \ escapes only " $ \ and the newline
    ['"abc\\\\tdef"', "abc\\tdef"],
    ["'abc\\tdef'", "abc\\tdef"],
    ["hello\\", "hello"], // a trailing escape is dropped
    ["hello\\\\", "hello\\"],
    ['"hel\'lo"', "hel'lo"],
    ["'hello\\'", "hello\\"],
    [`"''"`, "''"],
    [`'"hello"'`, '"hello"'],
    ["안'녕'하세요", "안녕하세요"],
  ];
  for (const [input, want] of cases) assert.equal(word(input), want, input);
});

Deno.test("processWord: unterminated quotes are errors", () => {
  for (const input of ["he'llo", "he\\\\'llo", '"hello', '"hello\\"', "'hello"]) {
    assert.throws(() => word(input), /failed to process .*unexpected end of statement/, input);
  }
});

Deno.test("processWord: $VAR and ${VAR}", () => {
  const cases: Array<[string, string]> = [
    ["$.", "$."],
    ["he$PWD", "he/home"],
    ["he$1x", "hex"], // positional parameters are always empty
    ["he$.x", "he$.x"],
    ["he$pwd.", "he."], // names are case-sensitive
    ["he\\$PWD", "he$PWD"],
    ["he\\\\$PWD", "he\\/home"],
    ['"he\\$PWD"', "he$PWD"],
    ["\\${}", "${}"],
    ["he${hi}xx", "hexx"],
    ["he${PWD}", "he/home"],
    ["'he${XX}'", "he${XX}"], // nothing substitutes inside single quotes
    ["\"he'$PWD'\"", "he'/home'"],
    ["'\\$PWD'", "\\$PWD"],
    ["$KOREAN", "한국어"],
    ["${aaa}}", "}"],
    ["$@", ""],
    ["${999}aaa", "aaa"],
  ];
  for (const [input, want] of cases) assert.equal(word(input), want, input);
  for (const input of ["${}", "he${}xx", "he${.}", "he${PWD", "${{aaa}", "${:}", "${:-bbb}"]) {
    assert.throws(() => word(input), Error, input);
  }
});

Deno.test("processWord: ${VAR:-default} ${VAR-default} ${VAR:+alt} ${VAR+alt}", () => {
  const cases: Array<[string, string]> = [
    ["he${XXX:-000}xx", "he000xx"],
    ["he${PWD:-000}xx", "he/homexx"],
    ["he${XXX:-$PWD}xx", "he/homexx"],
    ["he${XXX:-${YYY:-yyy}}xx", "heyyyxx"],
    ["${NULL:-empty}", "empty"], // with the colon, set but empty counts as unset
    ["${NULL-empty}", ""], // without it, only unset does
    ["${XXX-unset}", "unset"],
    ["he${XXX:+000}xx", "hexx"],
    ["he${PWD:+000}xx", "he000xx"],
    ["he${PWD:+${SHELL}}xx", "hebashxx"],
    ["${NULL:+alt}", ""],
    ["${NULL+alt}", "alt"],
    ["${XXX+alt}", ""],
    ["he${PWD:+${PWD}:}xx", "he/home:xx"],
    ["he${XXX:-\\$PWD:}xx", "he$PWD:xx"],
    ["he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"],
    ["${aaa:-bbb {foo}", "bbb {foo"],
    ["${999:-bbb}aaa", "bbbaaa"],
  ];
  for (const [input, want] of cases) assert.equal(word(input), want, input);
  for (const input of ["he${XXX:YYY}", "he${PWD:=000}xx", "${aaa:-bbb ${foo}", "${aaa:-bbb"]) {
    assert.throws(() => word(input), Error, input);
  }
});

Deno.test("processWord: ${VAR?msg} ${VAR:?msg}", () => {
  assert.equal(word("he${PWD?}"), "he/home");
  assert.equal(word("he${NULL?}"), "he");
  assert.throws(() => word("he${XXX?}"), /XXX: is not allowed to be unset/);
  assert.throws(() => word("he${NULL:?}"), /NULL: is not allowed to be empty/);
  assert.throws(() => word("${XXX:?set it $SHELL}"), /XXX: set it bash/);
});

Deno.test("processWord: prefix, suffix and replacement forms", () => {
  const env = { V: "a/b/c.tar.gz" };
  const w = (s: string) =>
    new ShellLex().processWord(s, (k) => (env as Record<string, string>)[k]).result;
  assert.equal(w("${V#*/}"), "b/c.tar.gz");
  assert.equal(w("${V##*/}"), "c.tar.gz");
  assert.equal(w("${V%.*}"), "a/b/c.tar");
  assert.equal(w("${V%%.*}"), "a/b/c");
  assert.equal(w("${V/\\//-}"), "a-b/c.tar.gz");
  assert.equal(w("${V//\\//-}"), "a-b-c.tar.gz");
  assert.throws(() => w("${V:#x}"), /unsupported modifier/);
});

Deno.test("processWord reports the variables it read", () => {
  const r = new ShellLex().processWord("$PWD ${MISSING:-x} $NULL", lookup);
  assert.deepEqual([...r.matched].sort(), ["NULL", "PWD"]);
  assert.deepEqual([...r.unmatched], ["MISSING"]);
});

Deno.test("the escape directive's backtick is the escape token", () => {
  assert.equal(word("a`$PWD", "`"), "a$PWD");
  assert.equal(word("C:\\dir", "`"), "C:\\dir");
});

Deno.test("processWords splits after substitution, keeping quoted spaces", () => {
  const env: Record<string, string> = { space: "abc  def", leading: "  ab c", trailing: "ab c   " };
  const words = (s: string) => new ShellLex().processWords(s, (k) => env[k]);
  assert.deepEqual(words("hello${space}bye"), ["helloabc", "defbye"]);
  assert.deepEqual(words('hello"${space}"bye'), ["helloabc  defbye"]);
  assert.deepEqual(words("hello${leading}def"), ["hello", "ab", "cdef"]);
  assert.deepEqual(words('hello"${leading}" def'), ["hello  ab c", "def"]);
  assert.deepEqual(words("hello${trailing}d"), ["helloab", "c", "d"]);
  assert.deepEqual(words("hello\\ there"), ["hello there"]);
  assert.deepEqual(words('hello\\" there'), ['hello"', "there"]);
  assert.deepEqual(words("hello'$there'"), ["hello$there"]);
  assert.throws(() => words('hello" there'));
});
