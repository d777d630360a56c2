/**
 * The version, read from deno.json so it is set once, and the Server field
 * built from it.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/** The version, e.g. `0.1.0`. */
export const VERSION: string = config.version;

/** The Server field value, e.g. `httpd.ts/0.1.0`. */
export const SERVER_NAME: string = `httpd.ts/${VERSION}`;
