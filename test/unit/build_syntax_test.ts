/**
 * The Dockerfile's lines before any meaning: directives, continuations, each instruction's
 * flags and the shape of its arguments, heredoc words and bodies.
 */
import assert from "node:assert/strict";
import {
  chompHeredoc,
  DockerfileSyntaxError,
  type Node,
  parseHeredoc,
  parseSyntax,
} from "../../src/build/syntax.ts";

const one = (text: string): Node => {
  const nodes = parseSyntax(text).nodes;
  assert.equal(nodes.length, 1, text);
  return nodes[0];
};
const args = (text: string) => one(text).args;
const syntaxError = (text: string): [string, number] => {
  try {
    parseSyntax(text);
  } catch (e) {
    assert.ok(e instanceof DockerfileSyntaxError, `${e}`);
    return [e.message, e.line];
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
};

Deno.test("directives: only before anything else, once each, with a value", () => {
  const p = parseSyntax("# syntax=x/y:1\n#ESCAPE = `\n  #  check=skip=all  \nFROM a");
  assert.deepEqual(p.directives, { syntax: "x/y:1", escape: "`", check: "skip=all" });
  assert.equal(p.escape, "`");
  assert.deepEqual(parseSyntax("# unknown=1\n# escape=`\nFROM a").directives, {});
  assert.deepEqual(parseSyntax("# escape=\n# syntax=x\nFROM a").directives, {});
  assert.deepEqual(parseSyntax("FROM a\n# escape=`\n").directives, {});
  assert.deepEqual(syntaxError("# syntax=a\n# syntax=b\nFROM a"), [
    "only one syntax parser directive can be used",
    2,
  ]);
  assert.deepEqual(syntaxError("# escape=/\nFROM a"), [
    "invalid escape token '/' does not match ` or \\",
    1,
  ]);
});

Deno.test("lines: comments, blank lines, a BOM and CRLF", () => {
  const p = parseSyntax("\ufeff# c\r\n\r\n  FROM a\r\nRUN echo # not a comment\r\n");
  assert.deepEqual(p.nodes.map((n) => [n.cmd, n.args, n.startLine]), [
    ["FROM", ["a"], 3],
    ["RUN", ["echo # not a comment"], 4],
  ]);
  assert.deepEqual(syntaxError("# c\n\n"), ["file with no instructions", 2]);
});

Deno.test("continuations: the escape token at the end, unless it is itself escaped", () => {
  const p = parseSyntax("RUN a \\\n  b \\ \t\n# c\n\n  c\nRUN d\\\\\nRUN e \\");
  assert.deepEqual(p.nodes.map((n) => [n.original, n.startLine, n.endLine]), [
    ["RUN a   b   c", 1, 5],
    ["RUN d\\\\", 6, 6],
    ["RUN e ", 7, 7],
  ]);
  assert.deepEqual(p.emptyContinuationLines, [5], "once, at the instruction's last line");
  const backtick = parseSyntax("# escape=`\nRUN a \\\nRUN b").nodes;
  assert.deepEqual(backtick.map((n) => n.args), [["a \\"], ["b"]], "\\ is no escape then");
  assert.equal(parseSyntax("# escape=`\nRUN a `\n b").nodes[0].args[0], "a  b");
});

Deno.test("flags: the leading --words, unquoted, up to a --", () => {
  const n = one("RUN --mount=\"type=cache,target=/c\" --network=none '--x' y --z");
  assert.deepEqual([n.flags, n.args], [["--mount=type=cache,target=/c", "--network=none"], [
    "'--x' y --z",
  ]]);
  assert.deepEqual(one("RUN --a=1 -- --b=2 x").flags, ["--a=1"]);
  assert.deepEqual(one("RUN --a=1 -- --b=2 x").args, ["--b=2 x"]);
  assert.deepEqual(one("COPY --from a b").flags, ["--from"]);
  assert.deepEqual(one("RUN --a=b\\ c d").flags, ["--a=b c"]);
});

Deno.test("arguments: each instruction's shape", () => {
  assert.deepEqual(one('CMD ["a", "b c"]').args, ["a", "b c"]);
  assert.equal(one('CMD ["a", "b c"]').json, true);
  assert.deepEqual(args('CMD ["a", "b"] x'), ['["a", "b"] x'], "not JSON: the shell form");
  assert.deepEqual(args("ENTRYPOINT []"), []);
  assert.deepEqual(args("RUN"), []);
  assert.deepEqual(syntaxError('RUN ["a", 1]'), [
    "when using JSON array syntax, arrays must be comprised of strings only",
    1,
  ]);
  assert.deepEqual(args("FROM  a \tAS  b"), ["a", "AS", "b"]);
  assert.deepEqual(args("COPY a  b\tc"), ["a", "b", "c"]);
  assert.deepEqual(args('VOLUME ["/a", "/b"]'), ["/a", "/b"]);
  assert.deepEqual(args("WORKDIR /a b  "), ["/a b"]);
  assert.deepEqual(args('ARG A="x y" B'), ['A="x y"', "B"]);
  assert.deepEqual(args("ENV A=\"x y\" B='z' C="), [
    "A",
    '"x y"',
    "=",
    "B",
    "'z'",
    "=",
    "C",
    "",
    "=",
  ]);
  assert.deepEqual(args("ENV KEY the  rest "), ["KEY", "the  rest", ""]);
  assert.deepEqual(args("LABEL 'a b' c"), ["'a", "b' c", ""], "the old form splits at a blank");
  assert.deepEqual(syntaxError("ENV A=1 B"), [
    'Syntax error - can\'t find = in "B". Must be of the form: name=value',
    1,
  ]);
  assert.deepEqual(syntaxError("LABEL ONLY"), ["LABEL must have two arguments", 1]);
  assert.deepEqual(args("HEALTHCHECK --interval=1s CMD curl -f x"), ["CMD", "curl -f x"]);
  assert.deepEqual(args('HEALTHCHECK CMD ["a", "b"]'), ["CMD", "a", "b"]);
  assert.deepEqual(args("HEALTHCHECK NONE"), ["NONE"]);
  const on = one("ONBUILD RUN a  b");
  assert.deepEqual([on.args, on.sub?.cmd, on.sub?.args], [["RUN", "a  b"], "RUN", ["a  b"]]);
});

Deno.test("heredocs: words, delimiters and bodies", () => {
  const n = one("RUN 3<<A cat - << 'B' && x <<-\"C\"\na\nA\n$b\nB\n\tc\n\tC\n");
  assert.deepEqual(n.heredocs, [
    { name: "A", fd: 3, chomp: false, expand: true, content: "a\n" },
    { name: "B", fd: 0, chomp: false, expand: false, content: "$b\n" },
    { name: "C", fd: 0, chomp: true, expand: false, content: "\tc\n" },
  ]);
  assert.deepEqual([n.startLine, n.endLine], [1, 7]);
  assert.deepEqual(one('RUN ["cat", "<<A"]').heredocs, [], "not in the JSON form");
  assert.deepEqual(one("RUN echo '<<A'").heredocs, [], "not in quotes");
  assert.deepEqual(one("RUN cat <<<A").heredocs, [], "a here-string is none");
  assert.deepEqual(one("RUN echo 'open <<A").heredocs, [], "not in a line with an open quote");
  assert.deepEqual(one("ENV A=<<B").heredocs, [], "only RUN, COPY and ADD take them");
  assert.equal(one("ONBUILD COPY <<A /a\nx\nA").heredocs[0].content, "x\n");
  assert.deepEqual(syntaxError("FROM a\nRUN <<A\nnever closed"), ["unterminated heredoc", 2]);
  assert.equal(one("RUN <<A\n A\nA \nA").heredocs[0].content, " A\nA \n", "the whole line");
});

Deno.test("parseHeredoc and chompHeredoc", () => {
  assert.deepEqual(parseHeredoc("<<EOF"), { name: "EOF", fd: 0, chomp: false, expand: true });
  assert.deepEqual(parseHeredoc("2<<-E'O'F"), { name: "EOF", fd: 2, chomp: true, expand: false });
  assert.deepEqual(parseHeredoc("<<\\EOF"), { name: "EOF", fd: 0, chomp: false, expand: true });
  for (const w of ["<<", "<<''", "<<'open", "x<<EOF", "<<<EOF", "<<EOF cat"]) {
    assert.equal(parseHeredoc(w), undefined, w);
  }
  assert.equal(chompHeredoc("\t\ta\n\tb\n c\n"), "a\nb\n c\n");
});
