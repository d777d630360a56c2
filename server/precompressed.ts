/**
 * Precompressed siblings: `file.br` and `file.gz` beside `file`, served
 * instead of it when the client accepts their coding.
 *
 * @module
 */

import { chooseEncoding } from "../protocol/accept_encoding.ts";

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

/** What `selectPrecompressed()` found and chose. */
export interface PrecompressedChoice {
  /**
   * Whether the file has any sibling at all. When it does, every response
   * for the file (identity ones too) carries `Vary: Accept-Encoding`.
   */
  hasSiblings: boolean;
  /** The sibling to serve, or `undefined` to serve the original. */
  selected?: PrecompressedSibling;
}

const CODINGS = Object.keys(PRECOMPRESSED_SUFFIXES) as PrecompressedCoding[];

/**
 * Lists the siblings of `path` that exist as regular files, in the order of
 * `PRECOMPRESSED_SUFFIXES`. A symbolic link is not a regular file here
 * (`lstat`): a link could lead outside the served root, and the original's
 * path checks did not cover it. A sibling that cannot be stat'ed is absent:
 * the original is always a correct answer.
 *
 * @example
 * ```ts
 * import { findPrecompressedSiblings } from "./precompressed.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/app.js`, "x");
 * await Deno.writeTextFile(`${dir}/app.js.gz`, "not really gzip");
 * const siblings = await findPrecompressedSiblings(`${dir}/app.js`);
 * assert.deepEqual(siblings.map((s) => s.coding), ["gzip"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function findPrecompressedSiblings(
  path: string,
): Promise<PrecompressedSibling[]> {
  const found = await Promise.all(CODINGS.map(async (coding) => {
    const siblingPath = path + PRECOMPRESSED_SUFFIXES[coding];
    try {
      const info = await Deno.lstat(siblingPath);
      return info.isFile ? { coding, path: siblingPath, info } : undefined;
    } catch {
      return undefined;
    }
  }));
  return found.filter((sibling) => sibling !== undefined);
}

/**
 * Finds the siblings of `path` and picks the one to serve for a request's
 * `Accept-Encoding` value, with the rules of `chooseEncoding()`.
 *
 * @example
 * ```ts
 * import { selectPrecompressed } from "./precompressed.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/app.js`, "x");
 * await Deno.writeTextFile(`${dir}/app.js.gz`, "not really gzip");
 * const choice = await selectPrecompressed(`${dir}/app.js`, "gzip, br");
 * assert.equal(choice.hasSiblings, true);
 * assert.equal(choice.selected?.coding, "gzip");
 * const refused = await selectPrecompressed(`${dir}/app.js`, "gzip;q=0");
 * assert.equal(refused.selected, undefined);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function selectPrecompressed(
  path: string,
  acceptEncoding: string | undefined,
): Promise<PrecompressedChoice> {
  const siblings = await findPrecompressedSiblings(path);
  if (siblings.length === 0) return { hasSiblings: false };
  const coding = chooseEncoding(acceptEncoding, siblings.map((s) => s.coding));
  return {
    hasSiblings: true,
    selected: siblings.find((s) => s.coding === coding),
  };
}
