/**
 * `.dockerignore`: reading it and matching paths of the build context against it as Docker
 * does (moby/patternmatcher and its ignorefile reader, ported), and the walk that lists
 * what the context holds for COPY and ADD.
 *
 * Why not the `@balena/dockerignore` package: it ports moby's matcher as of Docker 19.03
 * (its last release is from 2020), is case-insensitive unless told otherwise (Docker is
 * not), escapes only `.` and `$` when it builds its regular expressions (so `a+b` or
 * `(x)` in a pattern mean something else than in Docker), and has no walker. The port
 * below is a hundred-odd lines.
 *
 * The rules: one pattern a line; a line starting with `#` is a comment; surrounding spaces
 * go; each pattern is cleaned as Go's `filepath.Clean` does and loses a leading `/`;
 * `*`, `?` and `[...]` match within one path element, `**` any number of elements; `!`
 * makes an exception, and the last pattern that matches a path decides. A path is excluded
 * when it or any of its parent directories matches.
 *
 * The Dockerfile and the ignore file are read by the builder whatever the patterns say;
 * excluding them only hides them from COPY and ADD, as Docker's documentation says.
 *
 * @module
 */

import { cleanPath, validateGlob } from "./glob.ts";

/**
 * The patterns of an ignore file's text (moby's ignorefile.ReadAll): comments and blank
 * lines dropped, each pattern trimmed and cleaned, a leading `/` removed, `!` kept.
 *
 * @example
 * ```ts
 * readIgnorePatterns("# comment\n/build/\n!build/keep\n"); // ["build", "!build/keep"]
 * ```
 */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((raw, i) => {
    let line = raw.replace(/\r$/, "");
    if (i === 0) line = line.replace(/^\ufeff/, "");
    if (line.startsWith("#")) return;
    let pattern = line.trim();
    if (pattern === "") return;
    const invert = pattern[0] === "!";
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern[0] === "/") pattern = pattern.slice(1);
    }
    out.push(invert ? "!" + pattern : pattern);
  });
  return out;
}

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

interface Pattern {
  cleaned: string;
  exclusion: boolean;
  type: MatchType;
  regexp?: RegExp;
}

const ESCAPE = new Set([..."." + "+()|{}$"]);

function compile(cleaned: string): Pick<Pattern, "type" | "regexp"> {
  let re = "^";
  let type: MatchType = "exact";
  const chars = [...cleaned];
  for (let pos = 0, i = 0; pos < chars.length; i++) {
    const ch = chars[pos++];
    if (ch === "*") {
      if (chars[pos] === "*") {
        pos++;
        if (chars[pos] === "/") pos++;
        if (pos >= chars.length) {
          // A trailing ** matches everything below, as in .gitignore.
          if (type === "exact") type = "prefix";
          else {
            re += "[\\s\\S]*";
            type = "regexp";
          }
        } else {
          re += "(.*/)?";
          type = "regexp";
        }
        if (i === 0) type = "suffix";
      } else {
        re += "[^/]*";
        type = "regexp";
      }
    } else if (ch === "?") {
      re += "[^/]";
      type = "regexp";
    } else if (ESCAPE.has(ch)) {
      re += "\\" + ch;
    } else if (ch === "\\") {
      if (pos < chars.length) {
        re += "\\" + chars[pos++];
        type = "regexp";
      } else re += "\\\\";
    } else if (ch === "[" || ch === "]") {
      re += ch;
      type = "regexp";
    } else {
      re += ch;
    }
  }
  if (type !== "regexp") return { type };
  return { type, regexp: new RegExp(re + "$") };
}

function matchOne(p: Pattern, path: string): boolean {
  switch (p.type) {
    case "exact":
      return path === p.cleaned;
    case "prefix":
      return path.startsWith(p.cleaned.slice(0, -2));
    case "suffix": {
      const suffix = p.cleaned.slice(2);
      return path.endsWith(suffix) || (suffix[0] === "/" && path === suffix.slice(1));
    }
    case "regexp":
      return p.regexp!.test(path);
  }
}

/** A compiled `.dockerignore`: which context paths are excluded. */
export class IgnoreMatcher {
  private patterns: Pattern[] = [];
  /** Whether any pattern is an exception (`!...`). */
  readonly exclusions: boolean;

  /** Compiles `patterns` (as `readIgnorePatterns` gives them). Throws on a malformed one. */
  constructor(patterns: string[]) {
    let exclusions = false;
    for (let raw of patterns) {
      raw = raw.trim();
      if (raw === "") continue;
      let p = cleanPath(raw);
      let exclusion = false;
      if (p[0] === "!") {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      try {
        validateGlob(p);
        this.patterns.push({ cleaned: p, exclusion, ...compile(p) });
      } catch (e) {
        const why = e instanceof SyntaxError ? "syntax error in pattern" : (e as Error).message;
        throw new Error(`invalid .dockerignore pattern ${JSON.stringify(raw)}: ${why}`);
      }
    }
    this.exclusions = exclusions;
  }

  /**
   * Whether `path` (relative to the context, slash-separated) is excluded: the last pattern
   * that matches it or one of its parent directories decides (patternmatcher's
   * MatchesOrParentMatches). The context's root is never excluded.
   */
  excludes(path: string): boolean {
    const file = cleanPath(path);
    if (file === ".") return false;
    const dirs = file.split("/").slice(0, -1);
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let match = matchOne(p, file);
      for (let i = 1; !match && i <= dirs.length; i++) {
        match = matchOne(p, dirs.slice(0, i).join("/"));
      }
      if (match) matched = !p.exclusion;
    }
    return matched;
  }
}

/**
 * The patterns that apply to a build: `<Dockerfile>.dockerignore` beside the Dockerfile
 * when there is one (BuildKit's per-Dockerfile ignore file), else the context's
 * `.dockerignore`, else none.
 */
export function loadIgnorePatterns(contextDir: string, dockerfile?: string): string[] {
  for (
    const file of [dockerfile ? `${dockerfile}.dockerignore` : "", `${contextDir}/.dockerignore`]
  ) {
    if (!file) continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    return readIgnorePatterns(text);
  }
  return [];
}

/** One entry of the build context. */
export interface ContextEntry {
  /** Relative to the context directory, slash-separated (`src/main.ts`). */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
}

/**
 * Every entry of the context directory that the patterns leave in, in lexical order of
 * paths, parents before children, symlinks not followed. A directory that is excluded is
 * still listed when an exception (`!`) brings back something inside it, so that what is
 * kept has its parents; with no exception, an excluded directory is not entered at all.
 */
export function contextFiles(dir: string, ignore: IgnoreMatcher): ContextEntry[] {
  const out: ContextEntry[] = [];
  const walk = (rel: string, pending: string[]) => {
    const names = [...Deno.readDirSync(rel ? `${dir}/${rel}` : dir)]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of names) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const type = e.isSymlink ? "symlink" : e.isDirectory ? "dir" : e.isFile ? "file" : "other";
      const excluded = ignore.excludes(path);
      if (!excluded) {
        for (const p of pending) out.push({ path: p, type: "dir" });
        pending = [];
        out.push({ path, type });
        if (type === "dir") walk(path, []);
      } else if (type === "dir" && ignore.exclusions) {
        const before = out.length;
        walk(path, [...pending, path]);
        if (out.length > before) pending = [];
      }
    }
  };
  walk("", []);
  return out;
}
