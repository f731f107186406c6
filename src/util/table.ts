/**
 * Docker's ways of shortening IDs and commands for `ps`, and the cell widths its tabwriter
 * counts (src/util/tabwriter.ts lays the tables out).
 *
 * @module
 */

/**
 * The 12-character short form of an ID, without its algorithm prefix (Docker's
 * `stringid.TruncateID`: everything up to the first ":" goes).
 *
 * @example
 * ```ts
 * truncateId("sha256:0123456789abcdef"); // "0123456789ab"
 * ```
 */
export function truncateId(id: string): string {
  return id.slice(id.indexOf(":") + 1).slice(0, 12);
}

// deno-fmt-ignore
/** East Asian Wide and Fullwidth code point ranges, inclusive pairs (Unicode 14). */
const WIDE_RANGES = [
  0x1100, 0x115f, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ec, 0x23f0, 0x23f0, 0x23f3, 0x23f3,
  0x25fd, 0x25fe, 0x2614, 0x2615, 0x2648, 0x2653, 0x267f, 0x267f, 0x2693, 0x2693, 0x26a1, 0x26a1,
  0x26aa, 0x26ab, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26ce, 0x26d4, 0x26d4, 0x26ea, 0x26ea,
  0x26f2, 0x26f3, 0x26f5, 0x26f5, 0x26fa, 0x26fa, 0x26fd, 0x26fd, 0x2705, 0x2705, 0x270a, 0x270b,
  0x2728, 0x2728, 0x274c, 0x274c, 0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797,
  0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2b1b, 0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x2e80, 0x303e,
  0x3041, 0x3247, 0x3250, 0x4dbf, 0x4e00, 0xa4c6, 0xa960, 0xa97c, 0xac00, 0xd7a3, 0xf900, 0xfaff,
  0xfe10, 0xfe19, 0xfe30, 0xfe6b, 0xff01, 0xff60, 0xffe0, 0xffe6, 0x16fe0, 0x1b2fb,
  0x1f004, 0x1f004, 0x1f0cf, 0x1f0cf, 0x1f18e, 0x1f18e, 0x1f191, 0x1f19a, 0x1f200, 0x1f320,
  0x1f32d, 0x1f335, 0x1f337, 0x1f37c, 0x1f37e, 0x1f393, 0x1f3a0, 0x1f3ca, 0x1f3cf, 0x1f3d3,
  0x1f3e0, 0x1f3f0, 0x1f3f4, 0x1f3f4, 0x1f3f8, 0x1f43e, 0x1f440, 0x1f440, 0x1f442, 0x1f4fc,
  0x1f4ff, 0x1f53d, 0x1f54b, 0x1f54e, 0x1f550, 0x1f567, 0x1f57a, 0x1f57a, 0x1f595, 0x1f596,
  0x1f5a4, 0x1f5a4, 0x1f5fb, 0x1f64f, 0x1f680, 0x1f6c5, 0x1f6cc, 0x1f6cc, 0x1f6d0, 0x1f6d2,
  0x1f6d5, 0x1f6df, 0x1f6eb, 0x1f6ec, 0x1f6f4, 0x1f6fc, 0x1f7e0, 0x1f7f0, 0x1f90c, 0x1f93a,
  0x1f93c, 0x1f945, 0x1f947, 0x1f9ff, 0x1fa70, 0x1faf6, 0x20000, 0x3fffd,
];

/**
 * How many terminal columns a code point takes, as the Docker CLI reckons it: 2 for East
 * Asian Wide and Fullwidth characters, 1 for everything else.
 *
 * @example
 * ```ts
 * charWidth("漢".codePointAt(0)!); // 2
 * ```
 */
export function charWidth(codePoint: number): number {
  let lo = 0, hi = WIDE_RANGES.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (codePoint < WIDE_RANGES[2 * mid]) hi = mid - 1;
    else if (codePoint > WIDE_RANGES[2 * mid + 1]) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/**
 * Cuts `s` to fit `max` terminal columns, the last of them an ellipsis "…" (the Docker
 * CLI's `formatter.Ellipsis`). With `max` 1 the first character alone is kept; with 0 or
 * less, nothing. Like Docker, a string whose first character is wider than `max - 1`
 * columns is returned whole.
 *
 * @example
 * ```ts
 * ellipsis("sh -c 'while true; do sleep 1; done'", 20); // "sh -c 'while true; …"
 * ```
 */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return "";
  const chars = [...s];
  if (max === 1) return chars[0] ?? "";
  let width = 0;
  const ends = chars.map((c) => width += charWidth(c.codePointAt(0)!));
  if (width <= max) return s;
  for (let i = 0; i + 1 < ends.length; i++) {
    if (ends[i] <= max - 1 && ends[i + 1] > max - 1) return chars.slice(0, i + 1).join("") + "…";
  }
  return s;
}

/** What Go's `strconv.IsPrint` accepts: letters, marks, numbers, punctuation, symbols, " ". */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** The control characters Go's `strconv.Quote` writes as a letter escape. */
const ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/**
 * A string in double quotes, escaped as Go's `strconv.Quote` does: `"` and `\` get a
 * backslash, printable characters (letters, marks, numbers, punctuation, symbols, the ASCII
 * space) stay as they are, `\a \b \f \n \r \t \v` keep their short escapes, other control
 * characters become `\xHH`, and other non-printable ones `\uHHHH` or `\UHHHHHHHH`. A lone
 * surrogate reaches Go as U+FFFD once encoded, so it prints as "�".
 *
 * @example
 * ```ts
 * console.log(goQuote('say "hi"\n')); // "say \"hi\"\n"
 * ```
 */
export function goQuote(s: string): string {
  let out = "";
  for (const char of s) {
    const cp = char.codePointAt(0)!;
    const c = cp >= 0xd800 && cp <= 0xdfff ? "\ufffd" : char;
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (PRINTABLE.test(c)) out += c;
    else if (ESCAPES[c]) out += ESCAPES[c];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `"${out}"`;
}

/**
 * The COMMAND column of `ps`. The command line is built as the Docker daemon does (the
 * program, then each argument, single-quoted if it contains a space), cut to 20 columns
 * with "…" unless `noTrunc`, then quoted as Go's `strconv.Quote` does.
 *
 * @example
 * ```ts
 * console.log(formatCommand(["sh", "-c", "while true; do sleep 1; done"], false));
 * // "sh -c 'while true; …"
 * console.log(formatCommand(["sh", "-c", "echo a b"], true)); // "sh -c 'echo a b'"
 * ```
 */
export function formatCommand(args: string[], noTrunc: boolean): string {
  const [path = "", ...rest] = args;
  const line = rest.length === 0
    ? path
    : `${path} ${rest.map((a) => a.includes(" ") ? `'${a}'` : a).join(" ")}`;
  return goQuote(noTrunc ? line : ellipsis(line, 20));
}
