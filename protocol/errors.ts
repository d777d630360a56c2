/**
 * Typed request errors. Every failure has a code, and each code maps to one
 * status in exactly one place: {@linkcode ERROR_STATUS}.
 *
 * @module
 */

import type { StatusCode } from "./status.ts";

/**
 * Why a request was refused, and its status: its head could not be
 * accepted, or (`InvalidPath`) its target names no path; `RequestTimeout`
 * is the status of a head that did not arrive in time.
 */
export const ERROR_STATUS = {
  InvalidRequestLine: 400,
  InvalidTarget: 400,
  InvalidVersion: 400,
  InvalidHeader: 400,
  ObsoleteLineFolding: 400,
  BareCarriageReturn: 400,
  MissingHost: 400,
  DuplicateHost: 400,
  InvalidHost: 400,
  InvalidContentLength: 400,
  ConflictingFraming: 400,
  InvalidTransferEncoding: 400,
  InvalidPath: 400,
  RequestTimeout: 408,
  RequestLineTooLong: 414,
  /** RFC 9112 §3: a method longer than any implemented is not implemented. */
  MethodTooLong: 501,
  HeaderSectionTooLarge: 431,
  TooManyHeaderFields: 431,
  UnsupportedTransferEncoding: 501,
  UnsupportedVersion: 505,
} as const satisfies Record<string, StatusCode>;

/** The reason a request could not be accepted. */
export type RequestErrorCode = keyof typeof ERROR_STATUS;

/**
 * A request the server must refuse; the connection is closed after the
 * answer (for a malformed head, because the framing of what follows cannot
 * be trusted).
 *
 * @example
 * ```ts
 * import { RequestError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const error = new RequestError("RequestLineTooLong", "Cannot parse request line: longer than 8192 bytes");
 * assert.equal(error.status, 414);
 * ```
 */
export class RequestError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: RequestErrorCode;
  /** The status to answer with. */
  readonly status: StatusCode;
  /**
   * The request's method, when its bytes got that far: the answer to a
   * HEAD carries no body, even a refusal.
   */
  method: string | undefined = undefined;
  /**
   * The request's first line as it came (its bytes as Latin-1, without the
   * line break), when the whole line got here: what the access log records
   * of a refused request, valid or not.
   */
  requestLine: string | undefined = undefined;

  /** An error with `code`, answered with that code's status. */
  constructor(code: RequestErrorCode, message: string) {
    super(message);
    this.name = "RequestError";
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}
