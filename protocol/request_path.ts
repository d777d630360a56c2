/**
 * From a request-target to the path segments of a file under the root:
 * percent-decoded exactly once, dot segments resolved, the query dropped.
 *
 * @module
 */

import { RequestError } from "./errors.ts";

/** Where a request-target points, relative to the document root. */
export type RequestPath =
  | {
    readonly kind: "inside";
    /** Decoded segments below the root, none empty, `.` or `..`. */
    readonly segments: readonly string[];
    /** Whether the path ended in `/` (a directory was asked for). */
    readonly directory: boolean;
    /** The query with its `?`, or "" (kept for redirects). */
    readonly query: string;
  }
  | {
    /** `..` climbs above the root, or a segment hides a separator. */
    readonly kind: "outside";
  };

// Without ignoreBOM the decoder would drop a leading U+FEFF from each
// segment: "%EF%BB%BF.." would climb like "..", and every name would have
// a second spelling.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses an origin-form or absolute-form request-target (RFC 9112 §3.2).
 *
 * Throws a `RequestError` (400) for a target that is not a path, a malformed
 * `%XX` escape, a decoded control byte such as `%00`, or bytes that are not
 * UTF-8. A `\` inside a segment (as sent or decoded), a decoded `/`, or `..`
 * above the root, gives `{ kind: "outside" }`: it could only name something
 * the root does not hold.
 *
 * @example
 * ```ts
 * import { parseRequestPath } from "./request_path.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRequestPath("/a/./b/../space%20in%20name.txt?x=1"), {
 *   kind: "inside",
 *   segments: ["a", "space in name.txt"],
 *   directory: false,
 *   query: "?x=1",
 * });
 * assert.deepEqual(parseRequestPath("/../etc/passwd"), { kind: "outside" });
 * ```
 */
export function parseRequestPath(target: string): RequestPath {
  let path = target.charCodeAt(0) === 0x2f ? target : absoluteFormPath(target);
  const query = queryOf(path);
  path = withoutQuery(path);

  const raw = path.split("/");
  const segments: string[] = [];
  // Dot segments are resolved after decoding, so %2e%2e counts as ".." too.
  let directory = true;
  for (let i = 1; i < raw.length; i++) {
    const segment = decodeSegment(raw[i]);
    directory = segment === "" || segment === "." || segment === "..";
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (segments.length === 0) return { kind: "outside" };
      segments.pop();
      continue;
    }
    if (segment.includes("/") || segment.includes("\\")) {
      return { kind: "outside" };
    }
    segments.push(segment);
  }
  if (segments.length === 0) directory = true;
  return { kind: "inside", segments, directory, query };
}

// absolute-form = absolute-URI: "http://host/path" names the same path.
function absoluteFormPath(target: string): string {
  const match = /^https?:\/\/[^/?#]*/i.exec(target);
  if (match === null) {
    throw new RequestError(
      "InvalidTarget",
      "Cannot parse request target: not a path or an absolute URI",
    );
  }
  const rest = target.slice(match[0].length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

function decodeSegment(segment: string): string {
  if (!needsDecoding(segment)) return segment;
  const bytes = new Uint8Array(segment.length);
  let n = 0;
  for (let i = 0; i < segment.length; i++) {
    let byte = segment.charCodeAt(i);
    if (byte === 0x25) {
      const hi = hexValue(segment.charCodeAt(i + 1));
      const lo = hexValue(segment.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) {
        throw new RequestError(
          "InvalidPath",
          "Cannot decode path: malformed percent escape",
        );
      }
      byte = hi * 16 + lo;
      i += 2;
    }
    if (byte < 0x20 || byte === 0x7f) {
      throw new RequestError("InvalidPath", "Cannot decode path: control byte");
    }
    bytes[n++] = byte;
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    throw new RequestError("InvalidPath", "Cannot decode path: not UTF-8");
  }
}

function needsDecoding(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x25 || c >= 0x80) return true;
  }
  return false;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * A request-target up to its query or fragment, neither of which changes
 * what file it names.
 *
 * @example
 * ```ts
 * import { withoutQuery } from "./request_path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(withoutQuery("/a/b?x=1#top"), "/a/b");
 * assert.equal(withoutQuery("/a#x?y"), "/a");
 * assert.equal(withoutQuery("/a"), "/a");
 * ```
 */
export function withoutQuery(target: string): string {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return target.slice(0, i);
  }
  return target;
}

/**
 * The query of a request-target, with its `?`, or "" (a fragment, which a
 * client should not send, is dropped).
 *
 * @example
 * ```ts
 * import { queryOf } from "./request_path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(queryOf("/a?b=1#c"), "?b=1");
 * assert.equal(queryOf("/a#c?d"), "");
 * assert.equal(queryOf("/a"), "");
 * ```
 */
export function queryOf(target: string): string {
  const hash = target.indexOf("#");
  const path = hash >= 0 ? target.slice(0, hash) : target;
  const question = path.indexOf("?");
  return question >= 0 ? path.slice(question) : "";
}

// RFC 3986 §3.4: query = *( pchar / "/" / "?" ), pchar = unreserved /
// pct-encoded / sub-delims / ":" / "@". Anything else, a "%" that does not
// begin a pct-encoded octet among it, is escaped as a byte.
const NOT_QUERY = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]|%(?![0-9A-Fa-f]{2})/g;

/**
 * Formats the path of a directory (segments and a trailing slash) with its
 * query, for a Location field: plain ASCII whatever the client sent, and
 * always starting with a single `/`, so it can never name another host.
 *
 * @example
 * ```ts
 * import { formatLocation } from "./request_path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatLocation(["a b", "ü"], "?x=\"1\""), "/a%20b/%C3%BC/?x=%221%22");
 * assert.equal(formatLocation([], ""), "/");
 * ```
 */
export function formatLocation(
  segments: readonly string[],
  query: string,
): string {
  let location = "/";
  for (const segment of segments) location += `${encodeURIComponent(segment)}/`;
  // The query is still raw bytes, one character each: escape them as bytes.
  return location +
    query.replace(
      NOT_QUERY,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
}
