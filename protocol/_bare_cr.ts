/**
 * The one error every part of the head parser can meet: a CR that is not
 * part of a CRLF (RFC 9112 §2.2), in the request line, a field line, or
 * the empty lines before them.
 *
 * @module
 */

import { RequestError } from "./errors.ts";

/**
 * The error for a CR not followed by LF, wherever in the head it comes.
 *
 * @example
 * ```ts
 * import { bareCr } from "./_bare_cr.ts";
 * import assert from "node:assert/strict";
 * assert.equal(bareCr().code, "BareCarriageReturn");
 * assert.equal(bareCr().status, 400);
 * ```
 */
export function bareCr(): RequestError {
  return new RequestError(
    "BareCarriageReturn",
    "Cannot parse request: bare CR",
  );
}
