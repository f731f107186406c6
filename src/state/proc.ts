/**
 * Facts about host processes read from /proc, used to tell a live container from a PID
 * that has been reused since it was recorded.
 *
 * @module
 */

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null. */
export function processStartTime(pid: number): number | null {
  const stat = readStat(pid);
  return stat ? Number(stat[19]) : null;
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, ...]. */
function readStat(pid: number): string[] | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/**
 * True when the process recorded as (`pid`, `startTime`) is still running: it exists, is
 * not a zombie, and started at the recorded time.
 */
export function isProcessAlive(pid: number | undefined, startTime: number | undefined): boolean {
  if (!pid) return false;
  const stat = readStat(pid);
  if (!stat || stat[0] === "Z" || stat[0] === "X") return false;
  return startTime === undefined || Number(stat[19]) === startTime;
}
