/**
 * Conditional requests (RFC 9110 §13): the precondition fields evaluated in
 * the order of §13.2.2, and the If-Range decision of §13.1.5.
 *
 * @module
 */

import { trimOws } from "./chars.ts";
import { parseHttpDate } from "./date.ts";
import {
  type EntityTag,
  parseEtag,
  parseEtagList,
  strongMatch,
  weakMatch,
} from "./etag.ts";

/** The validators of the selected representation (the file actually served). */
export interface Validators {
  /**
   * Its ETag as sent in the `ETag` field, e.g. from `formatEtag()`. When
   * undefined (no entity-tag), tag lists never match; `*` still does.
   *
   * @default {undefined}
   */
  etag?: string;
  /**
   * Its modification time in milliseconds since the epoch. Compared at the
   * one-second resolution of the `Last-Modified` field it is sent as.
   * When undefined (no date), date conditions are ignored.
   *
   * @default {undefined}
   */
  lastModified?: number;
  /**
   * When the representation last changed in any way, in milliseconds since
   * the epoch: for a file, the later of its modification and status change
   * times, since a rewrite can put an old modification time back (`cp -p`,
   * `touch -r`) but not an old status change time. Only `If-Range` uses it;
   * `If-Modified-Since` keeps to `lastModified`, the date it was sent.
   *
   * @default {lastModified}
   */
  lastChanged?: number;
}

/** What the evaluation needs from a request, independent of the server's types. */
export interface PreconditionRequest {
  /** The request method, case-sensitive (`"GET"`, `"HEAD"`, ...). */
  method: string;
  /** A field value by lowercase name, repeated lines joined with ", ". */
  header: (lowercaseName: string) => string | undefined;
}

/**
 * The three outcomes: go on with the method, answer 304 Not Modified, or
 * answer 412 Precondition Failed.
 */
export type PreconditionResult =
  | "proceed"
  | "not-modified"
  | "precondition-failed";

/**
 * Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and
 * `If-Modified-Since` in the order RFC 9110 §13.2.2 requires, for a target
 * that exists (so `*` always matches). Dates that do not parse are ignored
 * (§13.1.3, §13.1.4). A malformed tag list in `If-Match` matches nothing
 * (412: that field guards against lost updates, so doubt must fail), and in
 * `If-None-Match` matches nothing either (the full response is the safe
 * answer). `If-Range` is not a precondition of the method: see
 * `isRangeApplicable()`.
 *
 * @example
 * ```ts
 * import { evaluatePreconditions } from "./preconditions.ts";
 * import assert from "node:assert/strict";
 * const validators = { etag: '"v1"', lastModified: Date.UTC(2024, 0, 1) };
 * const headers: Record<string, string> = { "if-none-match": 'W/"v1"' };
 * const request = { method: "GET", header: (name: string) => headers[name] };
 * assert.equal(evaluatePreconditions(request, validators), "not-modified");
 * ```
 */
export function evaluatePreconditions(
  request: PreconditionRequest,
  validators: Validators,
): PreconditionResult {
  const { header } = request;
  const current = currentEtag(validators);
  const lastModified = lastModifiedSeconds(validators);

  // Step 1 and 2: the lost-update guards.
  const ifMatch = header("if-match");
  if (ifMatch !== undefined) {
    if (!listMatches(ifMatch, current, strongMatch)) {
      return "precondition-failed";
    }
  } else {
    const ifUnmodifiedSince = header("if-unmodified-since");
    if (ifUnmodifiedSince !== undefined && lastModified !== undefined) {
      const date = parseHttpDate(trimOws(ifUnmodifiedSince));
      if (date !== undefined && lastModified > date) {
        return "precondition-failed";
      }
    }
  }

  // Step 3 and 4: cache validation. If-None-Match replaces If-Modified-Since.
  const isGetOrHead = request.method === "GET" || request.method === "HEAD";
  const ifNoneMatch = header("if-none-match");
  if (ifNoneMatch !== undefined) {
    if (listMatches(ifNoneMatch, current, weakMatch)) {
      return isGetOrHead ? "not-modified" : "precondition-failed";
    }
  } else if (isGetOrHead) {
    const ifModifiedSince = header("if-modified-since");
    if (ifModifiedSince !== undefined && lastModified !== undefined) {
      const date = parseHttpDate(trimOws(ifModifiedSince));
      if (date !== undefined && lastModified <= date) return "not-modified";
    }
  }
  return "proceed";
}

/**
 * Decides whether a `Range` applies given the request's `If-Range` value
 * (RFC 9110 §13.1.5): true when the field is absent, when it is an
 * entity-tag that strongly matches the current one, or when it is an
 * HTTP-date exactly equal to `Last-Modified` and that date is a strong
 * validator. A date is strong only if the server knows the file did not
 * change twice within that second (§8.8.2.2); the most a server can know is
 * that the second is over, so a file changed less than a second before
 * `nowMs` never satisfies a date. Nor does one changed in a later second
 * than the date names (`lastChanged`): its content may differ from the
 * copy that date was sent with although `Last-Modified` says the same.
 * Anything else (weak tag, other tag, other date, garbage) means: ignore
 * `Range` and send the whole representation.
 *
 * @example
 * ```ts
 * import { isRangeApplicable } from "./preconditions.ts";
 * import assert from "node:assert/strict";
 * const validators = { etag: '"v1"', lastModified: Date.UTC(2024, 0, 1) };
 * assert.equal(isRangeApplicable(undefined, validators), true);
 * assert.equal(isRangeApplicable('"v1"', validators), true);
 * assert.equal(isRangeApplicable('W/"v1"', validators), false);
 * assert.equal(isRangeApplicable("Mon, 01 Jan 2024 00:00:00 GMT", validators), true);
 * // Rewritten later with its old modification time put back.
 * const restored = { ...validators, lastChanged: Date.UTC(2024, 0, 2) };
 * assert.equal(isRangeApplicable("Mon, 01 Jan 2024 00:00:00 GMT", restored), false);
 * ```
 */
export function isRangeApplicable(
  ifRange: string | undefined,
  validators: Validators,
  nowMs: number = Date.now(),
): boolean {
  if (ifRange === undefined) return true;
  const value = trimOws(ifRange);
  // A DQUOTE within the first three characters tells a tag from a date.
  if (value.startsWith('"') || value.startsWith('W/"')) {
    const current = currentEtag(validators);
    if (current === undefined) return false;
    try {
      return strongMatch(parseEtag(value), current);
    } catch {
      return false;
    }
  }
  const date = parseHttpDate(value);
  const mtime = validators.lastModified;
  if (date === undefined || mtime === undefined) return false;
  const changed = Math.max(mtime, validators.lastChanged ?? mtime);
  return date === Math.floor(mtime / 1000) * 1000 &&
    Math.floor(changed / 1000) * 1000 === date && nowMs - changed >= 1000;
}

function currentEtag(validators: Validators): EntityTag | undefined {
  if (validators.etag === undefined) return undefined;
  try {
    return parseEtag(validators.etag);
  } catch {
    return undefined;
  }
}

/** The modification time as the `Last-Modified` field carries it. */
function lastModifiedSeconds(validators: Validators): number | undefined {
  const time = validators.lastModified;
  return time === undefined ? undefined : Math.floor(time / 1000) * 1000;
}

/** Whether a `*` or tag-list field value matches the current tag. */
function listMatches(
  value: string,
  current: EntityTag | undefined,
  match: (a: EntityTag, b: EntityTag) => boolean,
): boolean {
  let list: "*" | EntityTag[];
  try {
    list = parseEtagList(value);
  } catch {
    return false;
  }
  // The target exists (this runs for a file being served), so "*" matches.
  if (list === "*") return true;
  return current !== undefined && list.some((tag) => match(tag, current));
}
