/**
 * Times and sizes as Docker prints them: go-units' `HumanDuration` and
 * `HumanSizeWithPrecision`, and the daemon's STATUS words for `ps`.
 *
 * @module
 */

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE;

/**
 * A duration in words, with go-units' `HumanDuration` thresholds: whole seconds and minutes
 * are truncated, hours are rounded to the nearest, then days below 48 hours... 2 weeks,
 * weeks below 60 days, months (of 30 days) below 730 days, years (of 365 days, from the
 * truncated hours) after. Negative and NaN durations read "Less than a second".
 *
 * @example
 * ```ts
 * humanDuration(3000); // "3 seconds"
 * humanDuration(90 * 60_000); // "2 hours"
 * ```
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (!(seconds >= 1)) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  // go-units counts years from the truncated hours, so 729.98 days is still "1 years".
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/**
 * The CREATED column of `ps` and `images`: `humanDuration` followed by " ago".
 *
 * @example
 * ```ts
 * createdAgo(120_000); // "2 minutes ago"
 * ```
 */
export function createdAgo(ms: number): string {
  return `${humanDuration(ms)} ago`;
}

/** What `statusText` needs to know of a container; times in epoch milliseconds. */
export interface StatusInput {
  status: "created" | "running" | "exited";
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  /** A running container's health as `ps` shows it: "healthy", "health: starting". */
  health?: string;
  /** Running but frozen by `pause`. */
  paused?: boolean;
}

/**
 * The STATUS column of `ps`, in the Docker daemon's words: "Created"; "Up 3 seconds" since
 * `startedAt`, "Up 3 seconds (healthy)" with a healthcheck; "Exited (137) 2 minutes ago" since
 * `finishedAt`. An exited container with no
 * `finishedAt` is treated as Docker treats it: "Created" if it never started (its start
 * failed), else an empty string.
 *
 * @example
 * ```ts
 * statusText({ status: "running", startedAt: 0 }, 3000); // "Up 3 seconds"
 * statusText({ status: "exited", finishedAt: 0, exitCode: 137 }, 120_000);
 * // "Exited (137) 2 minutes ago"
 * ```
 */
export function statusText(s: StatusInput, now: number = Date.now()): string {
  if (s.status === "running") {
    const up = `Up ${humanDuration(now - (s.startedAt ?? now))}`;
    if (s.paused) return `${up} (Paused)`;
    return s.health ? `${up} (${s.health})` : up;
  }
  if (s.status === "exited" && s.finishedAt !== undefined) {
    return `Exited (${s.exitCode ?? 0}) ${humanDuration(now - s.finishedAt)} ago`;
  }
  if (s.status === "created" || s.startedAt === undefined) return "Created";
  return "";
}

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/**
 * A size in decimal units with three significant digits (or `precision`), as `docker images` shows it
 * (go-units' `HumanSizeWithPrecision(size, 3)`, i.e. Go's `%.3g`: ties round to even, and
 * 999.5kB and up print in exponent form, "1e+03kB", exactly as Docker does). `precision` 4
 * is go-units' `HumanSize`, which `prune`'s "Total reclaimed space" uses.
 *
 * @example
 * ```ts
 * humanSize(4_261_000); // "4.26MB"
 * humanSize(0); // "0B"
 * humanSize(1_234_567, 4); // "1.235MB" (go-units' HumanSize, as `system df` prints)
 * ```
 */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes, i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/**
 * Go's `fmt.Sprintf("%.*g", precision, x)`: `precision` significant digits, rounded half to
 * even on the exact binary value, trailing zeros dropped, exponent form when the decimal
 * exponent is below -4 or not below the digits kept.
 *
 * @example
 * ```ts
 * formatG(5.5, 3); // "5.5"
 * formatG(999.5, 3); // "1e+03"
 * ```
 */
export function formatG(x: number, precision: number): string {
  if (Number.isNaN(x)) return "NaN";
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? "-" : "";
  if (!Number.isFinite(x)) return `${sign}Inf`;
  const prec = Math.max(1, Math.trunc(precision));
  const { digits, dp } = roundDigits(exactDecimal(Math.abs(x)), prec);
  const nd = digits.length;
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    const shown = Math.min(prec, nd);
    const mantissa = digits[0] + (shown > 1 ? `.${digits.slice(1, shown)}` : "");
    return `${sign}${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const decimals = Math.max((prec > dp ? nd : prec) - dp, 0);
  const intPart = dp > 0 ? digits.slice(0, dp).padEnd(dp, "0") : "0";
  let frac = "";
  for (let j = dp; j < dp + decimals; j++) frac += j >= 0 && j < nd ? digits[j] : "0";
  return `${sign}${intPart}${frac ? `.${frac}` : ""}`;
}

/** Decimal digits and point position of a double (value = 0.DIGITS × 10^dp), exactly. */
interface Decimal {
  digits: string;
  dp: number;
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: "", dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let e2 = -1074; // subnormal
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    e2 = biased - 1075;
  }
  // x = mantissa × 2^e2 = mantissa × 5^k / 10^k when e2 = -k < 0.
  const s = e2 >= 0 ? (mantissa << BigInt(e2)).toString() : (mantissa * 5n ** BigInt(-e2))
    .toString();
  const dp = e2 >= 0 ? s.length : s.length + e2;
  return { digits: s.replace(/0+$/, ""), dp };
}

/** Rounds to `prec` significant digits, half to even, and drops trailing zeros. */
function roundDigits({ digits, dp }: Decimal, prec: number): Decimal {
  if (digits.length <= prec) return { digits, dp };
  let head = digits.slice(0, prec);
  const next = digits[prec], rest = digits.slice(prec + 1);
  const odd = Number(head[prec - 1]) % 2 === 1;
  if (next > "5" || (next === "5" && (/[1-9]/.test(rest) || odd))) {
    const up = (BigInt(head) + 1n).toString();
    if (up.length > prec) {
      head = up.slice(0, prec);
      dp++;
    } else {
      head = up;
    }
  }
  return { digits: head.replace(/0+$/, ""), dp };
}

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/**
 * A size in binary units with four significant digits, as `docker stats` shows memory
 * (go-units' `BytesSize`, i.e. `CustomSize("%.4g%s", size, 1024, binaryAbbrs)`).
 *
 * @example
 * ```ts
 * bytesSize(1_433_600); // "1.367MiB"
 * bytesSize(0); // "0B"
 * ```
 */
export function bytesSize(bytes: number): string {
  let size = bytes, i = 0;
  while (size >= 1024 && i < BINARY_UNITS.length - 1) {
    size /= 1024;
    i++;
  }
  return `${formatG(size, 4)}${BINARY_UNITS[i]}`;
}
