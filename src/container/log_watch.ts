/**
 * What `logs -f` waits on between two reads of a log: a change in the container's directory
 * (inotify, through `Deno.watchFs`: an entry appended, a file rotated in or out, the state
 * file rewritten when the container stops), or, should no event come (or inotify be out of
 * watches), a slow poll.
 *
 * @module
 */

/** Wakes a follower when something changes under a directory, or after a while anyway. */
export class ChangeWaiter {
  #watcher: Deno.FsWatcher | null = null;
  #changed = false;
  #wake: (() => void) | null = null;

  /** Watches `dirs` (recursively) when given; without them, `wait` is a plain poll. */
  constructor(dirs?: string[]) {
    if (!dirs || dirs.length === 0) return;
    try {
      this.#watcher = Deno.watchFs(dirs, { recursive: true });
    } catch {
      return; // no inotify: the poll is all there is
    }
    (async () => {
      try {
        for await (const _ of this.#watcher!) {
          this.#changed = true;
          this.#wake?.();
        }
      } catch {
        // Closed, or the directory went away: the poll goes on.
      }
    })();
  }

  /** Whether changes are watched (else `wait` only polls). */
  get watching(): boolean {
    return this.#watcher !== null;
  }

  /** Resolves at the next change (at once if one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#changed) {
      this.#changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        this.#changed = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Stops watching. */
  close(): void {
    try {
      this.#watcher?.close();
    } catch {
      // Closed already.
    }
    this.#watcher = null;
  }
}
