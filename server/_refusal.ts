/**
 * The 503 for a client the server cannot take: over the connection limit,
 * or accepted on the spare descriptor when out of them.
 *
 * @module
 */

import { encodeResponse } from "./encode_response.ts";
import { closeQuietly, isDisconnect } from "./error_report.ts";
import { errorResponse, RETRY_AFTER } from "./response.ts";

/** How {@linkcode refuse} waits for the client before it closes. */
export interface RefuseOptions {
  /** At most this long, in ms. */
  lingerMs: number;
  /** Only until the request's head is in, not until the client closes. */
  headOnly: boolean;
}

/**
 * Answers 503 to a connection over the limit and closes it gracefully: what
 * the client sends is read, so that the close resets nothing, until it
 * closes, or (`headOnly`) until its request's head has come (a body sent
 * after it may then meet a reset, which can cost the client the 503), for
 * up to `lingerMs`.
 */
export async function refuse(
  conn: Deno.TcpConn,
  { lingerMs, headOnly }: RefuseOptions,
): Promise<void> {
  const response = errorResponse(503, "GET", RETRY_AFTER, true);
  const timer = setTimeout(() => closeQuietly(conn), lingerMs);
  try {
    const bytes = encodeResponse(response, false);
    for (let at = 0; at < bytes.length;) {
      at += await conn.write(bytes.subarray(at));
    }
    await conn.closeWrite();
    const scratch = new Uint8Array(4096);
    const head = new HeadEnd();
    for (let n; (n = await conn.read(scratch)) !== null;) {
      if (headOnly && head.foundIn(scratch.subarray(0, n))) break;
    }
  } catch (error) {
    if (!isDisconnect(error)) throw error;
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/**
 * Finds the empty line that ends a request's head, in bytes seen a piece
 * at a time; line ends before the request line are no such line.
 */
class HeadEnd {
  #started = false;
  #atLineStart = false;

  /** Whether the head ended within `bytes`, which follow those seen before. */
  foundIn(bytes: Uint8Array): boolean {
    for (const byte of bytes) {
      if (byte === 0x0a) {
        if (this.#atLineStart) return true;
        this.#atLineStart = this.#started;
      } else if (byte !== 0x0d) {
        this.#started = true;
        this.#atLineStart = false;
      }
    }
    return false;
  }
}
