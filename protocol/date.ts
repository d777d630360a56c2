/**
 * HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out; in, IMF-fixdate and the two
 * obsolete forms (rfc850-date, asctime-date).
 *
 * @module
 */

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;

/**
 * Formats a time as an IMF-fixdate, the only form a sender may generate.
 *
 * @example
 * ```ts
 * import { formatHttpDate } from "./date.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatHttpDate(new Date(784111777000)), "Sun, 06 Nov 1994 08:49:37 GMT");
 * ```
 */
export function formatHttpDate(date: Date): string {
  // ECMA-262 pins toUTCString() to exactly the IMF-fixdate layout.
  return date.toUTCString();
}

const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three forms RFC 9110 §5.6.7 tells a
 * recipient to accept, to milliseconds since the epoch. Anything else, or an
 * impossible calendar date, gives `undefined`: callers ignore invalid dates.
 *
 * @example
 * ```ts
 * import { parseHttpDate } from "./date.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
 * assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777000);
 * assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777000);
 * assert.equal(parseHttpDate("yesterday"), undefined);
 * ```
 */
export function parseHttpDate(value: string): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) return toTime(+m[3], m[2], +m[1], +m[4], +m[5], +m[6]);
  m = RFC850_DATE.exec(value);
  if (m) {
    // RFC 9110: a two-digit year more than 50 years ahead means the last century.
    const yy = +m[3];
    const nowYear = new Date().getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    return toTime(year, m[2], +m[1], +m[4], +m[5], +m[6]);
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return toTime(+m[6], m[1], +m[2].trim(), +m[3], +m[4], +m[5]);
  return undefined;
}

function toTime(
  year: number,
  monthName: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const month = (MONTHS as readonly string[]).indexOf(monthName);
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  // Not Date.UTC, which reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, Math.min(second, 59));
  // 31 Feb rolls over into March; such a date is invalid, not March.
  if (date.getUTCDate() !== day) return undefined;
  return date.getTime();
}
