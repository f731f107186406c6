/**
 * `.dockerignore`: reading it, matching paths of the build context against it as Docker's
 * documentation describes, and the walk that lists what the context holds for COPY and ADD.
 *
 * Why not the `@balena/dockerignore` package: it follows Docker's matcher as of Docker
 * 19.03 (its last release is from 2020), is case-insensitive unless told otherwise (Docker
 * is not), escapes only `.` and `$` when it builds its regular expressions (so `a+b` or
 * `(x)` in a pattern mean something else than in Docker), and has no walker.
 *
 * The rules (Docker's ".dockerignore file" documentation): one pattern a line; a line
 * starting with `#` is a comment; surrounding spaces go; each pattern is cleaned as Go's
 * `filepath.Clean` does and loses a leading `/` (the context is the root); `*` and `?`
 * match within one path element and `[...]` is one of its characters, as in Go's
 * `filepath.Match`; `**` is any number of elements, none included; `!` makes an exception, and the last pattern that matches a path
 * decides. A path is excluded when it or any of its parent directories matches.
 *
 * Written from that documentation: patterns become `glob.ts` tokens and are matched by
 * its memoised matcher, not by regular expressions, so nothing in a pattern is special but
 * what the rules name, and no pattern backtracks without bound.
 *
 * The Dockerfile and the ignore file are read by the builder whatever the patterns say;
 * excluding them only hides them from COPY and ADD, as Docker's documentation says.
 *
 * @module
 */
import { BadPatternError, cleanPath, type GlobToken, matchGlob, parseGlob } from "./glob.ts";

/** A pattern's cleaned form: `!` kept in front, no leading `/`, "" when nothing is left. */
function normalize(line: string): string {
  let text = line.trim();
  const exception = text.startsWith("!");
  if (exception) text = text.slice(1).trim();
  if (text !== "") {
    text = cleanPath(text);
    while (text.startsWith("/")) text = text.slice(1);
  }
  // "!" alone is kept, for the matcher to refuse; an empty rule is no rule.
  return exception ? `!${text}` : text;
}

/**
 * The patterns of an ignore file's text: comments and blank lines dropped, each pattern
 * trimmed and cleaned, a leading `/` removed, `!` kept.
 *
 * @example
 * ```ts
 * readIgnorePatterns("# comment\n/build/\n!build/keep\n"); // ["build", "!build/keep"]
 * ```
 */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  for (const line of text.replace(/^\ufeff/, "").split("\n")) {
    if (line.startsWith("#")) continue; // a comment only in the first column
    const pattern = normalize(line);
    if (pattern !== "") out.push(pattern);
  }
  return out;
}

interface Rule {
  tokens: GlobToken[];
  /** `!`: a match brings the path back. */
  exception: boolean;
}

/** A compiled `.dockerignore`: which context paths are excluded. */
export class IgnoreMatcher {
  private rules: Rule[] = [];
  /** Whether any pattern is an exception (`!...`). */
  readonly exclusions: boolean;

  /** Compiles `patterns` (as `readIgnorePatterns` gives them). Throws on a malformed one. */
  constructor(patterns: string[]) {
    for (const given of patterns) {
      const pattern = normalize(given);
      if (pattern === "") continue;
      const exception = pattern.startsWith("!");
      const body = exception ? pattern.slice(1) : pattern;
      if (body === "") throw new Error(`illegal exclusion pattern: ${JSON.stringify(pattern)}`);
      try {
        this.rules.push({ tokens: parseGlob(body, true), exception });
      } catch (e) {
        if (!(e instanceof BadPatternError)) throw e;
        throw new Error(`invalid .dockerignore pattern ${JSON.stringify(pattern)}: ${e.message}`);
      }
    }
    this.exclusions = this.rules.some((r) => r.exception);
  }

  /**
   * Whether `path` (relative to the context, slash-separated) is excluded: the last pattern
   * that matches it or one of its parent directories decides. The context's root is never
   * excluded.
   */
  excludes(path: string): boolean {
    const clean = cleanPath(path);
    if (clean === "." || clean === "/") return false;
    // The path and each of its parents, as code points: "a", "a/b", "a/b/c".
    const elements = clean.replace(/^\/+/, "").split("/");
    const candidates = elements.map((_, i) => Array.from(elements.slice(0, i + 1).join("/")));
    let excluded = false;
    for (const rule of this.rules) {
      if (candidates.some((c) => matchGlob(rule.tokens, c))) excluded = !rule.exception;
    }
    return excluded;
  }
}

/** The text of a file, or undefined when there is none. */
function readIfThere(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * The patterns that apply to a build: `<Dockerfile>.dockerignore` beside the Dockerfile
 * when there is one (Docker's per-Dockerfile ignore file), else the context's
 * `.dockerignore`, else none.
 */
export function loadIgnorePatterns(contextDir: string, dockerfile?: string): string[] {
  const own = dockerfile === undefined ? undefined : readIfThere(`${dockerfile}.dockerignore`);
  const text = own ?? readIfThere(`${contextDir}/.dockerignore`);
  return text === undefined ? [] : readIgnorePatterns(text);
}

/** One entry of the build context. */
export interface ContextEntry {
  /** Relative to the context directory, slash-separated (`src/main.ts`). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
}

/**
 * Every entry of the context directory that the patterns leave in, in lexical order of
 * names within each directory, parents before children, symlinks not followed. A directory
 * that is excluded is still listed when an exception (`!`) brings back something inside it,
 * so that what is kept has its parents; with no exception, an excluded directory is not
 * entered at all.
 */
export function contextFiles(dir: string, ignore: IgnoreMatcher): ContextEntry[] {
  const list = (rel: string): ContextEntry[] => {
    const entries = [...Deno.readDirSync(rel === "" ? dir : `${dir}/${rel}`)];
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: ContextEntry[] = [];
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      const type = e.isSymlink ? "symlink" : e.isDirectory ? "dir" : e.isFile ? "file" : "other";
      const excluded = ignore.excludes(path);
      if (type !== "dir") {
        if (!excluded) out.push({ path, type });
        continue;
      }
      if (!excluded) out.push({ path, type }, ...list(path));
      else if (ignore.exclusions) {
        // Something inside may be brought back; the directory comes with it.
        const inside = list(path);
        if (inside.length > 0) out.push({ path, type }, ...inside);
      }
    }
    return out;
  };
  return list("");
}
