/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}`, so that
 * `logs -t`, `--tail` and `-f` have a time and a stream for every line.
 *
 * @module
 */

/** One line of a container's output. */
export interface LogEntry {
  log: string;
  stream: "stdout" | "stderr";
  time: string;
}

/** Appends a container's output to its log, a line at a time. */
export class JsonLogWriter {
  private file: Deno.FsFile;
  private partial: Record<string, string> = { stdout: "", stderr: "" };
  private decoder: Record<string, TextDecoder> = {
    stdout: new TextDecoder(),
    stderr: new TextDecoder(),
  };

  constructor(path: string) {
    this.file = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
  }

  /** Records a chunk of output; complete lines are written at once, the rest is held. */
  write(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    const text = this.partial[stream] + this.decoder[stream].decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.partial[stream] = lines.pop()!;
    this.emit(stream, lines.map((l) => l + "\n"));
  }

  /** Writes out any unfinished line and closes the log. */
  close(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]) this.emit(stream, [this.partial[stream]]);
    }
    this.file.close();
  }

  private emit(stream: "stdout" | "stderr", lines: string[]): void {
    if (lines.length === 0) return;
    const time = new Date().toISOString().replace("Z", "000000Z");
    const out = lines.map((log) => JSON.stringify({ log, stream, time }) + "\n").join("");
    const bytes = new TextEncoder().encode(out);
    for (let off = 0; off < bytes.length;) off += this.file.writeSync(bytes.subarray(off));
  }
}

/** Parses log text; a torn last line (being written) is left for the next read. */
export function parseLogLines(text: string): { entries: LogEntry[]; rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  const entries: LogEntry[] = [];
  for (const line of lines) {
    try {
      entries.push(JSON.parse(line));
    } catch {
      // Not ours (or damaged): skip it rather than fail the whole read.
    }
  }
  return { entries, rest };
}
