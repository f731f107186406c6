/**
 * Go's text/tabwriter as the Docker CLI forks it (cli/command/formatter/tabwriter): cells
 * end at tabs, a column is a run of lines that all have a cell there, each column as wide
 * as its widest cell plus the padding (at least `minWidth`), widths counted in terminal
 * columns. A line without a tab ends the block of aligned lines before it, as in Go.
 *
 * @module
 */

import { charWidth } from "./table.ts";

/** Docker's `tabwriter.NewWriter(out, minwidth, tabwidth, padding, ' ', 0)` parameters. */
export interface TabwriterOptions {
  minWidth: number;
  padding: number;
}

/** What `docker ... --format 'table ...'` uses: `NewWriter(out, 10, 1, 3, ' ', 0)`. */
export const DOCKER_TABLE: TabwriterOptions = { minWidth: 10, padding: 3 };

interface Cell {
  text: string;
  width: number;
  htab: boolean;
}

/** Terminal columns of `s` (go-runewidth: wide characters 2, marks and controls 0). */
export function stringWidth(s: string): number {
  let w = 0;
  for (const c of s) {
    if (/[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u.test(c)) continue;
    w += charWidth(c.codePointAt(0)!);
  }
  return w;
}

/**
 * Aligns tab-separated `text` as Go's tabwriter does, writing and flushing it all at once.
 *
 * @example
 * ```ts
 * tabwrite("ID\tNAME\n1\tweb\n", DOCKER_TABLE); // "ID        NAME\n1         web\n"
 * ```
 */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  let out = "";
  let lines: Cell[][] = [[]];
  let cell = "";
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i];
      line.forEach((c, j) => {
        out += c.text;
        if (j < widths.length) out += " ".repeat(widths[j] - c.width);
      });
      if (i + 1 < lines.length) out += "\n";
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue;
      // A cell in this column: it starts a block of lines that all have one.
      writeLines(line0, cur);
      line0 = cur;
      let width = opts.minWidth;
      for (; cur < line1; cur++) {
        const line = lines[cur];
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column].width + opts.padding);
      }
      widths.push(width);
      format(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  const flush = () => {
    format(0, lines.length);
    lines = [[]];
  };

  const terminate = (htab: boolean) => {
    const line = lines[lines.length - 1];
    line.push({ text: cell, width: stringWidth(cell), htab });
    cell = "";
    return line.length;
  };

  for (const ch of text) {
    if (ch === "\t" || ch === "\v" || ch === "\n" || ch === "\f") {
      const cells = terminate(ch === "\t");
      if (ch === "\n" || ch === "\f") {
        lines.push([]);
        if (ch === "\f" || cells === 1) flush();
      }
    } else {
      cell += ch;
    }
  }
  if (cell.length > 0) terminate(false);
  flush();
  return out;
}
