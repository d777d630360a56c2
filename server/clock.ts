/**
 * Formatted times, computed at most once per second: every response needs
 * a Date field and every log line a timestamp.
 *
 * @module
 */

import { formatHttpDate } from "../protocol/date.ts";

const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

let second = -1;
let httpDate = "";
let logDate = "";

function refresh(): void {
  const now = Date.now();
  const current = Math.floor(now / 1000);
  if (current === second) return;
  second = current;
  const date = new Date(current * 1000);
  httpDate = formatHttpDate(date);
  const day = String(date.getUTCDate()).padStart(2, "0");
  const month = MONTHS.slice(
    date.getUTCMonth() * 3,
    date.getUTCMonth() * 3 + 3,
  );
  const time = date.toISOString().slice(11, 19);
  logDate = `${day}/${month}/${date.getUTCFullYear()}:${time} +0000`;
}

/**
 * The current Unix time in whole seconds, as the Date field shows it.
 *
 * @example
 * ```ts
 * import { currentSecond } from "./clock.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(currentSecond() - Date.now() / 1000) < 2);
 * ```
 */
export function currentSecond(): number {
  refresh();
  return second;
}

/**
 * The current time as an IMF-fixdate, for the Date field.
 *
 * @example
 * ```ts
 * import { currentHttpDate } from "./clock.ts";
 * import assert from "node:assert/strict";
 * assert.match(currentHttpDate(), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
 * ```
 */
export function currentHttpDate(): string {
  refresh();
  return httpDate;
}

/**
 * The current time in Common Log Format (`27/Nov/2026:12:00:00 +0000`).
 *
 * @example
 * ```ts
 * import { currentLogDate } from "./clock.ts";
 * import assert from "node:assert/strict";
 * assert.match(currentLogDate(), /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
 * ```
 */
export function currentLogDate(): string {
  refresh();
  return logDate;
}
