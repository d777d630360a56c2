/**
 * Size limits on a request head.
 *
 * @module
 */

/**
 * Limits on what one request head may hold. Each default is the field's
 * value in {@linkcode DEFAULT_HEAD_LIMITS}, used when no limits are given.
 */
export interface HeadLimits {
  /**
   * Longest request line, in bytes, without its line break, before 414
   * (501 when the method alone is longer).
   *
   * @default {8192}
   */
  maxRequestLine: number;
  /**
   * Longest head (request line and fields), in bytes, before 431.
   *
   * @default {32768}
   */
  maxHeadSize: number;
  /**
   * Most header fields before 431.
   *
   * @default {100}
   */
  maxHeaderFields: number;
}

/** The defaults: nginx's large_client_header_buffers order of magnitude. */
export const DEFAULT_HEAD_LIMITS: Readonly<HeadLimits> = {
  maxRequestLine: 8192,
  maxHeadSize: 32768,
  maxHeaderFields: 100,
};
