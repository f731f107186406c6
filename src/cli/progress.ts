/**
 * Docker-style pull progress on a terminal: one line per layer, redrawn in place, with a
 * bar while it downloads. Not on a terminal, layers report plain status lines instead.
 *
 * @module
 */

import { humanSize } from "../util/humanize.ts";

/** Renders a progress bar of `width` characters, as Docker's `[====>     ]`. */
export function progressBar(current: number, total: number, width = 50): string {
  const done = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  return `[${"=".repeat(Math.max(0, done - 1))}${done > 0 ? ">" : ""}${" ".repeat(width - done)}]`;
}

/** Keeps one line per layer on the terminal and rewrites them as they change. */
export class TerminalProgress {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private lastDraw = 0;

  constructor(private readonly write: (s: string) => void) {}

  /** A layer's news; downloads redraw at most every 100 ms. */
  update(id: string, status: string, current?: number, total?: number): void {
    if (!this.lines.has(id)) this.order.push(id);
    const text = current !== undefined && total !== undefined
      ? `${id}: ${status} ${progressBar(current, total)} ${humanSize(current)}/${humanSize(total)}`
      : `${id}: ${status}`;
    this.lines.set(id, text);
    const now = Date.now();
    if (current !== undefined && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw();
  }

  private drawn = 0;

  private draw(): void {
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const id of this.order) out += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.write(out);
  }
}
