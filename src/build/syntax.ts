/**
 * The Dockerfile's lines as Docker reads them (BuildKit's frontend/dockerfile/parser,
 * ported): parser directives (`# syntax=`, `# escape=`, `# check=`), comments, line
 * continuations (with comment and empty lines inside them), here-documents for RUN, COPY
 * and ADD (`<<EOF`, `<<-EOF` to strip tabs, `<<"EOF"` not to expand, several on one line),
 * each instruction's flags (`--from=...`) and its arguments in the shape its instruction
 * takes: a JSON array or a shell string, whitespace-separated words, `KEY=VALUE` pairs.
 *
 * Nothing here knows what an instruction means; `dockerfile.ts` does.
 *
 * @module
 */

import { ShellLex } from "./shell_lex.ts";

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

const HEREDOC_INSTRUCTIONS = new Set(["add", "copy", "run"]);
const DIRECTIVES = new Set(["syntax", "escape", "check"]);
const WHITESPACE = /[\t\v\f\r ]+/;
const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/** Go's unicode.IsSpace. */
export function isSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

function trimLeft(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return s.slice(i);
}

function trimNewline(s: string): string {
  return s.replace(/[\r\n]+$/, "");
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith("#");
}

class Directives {
  escape = "\\";
  continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  found: Record<string, string> = {};
  private done = false;

  setEscape(s: string): void {
    if (s !== "`" && s !== "\\") {
      throw new Error(`invalid escape token '${s}' does not match \` or \\`);
    }
    this.escape = s;
    const e = s === "`" ? "`" : "\\\\";
    this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Reads a possible directive; true when the line was one. */
  line(text: string): boolean {
    if (this.done) return false;
    if (!text.startsWith("#")) {
      this.done = true;
      return false;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(trimLeft(text.slice(1)));
    const key = m?.[1].toLowerCase();
    if (!m || !DIRECTIVES.has(key!)) {
      this.done = true;
      return false;
    }
    if (key! in this.found) throw new Error(`only one ${key} parser directive can be used`);
    this.found[key!] = m[2];
    if (key === "escape") this.setEscape(m[2]);
    return true;
  }
}

/** Splits a file into lines that keep their line endings (Go's scanner does). */
function lines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const i = text.indexOf("\n", start);
    if (i < 0) break;
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/**
 * Parses a Dockerfile's text into its instructions. Throws `DockerfileSyntaxError` naming the line.
 *
 * @example
 * ```ts
 * parseSyntax("FROM alpine\nRUN echo hi\n").nodes.map((n) => n.cmd); // ["FROM", "RUN"]
 * ```
 */
export function parseSyntax(text: string): ParsedFile {
  const d = new Directives();
  const all = lines(text);
  const nodes: Node[] = [];
  const emptyContinuationLines: number[] = [];
  let i = 0;
  let current = 0;
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeft(token);
    try {
      d.line(token);
    } catch (e) {
      throw new DockerfileSyntaxError((e as Error).message, current + 1);
    }
    return isComment(token) ? "" : token;
  };
  const trimContinuation = (line: string): [string, boolean] => {
    if (d.continuation.test(line)) return [line.replace(d.continuation, "$1"), false];
    return [line, true];
  };

  while (i < all.length) {
    let raw = all[i++];
    if (current === 0 && raw.startsWith("\ufeff")) raw = raw.slice(1);
    let bytes = processLine(raw, true);
    current++;
    const startLine = current;
    let end: boolean;
    [bytes, end] = trimContinuation(bytes);
    if (end && bytes.length === 0) continue;
    let buf = bytes;
    let empty = false;
    while (!end && i < all.length) {
      const next = all[i++];
      let b = processLine(next, false);
      current++;
      if (isComment(next)) continue;
      if (trimLeft(trimNewline(b)).length === 0) {
        empty = true;
        continue;
      }
      [b, end] = trimContinuation(b);
      buf += b;
    }
    if (empty) emptyContinuationLines.push(current);
    let node: Node;
    try {
      node = nodeFromLine(buf, d.escape);
    } catch (e) {
      throw new DockerfileSyntaxError((e as Error).message, startLine);
    }
    node.original = buf;
    node.startLine = startLine;
    const target = node.sub ?? node;
    if (
      HEREDOC_INSTRUCTIONS.has(target.cmd.toLowerCase()) && !target.json && buf.includes("<<")
    ) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(buf);
      } catch (e) {
        throw new DockerfileSyntaxError((e as Error).message, startLine);
      }
      for (const doc of docs) {
        let terminated = false;
        while (i < all.length) {
          const line = all[i++];
          current++;
          let candidate = trimNewline(line);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          doc.content += line;
        }
        if (!terminated) throw new DockerfileSyntaxError("unterminated heredoc", startLine);
        node.heredocs.push(doc);
      }
    }
    node.endLine = current;
    nodes.push(node);
  }
  if (nodes.length === 0) {
    throw new DockerfileSyntaxError("file with no instructions", Math.max(current, 1));
  }
  return { nodes, escape: d.escape, directives: d.found, emptyContinuationLines };
}

/** A heredoc word (`<<EOF`, `<<-'EOF'`, `3<<EOF`), or undefined when `word` is not one. */
export function parseHeredoc(word: string): Omit<Heredoc, "content"> | undefined {
  const m = HEREDOC.exec(word);
  if (!m || m[3] === "") return undefined;
  const cooked = new ShellLex("\\", { skipUnsetEnv: true }).processWords(m[3], () => undefined);
  if (cooked.length !== 1) return undefined;
  const raw = new ShellLex("\\", { skipUnsetEnv: true, rawQuotes: true })
    .processWords(m[3], () => undefined);
  const quotes = (s: string) => s.split("").filter((c) => c === "'" || c === '"').length;
  return {
    name: cooked[0],
    fd: m[1] === "" ? 0 : Number(m[1]),
    chomp: m[2] === "-",
    expand: quotes(cooked[0]) === quotes(raw[0]),
  };
}

function heredocsFromLine(line: string): Heredoc[] {
  let words: string[] = [];
  try {
    words = new ShellLex("\\", { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true })
      .processWords(line, () => undefined);
  } catch {
    // BuildKit looks for no heredoc in a line it cannot split.
  }
  const docs: Heredoc[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) docs.push({ ...h, content: "" });
  }
  return docs;
}

/** Strips the leading tabs of every line (`<<-`). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, "");
}

function nodeFromLine(line: string, escape: string): Node {
  const [cmd, flags, rest] = splitCommand(line, escape);
  const node: Node = {
    cmd,
    flags,
    args: [],
    json: false,
    heredocs: [],
    original: line,
    startLine: 0,
    endLine: 0,
  };
  switch (cmd.toLowerCase()) {
    case "add":
    case "copy":
    case "volume":
      Object.assign(node, maybeJsonToList(rest));
      break;
    case "cmd":
    case "entrypoint":
    case "run":
    case "shell":
      Object.assign(node, maybeJson(rest));
      break;
    case "arg":
      node.args = parseWords(rest, escape);
      break;
    case "env":
    case "label":
      node.args = parseNameVal(rest, cmd.toLowerCase() === "env" ? "ENV" : "LABEL", escape);
      break;
    case "expose":
    case "from":
      node.args = rest === "" ? [] : rest.split(WHITESPACE);
      break;
    case "healthcheck": {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (m) {
        const c = maybeJson(m[2]);
        node.args = [m[1], ...c.args];
        node.json = c.json;
      }
      break;
    }
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      node.args = rest === "" ? [] : [rest];
      break;
    case "onbuild":
      if (rest !== "") {
        node.sub = nodeFromLine(rest, escape);
        node.args = [node.sub.cmd, ...node.sub.args];
      }
      break;
  }
  return node;
}

function splitCommand(line: string, escape: string): [string, string[], string] {
  const parts = line.trim().split(WHITESPACE);
  const cmd = parts[0];
  const restStart = line.trim().slice(cmd.length);
  if (restStart === "") return [cmd, [], ""];
  const [rest, flags] = extractFlags(restStart.replace(/^[\t\v\f\r ]+/, ""), escape);
  return [cmd, flags, rest.trim()];
}

/** The leading `--flag` words of an instruction's arguments, and what follows them. */
function extractFlags(line: string, escape: string): [string, string[]] {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let buf = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos] : "";
    if (phase === "spaces") {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === line.length || line[pos + 1] !== "-") {
        return [line.slice(pos), words];
      }
      phase = "word";
    }
    if (pos === line.length) {
      if (buf !== "--" && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (buf === "--") return [line.slice(pos), words];
        if (blankOK || buf.length > 0) words.push(buf);
        buf = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      buf += ch;
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = "word";
        continue;
      }
      ch = line[++pos];
    }
    buf += ch;
  }
  return ["", words];
}

/** Words separated by spaces, quotes kept (they are removed when the words are expanded). */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let quote = "";
  let blankOK = false;
  let buf = "";
  const chars = [...rest];
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos] : "";
    if (phase === "spaces") {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (pos === chars.length) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || buf.length > 0) words.push(buf);
        buf = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        buf += ch;
        ch = chars[++pos];
      }
      buf += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      buf += ch;
      ch = chars[++pos];
    }
    buf += ch;
  }
  return words;
}

/** ENV's and LABEL's `KEY VALUE` or `KEY=VALUE ...`, as [key, value, "=" or ""] triples. */
function parseNameVal(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes("=")) {
    const m = /^(\S+?)[\t\v\f\r ]+([\s\S]*)$/.exec(rest);
    if (!m) throw new Error(`${key} must have two arguments`);
    return [m[1], m[2], ""];
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw new Error(
        `Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`,
      );
    }
    out.push(word.slice(0, eq), word.slice(eq + 1), "=");
  }
  return out;
}

class NotStrings extends Error {}

function parseJson(rest: string): string[] | undefined {
  const t = trimLeft(rest);
  if (!t.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === "string")) {
    throw new NotStrings("when using JSON array syntax, arrays must be comprised of strings only");
  }
  return value as string[];
}

function maybeJson(rest: string): { args: string[]; json: boolean } {
  if (rest === "") return { args: [], json: false };
  const j = parseJson(rest);
  return j ? { args: j, json: true } : { args: [rest], json: false };
}

function maybeJsonToList(rest: string): { args: string[]; json: boolean } {
  const j = parseJson(rest);
  if (j) return { args: j, json: true };
  return { args: rest === "" ? [] : rest.split(WHITESPACE), json: false };
}
