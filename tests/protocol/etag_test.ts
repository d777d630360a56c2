import assert from "node:assert/strict";
import {
  type EntityTag,
  formatEtag,
  parseEtag,
  parseEtagList,
  strongMatch,
  weakMatch,
} from "../../protocol/etag.ts";

const BASE = { size: 1024, mtimeMs: 1_700_000_000_123, ino: 42 };

Deno.test("formatEtag() gives a strong, parseable entity-tag", () => {
  const etag = formatEtag(BASE);
  assert.deepEqual(parseEtag(etag), { weak: false, tag: etag });
});

Deno.test("formatEtag() is stable for the same identity", () => {
  assert.equal(formatEtag({ ...BASE }), formatEtag(BASE));
});

Deno.test("formatEtag() changes whenever size, mtime or inode change", () => {
  const rows: [string, typeof BASE][] = [
    ["size", { ...BASE, size: 1025 }],
    ["mtime by one millisecond", { ...BASE, mtimeMs: BASE.mtimeMs + 1 }],
    ["inode", { ...BASE, ino: 43 }],
  ];
  for (const [what, changed] of rows) {
    assert.notEqual(formatEtag(changed), formatEtag(BASE), what);
  }
});

Deno.test("formatEtag() changes with ctime, where known, even when mtime was put back", () => {
  const written = { ...BASE, ctimeMs: 1_700_000_005_000 };
  const rewritten = { ...written, ctimeMs: written.ctimeMs + 1000 };
  assert.notEqual(formatEtag(rewritten), formatEtag(written));
  // Deno's ctime is in whole seconds: mtime still tells milliseconds apart.
  const later = { ...written, mtimeMs: written.mtimeMs + 1 };
  assert.notEqual(formatEtag(later), formatEtag(written));
  // A platform without ctime: mtime alone.
  assert.equal(formatEtag({ ...BASE, ctimeMs: null }), formatEtag(BASE));
});

Deno.test("formatEtag() keeps fields apart so different triples never collide", () => {
  // Concatenating without separators would make these two print alike.
  const a = formatEtag({ size: 1, mtimeMs: 23, ino: 0 });
  const b = formatEtag({ size: 12, mtimeMs: 3, ino: 0 });
  assert.notEqual(a, b);
});

Deno.test("formatEtag() gives an encoded sibling its own tag via the suffix", () => {
  const identity = formatEtag(BASE);
  const br = formatEtag(BASE, "br");
  const gzip = formatEtag(BASE, "gzip");
  assert.equal(new Set([identity, br, gzip]).size, 3);
  assert.equal(parseEtag(br).weak, false);
});

Deno.test("formatEtag() accepts a missing inode and a fractional mtime", () => {
  assert.equal(formatEtag({ size: 0, mtimeMs: 1.9, ino: null }), '"0-0-1"');
  assert.equal(formatEtag({ size: 0, mtimeMs: 1.9 }), '"0-0-1"');
});

Deno.test("formatEtag() accepts any suffix of visible ASCII but DQUOTE", () => {
  // A content hash (hex, base64, base64url) and a coding may both go here.
  const every = Array.from(
    { length: 0x7e - 0x20 },
    (_, i) => String.fromCharCode(0x21 + i),
  ).filter((c) => c !== '"').join("");
  const hashes = ["9f86d081", "n4bQgYhMfWWaL+qgxVrQ/TxsrC4Is0V1sFbDwCgg="];
  for (const suffix of [every, ...hashes, "Zm9v_-x-br"]) {
    const etag = formatEtag(BASE, suffix);
    assert.ok(etag.endsWith(`-${suffix}"`), suffix);
    assert.equal(parseEtag(etag).tag, etag);
  }
});

Deno.test("formatEtag() rejects a suffix that is not etagc", () => {
  for (const suffix of ['a"b', "a b", "", "é"]) {
    assert.throws(
      () => formatEtag(BASE, suffix),
      TypeError,
      JSON.stringify(suffix),
    );
  }
});

const ETAG_ROWS: [string, EntityTag | undefined][] = [
  ['"xyzzy"', { weak: false, tag: '"xyzzy"' }],
  ['W/"xyzzy"', { weak: true, tag: '"xyzzy"' }],
  ['""', { weak: false, tag: '""' }],
  ['W/""', { weak: true, tag: '""' }],
  ['"a,b"', { weak: false, tag: '"a,b"' }],
  ['"\xe9t\xe9"', { weak: false, tag: '"\xe9t\xe9"' }], // obs-text
  ['w/"x"', undefined], // %s"W/" is case-sensitive
  ["xyzzy", undefined],
  ['"unterminated', undefined],
  ['"a b"', undefined], // SP is not etagc
  ['"a\tb"', undefined],
  ['"x"y', undefined],
  ['"x" ', undefined],
  ['W/ "x"', undefined],
  ["*", undefined],
  ["", undefined],
];

Deno.test("parseEtag() follows the entity-tag grammar of RFC 9110 §8.8.3", () => {
  for (const [input, expected] of ETAG_ROWS) {
    if (expected === undefined) {
      assert.throws(() => parseEtag(input), SyntaxError, JSON.stringify(input));
    } else {
      assert.deepEqual(parseEtag(input), expected, JSON.stringify(input));
    }
  }
});

const S = (tag: string): EntityTag => ({ weak: false, tag });
const W = (tag: string): EntityTag => ({ weak: true, tag });

const LIST_ROWS: [string, "*" | EntityTag[] | undefined][] = [
  ["*", "*"],
  [" * ", "*"],
  ['"a"', [S('"a"')]],
  ['"a", "b"', [S('"a"'), S('"b"')]],
  ['"a","b"', [S('"a"'), S('"b"')]],
  ['"a" ,\tW/"b"', [S('"a"'), W('"b"')]],
  ['"a,b", "c"', [S('"a,b"'), S('"c"')]], // a comma inside a tag is not a separator
  [', "a",, "b" ,', [S('"a"'), S('"b"')]], // empty list elements are ignored
  ['"a" "b"', undefined], // missing comma
  ['"a", *', undefined], // "*" only stands alone
  ['"a", b', undefined],
  ['"a", W/b', undefined],
  ["", undefined],
  [" , ", undefined],
];

Deno.test("parseEtagList() reads '*' or a #entity-tag list", () => {
  for (const [input, expected] of LIST_ROWS) {
    if (expected === undefined) {
      assert.throws(
        () => parseEtagList(input),
        SyntaxError,
        JSON.stringify(input),
      );
    } else {
      assert.deepEqual(parseEtagList(input), expected, JSON.stringify(input));
    }
  }
});

// The comparison table of RFC 9110 §8.8.3.2.
const COMPARE_ROWS: [EntityTag, EntityTag, boolean, boolean][] = [
  [W('"1"'), W('"1"'), false, true],
  [W('"1"'), W('"2"'), false, false],
  [W('"1"'), S('"1"'), false, true],
  [S('"1"'), S('"1"'), true, true],
  [S('"1"'), S('"2"'), false, false],
];

Deno.test("strongMatch() and weakMatch() follow the RFC 9110 §8.8.3.2 table", () => {
  for (const [a, b, strong, weak] of COMPARE_ROWS) {
    const label = `${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    assert.equal(strongMatch(a, b), strong, `strong: ${label}`);
    assert.equal(strongMatch(b, a), strong, `strong reversed: ${label}`);
    assert.equal(weakMatch(a, b), weak, `weak: ${label}`);
    assert.equal(weakMatch(b, a), weak, `weak reversed: ${label}`);
  }
});
