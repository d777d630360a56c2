import assert from "node:assert/strict";
import {
  type ByteRange,
  formatContentRange,
  parseRange,
  RANGE_LIMITS,
  type RangeIgnoredReason,
  type RangeResult,
} from "../../protocol/range.ts";

const ok = (...ranges: [number, number][]): RangeResult => ({
  kind: "satisfiable",
  ranges: ranges.map(([start, end]): ByteRange => ({ start, end })),
});
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };
const ignored = (reason: RangeIgnoredReason): RangeResult => ({
  kind: "ignored",
  reason,
});

const HUGE = "99999999999999999999"; // past Number.MAX_SAFE_INTEGER

/** [name, Range value, representation size, expected]. */
const ROWS: [string, string | undefined, number, RangeResult][] = [
  ["no Range field: ignored", undefined, 100, ignored("absent")],
  // Only SP and HTAB are white space (RFC 9110 §5.6.3), not a no-break space.
  ["OWS around a range is fine", "bytes= 0-4 ,\t6-7", 100, ok([0, 4], [6, 7])],
  ["a no-break space is no OWS", "bytes=0-4\xa0", 100, ignored("invalid")],

  // §14.1.2 int-range and suffix-range.
  ["a-b selects bytes a to b inclusive", "bytes=0-9", 100, ok([0, 9])],
  ["a-a selects one byte", "bytes=99-99", 100, ok([99, 99])],
  ["a- selects to the end", "bytes=90-", 100, ok([90, 99])],
  ["0- selects the whole file", "bytes=0-", 100, ok([0, 99])],
  ["-n selects the last n bytes", "bytes=-10", 100, ok([90, 99])],
  ["leading zeros are plain digits", "bytes=007-010", 100, ok([7, 10])],
  // Compared as digits, "0005" is longer than "10" but not larger.
  [
    "leading zeros do not make a start larger",
    "bytes=0005-10",
    100,
    ok([5, 10]),
  ],
  ["a last-pos past the end is clamped", "bytes=50-1000", 100, ok([50, 99])],
  ["a huge last-pos is clamped", `bytes=0-${HUGE}`, 100, ok([0, 99])],
  [
    "a suffix longer than the file selects all of it",
    "bytes=-1000",
    100,
    ok([0, 99]),
  ],
  ["a huge suffix selects all of it", `bytes=-${HUGE}`, 100, ok([0, 99])],
  [
    "a suffix equal to the size selects all of it",
    "bytes=-100",
    100,
    ok([0, 99]),
  ],
  ["a one-byte file has one satisfiable byte", "bytes=0-0", 1, ok([0, 0])],
  ["the unit is case-insensitive", "Bytes=0-9", 100, ok([0, 9])],

  // Lists: order kept, OWS and empty elements accepted.
  [
    "a list keeps the requested order",
    "bytes=20-29,0-9",
    100,
    ok([20, 29], [0, 9]),
  ],
  [
    "OWS around commas is allowed",
    "bytes=0-9 ,\t20-29",
    100,
    ok([0, 9], [20, 29]),
  ],
  [
    "empty list elements are skipped",
    "bytes=,0-9,,20-29,",
    100,
    ok([0, 9], [20, 29]),
  ],
  [
    "contiguous ranges are not overlapping",
    "bytes=0-9,10-19",
    100,
    ok([0, 9], [10, 19]),
  ],
  ["a suffix and an int-range mix", "bytes=0-0,-1", 100, ok([0, 0], [99, 99])],

  // Satisfiability: drop the unsatisfiable, 416 when none is left.
  [
    "a first-pos at the size is unsatisfiable",
    "bytes=100-",
    100,
    UNSATISFIABLE,
  ],
  [
    "a first-pos past the size is unsatisfiable",
    "bytes=200-300",
    100,
    UNSATISFIABLE,
  ],
  ["a huge first-pos is unsatisfiable", `bytes=${HUGE}-`, 100, UNSATISFIABLE],
  ["a zero-length suffix is unsatisfiable", "bytes=-0", 100, UNSATISFIABLE],
  [
    "a list of unsatisfiable ranges is unsatisfiable",
    "bytes=100-,-0",
    100,
    UNSATISFIABLE,
  ],
  [
    "unsatisfiable members of a list are dropped",
    "bytes=0-0,100-200",
    100,
    ok([0, 0]),
  ],

  // Invalid or other units: ignored (200), not 416.
  [
    "last-pos before first-pos is invalid",
    "bytes=9-0",
    100,
    ignored("invalid"),
  ],
  [
    "huge last-pos before huge first-pos is invalid",
    `bytes=${HUGE}-${HUGE.slice(1)}`,
    100,
    ignored("invalid"),
  ],
  [
    "one invalid member invalidates the list",
    "bytes=0-9,abc",
    100,
    ignored("invalid"),
  ],
  [
    "an open range without digits is invalid",
    "bytes=-",
    100,
    ignored("invalid"),
  ],
  ["two dashes are invalid", "bytes=1-2-3", 100, ignored("invalid")],
  [
    "whitespace inside a range-spec is invalid",
    "bytes=0 - 9",
    100,
    ignored("invalid"),
  ],
  ["a sign is invalid", "bytes=+1-2", 100, ignored("invalid")],
  ["a hexadecimal position is invalid", "bytes=0x1-2", 100, ignored("invalid")],
  ["a parameter is invalid", "bytes=0-9;x=1", 100, ignored("invalid")],
  ["no range-spec at all is invalid", "bytes=", 100, ignored("invalid")],
  ["only empty elements is invalid", "bytes=, ,", 100, ignored("invalid")],
  ["a missing '=' is invalid", "bytes 0-9", 100, ignored("invalid")],
  ["an empty unit is invalid", "=0-9", 100, ignored("invalid")],
  [
    "a unit that is not a token is invalid",
    "by tes=0-9",
    100,
    ignored("invalid"),
  ],
  ["another unit is ignored", "items=0-9", 100, ignored("unit")],
  [
    "a unit that merely starts with bytes is another unit",
    "bytesx=0-9",
    100,
    ignored("unit"),
  ],

  // Anti-DoS: ignored (200).
  ["overlapping ranges are ignored", "bytes=0-9,9-19", 100, ignored("overlap")],
  ["a repeated range is ignored", "bytes=0-9,0-9", 100, ignored("overlap")],
  [
    "ranges overlapping after suffix resolution are ignored",
    "bytes=0-50,-50",
    100,
    ignored("overlap"),
  ],
  [
    "ranges overlapping after clamping are ignored",
    "bytes=90-200,95-",
    100,
    ignored("overlap"),
  ],
  [
    `${RANGE_LIMITS.maxRanges} ranges are served`,
    `bytes=${
      Array.from({ length: 16 }, (_, i) => `${i * 2}-${i * 2}`).join(",")
    }`,
    100,
    ok(
      ...Array.from({ length: 16 }, (_, i): [number, number] => [i * 2, i * 2]),
    ),
  ],
  [
    `more than ${RANGE_LIMITS.maxRanges} ranges are ignored`,
    `bytes=${
      Array.from({ length: 17 }, (_, i) => `${i * 2}-${i * 2}`).join(",")
    }`,
    100,
    ignored("too-many"),
  ],

  // Empty representation: every Range is ignored.
  ["an empty file ignores a range", "bytes=0-9", 0, ignored("empty")],
  ["an empty file ignores a suffix range", "bytes=-5", 0, ignored("empty")],
  ["an empty file ignores an invalid range", "bytes=x", 0, ignored("empty")],
];

Deno.test("parseRange() follows RFC 9110 §14.1.2 and §14.2", async (t) => {
  for (const [name, value, size, expected] of ROWS) {
    await t.step(`parseRange() ${name}`, () => {
      assert.deepEqual(parseRange(value, size), expected);
    });
  }
});

Deno.test("parseRange() clamps a suffix longer than the file", () => {
  assert.deepEqual(parseRange("bytes=-5000", 4096), ok([0, 4095]));
});

Deno.test("parseRange() never returns more bytes than the file has", () => {
  // Exhaustive over small files: whatever is satisfiable stays in bounds.
  const specs = ["0-", "1-", "-1", "-3", "2-2", "0-1", "3-9", "5-", "-0"];
  let satisfiable = 0;
  for (let size = 1; size <= 6; size++) {
    for (const a of specs) {
      for (const b of specs) {
        const result = parseRange(`bytes=${a},${b}`, size);
        if (result.kind !== "satisfiable") continue;
        satisfiable++;
        let total = 0;
        for (const { start, end } of result.ranges) {
          assert.ok(
            0 <= start && start <= end && end < size,
            `${a},${b} on ${size}`,
          );
          total += end - start + 1;
        }
        assert.ok(total <= size, `${a},${b} on ${size}`);
      }
    }
  }
  // Most of the grid is answered with ranges, not just refused or ignored.
  assert.ok(satisfiable > 100, `${satisfiable} of 486 satisfiable`);
});

Deno.test("formatContentRange() formats ranges and the 416 form", () => {
  const rows: [number, ByteRange | undefined, string][] = [
    [100, { start: 0, end: 9 }, "bytes 0-9/100"],
    [100, { start: 99, end: 99 }, "bytes 99-99/100"],
    [100, undefined, "bytes */100"],
    [0, undefined, "bytes */0"],
  ];
  for (const [size, range, expected] of rows) {
    assert.equal(formatContentRange(size, range), expected);
  }
});
