/**
 * A coarse clock for the hot path: every response needs a Date field, every
 * log line a timestamp and every phase of a connection a deadline, and
 * reading the time is a call into the runtime each time. A running server
 * calls {@linkcode tick} ten times a second; between ticks these are
 * variable reads. With no server keeping it ticking (a handler used on its
 * own), each read refreshes the clock first, so it never stands still.
 *
 * @module
 */

import { formatHttpDate } from "../protocol/date.ts";

let second = -1;
let httpDate = "";
let logDate = "";
let monotonic = performance.now();
/** How many callers keep the clock ticking (see {@linkcode keepTicking}). */
let tickers = 0;

/**
 * Reads the time: the values below hold until the next call. Whoever needs
 * them current (the server's sweeper) calls this often enough.
 *
 * @example
 * ```ts
 * import { coarseNow, tick } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const before = coarseNow();
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * tick();
 * assert.ok(coarseNow() - before >= 20);
 * ```
 */
export function tick(): void {
  monotonic = performance.now();
  refresh();
}

/**
 * Promises to call {@linkcode tick} at least ten times a second until the
 * returned function is called; meanwhile reads of the clock no longer
 * refresh it themselves. A running server's sweeper does this.
 *
 * @example
 * ```ts
 * import { coarseNow, keepTicking } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const stop = keepTicking();
 * const ticked = coarseNow();
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * assert.equal(coarseNow(), ticked); // nobody ticked meanwhile
 * stop();
 * assert.ok(coarseNow() - ticked >= 20);
 * ```
 */
export function keepTicking(): () => void {
  tickers++;
  tick();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    tickers--;
  };
}

/**
 * Reads the time now, and moves the coarse clock on to it: for the start of
 * a short deadline. Between ticks the coarse clock lags by up to a tick;
 * when the process is starved of CPU and the ticks come late, by as long as
 * the starvation lasted, and a deadline dated from it would be cut short by
 * as much. (The Date field waits for the next tick.)
 *
 * @example
 * ```ts
 * import { coarseNow, freshNow, keepTicking } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const stop = keepTicking();
 * const ticked = coarseNow();
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * assert.ok(freshNow() - ticked >= 20);
 * assert.ok(coarseNow() - ticked >= 20);
 * stop();
 * ```
 */
export function freshNow(): number {
  monotonic = performance.now();
  return monotonic;
}

/** `performance.now()` as of the last {@linkcode tick}. */
export function coarseNow(): number {
  if (tickers === 0) tick();
  return monotonic;
}

refresh();

function refresh(): void {
  const now = Date.now();
  const current = Math.floor(now / 1000);
  if (current === second) return;
  second = current;
  httpDate = formatHttpDate(new Date(current * 1000));
  // "Sun, 06 Nov 1994 08:49:37 GMT" holds every part of the log's
  // "06/Nov/1994:08:49:37 +0000", at fixed places.
  const day = httpDate.slice(5, 7);
  const month = httpDate.slice(8, 11);
  const year = httpDate.slice(12, 16);
  logDate = `${day}/${month}/${year}:${httpDate.slice(17, 25)} +0000`;
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
  if (tickers === 0) refresh();
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
  if (tickers === 0) refresh();
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
  if (tickers === 0) refresh();
  return logDate;
}
