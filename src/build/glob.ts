/**
 * The file-name patterns COPY and ADD match their sources with, as Go documents
 * `path/filepath.Match` on Linux: `*` (any run of characters but `/`), `?` (one character
 * but `/`), `[...]` classes of characters and `lo-hi` ranges, `[^...]` their complement,
 * and `\` taking the next character literally. A malformed pattern throws `BadPatternError`
 * ("syntax error in pattern") whatever the name, because the whole pattern is checked
 * before anything is matched. And `cleanPath`, Go's documented `path.Clean`.
 *
 * Written from those documented contracts. The pattern is parsed once into tokens and
 * matched by a memoised walk over (token, position) pairs, so no pattern can take longer
 * than tokens x characters steps. `ignore.ts` reuses the tokens with its `**`.
 *
 * @module
 */

/** Go's `filepath.ErrBadPattern`: the pattern is malformed. */
export class BadPatternError extends Error {
  constructor() {
    super("syntax error in pattern");
  }
}

/** One piece of a parsed pattern. Characters are whole code points. */
export type GlobToken =
  | { kind: "char"; ch: string }
  /** `?`: one character other than `/`. */
  | { kind: "one" }
  /** `*`: any run of characters other than `/`. */
  | { kind: "star" }
  /** `**` (ignore files only): any run of characters, `/` included. */
  | { kind: "any" }
  /** `**` followed by `/` (ignore files only): nothing, or anything that ends with `/`. */
  | { kind: "dirs" }
  | { kind: "class"; negated: boolean; ranges: Array<[number, number]> };

/**
 * Parses `pattern` into tokens, throwing `BadPatternError` when it is malformed. With
 * `globstar`, `**` becomes the ignore file's "any depth" tokens instead of two stars.
 */
export function parseGlob(pattern: string, globstar = false): GlobToken[] {
  const chars = Array.from(pattern);
  const tokens: GlobToken[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i];
    if (c === "*") {
      let n = 0;
      while (chars[i] === "*") [i, n] = [i + 1, n + 1];
      if (globstar && n >= 2) {
        if (chars[i] === "/") {
          tokens.push({ kind: "dirs" });
          i++;
        } else tokens.push({ kind: "any" });
      } else tokens.push({ kind: "star" }); // several stars mean what one means
    } else if (c === "?") {
      tokens.push({ kind: "one" });
      i++;
    } else if (c === "\\") {
      if (i + 1 >= chars.length) throw new BadPatternError();
      tokens.push({ kind: "char", ch: chars[i + 1] });
      i += 2;
    } else if (c === "[") {
      i = parseClass(chars, i + 1, tokens);
    } else {
      tokens.push({ kind: "char", ch: c });
      i++;
    }
  }
  return tokens;
}

/** Reads a class after its `[`, pushes it, and returns the index after its `]`. */
function parseClass(chars: string[], i: number, out: GlobToken[]): number {
  let negated = false;
  if (chars[i] === "^") [negated, i] = [true, i + 1];
  // One character of a range: not `-` or `]` unless escaped; `\` must escape something.
  const member = (): string => {
    const c = chars[i];
    if (c === undefined || c === "-" || c === "]") throw new BadPatternError();
    if (c === "\\") {
      if (i + 1 >= chars.length) throw new BadPatternError();
      i += 2;
      return chars[i - 1];
    }
    i++;
    return c;
  };
  const ranges: Array<[number, number]> = [];
  do {
    const lo = member().codePointAt(0)!;
    let hi = lo;
    if (chars[i] === "-") {
      i++;
      hi = member().codePointAt(0)!;
    }
    ranges.push([lo, hi]);
  } while (chars[i] !== "]" && i < chars.length);
  if (chars[i] !== "]") throw new BadPatternError(); // never closed
  out.push({ kind: "class", negated, ranges });
  return i + 1;
}

/**
 * Whether the code points `name` match `tokens` whole. A class may match `/`, as Go's
 * Match documents no exception for it; `?` and `*` never do (the `**` tokens do).
 */
export function matchGlob(tokens: GlobToken[], name: string[]): boolean {
  // failed[t * (n + 1) + p]: tokens from t cannot match name from p. Each pair is tried once.
  const n = name.length;
  const failed = new Uint8Array((tokens.length + 1) * (n + 1));
  const at = (t: number, p: number): boolean => {
    for (;;) {
      if (t === tokens.length) return p === n;
      if (failed[t * (n + 1) + p]) return false;
      const tok = tokens[t];
      const ch = name[p];
      let ok: boolean;
      switch (tok.kind) {
        case "char":
          ok = ch === tok.ch;
          break;
        case "one":
          ok = ch !== undefined && ch !== "/";
          break;
        case "class":
          ok = ch !== undefined && inClass(tok, ch);
          break;
        default: {
          // star, any and dirs: try every length they can take.
          let found = false;
          for (let q = p; q <= n && !found; q++) {
            const last = q > p ? name[q - 1] : undefined; // the run is name[p, q)
            if (tok.kind === "star" && last === "/") break;
            if (tok.kind === "dirs" && last !== undefined && last !== "/") continue;
            found = at(t + 1, q);
          }
          if (!found) failed[t * (n + 1) + p] = 1;
          return found;
        }
      }
      if (!ok) {
        failed[t * (n + 1) + p] = 1;
        return false;
      }
      t++;
      p++;
    }
  };
  return at(0, 0);
}

function inClass(tok: Extract<GlobToken, { kind: "class" }>, ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  const hit = tok.ranges.some(([lo, hi]) => lo <= cp && cp <= hi);
  return hit !== tok.negated;
}

/**
 * Whether `name` matches `pattern` whole. Throws `BadPatternError` on a malformed pattern.
 *
 * @example
 * ```ts
 * globMatch("*.go", "main.go"); // true
 * globMatch("*", "a/b"); // false: * stops at /
 * ```
 */
export function globMatch(pattern: string, name: string): boolean {
  return matchGlob(parseGlob(pattern), Array.from(name));
}

/** Throws `BadPatternError` when `pattern` is malformed. */
export function validateGlob(pattern: string): void {
  parseGlob(pattern);
}

/** Whether `path` has any of the characters that make it a pattern (`*?[\`). */
export function hasGlobMeta(path: string): boolean {
  return /[*?[\\]/.test(path);
}

/**
 * Go's `path.Clean` for slash-separated paths: the shortest equivalent path, with single
 * slashes, no `.` elements, each `..` taking the element before it away (and none above a
 * leading `/`); only `/` itself ends in a slash, and nothing left is `.`.
 */
export function cleanPath(p: string): string {
  const rooted = p.startsWith("/");
  const kept: string[] = [];
  for (const element of p.split("/")) {
    if (element === "" || element === ".") continue;
    if (element !== "..") kept.push(element);
    else if (kept.length > 0 && kept[kept.length - 1] !== "..") kept.pop();
    else if (!rooted) kept.push(".."); // a relative path may climb; / has no parent
  }
  const joined = kept.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}
