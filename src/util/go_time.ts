/**
 * Go's `time.Time.String()` for Docker's `CreatedAt` columns.
 *
 * @module
 */

/**
 * A time as Go's `time.Time.String()` prints it in the local zone, which Docker's
 * `CreatedAt` columns use: `2006-01-02 15:04:05 -0700 MST` (no fraction: Docker's times
 * there are whole seconds).
 */
export function goTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const zone = offset === 0
    ? "UTC"
    : new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d)
      .find((x) => x.type === "timeZoneName")?.value ?? "";
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())} ${sign}${p(Math.trunc(Math.abs(offset) / 60))}${
    p(Math.abs(offset) % 60)
  } ${zone}`;
}
