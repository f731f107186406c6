/**
 * Go's `path/filepath.Match` on Linux, which is what COPY and ADD match their sources with:
 * `*` (any run of characters but `/`), `?` (one character but `/`), `[...]` classes with
 * ranges and `^` negation, and `\` escaping the next character. A malformed pattern throws
 * `BadPatternError` ("syntax error in pattern", Go's `ErrBadPattern`), even when an earlier
 * part already failed to match, as Go does.
 *
 * @module
 */

/** Go's `filepath.ErrBadPattern`. */
export class BadPatternError extends Error {
  constructor() {
    super("syntax error in pattern");
  }
}

/**
 * Whether `name` matches `pattern` whole.
 *
 * @example
 * ```ts
 * globMatch("*.go", "main.go"); // true
 * globMatch("*", "a/b"); // false: * stops at /
 * ```
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = [...pattern];
  let s = [...name];
  pattern: while (p.length > 0) {
    const [star, chunk, rest] = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) {
      // A trailing * matches the rest of the name unless it has a /.
      return !s.includes("/");
    }
    const t = matchChunk(chunk, s);
    if (t !== undefined && (t.length === 0 || p.length > 0)) {
      s = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== "/"; i++) {
        const t = matchChunk(chunk, s.slice(i + 1));
        if (t !== undefined) {
          if (p.length === 0 && t.length > 0) continue;
          s = t;
          continue pattern;
        }
      }
    }
    // No match: the rest of the pattern must still be well formed.
    while (p.length > 0) {
      const [, chunk, rest] = scanChunk(p);
      p = rest;
      matchChunk(chunk, [], true);
    }
    return false;
  }
  return s.length === 0;
}

/** Throws `BadPatternError` when `pattern` is malformed. */
export function validateGlob(pattern: string): void {
  // Go checks the whole pattern whenever it fails to match, and "." fails all but "*"-like ones.
  globMatch(pattern, ".");
}

/** Whether `path` has any of the characters that make it a pattern (`*?[\`). */
export function hasGlobMeta(path: string): boolean {
  return /[*?[\\]/.test(path);
}

function scanChunk(p: string[]): [boolean, string[], string[]] {
  let star = false;
  let i = 0;
  while (i < p.length && p[i] === "*") {
    i++;
    star = true;
  }
  p = p.slice(i);
  let inRange = false;
  let j = 0;
  scan: for (; j < p.length; j++) {
    switch (p[j]) {
      case "\\":
        if (j + 1 < p.length) j++;
        break;
      case "[":
        inRange = true;
        break;
      case "]":
        inRange = false;
        break;
      case "*":
        if (!inRange) break scan;
    }
  }
  return [star, p.slice(0, j), p.slice(j)];
}

/**
 * Matches `chunk` (no stars) at the start of `s`: what remains of `s`, or undefined. With
 * `checkOnly`, walks the whole chunk for syntax errors without matching anything.
 */
function matchChunk(chunk: string[], s: string[], checkOnly = false): string[] | undefined {
  let failed = false;
  let c = 0;
  let k = 0;
  while (c < chunk.length) {
    if (!failed && !checkOnly && k >= s.length) failed = true;
    const ch = chunk[c];
    if (ch === "[") {
      const r = failed || checkOnly ? "" : s[k++];
      c++;
      const negated = chunk[c] === "^";
      if (negated) c++;
      let match = false;
      let n = 0;
      for (;;) {
        if (c < chunk.length && chunk[c] === "]" && n > 0) {
          c++;
          break;
        }
        let lo: string, hi: string;
        [lo, c] = getEsc(chunk, c);
        hi = lo;
        if (chunk[c] === "-") [hi, c] = getEsc(chunk, c + 1);
        if (cmp(lo, r) <= 0 && cmp(r, hi) <= 0) match = true;
        n++;
      }
      if (match === negated) failed = true;
    } else if (ch === "?") {
      if (!failed && !checkOnly && s[k] === "/") failed = true;
      k++;
      c++;
    } else {
      if (ch === "\\") {
        c++;
        if (c >= chunk.length) throw new BadPatternError();
      }
      if (!failed && !checkOnly && chunk[c] !== s[k]) failed = true;
      k++;
      c++;
    }
  }
  return failed || checkOnly ? undefined : s.slice(k);
}

function cmp(a: string, b: string): number {
  return (a.codePointAt(0) ?? -1) - (b.codePointAt(0) ?? -1);
}

function getEsc(chunk: string[], c: number): [string, number] {
  if (c >= chunk.length || chunk[c] === "-" || chunk[c] === "]") throw new BadPatternError();
  if (chunk[c] === "\\") {
    c++;
    if (c >= chunk.length) throw new BadPatternError();
  }
  const r = chunk[c++];
  if (c >= chunk.length) throw new BadPatternError();
  return [r, c];
}

/** Go's `path.Clean` for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  return rooted ? "/" + joined : joined === "" ? "." : joined;
}
