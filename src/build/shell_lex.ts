/**
 * Docker's word processing for Dockerfile arguments (BuildKit's frontend/dockerfile/shell
 * lexer, ported): quotes (`'...'`, `"..."`), the escape token, and variable references
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`,
 * `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`. It is not a shell: nothing runs,
 * there is no command substitution, and `$1`, `$@`, ... expand to nothing, as Docker's do.
 *
 * `processWord` gives one string (quotes removed, spaces kept): what ENV, LABEL, WORKDIR,
 * USER, COPY and the rest substitute with. `processWords` splits the result into words after
 * substitution (quoted spaces kept), as the heredoc detection needs.
 *
 * @module
 */

/** Where a lexer looks variables up. */
export type EnvLookup = (name: string) => string | undefined;

/** The lexer's switches, named as BuildKit's `shell.Lex` fields. */
export interface LexOptions {
  /** Keep quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipProcessQuotes?: boolean;
  /** Leave a reference to an unset variable as written instead of expanding it to "". */
  skipUnsetEnv?: boolean;
}

/** What one word became and the variables it read (set and unset). */
export interface LexResult {
  result: string;
  words: string[];
  matched: Set<string>;
  unmatched: Set<string>;
}

const EOF = -1;

function isSpace(ch: string): boolean {
  // Go's unicode.IsSpace.
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(ch);
}

class Words {
  buf = "";
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = "";
        this.inWord = false;
      }
    } else if (!isSpace(ch)) this.addRawChar(ch);
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = "";
      this.inWord = false;
    }
    return this.words;
  }
}

/** A lexer with one escape token (`\` or the escape directive's backtick). */
export class ShellLex {
  constructor(readonly escapeToken: string = "\\", readonly options: LexOptions = {}) {}

  /** Substitutes and unquotes `word` as one string. Throws on a syntax error. */
  processWord(word: string, env: EnvLookup): LexResult {
    return new Run(this, word, env).process();
  }

  /** Substitutes `word`, then splits it into words (quoted spaces stay). */
  processWords(word: string, env: EnvLookup): string[] {
    return new Run(this, word, env).process().words;
  }
}

class Run {
  private chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(private lex: ShellLex, private source: string, private env: EnvLookup) {
    this.chars = [...source];
    this.rawEscapes = lex.options.rawEscapes ?? false;
  }

  process(): LexResult {
    try {
      const [result, words] = this.processStopOn(EOF, this.rawEscapes);
      return { result, words, matched: this.matched, unmatched: this.unmatched };
    } catch (e) {
      throw new Error(`failed to process ${JSON.stringify(this.source)}: ${(e as Error).message}`);
    }
  }

  private peek(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }

  private next(): string | typeof EOF {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  private processStopOn(stop: string | typeof EOF, rawEscapes: boolean): [string, string[]] {
    let result = "";
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek() as string;
        if (stop !== EOF && ch === stop) {
          this.next();
          return [result, words.get()];
        }
        const quotes = !this.lex.options.skipProcessQuotes;
        if (ch === "$" || ch === "<" || (quotes && (ch === "'" || ch === '"'))) {
          const tmp = ch === "$"
            ? this.processDollar()
            : ch === "<"
            ? this.processPossibleHeredoc()
            : ch === "'"
            ? this.processSingleQuote()
            : this.processDoubleQuote();
          result += tmp;
          if (ch === "$") words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        ch = this.next() as string;
        if (ch === this.lex.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          const n = this.next();
          if (n === EOF) break;
          ch = n;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
      if (stop !== EOF) {
        throw new Error(`unexpected end of statement while looking for matching ${stop}`);
      }
      return [result, words.get()];
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = "";
    const open = this.next() as string;
    if (this.lex.options.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) {
        throw new Error("unexpected end of statement while looking for matching single-quote");
      }
      if (ch === "'") {
        if (this.lex.options.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = "";
    const open = this.next() as string;
    if (this.lex.options.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) {
        throw new Error("unexpected end of statement while looking for matching double-quote");
      }
      if (p === '"') {
        this.next();
        if (this.lex.options.rawQuotes) result += p;
        return result;
      }
      if (p === "$") {
        result += this.processDollar();
        continue;
      }
      let ch = this.next() as string;
      if (ch === this.lex.escapeToken) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue; // a trailing escape is dropped
        if (q === '"' || q === "$" || q === this.lex.escapeToken) ch = this.next() as string;
      }
      result += ch;
    }
  }

  private getEnv(name: string): string | undefined {
    const v = this.env(name);
    if (v !== undefined) this.matched.add(name);
    else this.unmatched.add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.lex.options.skipUnsetEnv) return "$" + name;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Error("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new Error("syntax error: bad substitution");
    }
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new Error("syntax error: missing '}'");
    let chs: string = ch;
    let nullIsUnset = false;
    if (ch === "}") {
      const value = this.getEnv(name);
      if (value === undefined && this.lex.options.skipUnsetEnv) return `\${${name}}`;
      return value ?? "";
    }
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      chs += ch === EOF ? "" : ch;
    }
    if (ch === "+" || ch === "-" || ch === "?" || ch === "#" || ch === "%") {
      const raw = ch === "#" || ch === "%";
      if (nullIsUnset && raw) throw new Error(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        [word] = this.processStopOn("}", raw);
      } catch (e) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (this.lex.options.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
      const unset = value === undefined || (nullIsUnset && value === "");
      switch (ch) {
        case "-":
          return unset ? word : value!;
        case "+":
          return unset ? "" : word;
        case "?":
          if (value === undefined) {
            throw new Error(`${name}: ${word || "is not allowed to be unset"}`);
          }
          if (nullIsUnset && value === "") {
            throw new Error(`${name}: ${word || "is not allowed to be empty"}`);
          }
          return value;
        default: {
          let greedy = false;
          if (word.length > 0 && word[0] === ch) {
            greedy = true;
            word = word.slice(1);
          }
          return ch === "%"
            ? trimSuffix(word, value ?? "", greedy)
            : trimPrefix(word, value ?? "", greedy);
        }
      }
    }
    if (ch === "/") {
      const all = this.peek() === "/";
      if (all) this.next();
      let pattern: string, replacement: string;
      try {
        [pattern] = this.processStopOn("/", true);
      } catch (e) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '/' in ${}");
        throw e;
      }
      try {
        [replacement] = this.processStopOn("}", true);
      } catch (e) {
        if (this.peek() === EOF) throw new Error("syntax error: missing '}'");
        throw e;
      }
      const value = this.getEnv(name);
      if (this.lex.options.skipUnsetEnv && value === undefined) {
        return `\${${name}/${pattern}/${replacement}}`;
      }
      const re = shellPatternToRegex(pattern, true, false, all);
      const v = value ?? "";
      if (all) return v.replace(re, () => replacement);
      const m = re.exec(v);
      return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
    }
    throw new Error(`unsupported modifier (${chs}) in substitution`);
  }

  private processName(): string {
    let name = "";
    while (this.peek() !== EOF) {
      const ch = this.peek() as string;
      if (name.length === 0 && /^\p{Nd}$/u.test(ch)) {
        while (this.peek() !== EOF && /^\p{Nd}$/u.test(this.peek() as string)) {
          name += this.next();
        }
        return name;
      }
      if (name.length === 0 && "@*#?-$!0".includes(ch)) {
        this.next();
        return ch;
      }
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== "<") return "<";
    this.next();
    let space = "";
    for (let p = this.peek(); p === "\t" || p === "\r" || p === " "; p = this.peek()) {
      space += p;
      this.next();
    }
    return "<<" + space;
  }
}

/** A shell pattern (`*`, `?`, `\` escapes; no brackets) as a regular expression. */
function shellPatternToRegex(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
  global = false,
): RegExp {
  const chars = [...pattern];
  let out = anchored ? "^" : "";
  const star = greedy ? "[\\s\\S]*" : "[\\s\\S]*?";
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i];
    if (tok === "*") {
      out += star;
      continue;
    }
    if (tok === "?") {
      out += "[\\s\\S]";
      continue;
    }
    if (tok === "\\") {
      const p = chars[i + 1];
      if (p === "}" || p === "/") continue;
      out += "\\";
      tok = chars[++i];
      if (tok !== "*" && tok !== "?" && tok !== "\\") {
        throw new Error(
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${tok ?? ""}'`,
        );
      }
    } else if ("[]{}.+()|^$".includes(tok)) {
      out += "\\";
    }
    out += tok;
  }
  return new RegExp(out, global ? "gu" : "u");
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = [...pattern];
  const out: string[] = new Array(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last;) {
    const o = last - i;
    if (p[i] === "\\" && i !== last) {
      out[o - 1] = p[i];
      out[o] = p[i + 1];
      i += 2;
    } else {
      out[o] = p[i];
      i++;
    }
  }
  return out.join("");
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // The shortest rightmost match, found as the leftmost match of the reversed pattern.
  const rev = (s: string) => [...s].reverse().join("");
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}
