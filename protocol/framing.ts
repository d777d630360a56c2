/**
 * What a server must settle from a request's fields before it can answer
 * (RFC 9112 §3.2, §6, §9.3): the Host rules, how the body is framed, and
 * whether the connection stays open.
 *
 * @module
 */

import { trimOws } from "./chars.ts";
import { RequestError } from "./errors.ts";
import { hasValidAuthority, isHost } from "./_host.ts";
import type { RequestHead } from "./request_head.ts";

/**
 * Completes a request head from its request line and fields (names in lower
 * case, values alternating, as `parseRequestHead()` collects them), settled
 * once here so that handlers never guess:
 *
 * - Host (RFC 9112 §3.2): exactly one in HTTP/1.1, at most one in 1.0, and
 *   its value `uri-host [ ":" port ]` (RFC 3986 §3.2.2) or empty, which
 *   RFC 9110 §7.2 allows when the target has no authority.
 * - The authority of an absolute-form target (`http://host:port/path`),
 *   which stands in for Host (RFC 9112 §3.2.2), by the same rule, except
 *   that an `http` or `https` URI must not have an empty host and userinfo
 *   is an error (RFC 9110 §4.2.1, §4.2.4).
 * - Body framing (RFC 9112 §6.1–§6.3): one Content-Length of digits, or
 *   Transfer-Encoding `chunked` alone, never both. A request whose final
 *   coding is not `chunked` has no length a server can find (400); one with
 *   codings before `chunked` has a length, but a body we cannot decode (501).
 * - Persistence (RFC 9112 §9.3): HTTP/1.1 keeps the connection unless
 *   `Connection: close`; HTTP/1.0 closes it unless `Connection: keep-alive`.
 *
 * Throws a {@linkcode RequestError} for the first rule broken.
 *
 * @example
 * ```ts
 * import { settleFraming } from "./framing.ts";
 * import { RequestError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const head = settleFraming("POST", "/form", 1, [
 *   "host", "example.com:8080",
 *   "content-length", "5",
 *   "connection", "close",
 * ]);
 * assert.equal(head.contentLength, 5);
 * assert.equal(head.chunked, false);
 * assert.equal(head.keepAlive, false);
 * assert.throws(
 *   () => settleFraming("GET", "/", 1, ["host", "a b"]),
 *   (error) => error instanceof RequestError && error.code === "InvalidHost",
 * );
 * ```
 */
export function settleFraming(
  method: string,
  target: string,
  minorVersion: 0 | 1,
  fields: string[],
): RequestHead {
  let host: string | undefined;
  let hosts = 0;
  let contentLengths = 0;
  let contentLength = 0;
  let transferEncoding: string | undefined;
  let close = false;
  let keepAliveToken = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name === "host") {
      hosts++;
      host = value;
    } else if (name === "content-length") {
      contentLengths++;
      contentLength = parseContentLength(value);
    } else if (name === "transfer-encoding") {
      transferEncoding = transferEncoding === undefined
        ? value
        : `${transferEncoding}, ${value}`;
    } else if (name === "connection") {
      const options = connectionOptions(value);
      close ||= options.close;
      keepAliveToken ||= options.keepAlive;
    }
  }
  if (hosts > 1) {
    throw new RequestError(
      "DuplicateHost",
      "Cannot accept request: more than one Host field",
    );
  }
  if (hosts === 0 && minorVersion === 1) {
    throw new RequestError(
      "MissingHost",
      "Cannot accept request: HTTP/1.1 without Host",
    );
  }
  if (host !== undefined && !isHost(host)) {
    throw new RequestError(
      "InvalidHost",
      "Cannot accept request: invalid Host",
    );
  }
  if (target.charCodeAt(0) !== 0x2f && !hasValidAuthority(target)) {
    throw new RequestError(
      "InvalidHost",
      "Cannot accept request: invalid host in the request target",
    );
  }
  if (contentLengths > 1) {
    throw new RequestError(
      "InvalidContentLength",
      "Cannot frame body: more than one Content-Length field",
    );
  }
  let chunked = false;
  if (transferEncoding !== undefined) {
    if (contentLengths > 0) {
      throw new RequestError(
        "ConflictingFraming",
        "Cannot frame body: both Content-Length and Transfer-Encoding",
      );
    }
    checkTransferCodings(transferEncoding);
    chunked = true;
  }
  const keepAlive = !close && (minorVersion === 1 || keepAliveToken);
  return {
    method,
    target,
    minorVersion,
    fields,
    keepAlive,
    contentLength,
    chunked,
  };
}

const CLOSE = { close: true, keepAlive: false };
const KEEP_ALIVE = { close: false, keepAlive: true };

// Connection = #connection-option; options are case-insensitive tokens.
function connectionOptions(
  value: string,
): { close: boolean; keepAlive: boolean } {
  // What nearly every client sends, without splitting.
  if (value === "keep-alive" || value === "Keep-Alive") return KEEP_ALIVE;
  if (value === "close") return CLOSE;
  let close = false;
  let keepAlive = false;
  for (const token of value.split(",")) {
    const option = trimOws(token).toLowerCase();
    if (option === "close") close = true;
    else if (option === "keep-alive") keepAlive = true;
  }
  return { close, keepAlive };
}

const LEADING_ZEROS = /^0+(?=\d)/;

// Content-Length = 1*DIGIT; a list ("5, 5") counts as invalid here. Leading
// zeros are digits like any other; past them, 15 digits are exact in a number.
// More are valid too (RFC 9110 §8.6 asks a recipient to expect numerals of
// any size), and a length that no number holds exactly is Infinity: a body
// too big to read, like a petabyte's.
function parseContentLength(value: string): number {
  const digits = value.replace(LEADING_ZEROS, "");
  if (!/^\d+$/.test(digits)) {
    throw new RequestError(
      "InvalidContentLength",
      "Cannot frame body: invalid Content-Length",
    );
  }
  return digits.length > 15 ? Infinity : Number(digits);
}

/**
 * Checks a Transfer-Encoding list (all its fields joined) for the one we
 * take: `chunked` alone. Empty list elements are ignored (RFC 9110 §5.6.1).
 */
function checkTransferCodings(value: string): void {
  const codings = value.split(",").map((c) => trimOws(c).toLowerCase())
    .filter((c) => c !== "");
  if (
    codings.at(-1) !== "chunked" ||
    codings.indexOf("chunked") !== codings.length - 1
  ) {
    // RFC 9112 §6.3: chunked not last leaves the length unknown; applied
    // twice, it is a sender's error (§6.1).
    throw new RequestError(
      "InvalidTransferEncoding",
      "Cannot frame body: chunked must be the final transfer coding, once",
    );
  }
  if (codings.length > 1) {
    throw new RequestError(
      "UnsupportedTransferEncoding",
      "Cannot frame body: only the chunked transfer coding is supported",
    );
  }
}
