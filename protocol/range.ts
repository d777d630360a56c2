/**
 * Byte ranges (RFC 9110 §14): the `Range` request field resolved against a
 * representation's length, and the `Content-Range` response field.
 *
 * @module
 */

import { isToken, trimOws } from "./chars.ts";

/** One satisfiable byte range, both ends inclusive as in `Content-Range`. */
export interface ByteRange {
  /** Offset of the first byte. */
  start: number;
  /** Offset of the last byte (inclusive). */
  end: number;
}

/**
 * Limits that make the server ignore a `Range` rather than honour it. RFC
 * 9110 §14.2 lets a server ignore many or overlapping ranges, which are the
 * signature of a broken client or of a denial-of-service attempt (one small
 * request multiplying reads and framing). Ignoring means a plain 200 with
 * the whole file, which every client handles.
 */
export const RANGE_LIMITS = {
  /** More range-specs than this and the header is ignored. */
  maxRanges: 16,
} as const;

/** Why a `Range` field was ignored (useful in logs and tests). */
export type RangeIgnoredReason =
  /** No `Range` field in the request. */
  | "absent"
  /** The representation is empty: nothing to take a range of. */
  | "empty"
  /** Not a ranges-specifier, or a range-spec invalid for `bytes`. */
  | "invalid"
  /** A range unit other than `bytes`. */
  | "unit"
  /** More than `RANGE_LIMITS.maxRanges` range-specs. */
  | "too-many"
  /** Two satisfiable ranges share a byte. */
  | "overlap";

/** The outcome of `parseRange()`. */
export type RangeResult =
  /** Serve 200 with the whole representation. */
  | { kind: "ignored"; reason: RangeIgnoredReason }
  /** Serve 416 with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" }
  /** Serve 206: one range as is, several as `multipart/byteranges`. */
  | { kind: "satisfiable"; ranges: ByteRange[] };

const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * Resolves a `Range` field value against a representation of `size` bytes
 * (RFC 9110 §14.1.2, §14.2):
 *
 * - `bytes=a-b`, `bytes=a-`, `bytes=-n`, comma lists with optional
 *   whitespace; the unit is case-insensitive; empty list elements are
 *   skipped.
 * - A last-pos past the end is clamped to `size - 1`; a suffix longer than
 *   the representation selects all of it.
 * - A range-spec whose first-pos is at or past `size`, or `-0`, is
 *   unsatisfiable and dropped; when none is left the result is
 *   `unsatisfiable` (416).
 * - A syntax error anywhere, `b < a`, or another unit: the whole field is
 *   ignored (200), as §14.2 allows, rather than rejected.
 * - More than 16 range-specs, or overlapping ranges: ignored too, a
 *   deliberate anti-DoS choice (§14.2 permits it). Contiguous ranges
 *   (`0-9,10-19`) are not overlapping. Ranges that share no byte, clamped
 *   into the file, never add up to more than the file.
 * - An empty representation ignores every `Range`: §14.2 lets a server do
 *   so, and `Content-Range` has no way to describe a range of zero bytes.
 *
 * Ranges come back in the order the client asked for them.
 *
 * @example
 * ```ts
 * import { parseRange } from "./range.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRange("bytes=0-9, -5", 100), {
 *   kind: "satisfiable",
 *   ranges: [{ start: 0, end: 9 }, { start: 95, end: 99 }],
 * });
 * assert.deepEqual(parseRange("bytes=500-", 100), { kind: "unsatisfiable" });
 * assert.deepEqual(parseRange("pages=1-2", 100), { kind: "ignored", reason: "unit" });
 * ```
 */
export function parseRange(
  value: string | undefined,
  size: number,
): RangeResult {
  if (value === undefined) return ignored("absent");
  if (size <= 0) return ignored("empty");
  const eq = value.indexOf("=");
  // A range unit is a token (RFC 9110 §14.1).
  if (eq < 0 || !isToken(value.slice(0, eq))) return ignored("invalid");
  if (value.slice(0, eq).toLowerCase() !== "bytes") return ignored("unit");

  const ranges: ByteRange[] = [];
  let specs = 0;
  for (const element of value.slice(eq + 1).split(",")) {
    const spec = trimOws(element);
    if (spec === "") continue;
    if (++specs > RANGE_LIMITS.maxRanges) return ignored("too-many");
    let m = INT_RANGE.exec(spec);
    if (m) {
      const first = toPosition(m[1]);
      if (m[2] === "") {
        if (first < size) ranges.push({ start: first, end: size - 1 });
        continue;
      }
      if (compareDigits(m[1], m[2]) > 0) return ignored("invalid");
      if (first < size) {
        ranges.push({
          start: first,
          end: Math.min(toPosition(m[2]), size - 1),
        });
      }
      continue;
    }
    m = SUFFIX_RANGE.exec(spec);
    if (m) {
      const length = toPosition(m[1]);
      if (length > 0) {
        ranges.push({ start: Math.max(size - length, 0), end: size - 1 });
      }
      continue;
    }
    return ignored("invalid");
  }
  if (specs === 0) return ignored("invalid");
  if (ranges.length === 0) return { kind: "unsatisfiable" };

  // Ranges clamped into the representation that share no byte cannot add
  // up to more bytes than it has.
  const sorted = ranges.toSorted((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start <= sorted[i - 1].end) return ignored("overlap");
  }
  return { kind: "satisfiable", ranges };
}

/**
 * Formats a `Content-Range` field value (RFC 9110 §14.4): `bytes a-b/size`
 * for a range, `bytes *\/size` for a 416 when `range` is omitted.
 *
 * @example
 * ```ts
 * import { formatContentRange } from "./range.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatContentRange(100, { start: 0, end: 9 }), "bytes 0-9/100");
 * assert.equal(formatContentRange(100), "bytes *\/100");
 * ```
 */
export function formatContentRange(size: number, range?: ByteRange): string {
  return range === undefined
    ? `bytes */${size}`
    : `bytes ${range.start}-${range.end}/${size}`;
}

function ignored(reason: RangeIgnoredReason): RangeResult {
  return { kind: "ignored", reason };
}

/** A position; past 2^53 only its being "larger than any file" matters. */
function toPosition(digits: string): number {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : Infinity;
}

/** Compares two digit strings exactly, however long they are. */
function compareDigits(a: string, b: string): number {
  a = a.replace(/^0+(?=\d)/, "");
  b = b.replace(/^0+(?=\d)/, "");
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
