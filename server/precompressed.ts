/**
 * Precompressed siblings: `file.br` and `file.gz` beside `file`, served
 * instead of it when the client accepts their coding.
 *
 * @module
 */

/**
 * The content codings looked for, in the server's order of preference (the
 * smaller output first), with the file name suffix of each.
 */
export const PRECOMPRESSED_SUFFIXES = {
  br: ".br",
  gzip: ".gz",
} as const;

/** A content coding the server can find a sibling for. */
export type PrecompressedCoding = keyof typeof PRECOMPRESSED_SUFFIXES;

/** A sibling found beside the original file. */
export interface PrecompressedSibling {
  /** Its content coding, for `Content-Encoding`. */
  coding: PrecompressedCoding;
  /** Its path: the original's plus the suffix. */
  path: string;
  /** Its own stat (size and times for `Content-Length`, `ETag`, ...). */
  info: Deno.FileInfo;
}

const CODINGS = Object.keys(PRECOMPRESSED_SUFFIXES) as PrecompressedCoding[];

/**
 * Lists the siblings of `path` that exist as regular files, in the order of
 * `PRECOMPRESSED_SUFFIXES` (br before gzip); the caller picks one with
 * `chooseEncoding()`. A symbolic link is not a regular file here (`lstat`):
 * a link could lead outside the served root, and the original's path checks
 * did not cover it. A sibling that cannot be stat'ed, for any reason, is
 * absent: the original is always a correct answer. (The file cache, which
 * opens what is listed here, likewise drops a sibling it cannot open.)
 *
 * Synchronous, like the rest of the file cache's path resolution, which
 * calls it on a miss.
 *
 * @example
 * ```ts
 * import { findPrecompressedSiblings } from "./precompressed.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/app.js`, "x");
 * Deno.writeTextFileSync(`${dir}/app.js.gz`, "not really gzip");
 * const siblings = findPrecompressedSiblings(`${dir}/app.js`);
 * assert.deepEqual(siblings.map((s) => s.coding), ["gzip"]);
 * assert.equal(siblings[0].path, `${dir}/app.js.gz`);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function findPrecompressedSiblings(
  path: string,
): PrecompressedSibling[] {
  const found: PrecompressedSibling[] = [];
  for (const coding of CODINGS) {
    const siblingPath = path + PRECOMPRESSED_SUFFIXES[coding];
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(siblingPath);
    } catch {
      continue;
    }
    if (info.isFile) found.push({ coding, path: siblingPath, info });
  }
  return found;
}
