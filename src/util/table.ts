/**
 * Docker's table output: left-aligned columns separated by three spaces (Go's tabwriter
 * with padding 3), and its ways of shortening IDs and commands.
 *
 * @module
 */

/**
 * Formats rows under headers, each column as wide as its widest cell.
 *
 * @example
 * ```ts
 * formatTable(["A", "B"], [["x", "y"]]); // "A   B\nx   y"
 * ```
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i] + 3)).join("")
      .trimEnd()
  ).join("\n");
}

/**
 * The 12-character short form of an ID.
 *
 * @example
 * ```ts
 * truncateId("sha256:0123456789abcdef"); // "0123456789ab"
 * ```
 */
export function truncateId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/**
 * The COMMAND column of `ps`: the command line in double quotes, cut to 20 characters with
 * an ellipsis unless `noTrunc`.
 *
 * @example
 * ```ts
 * formatCommand(["sh", "-c", "while true; do sleep 1; done"], false); // "\"sh -c 'while true; d…\""
 * ```
 */
export function formatCommand(args: string[], noTrunc: boolean): string {
  // Docker's daemon quotes arguments that contain a space, and nothing else.
  const line = args.map((a) => a.includes(" ") ? `'${a}'` : a).join(" ");
  const chars = [...line];
  const shown = noTrunc || chars.length <= 20 ? line : `${chars.slice(0, 19).join("")}…`;
  return JSON.stringify(shown);
}
