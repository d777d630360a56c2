/**
 * The Host grammar (RFC 9110 §7.2, RFC 3986 §3.2.2) that framing.ts holds
 * a Host field and an absolute-form target's authority to: a host name or
 * IP literal, and an optional port.
 *
 * @module
 */

import { HEXDIG, isDigit, REG_NAME } from "./chars.ts";

/**
 * Whether `value` is a valid Host field value.
 *
 * Host = uri-host [ ":" port ]            (RFC 9110 §7.2)
 * uri-host = IP-literal / IPv4address / reg-name; port = *DIGIT (RFC 3986)
 *
 * An IPv4address is also a reg-name, so "1.2.3.999" passes as a name, as
 * RFC 3986 §3.2.2 reads it; the empty value is an empty reg-name.
 *
 * @example
 * ```ts
 * import { isHost } from "./_host.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isHost("example.com:8080"));
 * assert.ok(isHost("[::1]:80"));
 * assert.ok(isHost(""));
 * assert.ok(!isHost("a b"));
 * assert.ok(!isHost("[::1"));
 * ```
 */
export function isHost(value: string): boolean {
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

/**
 * Whether an http(s) absolute-form target's authority is a Host value with
 * a host. Other targets (no scheme, another scheme, "*") are the path
 * parser's to refuse; userinfo fails here because "@" is no reg-name
 * character.
 *
 * @example
 * ```ts
 * import { hasValidAuthority } from "./_host.ts";
 * import assert from "node:assert/strict";
 * assert.ok(hasValidAuthority("http://example.com:8080/a"));
 * assert.ok(hasValidAuthority("/a"));
 * assert.ok(!hasValidAuthority("http:///a"));
 * assert.ok(!hasValidAuthority("http://user@example.com/"));
 * ```
 */
export function hasValidAuthority(target: string): boolean {
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
