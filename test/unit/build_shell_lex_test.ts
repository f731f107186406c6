/**
 * Docker's word processing, case by case from the Dockerfile reference's "Environment
 * replacement" and the escape directive: quotes, the escape token, every `${...}` form.
 */
import assert from "node:assert/strict";
import { ShellLex } from "../../src/build/shell_lex.ts";

const ENV: Record<string, string> = {
  HOME: "/root",
  USER: "app",
  EMPTY: "",
  GREETING: "hello  world",
  CITY: "Zürich",
};
const lookup = (k: string) => ENV[k];
const word = (w: string, escape = "\\") => new ShellLex(escape).processWord(w, lookup).result;
const check = (cases: Array<[string, string]>) => {
  for (const [input, want] of cases) assert.equal(word(input), want, input);
};

Deno.test("processWord: quotes and escapes", () => {
  check([
    ["plain", "plain"],
    ["ab'cd'ef", "abcdef"], // quotes join with what touches them
    ["'single'\"double\"", "singledouble"],
    ["it\\'s", "it's"], // an escaped quote is a character
    ["\\n\\q", "nq"], // outside quotes the escape token takes any character as it is
    ['"\\n"', "\\n"], // inside "", it escapes only " $ and itself ...
    ['"a\\"b"', 'a"b'],
    ['"\\\\"', "\\"],
    ['"\\$"', "$"],
    ["'\\n\\'", "\\n\\"], // ... and inside '' nothing at all
    ["tail\\", "tail"], // an escape token with nothing after it goes
    ["tail\\\\", "tail\\"],
    ['"it\'s"', "it's"], // each kind of quote is literal inside the other
    [`'say "hi"'`, 'say "hi"'],
    ['""', ""],
    ["'  spaces  '", "  spaces  "],
    ["ü'ñ'í", "üñí"],
  ]);
});

Deno.test("processWord: unterminated quotes are errors", () => {
  const cases: Array<[string, string]> = [
    ["'open", "single-quote"],
    ["a'b", "single-quote"],
    ["x\\\\'y", "single-quote"], // the escape escaped the escape, not the quote
    ['"open', "double-quote"],
    ['"ends in \\"', "double-quote"], // the last quote is escaped
  ];
  for (const [input, kind] of cases) {
    assert.throws(
      () => word(input),
      new RegExp(
        `^Error: failed to process .*: unexpected end of statement while looking for matching ${kind}$`,
      ),
      input,
    );
  }
});

Deno.test("processWord: $VAR and ${VAR}", () => {
  check([
    ["$HOME", "/root"],
    ["${HOME}", "/root"],
    ["x$HOME/y", "x/root/y"], // a name is letters, digits and _: / ends it
    ["$USER_", ""], // ... so this is the unset USER_, not USER then _
    ["${USER}_", "app_"],
    ["$home", ""], // names are case-sensitive
    ["$CITY", "Zürich"],
    ["a$", "a$"], // a $ that starts no name is a character
    ["$-x", "x"], // $- $? $# $@ $* $! $$ are a shell's, empty here
    ["$@$*$#", ""],
    ["$2nd", "nd"], // a positional parameter is one digit, and empty
    ["${10}x", "x"], // braced, it may have more
    ["cost: $5.00", "cost: .00"],
    ["$%", "$%"],
    ["\\$HOME", "$HOME"], // an escaped $ is a character
    ["\\\\$HOME", "\\/root"],
    ['"$HOME"', "/root"],
    ['"\\$HOME"', "$HOME"],
    ["'$HOME'", "$HOME"], // nothing substitutes inside ''
    ["\"'$HOME'\"", "'/root'"], // but '' inside "" are characters
    ["\\${HOME}", "${HOME}"],
    ["${HOME}}", "/root}"],
    ["${UNSET}", ""],
  ]);
  for (
    const input of ["${}", "${", "${HOME", "${-x}", "${.}", "${ HOME}", "${:-x}", "x${${HOME}}"]
  ) {
    assert.throws(() => word(input), /^Error: failed to process /, input);
  }
  assert.throws(() => word("${HOME"), /syntax error: missing '}'$/);
});

Deno.test("processWord: ${VAR:-default} ${VAR-default} ${VAR:+alt} ${VAR+alt}", () => {
  check([
    ["${UNSET:-fallback}", "fallback"],
    ["${USER:-fallback}", "app"],
    ["${EMPTY:-fallback}", "fallback"], // with the colon, empty counts as unset
    ["${EMPTY-fallback}", ""], // without it, only unset does
    ["${UNSET-fallback}", "fallback"],
    ["${UNSET:-$HOME/x}", "/root/x"], // the word is substituted itself
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["${UNSET:-a b}", "a b"],
    ["${UNSET:-'q}'}", "q}"], // a quoted } does not close
    ["${UNSET:-\\}}", "}"], // nor an escaped one
    ["${UNSET:-{x}", "{x"], // a { does not nest
    ["${UNSET:-}", ""],
    ["${USER:+set}", "set"],
    ["${UNSET:+set}", ""],
    ["${EMPTY:+set}", ""],
    ["${EMPTY+set}", "set"], // set, though empty
    ["${UNSET+set}", ""],
    ["${USER:+[$USER]}", "[app]"],
    ["${5:-pos}", "pos"], // positional parameters are unset
  ]);
  for (
    const input of ["${USER:x}", "${USER:=x}", "${UNSET:-${HOME}", "${UNSET:-open", "${USER!}"]
  ) {
    assert.throws(() => word(input), /^Error: failed to process /, input);
  }
  assert.throws(() => word("${USER:=x}"), /unsupported modifier \(:=\) in substitution$/);
});

Deno.test("processWord: ${VAR?msg} ${VAR:?msg}", () => {
  assert.equal(word("${USER?}"), "app");
  assert.equal(word("${EMPTY?}"), "", "set, though empty");
  assert.equal(word("${USER:?}"), "app");
  assert.throws(() => word("${UNSET?}"), /: UNSET: is not allowed to be unset$/);
  assert.throws(() => word("${UNSET:?}"), /: UNSET: is not allowed to be unset$/);
  assert.throws(() => word("${EMPTY:?}"), /: EMPTY: is not allowed to be empty$/);
  assert.throws(() => word("${UNSET?run as $USER}"), /: UNSET: run as app$/);
});

Deno.test("processWord: prefix, suffix and replacement forms", () => {
  const env = { V: "a/b/c.tar.gz", S: "*" };
  const w = (s: string) =>
    new ShellLex().processWord(s, (k) => (env as Record<string, string>)[k]).result;
  assert.equal(w("${V#*/}"), "b/c.tar.gz");
  assert.equal(w("${V##*/}"), "c.tar.gz");
  assert.equal(w("${V%.*}"), "a/b/c.tar");
  assert.equal(w("${V%%.*}"), "a/b/c");
  assert.equal(w("${V#x}"), "a/b/c.tar.gz", "no match, no change");
  assert.equal(w("${V#?}"), "/b/c.tar.gz");
  assert.equal(w("${V%[a-z][a-z]}"), "a/b/c.tar.");
  assert.equal(w("${V/\\//-}"), "a-b/c.tar.gz");
  assert.equal(w("${V//\\//-}"), "a-b-c.tar.gz");
  assert.equal(w("${V//[.\\/]/}"), "abctargz", "an empty replacement deletes");
  assert.throws(() => w("${V/a}"), /missing '\/' in \$\{\}$/);
  assert.equal(w("${V/b*z/X}"), "a/X", "the longest match");
  assert.equal(w("${V#'a/'}"), "b/c.tar.gz");
  assert.equal(w("${V#'*'}"), "a/b/c.tar.gz", "a quoted * is a character");
  assert.equal(w("${UNSET#a}"), "");
  assert.throws(() => w("${V:#x}"), /unsupported modifier/);
});

Deno.test("processWord reports the variables it read", () => {
  const r = new ShellLex().processWord("$HOME ${MISSING:-x} $EMPTY ${1} '$QUOTED'", lookup);
  assert.deepEqual([...r.matched].sort(), ["EMPTY", "HOME"]);
  assert.deepEqual([...r.unmatched], ["MISSING"]);
});

Deno.test("the escape directive's backtick is the escape token", () => {
  assert.equal(word("a`$HOME", "`"), "a$HOME");
  assert.equal(word("C:\\dir\\", "`"), "C:\\dir\\");
  assert.equal(word('"`"`$"', "`"), '"$');
  assert.equal(word("a``b", "`"), "a`b");
});

Deno.test("skipUnsetEnv leaves unset references as written; skipProcessQuotes ignores quotes", () => {
  const keep = new ShellLex("\\", { skipUnsetEnv: true });
  assert.equal(keep.processWord("$USER $NOPE ${NOPE} $1", lookup).result, "app $NOPE ${NOPE} $1");
  const raw = new ShellLex("\\", { skipProcessQuotes: true });
  assert.equal(raw.processWord("'$USER' \"$HOME\"", lookup).result, "'app' \"/root\"");
  assert.equal(
    new ShellLex("\\", { rawQuotes: true }).processWord("'a'\"b\"", lookup).result,
    "'a'\"b\"",
  );
  assert.equal(
    new ShellLex("\\", { rawEscapes: true }).processWord("a\\ b", lookup).result,
    "a\\ b",
  );
});

Deno.test("processWords splits after substitution, keeping quoted spaces", () => {
  const words = (s: string) => new ShellLex().processWords(s, lookup);
  assert.deepEqual(words("say $GREETING"), ["say", "hello", "world"]);
  assert.deepEqual(words('say "$GREETING"'), ["say", "hello  world"]);
  assert.deepEqual(words("<$GREETING>"), ["<hello", "world>"]);
  assert.deepEqual(words("  lead  and  trail  "), ["lead", "and", "trail"]);
  assert.deepEqual(words("one\\ word"), ["one word"]);
  assert.deepEqual(words("'a b'c d"), ["a bc", "d"]);
  assert.deepEqual(words('x\\" y'), ['x"', "y"]);
  assert.deepEqual(words("'$GREETING'"), ["$GREETING"]);
  assert.deepEqual(words("a $EMPTY b"), ["a", "b"], "an empty expansion makes no word");
  assert.throws(() => words('open" quote'));
});
