/**
 * Entity tags (RFC 9110 §8.8.3): a cheap strong tag for a file, the parsing
 * of `If-Match` / `If-None-Match` / `If-Range` values, and the two comparison
 * functions of §8.8.3.2.
 *
 * @module
 */

import { trimOws } from "./chars.ts";

/** The file identity an ETag is derived from (fields of a stat result). */
export interface EtagSource {
  /** Size in bytes. */
  size: number;
  /** Modification time in milliseconds since the epoch. */
  mtimeMs: number;
  /**
   * Status change time (ctime) in milliseconds since the epoch, where the
   * platform has one. It moves when a rewrite puts the old mtime back
   * (`cp -p`, `touch -r`, builds that pin timestamps), and nothing can set
   * it back; but Deno reports it in whole seconds, so mtime stays too.
   * When undefined or null, the tag is made without it.
   *
   * @default {undefined}
   */
  ctimeMs?: number | null;
  /**
   * Inode number, so that a file replaced by another one of the same size and
   * time (an atomic rename) still gets a new tag. When undefined or null
   * (platforms without inodes), 0 stands in for it.
   *
   * @default {undefined}
   */
  ino?: number | null;
}

/** A parsed entity-tag. `tag` is the opaque-tag with its double quotes. */
export interface EntityTag {
  /** Whether the tag carried the `W/` weakness indicator. */
  weak: boolean;
  /** The opaque-tag, double quotes included, e.g. `"abc"`. */
  tag: string;
}

// etagc = %x21 / %x23-7E / obs-text; obs-text is %x80-FF, which reaches us as
// the same code points when the head was decoded as latin1.
const ETAGC = /^[\x21\x23-\x7e\x80-\xff]*$/;

/**
 * Formats a strong ETag from a file's size, times and inode, without
 * reading its content. Any write changes mtime, any write or `utime` changes
 * ctime, a replacement changes the inode, so the tag changes with the file,
 * except for two same-size writes to the same inode within the times'
 * resolution (a millisecond for mtime, coarser on some file systems; a
 * second for ctime, which catches an mtime put back). A change of owner or
 * mode changes the tag too: a needless miss for a cache, never a stale hit.
 *
 * That gap is closed by the caller where it can be: the file cache re-reads
 * a small file changed under 2 s ago and appends a hash of its content
 * through `suffix`, so the tag follows the bytes it serves. A big file,
 * streamed and so never hashed, gets no tag at all until 2 s after its last
 * change (`racy` in server/representation.ts): a rewrite after that moves
 * its ctime, and with it the tag.
 *
 * `suffix` is any non-empty string of etagc bytes other than obs-text
 * (`[\x21\x23-\x7e]+`), appended after a `-`: a content hash, a content
 * coding, or both. An encoded sibling (`file.gz`) is another representation
 * and needs another tag: pass its own stat, and its coding in `suffix` so the
 * tags differ even if the two files were hard links.
 *
 * @example
 * ```ts
 * import { formatEtag } from "./etag.ts";
 * import assert from "node:assert/strict";
 * const stat = { size: 1024, mtimeMs: 1700000000000, ino: 42 };
 * assert.equal(formatEtag(stat), '"16-sg-loyw3v28"');
 * assert.equal(formatEtag(stat, "br"), '"16-sg-loyw3v28-br"');
 * ```
 */
export function formatEtag(source: EtagSource, suffix?: string): string {
  if (suffix !== undefined && !/^[\x21\x23-\x7e]+$/.test(suffix)) {
    throw new TypeError(
      `Cannot format ETag: invalid suffix ${JSON.stringify(suffix)}`,
    );
  }
  // Base 36 keeps the tag short; the fields are separated so that no two
  // different (ino, size, mtime[, ctime]) print the same text (a platform
  // gives every file a ctime or none); the suffix comes last.
  const ino = source.ino ?? 0;
  let body = `${ino.toString(36)}-${source.size.toString(36)}-${
    Math.trunc(source.mtimeMs).toString(36)
  }`;
  const ctimeMs = source.ctimeMs;
  if (ctimeMs != null) body += `-${Math.trunc(ctimeMs).toString(36)}`;
  if (suffix !== undefined) body += `-${suffix}`;
  return `"${body}"`;
}

/**
 * Parses one entity-tag (the whole value, e.g. of `If-Range`). Throws a
 * `SyntaxError` when the value is not exactly one entity-tag.
 *
 * @example
 * ```ts
 * import { parseEtag } from "./etag.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseEtag('W/"x"'), { weak: true, tag: '"x"' });
 * assert.throws(() => parseEtag("x"), SyntaxError);
 * ```
 */
export function parseEtag(value: string): EntityTag {
  const parsed = scanEtag(value, 0);
  if (parsed === undefined || parsed.end !== value.length) {
    throw new SyntaxError(
      `Cannot parse entity-tag: ${JSON.stringify(value)} is not one entity-tag`,
    );
  }
  return parsed.etag;
}

/**
 * Parses an `If-Match` / `If-None-Match` value: `"*"` or a comma-separated
 * list of entity-tags (commas may appear inside a tag, so this scans quotes
 * rather than splitting). Empty list elements are skipped as RFC 9110 §5.6.1
 * asks; anything else malformed throws a `SyntaxError`, and the caller
 * decides what a malformed condition means.
 *
 * @example
 * ```ts
 * import { parseEtagList } from "./etag.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseEtagList("*"), "*");
 * assert.deepEqual(parseEtagList('"a,b", W/"c"'), [
 *   { weak: false, tag: '"a,b"' },
 *   { weak: true, tag: '"c"' },
 * ]);
 * assert.throws(() => parseEtagList('"a" "b"'), SyntaxError);
 * ```
 */
export function parseEtagList(value: string): "*" | EntityTag[] {
  if (trimOws(value) === "*") return "*";
  const tags: EntityTag[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    // Leading whitespace and empty elements (",,") before the next tag.
    while (
      i < n && (value[i] === " " || value[i] === "\t" || value[i] === ",")
    ) {
      i++;
    }
    if (i === n) break;
    const parsed = scanEtag(value, i);
    if (parsed === undefined) {
      throw new SyntaxError(
        `Cannot parse entity-tag list: bad entity-tag at offset ${i}`,
      );
    }
    tags.push(parsed.etag);
    i = parsed.end;
    while (i < n && (value[i] === " " || value[i] === "\t")) i++;
    if (i < n && value[i] !== ",") {
      throw new SyntaxError(
        `Cannot parse entity-tag list: expected a comma at offset ${i}`,
      );
    }
  }
  if (tags.length === 0) {
    throw new SyntaxError("Cannot parse entity-tag list: no entity-tag");
  }
  return tags;
}

/**
 * Strong comparison (RFC 9110 §8.8.3.2): both tags strong and their
 * opaque-tags identical. Used by `If-Match` and `If-Range`.
 *
 * @example
 * ```ts
 * import { strongMatch } from "./etag.ts";
 * import assert from "node:assert/strict";
 * assert.equal(strongMatch({ weak: false, tag: '"1"' }, { weak: false, tag: '"1"' }), true);
 * assert.equal(strongMatch({ weak: true, tag: '"1"' }, { weak: false, tag: '"1"' }), false);
 * ```
 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.tag === b.tag;
}

/**
 * Weak comparison (RFC 9110 §8.8.3.2): opaque-tags identical, weakness
 * ignored. Used by `If-None-Match`.
 *
 * @example
 * ```ts
 * import { weakMatch } from "./etag.ts";
 * import assert from "node:assert/strict";
 * assert.equal(weakMatch({ weak: true, tag: '"1"' }, { weak: false, tag: '"1"' }), true);
 * assert.equal(weakMatch({ weak: true, tag: '"1"' }, { weak: true, tag: '"2"' }), false);
 * ```
 */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.tag === b.tag;
}

/** entity-tag = [ %s"W/" ] DQUOTE *etagc DQUOTE, starting at `start`. */
function scanEtag(
  value: string,
  start: number,
): { etag: EntityTag; end: number } | undefined {
  let i = start;
  // The weakness indicator is case-sensitive (%s"W/").
  const weak = value.startsWith("W/", i);
  if (weak) i += 2;
  if (value[i] !== '"') return undefined;
  const close = value.indexOf('"', i + 1);
  if (close < 0) return undefined;
  const tag = value.slice(i, close + 1);
  if (!ETAGC.test(tag.slice(1, -1))) return undefined;
  return { etag: { weak, tag }, end: close + 1 };
}
