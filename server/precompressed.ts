/**
 * Precompressed siblings: `file.br` and `file.gz` beside `file`, served
 * instead of it when the client accepts their coding; and files whose name
 * says they are compressed (`.svgz`).
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

/**
 * Extensions whose files are compressed by convention, the media type
 * naming what they decompress to: `image.svgz` is gzip-coded
 * `image/svg+xml`, which a browser renders only when told so by
 * `Content-Encoding` (RFC 9110 §8.4: a coding beyond what the media type
 * implies).
 */
const COMPRESSED_EXTENSIONS: ReadonlyMap<string, PrecompressedCoding> = new Map(
  [["svgz", "gzip"]],
);

/**
 * The content coding the file `name` carries by its extension, if any. Such
 * a file is sent with that `Content-Encoding` whatever the client accepts
 * (there is no other form of it to send), and siblings of it are not looked
 * for.
 *
 * @example
 * ```ts
 * import { codingByName } from "./precompressed.ts";
 * import assert from "node:assert/strict";
 * assert.equal(codingByName("logo.svgz"), "gzip");
 * assert.equal(codingByName("LOGO.SVGZ"), "gzip");
 * assert.equal(codingByName("logo.svg"), undefined);
 * assert.equal(codingByName("a.constructor"), undefined);
 * ```
 */
export function codingByName(name: string): PrecompressedCoding | undefined {
  const dot = name.lastIndexOf(".");
  if (dot === -1) return undefined;
  return COMPRESSED_EXTENSIONS.get(name.slice(dot + 1).toLowerCase());
}
