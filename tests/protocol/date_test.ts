import assert from "node:assert/strict";
import { formatHttpDate, parseHttpDate } from "../../protocol/date.ts";

/** [name, value, expected time in ms, or undefined for an invalid date]. */
const ROWS: [string, string, number | undefined][] = [
  [
    "IMF-fixdate",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    Date.UTC(1994, 10, 6, 8, 49, 37),
  ],
  [
    "RFC 850",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    Date.UTC(1994, 10, 6, 8, 49, 37),
  ],
  [
    "asctime, one-digit day",
    "Sun Nov  6 08:49:37 1994",
    Date.UTC(1994, 10, 6, 8, 49, 37),
  ],
  // date3 = month SP ( 2DIGIT / ( SP DIGIT ) ): the space is the padding.
  [
    "asctime, one-digit day without its padding",
    "Sun Nov 6 08:49:37 1994",
    undefined,
  ],
  [
    "asctime, two-digit day",
    "Wed Nov 16 08:49:37 1994",
    Date.UTC(1994, 10, 16, 8, 49, 37),
  ],
  [
    "the last second of a day",
    "Sat, 31 Dec 2016 23:59:59 GMT",
    Date.UTC(2016, 11, 31, 23, 59, 59),
  ],
  // A leap second is a valid time-of-day (RFC 5322 §3.3); it counts as :59.
  [
    "a leap second",
    "Sat, 31 Dec 2016 23:59:60 GMT",
    Date.UTC(2016, 11, 31, 23, 59, 59),
  ],
  ["second 61", "Sat, 31 Dec 2016 23:59:61 GMT", undefined],
  ["minute 60", "Mon, 01 Jan 2024 00:60:00 GMT", undefined],
  ["hour 24", "Mon, 01 Jan 2024 24:00:00 GMT", undefined],
  ["31 February", "Sat, 31 Feb 2024 00:00:00 GMT", undefined],
  [
    "29 February of a leap year",
    "Thu, 29 Feb 2024 00:00:00 GMT",
    Date.UTC(2024, 1, 29),
  ],
  ["29 February of another year", "Thu, 29 Feb 2023 00:00:00 GMT", undefined],
  // Four digits are a year as written, not 1900 plus the last two.
  [
    "a year before 100",
    "Mon, 01 Jan 0095 00:00:00 GMT",
    new Date("0095-01-01T00:00:00Z").getTime(),
  ],
  [
    "the year 0001 in asctime",
    "Mon Jan  1 00:00:00 0001",
    new Date("0001-01-01T00:00:00Z").getTime(),
  ],
  [
    "29 February 0100, no leap year",
    "Fri, 29 Feb 0100 00:00:00 GMT",
    undefined,
  ],
  ["day 0", "Mon, 00 Jan 2024 00:00:00 GMT", undefined],
  ["an unknown month", "Mon, 01 Foo 2024 00:00:00 GMT", undefined],
  ["a lower-case month", "Mon, 01 jan 2024 00:00:00 GMT", undefined],
  ["a zone other than GMT", "Mon, 01 Jan 2024 00:00:00 UTC", undefined],
  ["a trailing space", "Mon, 01 Jan 2024 00:00:00 GMT ", undefined],
  ["an empty value", "", undefined],
];

Deno.test("parseHttpDate() accepts the three forms of RFC 9110 §5.6.7 and no impossible date", async (t) => {
  for (const [name, value, expected] of ROWS) {
    await t.step(name, () => assert.equal(parseHttpDate(value), expected));
  }
});

Deno.test("parseHttpDate() puts a two-digit year at most 50 years ahead", () => {
  // RFC 9110 §5.6.7: a year more than 50 years in the future is the past.
  const now = new Date().getUTCFullYear();
  const date = (yy: number) =>
    parseHttpDate(
      `Monday, 01-Jan-${String(yy % 100).padStart(2, "0")} 00:00:00 GMT`,
    );
  assert.equal(date(now + 50), Date.UTC(now + 50, 0, 1));
  assert.equal(date(now + 51), Date.UTC(now + 51 - 100, 0, 1));
  assert.equal(date(now), Date.UTC(now, 0, 1));
});

Deno.test("formatHttpDate() writes an IMF-fixdate that parseHttpDate() reads back", () => {
  for (const time of [0, 784111777000, Date.UTC(2024, 1, 29, 23, 59, 59)]) {
    const text = formatHttpDate(new Date(time));
    assert.match(
      text,
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
    );
    assert.equal(parseHttpDate(text), time);
    // parseHttpDate() ignores the weekday: checked against the runtime's.
    assert.equal(text, new Date(time).toUTCString());
  }
  assert.equal(
    formatHttpDate(new Date(784111777000)),
    "Sun, 06 Nov 1994 08:49:37 GMT",
  );
});
