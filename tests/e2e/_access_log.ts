/**
 * Parses Combined Log Format lines, the access log httpd writes on stdout:
 * `host ident user [time] "request" status size "referer" "user-agent"`.
 *
 * @module
 */

/** One parsed access-log entry. */
export interface AccessLogEntry {
  /** The client address. */
  remote: string;
  /** The time field, as written (`27/Nov/2026:12:00:00 +0000`). */
  time: string;
  /** The request method. */
  method: string;
  /** The request target exactly as logged (possibly percent-encoded). */
  target: string;
  /** The protocol version token, e.g. `HTTP/1.1`. */
  protocol: string;
  /** The response status. */
  status: number;
  /** Body bytes sent, or `undefined` where the log has `-`. */
  bytes: number | undefined;
  /** The Referer header, or `-`. */
  referer: string;
  /** The User-Agent header, or `-`. */
  userAgent: string;
}

// A quoted field may contain backslash escapes (`\"`), as Apache and nginx
// write them for hostile header values.
const QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;
const COMBINED = new RegExp(
  String.raw`^(\S+) (\S+) (\S+) \[([^\]]+)\] ` + QUOTED +
    String.raw` (\d{3}) (\d+|-) ` + QUOTED + " " + QUOTED + "$",
);

/**
 * Parses one Combined Log Format line; returns `undefined` for anything
 * else, so other output on the same stream is skipped rather than fatal.
 */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  const match = COMBINED.exec(line);
  if (match === null) return undefined;
  const request = match[5].split(" ");
  if (request.length !== 3) return undefined;
  const [method, target, protocol] = request;
  return {
    remote: match[1],
    time: match[4],
    method,
    target,
    protocol,
    status: Number(match[6]),
    bytes: match[7] === "-" ? undefined : Number(match[7]),
    referer: match[8],
    userAgent: match[9],
  };
}

/**
 * The decoded path of a logged target (query dropped), for comparing with
 * file names; a target that does not decode is returned as it is.
 */
export function targetPath(target: string): string {
  const path = target.split("?")[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
