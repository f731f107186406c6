/**
 * Go's text/template, as the Docker CLI uses it for `--format`: actions, pipelines,
 * variables, `if`/`else if`/`range`/`with`/`break`/`continue`, `{{- -}}` trimming,
 * comments, Go's built-in functions (and, or, not, len, index, slice, print, printf,
 * println, eq, ne, lt, le, gt, ge) and Docker's own (json, join, split, lower, upper, title,
 * truncate, pad). `define`, `template` and `block` are refused (Docker's formats do not use
 * them).
 *
 * Data are JSON-like JavaScript values with three Go kinds told apart by markers:
 * - a plain object is a decoded JSON document, Docker's `inspect` data: a missing key is an
 *   error (`map has no entry for key "X"`, what Docker prints after its raw fallback), it
 *   prints as a struct (`{v1 v2}` in order) and `json` keeps its key order;
 * - `goStruct(type, fields)` is a Go struct such as the CLI's `*formatter.ContainerContext`:
 *   a missing field is `can't evaluate field X in type T`, and function fields are methods
 *   (`{{.Label "k"}}`);
 * - `goMap(obj, zero)` is a Go map: a missing key prints `<no value>`, `index` gives `zero`,
 *   it prints as `map[k:v]` and `json` sorts its keys, as Go does.
 * `undefined` is Go's invalid value (`<no value>`), `null` is nil (`<nil>`, a nil pointer or
 * interface); `goNil` is a nil slice or map (`[]`, `map[]`; `json` writes `null`).
 *
 * @module
 */

import { goQuote } from "./table.ts";
import { goMap, goNil, goStruct, isNil, mapInfo, structType } from "./go_values.ts";

export { goMap, goNil, goStruct };

/** Why a template did not parse or run; the message is Go's, `template: :LINE[:COL]: ...`. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------
// Lexer

type TokenType =
  | "text"
  | "left"
  | "right"
  | "space"
  | "field"
  | "variable"
  | "identifier"
  | "dot"
  | "string"
  | "number"
  | "char"
  | "bool"
  | "nil"
  | "lparen"
  | "rparen"
  | "pipe"
  | "declare"
  | "assign"
  | "comma"
  | "keyword"
  | "eof";

interface Token {
  type: TokenType;
  value: string;
  pos: number;
}

const KEYWORDS = new Set(
  "if else end range with break continue define template block".split(" "),
);
const SPACE = new Set([" ", "\t", "\r", "\n"]);
const isSpace = (c: string | undefined) => c !== undefined && SPACE.has(c);
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

function lineOf(src: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === "\n") line++;
  return line;
}

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const fail = (at: number, msg: string): never => {
    throw new TemplateError(`template: :${lineOf(src, at)}: ${msg}`);
  };
  // 2 at "}}", 4 at a right trim marker and "}}" (" -}}", any space before the "-"), else 0.
  const atRight = (p: number) =>
    src.startsWith("}}", p) ? 2 : isSpace(src[p]) && src.startsWith("-}}", p + 1) ? 4 : 0;
  let trimNext = false;
  while (pos <= src.length) {
    // Text up to the next "{{".
    let start = pos;
    const open = src.indexOf("{{", pos);
    const end = open < 0 ? src.length : open;
    if (trimNext) {
      while (start < end && isSpace(src[start])) start++;
      trimNext = false;
    }
    const leftTrim = open >= 0 && src[open + 2] === "-" && isSpace(src[open + 3]);
    let textEnd = end;
    if (leftTrim) { while (textEnd > start && isSpace(src[textEnd - 1])) textEnd--; }
    if (textEnd > start) {
      tokens.push({ type: "text", value: src.slice(start, textEnd), pos: start });
    }
    if (open < 0) break;
    pos = open + 2 + (leftTrim ? 2 : 0);
    // A comment: {{/* ... */}}, with optional trim markers.
    if (src.startsWith("/*", pos)) {
      const close = src.indexOf("*/", pos + 2);
      if (close < 0) fail(open, "unclosed comment");
      pos = close + 2;
      const right = atRight(pos);
      if (right) {
        pos += right;
        trimNext = right === 4;
      } else {
        fail(open, "comment ends before closing delimiter");
      }
      continue;
    }
    tokens.push({ type: "left", value: "{{", pos: open });
    let parens = 0;
    for (;;) {
      const right = atRight(pos);
      if (right) {
        if (parens > 0) fail(pos, "unclosed left paren");
        const trim = right === 4;
        if (trim) {
          tokens.push({ type: "space", value: " ", pos });
          pos++;
        }
        tokens.push({ type: "right", value: "}}", pos });
        pos += trim ? 3 : 2;
        trimNext = trim;
        break;
      }
      const c = src[pos];
      const at = pos;
      if (c === undefined) fail(open, "unclosed action");
      if (isSpace(c)) {
        // Newlines are spaces too (Go 1.16 and later).
        while (isSpace(src[pos]) && atRight(pos) !== 4) pos++;
        tokens.push({ type: "space", value: " ", pos: at });
      } else if (c === "=") {
        pos++;
        tokens.push({ type: "assign", value: "=", pos: at });
      } else if (c === ":") {
        if (src[pos + 1] !== "=") fail(at, "expected :=");
        pos += 2;
        tokens.push({ type: "declare", value: ":=", pos: at });
      } else if (c === "|") {
        pos++;
        tokens.push({ type: "pipe", value: "|", pos: at });
      } else if (c === ",") {
        pos++;
        tokens.push({ type: "comma", value: ",", pos: at });
      } else if (c === "(") {
        pos++;
        parens++;
        tokens.push({ type: "lparen", value: "(", pos: at });
      } else if (c === ")") {
        pos++;
        if (--parens < 0) fail(at, `unexpected right paren`);
        tokens.push({ type: "rparen", value: ")", pos: at });
      } else if (c === '"') {
        let i = pos + 1;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === "\\") i++;
          if (src[i] === "\n") fail(at, "unterminated quoted string");
          i++;
        }
        if (i >= src.length) fail(at, "unterminated quoted string");
        tokens.push({ type: "string", value: unquote(src.slice(pos, i + 1), fail, at), pos: at });
        pos = i + 1;
      } else if (c === "`") {
        const close = src.indexOf("`", pos + 1);
        if (close < 0) fail(at, "unterminated raw quoted string");
        tokens.push({ type: "string", value: src.slice(pos + 1, close), pos: at });
        pos = close + 1;
      } else if (c === "'") {
        let i = pos + 1;
        while (i < src.length && src[i] !== "'") {
          if (src[i] === "\\") i++;
          i++;
        }
        if (i >= src.length) fail(at, "unterminated character constant");
        const ch = unquote(`"${src.slice(pos + 1, i)}"`, fail, at);
        if ([...ch].length !== 1) {
          fail(at, `malformed character constant: ${src.slice(pos, i + 1)}`);
        }
        tokens.push({ type: "char", value: String(ch.codePointAt(0)), pos: at });
        pos = i + 1;
      } else if (c === "$") {
        let i = pos + 1;
        while (isAlnum(src[i])) i++;
        tokens.push({ type: "variable", value: src.slice(pos, i), pos: at });
        pos = i;
      } else if (c === "." && !/[0-9]/.test(src[pos + 1] ?? "")) {
        let i = pos + 1;
        while (isAlnum(src[i])) i++;
        tokens.push({ type: i === pos + 1 ? "dot" : "field", value: src.slice(pos, i), pos: at });
        pos = i;
      } else if (/[0-9+\-.]/.test(c)) {
        const m =
          /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/
            .exec(src.slice(pos));
        const text = m?.[0] ?? "";
        if (!/\d/.test(text) || isAlnum(src[pos + text.length])) {
          fail(at, `bad number syntax: "${src.slice(pos, pos + Math.max(text.length, 1) + 1)}"`);
        }
        tokens.push({ type: "number", value: text, pos: at });
        pos += text.length;
      } else if (isAlnum(c)) {
        let i = pos;
        while (isAlnum(src[i])) i++;
        const word = src.slice(pos, i);
        const type: TokenType = KEYWORDS.has(word)
          ? "keyword"
          : word === "true" || word === "false"
          ? "bool"
          : word === "nil"
          ? "nil"
          : "identifier";
        tokens.push({ type, value: word, pos: at });
        pos = i;
      } else {
        const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        fail(at, `unrecognized character in action: U+${cp} '${c}'`);
      }
    }
  }
  tokens.push({ type: "eof", value: "", pos: src.length });
  return tokens;
}

/** A Go number literal's value: decimal, 0x, 0o, 0b, a leading 0 for octal, "_" separators. */
function parseGoNumber(text: string): number {
  const t = text.replace(/_/g, "");
  const neg = t.startsWith("-");
  const body = t.replace(/^[+-]/, "");
  const v = /^0[0-7]+$/.test(body) ? parseInt(body, 8) : Number(body.replace(/^0[oO]/, "0o"));
  return neg ? -v : v;
}

/** Decodes a Go double-quoted string literal. */
function unquote(lit: string, fail: (at: number, msg: string) => never, at: number): string {
  const body = lit.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\\": "\\",
      '"': '"',
      "'": "'",
    };
    if (e in simple) out += simple[e];
    else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) fail(at, `invalid syntax: ${lit}`);
      out += e === "x"
        ? String.fromCharCode(parseInt(hex, 16))
        : String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else if (/[0-7]/.test(e ?? "")) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) fail(at, `invalid syntax: ${lit}`);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else fail(at, `invalid syntax: ${lit}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Parse tree

/** `if`, `with` and `range`: a pipeline, its list, and what `else` leads to. */
interface ControlNode {
  kind: "if" | "with" | "range";
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

type Node =
  | { kind: "text"; pos: number; text: string }
  | { kind: "action"; pos: number; pipe: Pipe }
  | {
    kind: "if" | "with" | "range";
    pos: number;
    pipe: Pipe;
    list: Node[];
    elseList?: Node[];
  }
  | { kind: "break" | "continue"; pos: number };

interface Pipe {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

interface Command {
  pos: number;
  args: Arg[];
}

type Arg =
  | { kind: "field"; pos: number; idents: string[] }
  | { kind: "variable"; pos: number; idents: string[] }
  | { kind: "chain"; pos: number; node: Arg; fields: string[] }
  | { kind: "identifier"; pos: number; name: string }
  | { kind: "dot"; pos: number }
  | { kind: "nil"; pos: number }
  | { kind: "bool"; pos: number; value: boolean }
  | { kind: "number"; pos: number; value: number; text: string }
  | { kind: "string"; pos: number; value: string; text: string }
  | { kind: "pipe"; pos: number; pipe: Pipe };

function argString(a: Arg): string {
  switch (a.kind) {
    case "field":
      return a.idents.map((i) => `.${i}`).join("");
    case "variable":
      return a.idents.join(".");
    case "chain":
      return `${a.node.kind === "pipe" ? `(${argString(a.node)})` : argString(a.node)}${
        a.fields.map((f) => `.${f}`).join("")
      }`;
    case "identifier":
      return a.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(a.value);
    case "number":
      return a.text;
    case "string":
      return goQuote(a.value);
    case "pipe":
      return pipeString(a.pipe);
  }
}

function pipeString(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(", ")} ${p.isAssign ? "=" : ":="} ` : "";
  return decl + p.cmds.map((c) => c.args.map(argString).join(" ")).join(" | ");
}

/** The function names a template may call; what `parse` checks calls against. */
const FUNCTION_NAMES = new Set(
  "and or not len index slice print printf println eq ne lt le gt ge html urlquery json join split lower upper title truncate pad"
    .split(" "),
);

class Parser {
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;

  constructor(private readonly src: string, private readonly tokens: Token[]) {}

  private fail(
    msg: string,
    tok: Token = this.tokens[Math.min(this.i, this.tokens.length - 1)],
  ): never {
    throw new TemplateError(`template: :${lineOf(this.src, tok.pos)}: ${msg}`);
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === "space") t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private unexpected(tok: Token, context: string): never {
    const shown = tok.type === "eof"
      ? "EOF"
      : tok.type === "right"
      ? "}}"
      : tok.type === "string"
      ? goQuote(tok.value)
      : `"${tok.value}"`;
    if (tok.type === "eof") this.fail(`unexpected EOF`, tok);
    this.fail(`unexpected ${shown} in ${context}`, tok);
  }

  /** The whole template. */
  parse(): Node[] {
    const [list, end] = this.itemList(true);
    if (end !== "eof") this.fail(`unexpected {{${end}}}`, this.tokens[this.i - 1]);
    return list;
  }

  /** Nodes up to {{end}}, {{else}} or EOF; returns which ended the list. */
  private itemList(top: boolean): [Node[], "end" | "else" | "eof"] {
    const list: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === "eof") {
        if (!top) this.fail("unexpected EOF", t);
        return [list, "eof"];
      }
      if (t.type === "text") {
        list.push({ kind: "text", pos: t.pos, text: t.value });
        continue;
      }
      // t is "{{"
      const k = this.peekNonSpace();
      if (k.type === "keyword") {
        this.nextNonSpace();
        switch (k.value) {
          case "end":
            this.expectRight("end");
            if (top) this.fail("unexpected {{end}}", k);
            return [list, "end"];
          case "else":
            if (top) this.fail("unexpected {{else}}", k);
            return [list, "else"];
          case "if":
          case "with":
          case "range":
            list.push(this.control(k.value, k.pos));
            continue;
          case "break":
          case "continue":
            if (this.rangeDepth === 0) this.fail(`{{${k.value}}} outside {{range}}`, k);
            this.expectRight(k.value);
            list.push({ kind: k.value, pos: k.pos });
            continue;
          default:
            this.fail(`{{${k.value}}} is not supported by m-docker's templates`, k);
        }
      }
      const pipe = this.pipeline("command", "right");
      list.push({ kind: "action", pos: t.pos, pipe });
    }
  }

  private expectRight(context: string): void {
    const t = this.nextNonSpace();
    if (t.type !== "right") this.unexpected(t, context);
  }

  private control(kind: "if" | "with" | "range", pos: number): Node {
    const varsBefore = this.vars.length;
    const pipe = this.pipeline(kind, "right");
    if (kind === "range") this.rangeDepth++;
    const [list, end] = this.itemList(false);
    if (kind === "range") this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (end === "else") {
      const after = this.peekNonSpace();
      if (
        (kind === "if" && after.type === "keyword" && after.value === "if") ||
        (kind === "with" && after.type === "keyword" && after.value === "with")
      ) {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}}{{end}} with one {{end}}.
        this.nextNonSpace();
        elseList = [this.control(kind, after.pos)];
      } else {
        this.expectRight("else");
        const [list2, end2] = this.itemList(false);
        if (end2 !== "end") this.fail("expected end; found {{else}}");
        elseList = list2;
      }
    }
    this.vars.length = varsBefore;
    return { kind, pos, pipe, list, elseList };
  }

  /** A pipeline up to `end` ("right" for }} or "rparen"); declarations first. */
  private pipeline(context: string, end: "right" | "rparen"): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: $x := / $x = / $i, $e :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.type === "variable") {
      const n = this.nextNonSpace();
      if (n.type === "declare" || n.type === "assign") {
        pipe.decl.push(v.value);
        pipe.isAssign = n.type === "assign";
        if (pipe.isAssign && !this.vars.includes(v.value)) {
          this.fail(`undefined variable "${v.value}"`, v);
        }
      } else if (n.type === "comma" && context === "range") {
        const v2 = this.nextNonSpace();
        const d = this.nextNonSpace();
        if (v2.type !== "variable" || (d.type !== "declare" && d.type !== "assign")) {
          this.fail("range can only initialize variables", v2);
        }
        pipe.decl.push(v.value, v2.value);
        pipe.isAssign = d.type === "assign";
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    if (!pipe.isAssign) this.vars.push(...pipe.decl);
    for (;;) {
      const t = this.peekNonSpace();
      if ((end === "right" && t.type === "right") || (end === "rparen" && t.type === "rparen")) {
        this.nextNonSpace();
        break;
      }
      if (t.type === "eof" || t.type === "right" || t.type === "rparen") {
        this.unexpected(t, context);
      }
      pipe.cmds.push(this.command(context));
    }
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
    for (const [i, c] of pipe.cmds.entries()) {
      if (i === 0) continue;
      const first = c.args[0];
      if (["bool", "dot", "nil", "number", "string"].includes(first.kind)) {
        this.fail(`non executable command in pipeline stage ${i + 1}`);
      }
    }
    return pipe;
  }

  private command(context: string): Command {
    const cmd: Command = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.skipSpaces();
      cmd.args.push(this.operand(context));
      const t = this.peek();
      if (t.type === "space") {
        this.skipSpaces();
        const n = this.peek();
        if (n.type === "right" || n.type === "rparen") break;
        if (n.type === "pipe") {
          this.next();
          break;
        }
        continue;
      }
      if (t.type === "right" || t.type === "rparen") break;
      if (t.type === "pipe") {
        this.next();
        break;
      }
      this.unexpected(t, "operand");
    }
    if (cmd.args.length === 0) this.fail("empty command");
    return cmd;
  }

  private skipSpaces(): void {
    while (this.peek().type === "space") this.next();
  }

  private operand(context: string): Arg {
    let node = this.term(context);
    if (this.peek().type === "field") {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().type === "field") fields.push(this.next().value.slice(1));
      switch (node.kind) {
        case "field":
          // Go's node takes the position of the chain, i.e. of its second field.
          node = { kind: "field", pos: chainPos, idents: [...node.idents, ...fields] };
          break;
        case "variable":
          node = { kind: "variable", pos: chainPos, idents: [...node.idents, ...fields] };
          break;
        case "bool":
        case "string":
        case "number":
        case "nil":
        case "dot":
          this.fail(`unexpected . after term "${argString(node)}"`);
          break;
        default:
          node = { kind: "chain", pos: node.pos, node, fields };
      }
    }
    return node;
  }

  private term(context: string): Arg {
    const t = this.nextNonSpace();
    switch (t.type) {
      case "identifier":
        if (!FUNCTION_NAMES.has(t.value)) this.fail(`function "${t.value}" not defined`, t);
        return { kind: "identifier", pos: t.pos, name: t.value };
      case "dot":
        return { kind: "dot", pos: t.pos };
      case "nil":
        return { kind: "nil", pos: t.pos };
      case "variable":
        if (!this.vars.includes(t.value)) this.fail(`undefined variable "${t.value}"`, t);
        return { kind: "variable", pos: t.pos, idents: [t.value] };
      case "field":
        return { kind: "field", pos: t.pos, idents: [t.value.slice(1)] };
      case "bool":
        return { kind: "bool", pos: t.pos, value: t.value === "true" };
      case "char":
        return { kind: "number", pos: t.pos, value: Number(t.value), text: t.value };
      case "number": {
        const value = parseGoNumber(t.value);
        if (Number.isNaN(value)) this.fail(`illegal number syntax: "${t.value}"`, t);
        return { kind: "number", pos: t.pos, value, text: t.value };
      }
      case "string":
        return { kind: "string", pos: t.pos, value: t.value, text: t.value };
      case "lparen": {
        const pipe = this.pipeline("parenthesized pipeline", "rparen");
        return { kind: "pipe", pos: t.pos, pipe };
      }
      default:
        this.unexpected(t, context === "right" ? "command" : "operand");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Execution

/** A parsed template, ready to run on data any number of times. */
export interface Template {
  readonly source: string;
  readonly root: Node[];
}

/** Parses `source`; throws a TemplateError with Go's message if it is not a template. */
export function parseTemplate(source: string): Template {
  return { source, root: new Parser(source, lex(source)).parse() };
}

/** Functions that replace the defaults, such as Docker's header functions. */
export type FunctionMap = Record<string, (...args: unknown[]) => unknown>;

class BreakSignal {}
class ContinueSignal {}

class ExecError extends Error {}

interface Scope {
  vars: Array<[string, unknown]>;
}

/** Runs `tmpl` on `data` and returns its output. */
export function executeTemplate(
  tmpl: Template,
  data: unknown,
  opts: { functions?: FunctionMap } = {},
): string {
  const exec = new Executor(tmpl, data, opts.functions ?? {});
  return exec.run();
}

/** Parses and runs in one go. */
export function renderTemplate(source: string, data: unknown): string {
  return executeTemplate(parseTemplate(source), data);
}

class Executor {
  private out = "";
  private scope: Scope;
  private at: string = "";
  private atPos = 0;

  constructor(
    private readonly tmpl: Template,
    data: unknown,
    private readonly overrides: FunctionMap,
  ) {
    this.scope = { vars: [["$", data]] };
  }

  run(): string {
    this.walkList(this.tmpl.root, this.scope.vars[0][1]);
    return this.out;
  }

  private fail(msg: string): never {
    const src = this.tmpl.source;
    const line = lineOf(src, this.atPos);
    const col = this.atPos - src.lastIndexOf("\n", this.atPos - 1) - 1;
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${this.at}>: ${msg}`);
  }

  private setAt(a: Arg | { pos: number; str: string }): void {
    if ("str" in a) {
      this.at = a.str;
      this.atPos = a.pos;
    } else {
      this.at = argString(a);
      this.atPos = a.pos;
    }
  }

  private walkList(list: Node[], dot: unknown): void {
    for (const node of list) this.walk(node, dot);
  }

  private walk(node: Node, dot: unknown): void {
    switch (node.kind) {
      case "text":
        this.out += node.text;
        return;
      case "action": {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out += printValue(value);
        return;
      }
      case "if":
      case "with": {
        const mark = this.scope.vars.length;
        const value = this.evalPipeline(dot, node.pipe);
        if (isTrue(value)) {
          this.walkList(node.list, node.kind === "with" ? value : dot);
        } else if (node.elseList) {
          this.walkList(node.elseList, dot);
        }
        this.scope.vars.length = mark;
        return;
      }
      case "range":
        return this.walkRange(node, dot);
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
    }
  }

  private walkRange(node: ControlNode, dot: unknown): void {
    const mark = this.scope.vars.length;
    const decl = node.pipe.decl;
    // The range's variables get each key and element, not the pipeline's value.
    const value = this.evalPipeline(dot, { ...node.pipe, decl: [] });
    let entries: Array<[unknown, unknown]>;
    if (Array.isArray(value)) {
      entries = value.map((v, i) => [i, v]);
    } else if (typeof value === "number" && Number.isInteger(value)) {
      if (decl.length > 1) {
        this.setAt({ pos: node.pipe.pos, str: pipeString(node.pipe) });
        this.fail(`can't use ${value} to iterate over more than one variable`);
      }
      entries = Array.from({ length: Math.max(value, 0) }, (_, i) => [i, i]);
    } else if (isObject(value) && structType(value) === undefined) {
      entries = Object.keys(value).sort().map((k) => [k, value[k]]);
    } else if (value === undefined || value === null) {
      entries = []; // Go: a nil map or slice, not an error
    } else {
      this.setAt({ pos: node.pipe.pos, str: pipeString(node.pipe) });
      this.fail(`range can't iterate over ${printValue(value)}`);
    }
    try {
      for (const [key, elem] of entries) {
        this.scope.vars.length = mark;
        const vals = decl.length === 1 ? [elem] : [key, elem];
        decl.forEach((name, i) => this.setVar(name, vals[i], node.pipe.isAssign));
        try {
          this.walkList(node.list, elem);
        } catch (e) {
          if (e instanceof BreakSignal) break;
          if (!(e instanceof ContinueSignal)) throw e;
        }
      }
      if (entries.length === 0 && node.elseList) {
        this.scope.vars.length = mark;
        this.walkList(node.elseList, dot);
      }
    } finally {
      this.scope.vars.length = mark;
    }
  }

  private setVar(name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.scope.vars.length - 1; i >= 0; i--) {
        if (this.scope.vars[i][0] === name) {
          this.scope.vars[i][1] = value;
          return;
        }
      }
      this.fail(`undefined variable: ${name}`);
    }
    this.scope.vars.push([name, value]);
  }

  private lookupVar(name: string): unknown {
    for (let i = this.scope.vars.length - 1; i >= 0; i--) {
      if (this.scope.vars[i][0] === name) return this.scope.vars[i][1];
    }
    this.fail(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const name of pipe.decl) this.setVar(name, value, pipe.isAssign);
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0];
    switch (first.kind) {
      case "field":
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case "chain": {
        const base = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, base, first, first.fields, cmd.args, final);
      }
      case "variable": {
        const v = this.lookupVar(first.idents[0]);
        if (first.idents.length === 1) {
          this.notAFunction(first, cmd.args, final);
          return v;
        }
        return this.evalFieldChain(dot, v, first, first.idents.slice(1), cmd.args, final);
      }
      case "identifier":
        return this.evalFunction(dot, first, cmd.args, final);
      case "pipe":
        this.notAFunction(first, cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
    }
    this.notAFunction(first, cmd.args, final);
    switch (first.kind) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        this.setAt(first);
        this.fail("nil is not a command");
        break;
      case "number":
        return first.value;
      case "string":
        return first.value;
    }
  }

  private notAFunction(a: Arg, args: Arg[], final: unknown): void {
    if (args.length > 1 || final !== NO_FINAL) {
      this.setAt(a);
      this.fail(`can't give argument to non-function ${argString(a)}`);
    }
  }

  private evalArg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
      case "number":
      case "string":
        return a.value;
      case "field":
        return this.evalFieldChain(dot, dot, a, a.idents, [a], NO_FINAL);
      case "variable": {
        const v = this.lookupVar(a.idents[0]);
        return a.idents.length === 1
          ? v
          : this.evalFieldChain(dot, v, a, a.idents.slice(1), [a], NO_FINAL);
      }
      case "chain":
        return this.evalFieldChain(dot, this.evalArg(dot, a.node), a, a.fields, [a], NO_FINAL);
      case "pipe":
        return this.evalPipeline(dot, a.pipe);
      case "identifier":
        return this.evalFunction(dot, a, [a], NO_FINAL);
    }
  }

  /** `.A.B.C` on `receiver`; the last field gets the command's arguments. */
  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: Arg,
    idents: string[],
    args: Arg[],
    final: unknown,
  ): unknown {
    let v = receiver;
    for (let i = 0; i < idents.length; i++) {
      const last = i === idents.length - 1;
      v = this.evalField(dot, idents[i], node, last ? args : [node], last ? final : NO_FINAL, v);
    }
    return v;
  }

  private evalField(
    dot: unknown,
    name: string,
    node: Arg,
    args: Arg[],
    final: unknown,
    receiver: unknown,
  ): unknown {
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    this.setAt(node);
    if (receiver === undefined) return undefined; // Go: a field of an invalid value is invalid
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const type = structType(receiver);
    if (isObject(receiver)) {
      // Go looks for a method first, then a field or a map key.
      const value = Object.hasOwn(receiver, name) ? receiver[name] : undefined;
      if (typeof value === "function") {
        const callArgs = args.slice(1).map((a) => this.evalArg(dot, a));
        if (final !== NO_FINAL) callArgs.push(final);
        this.setAt(node);
        return this.call(name, value as (...a: unknown[]) => unknown, callArgs);
      }
    }
    if (type !== undefined) {
      const value = (receiver as Record<string, unknown>)[name];
      if (!Object.hasOwn(receiver as object, name)) {
        this.fail(`can't evaluate field ${name} in type ${type}`);
      }
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return value;
    }
    if (isObject(receiver)) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      if (Object.hasOwn(receiver, name)) return receiver[name];
      if (mapInfo(receiver)) return undefined;
      this.fail(`map has no entry for key "${name}"`);
    }
    this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private call(name: string, fn: (...a: unknown[]) => unknown, args: unknown[]): unknown {
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      const msg = e instanceof ExecError
        ? e.message
        : `error calling ${name}: ${(e as Error).message}`;
      this.fail(msg);
    }
  }

  private evalFunction(
    dot: unknown,
    id: Extract<Arg, { kind: "identifier" }>,
    args: Arg[],
    final: unknown,
  ) {
    const name = id.name;
    const rest = args.slice(1);
    const hasFinal = final !== NO_FINAL;
    if ((name === "and" || name === "or") && !this.overrides[name]) {
      // Go 1.18+: evaluated left to right, stopping when the result is known.
      const n = rest.length + (hasFinal ? 1 : 0);
      if (n < 1) {
        this.setAt(id);
        this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      }
      let v: unknown;
      for (let i = 0; i < n; i++) {
        v = i < rest.length ? this.evalArg(dot, rest[i]) : final;
        if (isTrue(v) !== (name === "and")) return v;
      }
      return v;
    }
    const values = rest.map((a) => this.evalArg(dot, a));
    if (hasFinal) values.push(final);
    this.setAt(id);
    const fn = this.overrides[name] ?? BUILTINS[name];
    return this.call(name, fn, values);
  }
}

const NO_FINAL = Symbol("no final");

// ---------------------------------------------------------------------------------------
// Values as Go prints and compares them

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "interface {}";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (Array.isArray(v)) return "[]interface {}";
  return structType(v) ?? "map[string]interface {}";
}

/** Go's truth: false, 0, "", nil and empty collections are false; structs are true. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "function") return true;
  if (structType(v) !== undefined) return true;
  if (isObject(v)) return mapInfo(v) ? Object.keys(v).length > 0 : true;
  return true;
}

/** A float as Go's %v prints it: shortest form, exponent below 1e-4 and from 1e21. */
function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = n.toExponential().split("e");
    const sign = e.startsWith("-") ? "-" : "+";
    return `${m}e${sign}${e.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  const s = String(n);
  if (!s.includes("e")) return s;
  return n.toFixed(Math.max(0, -exp + 16)).replace(/\.?0+$/, "");
}

/** A value as Go's fmt prints it with %v; `top` prints the invalid value as `<no value>`. */
export function formatValue(v: unknown, top = false): string {
  if (v === undefined) return top ? "<no value>" : "<nil>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : formatFloat(v);
  if (Array.isArray(v)) return `[${v.map((e) => formatValue(e)).join(" ")}]`;
  if (typeof v === "function") return "<func>";
  if (isObject(v)) {
    if (mapInfo(v)) {
      return `map[${Object.keys(v).sort().map((k) => `${k}:${formatValue(v[k])}`).join(" ")}]`;
    }
    return `{${
      Object.values(v).filter((x) => typeof x !== "function").map((x) => formatValue(x)).join(" ")
    }}`;
  }
  return String(v);
}

function printValue(v: unknown): string {
  return formatValue(v, true);
}

/** JSON as Go's encoding/json writes it without HTML escaping; Go maps sorted. */
export function goJson(v: unknown): string {
  const order = (x: unknown): unknown => {
    if (x === undefined || typeof x === "function" || isNil(x)) return null;
    if (Array.isArray(x)) return x.map(order);
    if (isObject(x)) {
      // A struct's methods without arguments are marshalled too, as docker/cli's
      // formatter.MarshalJSON does for its contexts.
      const value = (k: string) => {
        const f = x[k];
        return typeof f === "function" ? f.call(x) : f;
      };
      const keys = Object.keys(x).filter((k) => {
        const f = x[k];
        return typeof f !== "function" || (structType(x) !== undefined && f.length === 0);
      });
      if (mapInfo(x)) keys.sort();
      return Object.fromEntries(keys.map((k) => [k, order(value(k))]));
    }
    return x;
  };
  const json = JSON.stringify(order(v)).replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
  // Docker's contexts marshal themselves with json.Marshal, which escapes HTML characters
  // (`<none>` is "\u003cnone\u003e" in `docker images --format json`).
  return structType(v) === undefined
    ? json
    : json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function kindOf(v: unknown): "bool" | "number" | "string" | "nil" | "other" {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "number";
  if (typeof v === "string") return "string";
  return "other";
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error("missing argument for comparison");
  const ka = kindOf(a);
  if (ka === "other") throw new Error("invalid type for comparison");
  for (const b of rest) {
    const kb = kindOf(b);
    if (kb === "other") throw new Error("invalid type for comparison");
    if (ka === "nil" || kb === "nil") {
      if (ka === kb) return true;
      continue;
    }
    if (ka !== kb) throw new Error("incompatible types for comparison");
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = kindOf(a), kb = kindOf(b);
  if (ka === "bool" || ka === "nil" || ka === "other" || kb === "other" || kb === "nil") {
    throw new Error("invalid type for comparison");
  }
  if (ka !== kb) throw new Error("incompatible types for comparison");
  return (a as number | string) < (b as number | string);
}

function arity(name: string, args: unknown[], want: number): void {
  if (args.length !== want) {
    throw new ExecError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
}

function wantString(v: unknown): string {
  if (typeof v !== "string") {
    throw new ExecError(`wrong type for value; expected string; got ${goTypeName(v)}`);
  }
  return v;
}

function wantInt(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ExecError(`wrong type for value; expected int; got ${goTypeName(v)}`);
  }
  return v;
}

const utf8 = new TextEncoder();

/** Go's strings.Title: the first letter of each word upper-cased. */
function title(s: string): string {
  // Go's isSeparator: ASCII other than letters, digits and "_", and Unicode spaces.
  return s.replace(
    // deno-lint-ignore no-control-regex
    /(^|[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]|\s)(\p{L})/gu,
    (_, sep, c) => sep + c.toUpperCase(),
  );
}

function indexInto(item: unknown, key: unknown): unknown {
  if (typeof item === "string" || Array.isArray(item)) {
    if (typeof key !== "number" || !Number.isInteger(key)) {
      throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
    }
    const len = typeof item === "string" ? utf8.encode(item).length : item.length;
    if (key < 0 || key >= len) throw new Error(`index out of range: ${key}`);
    return typeof item === "string" ? utf8.encode(item)[key] : item[key];
  }
  if (isObject(item)) {
    if (typeof key !== "string") {
      throw new Error(`value has type ${goTypeName(key)}; should be string`);
    }
    if (Object.hasOwn(item, key)) return item[key];
    return mapInfo(item)?.zero;
  }
  if (item === null || item === undefined) throw new Error("index of untyped nil");
  throw new Error(`can't index item of type ${goTypeName(item)}`);
}

const BUILTINS: FunctionMap = {
  not: (...a) => {
    arity("not", a, 1);
    return !isTrue(a[0]);
  },
  len: (...a) => {
    arity("len", a, 1);
    const v = a[0];
    if (typeof v === "string") return utf8.encode(v).length;
    if (Array.isArray(v)) return v.length;
    if (isObject(v) && structType(v) === undefined) return Object.keys(v).length;
    throw new Error(`len of type ${goTypeName(v)}`);
  },
  index: (item, ...keys) => keys.reduce((v, k) => indexInto(v, k), item),
  slice: (item, ...idx) => {
    if (typeof item !== "string" && !Array.isArray(item)) {
      throw new Error(`can't slice item of type ${goTypeName(item)}`);
    }
    if (idx.length > 2) throw new Error(`too many slice indexes: ${idx.length}`);
    const len = item.length;
    const [i = 0, j = len] = idx.map(wantInt);
    if (i < 0 || j < i || j > len) throw new Error(`index out of range: ${j > len ? j : i}`);
    return item.slice(i, j);
  },
  print: (...a) => goSprint(a),
  println: (...a) => a.map((v) => formatValue(v)).join(" ") + "\n",
  printf: (format, ...a) => goSprintf(wantString(format), a),
  eq,
  ne: (...a) => {
    arity("ne", a, 2);
    return !eq(a[0], a[1]);
  },
  lt: (...a) => {
    arity("lt", a, 2);
    return lt(a[0], a[1]);
  },
  le: (...a) => {
    arity("le", a, 2);
    return lt(a[0], a[1]) || eq(a[0], a[1]);
  },
  gt: (...a) => {
    arity("gt", a, 2);
    return !lt(a[0], a[1]) && !eq(a[0], a[1]);
  },
  ge: (...a) => {
    arity("ge", a, 2);
    return !lt(a[0], a[1]);
  },
  html: (...a) =>
    goSprint(a).replace(
      /[<>&'"\0]/g,
      (c) =>
        ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\uFFFD" })[
          c
        ]!,
    ),
  urlquery: (...a) =>
    encodeURIComponent(goSprint(a)).replace(/%20/g, "+").replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    ),
  // Docker's functions (docker/cli templates.basicFunctions).
  json: (...a) => {
    arity("json", a, 1);
    return goJson(a[0]);
  },
  split: (...a) => {
    arity("split", a, 2);
    const s = wantString(a[0]), sep = wantString(a[1]);
    return sep === "" ? [...s] : s.split(sep);
  },
  join: (...a) => {
    arity("join", a, 2);
    const [elems, sep] = [a[0], wantString(a[1])];
    if (elems === undefined || elems === null) return "";
    if (Array.isArray(elems)) return elems.map((e) => formatValue(e)).join(sep);
    if (isObject(elems) && structType(elems) === undefined) {
      return Object.values(elems).map((e) => formatValue(e)).sort().join(sep);
    }
    throw new Error(`expected slice, got ${goTypeName(elems)}`);
  },
  title: (...a) => {
    arity("title", a, 1);
    return title(wantString(a[0]));
  },
  lower: (...a) => {
    arity("lower", a, 1);
    return wantString(a[0]).toLowerCase();
  },
  upper: (...a) => {
    arity("upper", a, 1);
    return wantString(a[0]).toUpperCase();
  },
  pad: (...a) => {
    arity("pad", a, 3);
    const s = wantString(a[0]);
    return s === "" ? s : " ".repeat(wantInt(a[1])) + s + " ".repeat(wantInt(a[2]));
  },
  truncate: (...a) => {
    arity("truncate", a, 2);
    const s = wantString(a[0]), n = wantInt(a[1]);
    // Go slices bytes: source[:length] of the UTF-8 string.
    const bytes = utf8.encode(s);
    return bytes.length < n ? s : new TextDecoder().decode(bytes.slice(0, n));
  },
};

/** fmt.Sprint: operands side by side, a space between two that are not strings. */
function goSprint(a: unknown[]): string {
  let out = "";
  for (let i = 0; i < a.length; i++) {
    if (i > 0 && typeof a[i] !== "string" && typeof a[i - 1] !== "string") out += " ";
    out += formatValue(a[i]);
  }
  return out;
}

/** fmt.Sprintf for the verbs templates use: %v %s %d %q %t %x %X %o %b %c %f %e %g %%. */
export function goSprintf(format: string, args: unknown[]): string {
  let out = "";
  let argi = 0;
  const re = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])?/y;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    re.lastIndex = pct;
    const m = re.exec(format)!;
    i = re.lastIndex;
    const [, flags, widthText, precText, verb] = m;
    if (verb === undefined) {
      out += "%!(NOVERB)";
      continue;
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    const takeInt = (t: string | undefined): number | undefined => {
      if (t !== "*") return t === undefined ? undefined : Number(t);
      const v = args[argi++];
      return typeof v === "number" ? v : undefined;
    };
    const width = takeInt(widthText);
    const precision = m[0].includes(".") ? (takeInt(precText) ?? 0) : undefined;
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    out += pad(formatVerb(verb, arg, flags, precision), width, flags);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${
      args.slice(argi).map((a) => `${goTypeName(a)}=${formatValue(a)}`).join(", ")
    })`;
  }
  return out;
}

function pad(s: string, width: number | undefined, flags: string): string {
  const len = [...s].length;
  if (width === undefined || len >= width) return s;
  if (flags.includes("-")) return s + " ".repeat(width - len);
  if (flags.includes("0") && /^[+-]?\d/.test(s)) {
    const sign = /^[+-]/.test(s) ? s[0] : "";
    return sign + "0".repeat(width - len) + s.slice(sign.length);
  }
  return " ".repeat(width - len) + s;
}

function badVerb(verb: string, arg: unknown): string {
  return arg === undefined || arg === null
    ? `%!${verb}(<nil>)`
    : `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
}

function formatVerb(verb: string, arg: unknown, flags: string, precision?: number): string {
  const isInt = typeof arg === "number" && Number.isInteger(arg);
  const sign = (n: number, s: string) =>
    n >= 0 && flags.includes("+") ? `+${s}` : n >= 0 && flags.includes(" ") ? ` ${s}` : s;
  switch (verb) {
    case "v":
      if (flags.includes("+") || flags.includes("#")) return formatValue(arg);
      return typeof arg === "number" && !isInt && precision !== undefined
        ? arg.toFixed(precision)
        : formatValue(arg);
    case "s":
      if (typeof arg === "string") {
        return precision === undefined ? arg : [...arg].slice(0, precision).join("");
      }
      if (Array.isArray(arg) && arg.every((x) => typeof x === "string")) {
        return `[${arg.join(" ")}]`;
      }
      if (typeof arg === "boolean" || typeof arg === "number") return badVerb(verb, arg);
      return formatValue(arg);
    case "q":
      if (typeof arg === "string") return goQuote(arg);
      if (isInt) return `'${String.fromCodePoint(arg as number)}'`;
      if (Array.isArray(arg) && arg.every((x) => typeof x === "string")) {
        return `[${arg.map(goQuote).join(" ")}]`;
      }
      return badVerb(verb, arg);
    case "t":
      return typeof arg === "boolean" ? String(arg) : badVerb(verb, arg);
    case "d":
      if (isInt) return sign(arg as number, String(arg));
      if (Array.isArray(arg) && arg.every((x) => typeof x === "number" && Number.isInteger(x))) {
        return `[${arg.join(" ")}]`;
      }
      return badVerb(verb, arg);
    case "x":
    case "X":
    case "o":
    case "b": {
      const base = { x: 16, X: 16, o: 8, b: 2 }[verb]!;
      let s: string;
      if (isInt) s = (arg as number).toString(base);
      else if (typeof arg === "string") {
        if (verb !== "x" && verb !== "X") return badVerb(verb, arg);
        s = [...utf8.encode(arg)].map((b) => b.toString(16).padStart(2, "0")).join("");
      } else return badVerb(verb, arg);
      if (flags.includes("#") && isInt) {
        s = ({ 16: "0x", 8: "0", 2: "0b" } as Record<number, string>)[base] + s;
      }
      return verb === "X" ? s.toUpperCase() : s;
    }
    case "c":
      return isInt ? String.fromCodePoint(arg as number) : badVerb(verb, arg);
    case "f":
    case "F":
    case "e":
    case "g": {
      if (typeof arg !== "number") return badVerb(verb, arg);
      if (verb === "f" || verb === "F") return sign(arg, arg.toFixed(precision ?? 6));
      if (verb === "e") {
        const [m, e] = arg.toExponential(precision ?? 6).split("e");
        return sign(
          arg,
          `${m}e${e[0] === "-" ? "-" : "+"}${e.replace(/^[+-]/, "").padStart(2, "0")}`,
        );
      }
      return sign(
        arg,
        precision === undefined ? formatFloat(arg) : String(Number(arg.toPrecision(precision))),
      );
    }
    default:
      return badVerb(verb, arg);
  }
}
