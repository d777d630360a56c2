/**
 * A host and port written as one `host:port`, the way URLs, `--allow-net`
 * and messages name an address.
 *
 * @module
 */

/**
 * Formats `hostname` and `port` as `host:port`, an IPv6 literal in brackets
 * so that the port's colon stays unambiguous (RFC 3986 §3.2.2).
 *
 * @example
 * ```ts
 * import { formatAuthority } from "./_authority.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatAuthority("::1", 8080), "[::1]:8080");
 * assert.equal(formatAuthority("127.0.0.1", 80), "127.0.0.1:80");
 * ```
 */
export function formatAuthority(hostname: string, port: number): string {
  const host = hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]`
    : hostname;
  return `${host}:${port}`;
}
