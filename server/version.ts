/**
 * The product name and version, read from deno.json so they are set once.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/** The version, e.g. `0.1.0`. */
export const VERSION: string = config.version;

/** The Server field value, e.g. `httpd.ts/0.1.0`. */
export const SERVER_NAME: string = `httpd.ts/${VERSION}`;
