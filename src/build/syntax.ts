/**
 * The Dockerfile's lines as the Dockerfile reference describes them: parser directives
 * (`# syntax=`, `# escape=`, `# check=`, only before anything else), comments, line
 * continuations (with comment and empty lines inside them), here-documents for RUN, COPY
 * and ADD (`<<EOF`, `<<-EOF` to strip tabs, `<<"EOF"` not to expand, several on one line),
 * each instruction's flags (`--from=...`) and its arguments in the shape its instruction
 * takes: a JSON array or a shell string, whitespace-separated words, `KEY=VALUE` pairs.
 *
 * Nothing here knows what an instruction means; `dockerfile.ts` does. Nothing here
 * substitutes variables either: words keep their quotes and escapes for `shell_lex.ts`.
 *
 * Design: a cursor over the physical lines. Directives are read first; then each
 * instruction is assembled from its physical lines into one logical line, split into its
 * keyword, flags and arguments, and followed by the bodies of its heredocs, if any.
 *
 * @module
 */

/** A here-document attached to an instruction. */
export interface Heredoc {
  /** The delimiter word, unquoted (`EOF`). */
  name: string;
  /** The file descriptor it feeds (`3<<EOF`), 0 when none is named. */
  fd: number;
  /** Whether variables in its body expand (the delimiter was not quoted). */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the delimiter line. */
  chomp: boolean;
  /** The body, each line with its newline, the delimiter line excluded. */
  content: string;
}

/** One instruction as parsed, before its meaning is looked at. */
export interface Node {
  /** The instruction's keyword as written (`run`, `COPY`). */
  cmd: string;
  /** The `--name[=value]` words before the arguments. */
  flags: string[];
  /**
   * The arguments: a JSON form's strings; a shell form as one string (RUN, CMD,
   * ENTRYPOINT, SHELL, and the strings USER, WORKDIR, STOPSIGNAL, MAINTAINER take);
   * whitespace-split words (FROM, EXPOSE, COPY, ADD, VOLUME); ARG's words; ENV's and
   * LABEL's [key, value, "=" or ""] triples; HEALTHCHECK's type then its command.
   */
  args: string[];
  /** The arguments were a JSON array. */
  json: boolean;
  /** ONBUILD's instruction. */
  sub?: Node;
  heredocs: Heredoc[];
  /** The instruction's logical line (continuations joined, comments dropped). */
  original: string;
  /** 1-based lines where it starts and ends (heredoc bodies included). */
  startLine: number;
  endLine: number;
}

/** A parsed file: its instructions, escape token and parser directives. */
export interface ParsedFile {
  nodes: Node[];
  escape: string;
  directives: Record<string, string>;
  /** Lines with an empty line inside a continuation (Docker warns). */
  emptyContinuationLines: number[];
}

/** A syntax error at a line of the file. */
export class DockerfileSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

/** The white space of Go's `unicode.IsSpace`: ASCII's and Unicode's White_Space. */
const SPACES = new Set([
  "\t",
  "\n",
  "\v",
  "\f",
  "\r",
  " ",
  "\u0085",
  "\u00a0",
  "\u1680",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u205f",
  "\u3000",
]);

/** Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return SPACES.has(ch) || (ch >= "\u2000" && ch <= "\u200a" && ch.length === 1);
}

/** The separators within a line (no newline can be in one). */
const BLANK = /[ \t\v\f\r]/;
const trimBlank = (s: string) => s.replace(/^[ \t\v\f\r]+|[ \t\v\f\r]+$/g, "");
const isBlankLine = (s: string) => trimBlank(s) === "";
const isComment = (s: string) => trimBlank(s).startsWith("#");

const KNOWN_DIRECTIVES = new Set(["syntax", "escape", "check"]);
/** `# name=value`, spaces allowed around each part. */
const DIRECTIVE = /^[ \t]*#[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(.*?)[ \t]*$/;
/** The instructions that take heredocs. */
const HEREDOC_TAKERS = new Set(["run", "copy", "add"]);

/**
 * Parses a Dockerfile's text into its instructions. Throws `DockerfileSyntaxError` naming the line.
 *
 * @example
 * ```ts
 * parseSyntax("FROM alpine\nRUN echo hi\n").nodes.map((n) => n.cmd); // ["FROM", "RUN"]
 * ```
 */
export function parseSyntax(text: string): ParsedFile {
  const lines = text.replace(/^\ufeff/, "").split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop(); // the final newline
  const file: ParsedFile = { nodes: [], escape: "\\", directives: {}, emptyContinuationLines: [] };

  // Parser directives: only the first lines, up to anything that is not one.
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]);
    // `# name=` with no value is a comment, and ends the directives as any comment does.
    if (!m || m[2] === "" || !KNOWN_DIRECTIVES.has(m[1].toLowerCase())) break;
    const name = m[1].toLowerCase();
    if (name in file.directives) {
      throw new DockerfileSyntaxError(`only one ${name} parser directive can be used`, i + 1);
    }
    if (name === "escape" && m[2] !== "`" && m[2] !== "\\") {
      throw new DockerfileSyntaxError(
        `invalid escape token '${m[2]}' does not match \` or \\`,
        i + 1,
      );
    }
    file.directives[name] = m[2];
  }
  file.escape = file.directives.escape ?? "\\";
  const escape = file.escape;

  /**
   * The line without its continuation mark, or undefined when it does not continue: it
   * ends with the escape token, trailing blanks aside, and that token is not itself escaped
   * by one before it (`\\` at the end is a literal backslash).
   */
  const continued = (line: string): string | undefined => {
    const body = line.replace(/[ \t\v\f\r]+$/, "");
    if (!body.endsWith(escape) || body.endsWith(escape + escape)) return undefined;
    return body.slice(0, -escape.length);
  };

  while (i < lines.length) {
    if (isBlankLine(lines[i]) || isComment(lines[i])) {
      i++;
      continue;
    }
    // One logical line from its physical lines.
    const startLine = i + 1;
    let logical = "";
    let emptySeen = false;
    for (;;) {
      // Only the first line loses its indentation; later ones keep theirs.
      const line = i + 1 === startLine ? lines[i].replace(/^[ \t\v\f\r]+/, "") : lines[i];
      const cut = continued(line);
      logical += cut ?? line;
      i++;
      if (cut === undefined) break;
      // Comment and empty lines inside a continuation are dropped.
      while (i < lines.length && (isBlankLine(lines[i]) || isComment(lines[i]))) {
        if (isBlankLine(lines[i])) emptySeen = true;
        i++;
      }
      if (i >= lines.length) break; // a continuation at the end of the file just ends
    }
    // Docker warns once an instruction, at the last line of its text.
    if (emptySeen) file.emptyContinuationLines.push(i);

    const node = parseInstruction(logical, startLine, escape);
    // Heredoc bodies follow the logical line, one after the other.
    for (const h of node.heredocs) {
      const body: string[] = [];
      for (;;) {
        if (i >= lines.length) throw new DockerfileSyntaxError("unterminated heredoc", startLine);
        const line = lines[i++];
        if ((h.chomp ? line.replace(/^\t+/, "") : line) === h.name) break;
        body.push(`${line}\n`);
      }
      h.content = body.join("");
    }
    node.endLine = i;
    if (node.sub) node.sub.endLine = i;
    file.nodes.push(node);
  }
  if (file.nodes.length === 0) {
    throw new DockerfileSyntaxError("file with no instructions", Math.max(1, lines.length));
  }
  return file;
}

/**
 * The instruction on one logical line (trailing blanks kept in `original`), its heredocs
 * without their bodies yet.
 */
function parseInstruction(line: string, startLine: number, escape: string): Node {
  const m = /^[ \t\v\f\r]*(\S*)[ \t\v\f\r]*([\s\S]*?)[ \t\v\f\r]*$/.exec(line)!;
  const cmd = m[1];
  const key = cmd.toLowerCase();
  const node: Node = {
    cmd,
    flags: [],
    args: [],
    json: false,
    heredocs: [],
    original: line,
    startLine,
    endLine: startLine,
  };
  let rest = m[2];
  // The leading `--name[=value]` words are flags, unquoted; a `--` ends them and goes.
  for (;;) {
    const word = firstWord(rest, escape);
    if (!word || !word.text.startsWith("--")) break;
    rest = rest.slice(word.end).replace(/^[ \t\v\f\r]+/, "");
    if (word.text === "--") break;
    node.flags.push(unquoteFlag(word.text, escape));
  }
  if (key === "onbuild") {
    if (rest !== "") {
      node.sub = parseInstruction(rest, startLine, escape);
      node.args = [node.sub.cmd, ...node.sub.args];
      node.heredocs = node.sub.heredocs;
    }
    return node;
  }

  const fields = () => rest.split(/[ \t\v\f\r]+/).filter((w) => w !== "");
  switch (key) {
    case "run":
    case "cmd":
    case "entrypoint":
    case "shell": {
      const list = jsonArray(rest, startLine);
      if (list) [node.args, node.json] = [list, true];
      else node.args = rest === "" ? [] : [rest];
      break;
    }
    case "copy":
    case "add":
    case "volume": {
      const list = jsonArray(rest, startLine);
      if (list) [node.args, node.json] = [list, true];
      else node.args = fields();
      break;
    }
    case "user":
    case "workdir":
    case "stopsignal":
    case "maintainer":
      node.args = rest === "" ? [] : [rest];
      break;
    case "arg":
      node.args = words(rest, escape);
      break;
    case "env":
    case "label":
      node.args = pairs(cmd.toUpperCase(), rest, escape, startLine);
      break;
    case "healthcheck":
      node.args = healthcheckArgs(node, rest, startLine);
      break;
    case "from":
    case "expose":
      node.args = fields();
      break;
    default: // dockerfile.ts refuses it as unknown; its arguments do not matter
      break;
  }

  // No heredoc is looked for in a line with an unterminated quote.
  const list = HEREDOC_TAKERS.has(key) && !node.json ? words(rest, escape) : [];
  for (let k = 0; k < list.length && !list.open; k++) {
    let h = parseHeredoc(list[k]);
    // `<<` (or `2<<`) alone takes the next word as its delimiter, as a shell does.
    const alone = /^(\d*)<<$/.exec(list[k]);
    if (alone && k + 1 < list.length) {
      const next = list[++k];
      const d = next.startsWith("<") ? undefined : delimiter(next);
      if (d) h = { ...d, fd: alone[1] === "" ? 0 : Number(alone[1]), chomp: false };
    }
    if (h) node.heredocs.push({ ...h, content: "" });
  }
  return node;
}

/** `rest`'s JSON array of strings, or undefined when it is not a JSON array. */
function jsonArray(rest: string, line: number): string[] | undefined {
  if (!rest.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(rest);
  } catch {
    return undefined; // not JSON: the shell form
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === "string")) {
    throw new DockerfileSyntaxError(
      "when using JSON array syntax, arrays must be comprised of strings only",
      line,
    );
  }
  return value;
}

/**
 * The first word of `s` and where it ends: whitespace outside quotes separates words, the
 * escape token protects the next character, and quotes and escapes stay in the word.
 * An unterminated quote runs to the end (the lexer reports it when the word is used).
 */
function firstWord(
  s: string,
  escape: string,
): { text: string; end: number; open: boolean } | undefined {
  let i = 0;
  while (i < s.length && BLANK.test(s[i])) i++;
  if (i >= s.length) return undefined;
  const start = i;
  let quote: string | undefined;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === escape && quote !== "'") i++; // keep the escaped character with it
    else if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (BLANK.test(c)) break;
  }
  const end = Math.min(i, s.length);
  // A lone escape token at the very end escapes nothing and goes.
  const text = end === s.length && i > s.length ? s.slice(start, end - 1) : s.slice(start, end);
  return { text, end, open: quote !== undefined };
}

/**
 * A flag word without its quotes and escapes (nothing is substituted in it yet): a quote
 * opens or closes unless inside the other kind, and the escape token takes the next
 * character as it is, quoted or not; a trailing one stays.
 */
function unquoteFlag(word: string, escape: string): string {
  let out = "";
  let quote: string | undefined;
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === escape && i + 1 < word.length) out += word[++i];
    else if (quote === undefined && (c === "'" || c === '"')) quote = c;
    else if (c === quote) quote = undefined;
    else out += c;
  }
  return out;
}

/** All of `s`'s words, as `firstWord` reads them; `open`: the last quote is unterminated. */
function words(s: string, escape: string): string[] & { open?: boolean } {
  const out: string[] & { open?: boolean } = [];
  for (let w = firstWord(s, escape); w; w = firstWord(s, escape)) {
    out.push(w.text);
    if (w.open) out.open = true;
    s = s.slice(w.end);
  }
  return out;
}

/**
 * ENV's and LABEL's arguments as [key, value, separator] triples: `k=v k2="v 2"` (every
 * word a pair), or the older `key the rest of the line` (one pair, separator "").
 */
function pairs(name: string, rest: string, escape: string, line: number): string[] {
  const list = words(rest, escape);
  if (list.length === 0) return [];
  if (!list[0].includes("=")) {
    // The older form: the key runs to the first blank, quotes or not; the value is the rest.
    const m = /^[ \t\v\f\r]*(\S+)[ \t\v\f\r]+(\S[\s\S]*)$/.exec(rest);
    if (!m) throw new DockerfileSyntaxError(`${name} must have two arguments`, line);
    return [m[1], trimBlank(m[2]), ""];
  }
  const out: string[] = [];
  for (const w of list) {
    const eq = w.indexOf("=");
    if (eq < 0) {
      throw new DockerfileSyntaxError(
        `Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`,
        line,
      );
    }
    out.push(w.slice(0, eq), w.slice(eq + 1), "=");
  }
  return out;
}

/** HEALTHCHECK's type word, then its command: JSON strings, or the shell form's string. */
function healthcheckArgs(node: Node, rest: string, line: number): string[] {
  const m = /^(\S+)[ \t\v\f\r]*([\s\S]*)$/.exec(rest);
  if (!m) return [];
  const [, type, command] = m;
  const list = jsonArray(command, line);
  if (list) {
    node.json = true;
    return [type, ...list];
  }
  return command === "" ? [type] : [type, command];
}

/** A heredoc word (`<<EOF`, `<<-'EOF'`, `3<<EOF`), or undefined when `word` is not one. */
export function parseHeredoc(word: string): Omit<Heredoc, "content"> | undefined {
  const m = /^(\d*)<<(-?)(.*)$/s.exec(word);
  if (!m || m[3].startsWith("<")) return undefined; // `<<<` is no heredoc
  const d = delimiter(m[3]);
  return d &&
    { name: d.name, fd: m[1] === "" ? 0 : Number(m[1]), chomp: m[2] === "-", expand: d.expand };
}

/**
 * A heredoc's delimiter word without its quotes and escapes; a quote in it means "do not
 * expand". Undefined when it is empty, unterminated or more than one word.
 */
function delimiter(raw: string): { name: string; expand: boolean } | undefined {
  let name = "";
  let quote: string | undefined;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else name += c;
    } else if (c === "'" || c === '"') [quote, quoted] = [c, true];
    else if (c === "\\" && i + 1 < raw.length) name += raw[++i];
    else if (isSpace(c)) return undefined;
    else name += c;
  }
  if (quote !== undefined || name === "") return undefined;
  return { name, expand: !quoted };
}

/** Strips the leading tabs of every line (`<<-`). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, "");
}
