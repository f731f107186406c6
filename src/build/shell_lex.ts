/**
 * Docker's word processing for Dockerfile arguments, as the Dockerfile reference describes
 * it ("Environment replacement", the escape directive): quotes (`'...'` takes everything
 * literally, `"..."` substitutes and lets the escape token protect only `"`, `$` and
 * itself), the escape token, and the variable references `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?message}`,
 * `${VAR?message}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`,
 * `${VAR/pat/repl}`, `${VAR//pat/repl}`. It is not a shell: nothing runs, there is no
 * command substitution, and positional and special parameters (`$1`, `$@`, ...) expand to
 * nothing, as Docker's do.
 *
 * `processWord` gives one string (quotes removed, spaces kept): what ENV, LABEL, WORKDIR,
 * USER, COPY and the rest substitute with. `processWords` splits the result into words after
 * substitution, splitting only on whitespace that was neither quoted nor escaped.
 *
 * Design: one left-to-right pass over the word's code points makes a list of pieces, each
 * marked as protected (quoted or escaped) or not; the result joins them, the word split and
 * the patterns of `#`, `%` and `/` read that mark.
 *
 * @module
 */
import { type GlobToken, matchGlob } from "./glob.ts";
import { isSpace } from "./syntax.ts";

/** Where a lexer looks variables up. */
export type EnvLookup = (name: string) => string | undefined;

/** The lexer's switches. */
export interface LexOptions {
  /** Keep quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipProcessQuotes?: boolean;
  /**
   * Leave a reference to an unset variable as written instead of expanding it to "" (the
   * plain `$VAR` and `${VAR}` forms; the others still apply their rule).
   */
  skipUnsetEnv?: boolean;
}

/** What one word became and the variables it read (set and unset). */
export interface LexResult {
  result: string;
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

/** Part of the output; `quoted` text neither splits into words nor acts as a pattern. */
interface Piece {
  text: string;
  quoted: boolean;
}

/** The parameters a shell has and Docker never sets: they expand to nothing. */
const SPECIAL = new Set(["@", "*", "#", "?", "!", "$", "-"]);
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isNameStart = (c: string | undefined) => c !== undefined && /^[A-Za-z_]$/.test(c);
const isNameChar = (c: string | undefined) => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

/** A lexer with one escape token (`\` or the escape directive's backtick). */
export class ShellLex {
  constructor(readonly escapeToken: string = "\\", readonly options: LexOptions = {}) {}

  /** Substitutes and unquotes `word` as one string. Throws on a syntax error. */
  processWord(word: string, env: EnvLookup): LexResult {
    const scan = new Scanner(this, word, env);
    let pieces: Piece[];
    try {
      pieces = scan.run();
    } catch (e) {
      throw new Error(`failed to process ${JSON.stringify(word)}: ${(e as Error).message}`);
    }
    return {
      result: pieces.map((p) => p.text).join(""),
      words: splitWords(pieces),
      matched: scan.matched,
      unmatched: scan.unmatched,
    };
  }

  /** Substitutes `word`, then splits it into words (quoted spaces stay). */
  processWords(word: string, env: EnvLookup): string[] {
    return this.processWord(word, env).words;
  }
}

/** Words of the pieces: unprotected whitespace separates them, and is dropped. */
function splitWords(pieces: Piece[]): string[] {
  const words: string[] = [];
  let current: string | undefined; // undefined: between words
  for (const p of pieces) {
    if (p.quoted) {
      current = (current ?? "") + p.text; // even "" makes a word, as in a shell
      continue;
    }
    for (const ch of p.text) {
      if (!isSpace(ch)) current = (current ?? "") + ch;
      else if (current !== undefined) {
        words.push(current);
        current = undefined;
      }
    }
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** One pass over one word. */
class Scanner {
  matched = new Set<string>();
  unmatched = new Set<string>();
  private chars: string[];
  private pos = 0;
  private escape: string;
  private opts: LexOptions;

  constructor(lex: ShellLex, private source: string, private env: EnvLookup) {
    this.chars = Array.from(source);
    this.escape = lex.escapeToken;
    this.opts = lex.options;
  }

  run(): Piece[] {
    return this.until("").pieces;
  }

  /**
   * Reads up to the first unprotected character of `stops` (consumed) or the end of the
   * word; `stop` says which one ended it, undefined for the end.
   */
  private until(stops: string): { pieces: Piece[]; stop?: string } {
    const out: Piece[] = [];
    const quotes = !this.opts.skipProcessQuotes;
    while (this.pos < this.chars.length) {
      const c = this.chars[this.pos];
      if (stops.includes(c)) {
        this.pos++;
        return { pieces: out, stop: c };
      }
      if (c === this.escape) {
        this.pos++;
        if (this.opts.rawEscapes) out.push({ text: c, quoted: true });
        // A trailing escape token escapes nothing and goes.
        if (this.pos < this.chars.length) out.push({ text: this.chars[this.pos++], quoted: true });
      } else if (c === "'" && quotes) out.push(this.singleQuoted());
      else if (c === '"' && quotes) out.push(...this.doubleQuoted());
      else if (c === "$") out.push(...this.dollar(false));
      else {
        out.push({ text: c, quoted: false });
        this.pos++;
      }
    }
    return { pieces: out };
  }

  /** `'...'`: all literal, no escapes. */
  private singleQuoted(): Piece {
    const start = ++this.pos;
    const end = this.chars.indexOf("'", start);
    if (end < 0) {
      throw new Error("unexpected end of statement while looking for matching single-quote");
    }
    this.pos = end + 1;
    const body = this.chars.slice(start, end).join("");
    return { text: this.opts.rawQuotes ? `'${body}'` : body, quoted: true };
  }

  /** `"..."`: substitution, and the escape token protects `"`, `$` and itself only. */
  private doubleQuoted(): Piece[] {
    this.pos++;
    const out: Piece[] = [];
    if (this.opts.rawQuotes) out.push({ text: '"', quoted: true });
    for (;;) {
      const c = this.chars[this.pos];
      if (c === undefined) {
        throw new Error("unexpected end of statement while looking for matching double-quote");
      }
      if (c === '"') {
        this.pos++;
        if (this.opts.rawQuotes) out.push({ text: '"', quoted: true });
        return out;
      }
      const next = this.chars[this.pos + 1];
      if (c === this.escape && (next === '"' || next === "$" || next === this.escape)) {
        out.push({ text: this.opts.rawEscapes ? c + next : next, quoted: true });
        this.pos += 2;
      } else if (c === "$") out.push(...this.dollar(true));
      else {
        out.push({ text: c, quoted: true });
        this.pos++;
      }
    }
  }

  /** A variable's value, noting whether it was set. */
  private lookup(name: string): string | undefined {
    const v = this.env(name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }

  /** At a `$`: a reference, or a literal `$` when none follows. */
  private dollar(quoted: boolean): Piece[] {
    const start = this.pos;
    const next = this.chars[this.pos + 1];
    const piece = (text: string): Piece[] => [{ text, quoted }];
    if (next === "{") {
      const pieces = this.braced();
      return quoted ? pieces.map((p) => ({ text: p.text, quoted: true })) : pieces;
    }
    if (isNameStart(next)) {
      this.pos++;
      let name = "";
      while (isNameChar(this.chars[this.pos])) name += this.chars[this.pos++];
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return piece(`$${name}`);
      return piece(value ?? "");
    }
    if (isDigit(next) || (next !== undefined && SPECIAL.has(next))) {
      this.pos += 2; // `$1x` is `$1` then `x`: one character names these
      return piece(this.opts.skipUnsetEnv ? `$${next}` : "");
    }
    this.pos = start + 1;
    return piece("$");
  }

  /** At `${`: the name, then `}` or a modifier and its word. */
  private braced(): Piece[] {
    const start = this.pos;
    this.pos += 2;
    let name = "";
    let positional = false;
    const first = this.chars[this.pos];
    if (isNameStart(first)) {
      while (isNameChar(this.chars[this.pos])) name += this.chars[this.pos++];
    } else if (isDigit(first)) {
      while (isDigit(this.chars[this.pos])) name += this.chars[this.pos++];
      positional = true;
    } else if (first === undefined) throw new Error("syntax error: missing '}'");
    else throw new Error("syntax error: bad substitution");

    const value = positional ? undefined : this.lookup(name);
    const set = value !== undefined;
    const nonEmpty = set && value !== "";
    const plain = (v: string | undefined): Piece[] => [{ text: v ?? "", quoted: false }];

    let op = this.chars[this.pos];
    if (op === undefined) throw new Error("syntax error: missing '}'");
    if (!"}:-+?#%/".includes(op)) throw new Error(`unsupported modifier (${op}) in substitution`);
    if (op === "}") {
      this.pos++;
      if (!set && this.opts.skipUnsetEnv) {
        return [{ text: this.chars.slice(start, this.pos).join(""), quoted: false }];
      }
      return plain(value);
    }
    let colon = false;
    if (op === ":") {
      colon = true;
      op = this.chars[this.pos + 1];
      if (op === undefined) throw new Error("syntax error: missing '}'");
      if (op !== "-" && op !== "+" && op !== "?") {
        throw new Error(`unsupported modifier (:${op}) in substitution`);
      }
      this.pos++;
    }
    this.pos++; // past the operator's first character
    switch (op) {
      case "-":
      case "+":
      case "?": {
        const word = this.word("}");
        const given = colon ? nonEmpty : set;
        if (op === "-") return given ? plain(value) : word;
        if (op === "+") return given ? word : plain("");
        if (!given) {
          const message = word.map((p) => p.text).join("") ||
            (set ? "is not allowed to be empty" : "is not allowed to be unset");
          throw new Error(`${name}: ${message}`);
        }
        return plain(value);
      }
      case "#":
      case "%": {
        const longest = this.chars[this.pos] === op;
        if (longest) this.pos++;
        const pattern = shellPattern(this.word("}"));
        const v = Array.from(value ?? "");
        return plain(
          op === "#" ? dropPrefix(v, pattern, longest) : dropSuffix(v, pattern, longest),
        );
      }
      case "/": {
        const all = this.chars[this.pos] === "/";
        if (all) this.pos++;
        // Both parts are needed, `${V/pat/}` to delete.
        const { pieces, stop } = this.until("/}");
        if (stop !== "/") throw new Error("syntax error: missing '/' in ${}");
        const replacement = this.word("}").map((p) => p.text).join("");
        return plain(replace(Array.from(value ?? ""), shellPattern(pieces), replacement, all));
      }
    }
    throw new Error("syntax error: missing '}'");
  }

  /** A modifier's word, up to the `}` that closes the reference. */
  private word(close: string): Piece[] {
    const { pieces, stop } = this.until(close);
    if (stop === undefined) throw new Error(`syntax error: missing '${close}'`);
    return pieces;
  }
}

/**
 * A shell pattern (`*`, `?`, `[...]` with `!` or `^` to negate, `\` escaping) as glob
 * tokens that may match `/`; protected characters match literally, in a class too.
 */
function shellPattern(pieces: Piece[]): GlobToken[] {
  const chars: Array<{ ch: string; quoted: boolean }> = [];
  for (const p of pieces) for (const ch of p.text) chars.push({ ch, quoted: p.quoted });
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const { ch, quoted } = chars[i];
    if (quoted) tokens.push({ kind: "char", ch });
    else if (ch === "*") tokens.push({ kind: "any" });
    else if (ch === "?") tokens.push({ kind: "class", negated: true, ranges: [] });
    else if (ch === "\\" && i + 1 < chars.length) tokens.push({ kind: "char", ch: chars[++i].ch });
    else if (ch === "[") {
      const cls = shellClass(chars, i + 1);
      if (cls) {
        tokens.push(cls.token);
        i = cls.end;
      } else tokens.push({ kind: "char", ch }); // no closing `]`: a plain `[`
    } else tokens.push({ kind: "char", ch });
  }
  return tokens;
}

/** A bracket class from `i` (after its `[`), and the index of its `]`; undefined if open. */
function shellClass(
  chars: Array<{ ch: string; quoted: boolean }>,
  i: number,
): { token: GlobToken; end: number } | undefined {
  const plain = (k: number, ch: string) => chars[k] && !chars[k].quoted && chars[k].ch === ch;
  let negated = false;
  if (plain(i, "!") || plain(i, "^")) [negated, i] = [true, i + 1];
  const ranges: Array<[number, number]> = [];
  for (let first = true; i < chars.length; first = false) {
    if (plain(i, "]") && !first) return { token: { kind: "class", negated, ranges }, end: i };
    let lo = chars[i++].ch;
    if (lo === "\\" && !chars[i - 1].quoted && i < chars.length) lo = chars[i++].ch;
    let hi = lo;
    if (plain(i, "-") && i + 1 < chars.length && !plain(i + 1, "]")) {
      hi = chars[i + 1].ch;
      i += 2;
    }
    ranges.push([lo.codePointAt(0)!, hi.codePointAt(0)!]);
  }
  return undefined;
}

const matches = matchGlob;

function dropPrefix(v: string[], pattern: GlobToken[], longest: boolean): string {
  for (let k = 0; k <= v.length; k++) {
    const n = longest ? v.length - k : k;
    if (matches(pattern, v.slice(0, n))) return v.slice(n).join("");
  }
  return v.join("");
}

function dropSuffix(v: string[], pattern: GlobToken[], longest: boolean): string {
  for (let k = 0; k <= v.length; k++) {
    const n = longest ? v.length - k : k; // the suffix's length
    if (matches(pattern, v.slice(v.length - n))) return v.slice(0, v.length - n).join("");
  }
  return v.join("");
}

/** Replaces the first (or every) longest non-empty match of `pattern`, left to right. */
function replace(v: string[], pattern: GlobToken[], by: string, all: boolean): string {
  let out = "";
  let i = 0;
  let done = false;
  while (i < v.length) {
    let end = -1;
    if (!done && pattern.length > 0) {
      for (let j = v.length; j > i; j--) {
        if (matches(pattern, v.slice(i, j))) {
          end = j;
          break;
        }
      }
    }
    if (end < 0) out += v[i++];
    else {
      out += by;
      i = end;
      done = !all;
    }
  }
  return out;
}
