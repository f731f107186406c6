/**
 * The build's output, as BuildKit's plain progress prints it: each step numbered (`#3`), its
 * name (`[2/4] RUN make`), its output lines with the seconds since it began, then `CACHED`,
 * `DONE 0.4s` or `ERROR: ...`. Quiet mode prints nothing but what the caller prints at the end.
 *
 * @module
 */

/** One step as it runs. */
export interface StepProgress {
  /** A line about the step (a pull's progress, say). */
  log(line: string): void;
  /** Output of the step's command. */
  output(chunk: Uint8Array, elapsedMs: number): void;
  cached(): void;
  done(): void;
  error(message: string): void;
}

/** Where a build's progress goes. */
export interface BuildProgress {
  step(name: string): StepProgress;
  /** A line of its own (`#9 writing image sha256:... done`). */
  note(name: string, lines: string[]): void;
}

/** BuildKit's plain progress on `write`. */
export function plainProgress(write: (s: string) => void): BuildProgress {
  let n = 0;
  return {
    step(name) {
      const id = ++n;
      const started = Date.now();
      write(`#${id} ${name}\n`);
      let partial = "";
      const secs = () => ((Date.now() - started) / 1000).toFixed(1);
      const flush = () => {
        if (partial) write(`#${id} ${secs()} ${partial}\n`);
        partial = "";
      };
      const decoder = new TextDecoder();
      return {
        log: (line) => write(`#${id} ${line}\n`),
        output(chunk, elapsedMs) {
          const text = partial + decoder.decode(chunk, { stream: true });
          const lines = text.split("\n");
          partial = lines.pop()!;
          for (const l of lines) write(`#${id} ${(elapsedMs / 1000).toFixed(3)} ${l}\n`);
        },
        cached: () => write(`#${id} CACHED\n`),
        done() {
          flush();
          write(`#${id} DONE ${secs()}s\n`);
        },
        error(message) {
          flush();
          write(`#${id} ERROR: ${message}\n`);
        },
      };
    },
    note(name, lines) {
      const id = ++n;
      write(`#${id} ${name}\n`);
      for (const l of lines) write(`#${id} ${l}\n`);
      write(`#${id} DONE 0.0s\n`);
    },
  };
}

/** No progress at all (`-q`). */
export const quietProgress: BuildProgress = {
  step: () => ({ log() {}, output() {}, cached() {}, done() {}, error() {} }),
  note() {},
};
