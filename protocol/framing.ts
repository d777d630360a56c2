/**
 * What a server must settle from a request's fields before it can answer
 * (RFC 9112 §3.2, §6, §9.3): the Host rules, how the body is framed, and
 * whether the connection stays open.
 *
 * @module
 */

import { HEXDIG, isDigit, REG_NAME, trimOws } from "./chars.ts";
import { RequestError } from "./errors.ts";
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
function parseContentLength(value: string): number {
  const digits = value.replace(LEADING_ZEROS, "");
  if (digits.length > 15 || !/^\d+$/.test(digits)) {
    throw new RequestError(
      "InvalidContentLength",
      "Cannot frame body: invalid Content-Length",
    );
  }
  return Number(digits);
}

// Host = uri-host [ ":" port ]            (RFC 9110 §7.2)
// uri-host = IP-literal / IPv4address / reg-name; port = *DIGIT (RFC 3986)
// An IPv4address is also a reg-name, so "1.2.3.999" passes as a name, as
// RFC 3986 §3.2.2 reads it; the empty value is an empty reg-name.
function isHost(value: string): boolean {
  let hostEnd: number;
  if (value.charCodeAt(0) === 0x5b) { // "["
    hostEnd = value.indexOf("]") + 1;
    if (hostEnd === 0 || !isIpLiteral(value.slice(1, hostEnd - 1))) {
      return false;
    }
  } else {
    hostEnd = 0;
    while (hostEnd < value.length && value.charCodeAt(hostEnd) !== 0x3a) {
      hostEnd++;
    }
    if (!isRegName(value, hostEnd)) return false;
  }
  if (hostEnd === value.length) return true;
  if (value.charCodeAt(hostEnd) !== 0x3a) return false; // ":"
  for (let i = hostEnd + 1; i < value.length; i++) {
    if (!isDigit(value.charCodeAt(i))) return false;
  }
  return true;
}

// An http(s) absolute-form target's authority: a Host value, with a host.
// Other targets (no scheme, another scheme, "*") are the path parser's to
// refuse; userinfo fails here because "@" is no reg-name character.
function hasValidAuthority(target: string): boolean {
  const scheme = /^https?:\/\//i.exec(target);
  if (scheme === null) return true;
  const start = scheme[0].length;
  let end = start;
  while (end < target.length && !AUTHORITY_END.test(target[end])) end++;
  const authority = target.slice(start, end);
  return authority.length > 0 && authority.charCodeAt(0) !== 0x3a &&
    isHost(authority);
}

const AUTHORITY_END = /[/?#]/;

// reg-name = *( unreserved / pct-encoded / sub-delims ), up to `end`
function isRegName(value: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25) { // pct-encoded = "%" HEXDIG HEXDIG
      if (i + 2 >= end || !isHexDigits(value, i + 1, i + 3)) return false;
      i += 2;
    } else if (c > 0xff || !REG_NAME[c]) return false;
  }
  return true;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]", without the brackets
// IPvFuture  = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
function isIpLiteral(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c !== 0x76 && c !== 0x56) return isIpv6(text); // "v", case-insensitive
  const dot = text.indexOf(".");
  if (dot < 2 || dot === text.length - 1 || !isHexDigits(text, 1, dot)) {
    return false;
  }
  for (let i = dot + 1; i < text.length; i++) {
    const b = text.charCodeAt(i);
    if (b !== 0x3a && (b > 0xff || b === 0x25 || !REG_NAME[b])) return false;
  }
  return true;
}

// IPv6address (RFC 3986 §3.2.2): eight h16 (1*4HEXDIG) separated by ":", or
// fewer around one "::" that stands for at least one zero group; the last
// two h16 may be written as an IPv4address (ls32).
function isIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  let groups = 0;
  for (let h = 0; h < halves.length; h++) {
    if (halves[h] === "") continue;
    const parts = halves[h].split(":");
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p];
      const last = h === halves.length - 1 && p === parts.length - 1;
      if (last && part.includes(".")) {
        if (!isIpv4(part)) return false;
        groups += 2;
      } else if (part.length === 0 || part.length > 4) return false;
      else if (!isHexDigits(part, 0, part.length)) return false;
      else groups++;
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}

// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet, where a
// dec-octet is 0 to 255 without a leading zero.
function isIpv4(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4 &&
    octets.every((octet) =>
      octet.length > 0 && octet.length <= 3 &&
      [...octet].every((d) => isDigit(d.charCodeAt(0))) &&
      (octet.length === 1 || octet[0] !== "0") && Number(octet) <= 255
    );
}

function isHexDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || !HEXDIG[c]) return false;
  }
  return true;
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
