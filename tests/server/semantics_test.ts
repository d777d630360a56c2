/**
 * HTTP semantics over real TCP (issue 5): validators, preconditions in the
 * RFC 9110 §13.2.2 order, ranges (single, multipart, If-Range),
 * precompressed siblings, Cache-Control, index.html and the access log.
 * Ranges and preconditions run on a small file (kept in memory, sent in
 * one write with its head), a big one (kept in memory, sent after its head)
 * and one over the file cache's size limit (streamed from disk), which take
 * different code paths.
 */

import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import {
  fetchRaw,
  header,
  IMF_FIXDATE,
  RawClient,
  startServer,
  tempDir,
} from "./_harness.ts";
import { parseRequestHead } from "../../protocol/request_head.ts";
import { createFileHandler } from "../../server/file_handler.ts";
import { startLoggedCli } from "./_semantics_cli.ts";
import {
  BIG_SIZE,
  bytesOf,
  type Exchange,
  exchange,
  type Fields,
  FIXED_LAST_MODIFIED,
  pseudoRandomBytes,
  type SemanticsRoot,
  semanticsRoot,
  settledAfter,
  SMALL_SIZE,
  STREAMED_SIZE,
} from "./_semantics_fixture.ts";
import { boundaryOf, readByteParts } from "./_semantics_multipart.ts";

/** A strong entity-tag (RFC 9110 §8.8.3): no `W/`, quoted etagc. */
const STRONG_ETAG = /^"[\x21\x23-\x7e\x80-\xff]*"$/;
const OTHER_ETAG = '"not-the-current-tag"';
/** A day before and after {@linkcode FIXED_LAST_MODIFIED}. */
const OLDER = "Mon, 01 Jan 2024 03:04:05 GMT";
const NEWER = "Wed, 03 Jan 2024 03:04:05 GMT";
/** {@linkcode FIXED_LAST_MODIFIED} in the two obsolete formats (§5.6.7). */
const RFC850_LAST_MODIFIED = "Tuesday, 02-Jan-24 03:04:05 GMT";
const ASCTIME_LAST_MODIFIED = "Tue Jan  2 03:04:05 2024";
const FUTURE = new Date(Date.now() + 365 * 86_400_000).toUTCString();

/** Files that take the in-memory paths and the streamed path. */
const SIZES = [
  { name: "small.bin", size: SMALL_SIZE, kind: "small (in memory)" },
  { name: "big.bin", size: BIG_SIZE, kind: "big (in memory)" },
  { name: "streamed.txt", size: STREAMED_SIZE, kind: "big (streamed)" },
] as const;

/**
 * Waits, for the streamed file alone, until it has settled: until then it
 * has no ETag (see `racy` in server/representation.ts).
 */
async function settledIfStreamed(fixture: SemanticsRoot, name: string) {
  if (name === "streamed.txt") await fixture.settled();
}

Deno.test("The streamed fixture file is answered from disk, not from memory", async () => {
  // Guards the rows below: were the file cache to hold bigger files, the
  // "streamed" rows would quietly test the in-memory path a second time.
  using fixture = semanticsRoot();
  const handle = createFileHandler({ root: fixture.root });
  const request = new TextEncoder().encode(
    "GET /streamed.txt HTTP/1.1\r\nHost: test\r\n\r\n",
  );
  const response = await handle(parseRequestHead(request)!.head);
  const body = response.body;
  assert.ok(body !== undefined && !(body instanceof Uint8Array));
  body.file.close();
  assert.equal(body.kind, "file");
  assert.equal(response.contentLength, STREAMED_SIZE);
});

Deno.test("A streamed file has no ETag until 2 s after its change, and a strong one then", async () => {
  // Its bytes are not held, so no hash can tell a rewrite within the
  // second of its ctime (with the old mtime put back) from the file the
  // stat describes: a tag given out then could validate the rewrite.
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  // Written again early in a second: the ETag stays away for the rest of
  // that second and the next, time enough for a slow machine.
  await new Promise((resolve) =>
    setTimeout(resolve, 1000 - (Date.now() % 1000) + 20)
  );
  const bytes = pseudoRandomBytes(STREAMED_SIZE, 5);
  Deno.writeFileSync(`${fixture.root}/streamed.txt`, bytes);
  const changedAt = Date.now();
  for (const method of ["GET", "HEAD"]) {
    const fresh = await exchange(server.port, method, "/streamed.txt");
    assertWhole(fresh, bytes, method);
    assert.equal(header(fresh, "etag"), undefined, method);
    assert.ok(header(fresh, "last-modified") !== undefined, method);
  }
  await settledAfter(changedAt);
  const settled = await current(server.port, "/streamed.txt");
  assert.match(settled.etag, STRONG_ETAG);
  assert.deepEqual(server.reports, []);
});

/** What a plain GET of a file said: the validators the rows refer to. */
interface Current {
  etag: string;
  lastModified: string;
  contentType: string;
}

async function current(port: number, target: string, fields: Fields = []) {
  const response = await exchange(port, "GET", target, fields);
  assert.equal(response.status, 200, response.head);
  const etag = header(response, "etag");
  const lastModified = header(response, "last-modified");
  const contentType = header(response, "content-type");
  assert.ok(etag !== undefined && lastModified !== undefined, response.head);
  assert.ok(contentType !== undefined, response.head);
  return { etag, lastModified, contentType };
}

/** Compares bytes, reporting the first difference rather than a dump. */
function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`,
      );
    }
  }
}

/** A 200 with the whole representation (its body checked for GET). */
function assertWhole(response: Exchange, bytes: Uint8Array, method: string) {
  assert.equal(response.status, 200, response.head);
  assert.equal(header(response, "content-length"), String(bytes.length));
  assert.equal(header(response, "content-range"), undefined);
  if (method === "GET") assertBytes(response.body, bytes, "body");
  assert.equal(response.after.length, 0, "bytes after the response");
}

/** A 304: validators and Date, no Content-Length, nothing after the head. */
function assertNotModified(response: Exchange, now: Current) {
  assert.equal(response.status, 304, response.head);
  assert.equal(header(response, "etag"), now.etag);
  assert.equal(header(response, "last-modified"), now.lastModified);
  assert.match(header(response, "date") ?? "", IMF_FIXDATE);
  assert.equal(header(response, "content-length"), undefined);
  assert.equal(header(response, "transfer-encoding"), undefined);
  assert.equal(response.body.length, 0);
  assert.equal(response.after.length, 0, "bytes after a 304 head");
}

// ---------------------------------------------------------------------------
// Validators

for (const { name, size, kind } of SIZES) {
  Deno.test(`GET and HEAD of a ${kind} file carry a strong ETag, Last-Modified and Accept-Ranges: bytes`, async () => {
    using fixture = semanticsRoot();
    await using server = startServer({ root: fixture.root });
    const bytes = fixture.read(name);
    assert.equal(bytes.length, size);
    await settledIfStreamed(fixture, name);
    const tags = new Set<string>();
    for (const method of ["GET", "HEAD"]) {
      const response = await exchange(server.port, method, `/${name}`);
      assertWhole(response, bytes, method);
      assert.match(header(response, "etag") ?? "", STRONG_ETAG);
      tags.add(header(response, "etag")!);
      const lastModified = header(response, "last-modified") ?? "";
      assert.match(lastModified, IMF_FIXDATE);
      assert.equal(lastModified, FIXED_LAST_MODIFIED);
      assert.equal(header(response, "accept-ranges"), "bytes");
    }
    assert.equal(tags.size, 1, "GET and HEAD give the same ETag");
    assert.deepEqual(server.reports, []);
  });
}

/** Ways to change a file: both must give fresh bytes and a new ETag. */
const CHANGES = [
  {
    how: "rewritten in place",
    change(path: string, bytes: Uint8Array) {
      Deno.writeFileSync(path, bytes);
    },
  },
  {
    how: "replaced by a rename",
    change(path: string, bytes: Uint8Array) {
      Deno.writeFileSync(`${path}.new`, bytes);
      Deno.renameSync(`${path}.new`, path);
    },
  },
];

for (const { name, size, kind } of SIZES) {
  for (const { how, change } of CHANGES) {
    Deno.test(`A ${kind} file ${how} with the same size is served fresh with a new ETag`, async () => {
      using fixture = semanticsRoot();
      await using server = startServer({ root: fixture.root });
      const target = `/${name}`;
      await settledIfStreamed(fixture, name);
      const before = await current(server.port, target);
      const fresh = pseudoRandomBytes(size, 99);
      change(`${fixture.root}/${name}`, fresh);

      // The cache may trust its entry for a moment, and the streamed file
      // has no ETag for 2 s after its change: 4 s is a generous bound.
      let response: Exchange;
      const giveUp = performance.now() + 4000;
      for (;;) {
        response = await exchange(server.port, "GET", target);
        const etag = header(response, "etag");
        const isFresh = response.status === 200 &&
          etag !== undefined && etag !== before.etag &&
          response.body.length === fresh.length &&
          response.body.every((b, i) => b === fresh[i]);
        if (isFresh || performance.now() > giveUp) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assertWhole(response, fresh, "GET");
      const etag = header(response, "etag") ?? "";
      assert.match(etag, STRONG_ETAG);
      assert.notEqual(etag, before.etag);
      assert.notEqual(header(response, "last-modified"), before.lastModified);

      // The old tag no longer validates; the new one does.
      const stale = await exchange(server.port, "GET", target, [
        ["If-None-Match", before.etag],
      ]);
      assertWhole(stale, fresh, "GET");
      const now = {
        ...before,
        etag,
        lastModified: header(response, "last-modified")!,
      };
      assertNotModified(
        await exchange(server.port, "GET", target, [["If-None-Match", etag]]),
        now,
      );
      // A range asked for with the old tag gets the whole new file.
      const range = await exchange(server.port, "GET", target, [
        ["Range", "bytes=0-9"],
        ["If-Range", before.etag],
      ]);
      assertWhole(range, fresh, "GET");
      assert.deepEqual(server.reports, []);
    });
  }
}

// ---------------------------------------------------------------------------
// Preconditions (RFC 9110 §13.1, evaluated in the order of §13.2.2)

interface PreconditionRow {
  name: string;
  method: "GET" | "HEAD";
  fields: (now: Current) => Fields;
  status: 200 | 304 | 412;
}

const PRECONDITIONS: PreconditionRow[] = [
  // §13.1.1 If-Match: strong comparison, "*" matches a current representation.
  {
    name: "GET with If-Match of the current ETag is 200",
    method: "GET",
    fields: (now) => [["If-Match", now.etag]],
    status: 200,
  },
  {
    name: "GET with If-Match of another ETag is 412",
    method: "GET",
    fields: () => [["If-Match", OTHER_ETAG]],
    status: 412,
  },
  {
    name: "HEAD with If-Match of another ETag is 412",
    method: "HEAD",
    fields: () => [["If-Match", OTHER_ETAG]],
    status: 412,
  },
  {
    name: "GET with If-Match: * is 200",
    method: "GET",
    fields: () => [["If-Match", "*"]],
    status: 200,
  },
  {
    name: "GET with If-Match listing the current ETag among others is 200",
    method: "GET",
    fields: (now) => [["If-Match", `${OTHER_ETAG}, ${now.etag}`]],
    status: 200,
  },
  {
    name:
      "GET with If-Match of the weak current ETag is 412 (strong comparison)",
    method: "GET",
    fields: (now) => [["If-Match", `W/${now.etag}`]],
    status: 412,
  },
  {
    name: "GET with a malformed If-Match is 412",
    method: "GET",
    fields: () => [["If-Match", "no-quotes"]],
    status: 412,
  },
  // §13.1.4 If-Unmodified-Since, only without If-Match; bad dates ignored.
  {
    name: "GET with If-Unmodified-Since before Last-Modified is 412",
    method: "GET",
    fields: () => [["If-Unmodified-Since", OLDER]],
    status: 412,
  },
  {
    name: "GET with If-Unmodified-Since equal to Last-Modified is 200",
    method: "GET",
    fields: (now) => [["If-Unmodified-Since", now.lastModified]],
    status: 200,
  },
  {
    name: "GET with If-Unmodified-Since after Last-Modified is 200",
    method: "GET",
    fields: () => [["If-Unmodified-Since", NEWER]],
    status: 200,
  },
  {
    name: "GET with an If-Unmodified-Since that is not a date is 200",
    method: "GET",
    fields: () => [["If-Unmodified-Since", "yesterday"]],
    status: 200,
  },
  {
    name:
      "GET with If-Match of the current ETag ignores an older If-Unmodified-Since",
    method: "GET",
    fields: (now) => [
      ["If-Match", now.etag],
      ["If-Unmodified-Since", OLDER],
    ],
    status: 200,
  },
  // §13.1.2 If-None-Match: weak comparison, 304 for GET and HEAD.
  {
    name: "GET with If-None-Match of the current ETag is 304",
    method: "GET",
    fields: (now) => [["If-None-Match", now.etag]],
    status: 304,
  },
  {
    name: "HEAD with If-None-Match of the current ETag is 304",
    method: "HEAD",
    fields: (now) => [["If-None-Match", now.etag]],
    status: 304,
  },
  {
    name: "GET with If-None-Match of the weak current ETag is 304",
    method: "GET",
    fields: (now) => [["If-None-Match", `W/${now.etag}`]],
    status: 304,
  },
  {
    name: "GET with If-None-Match listing the current ETag among others is 304",
    method: "GET",
    fields: (now) => [["If-None-Match", `${OTHER_ETAG} , W/"x", ${now.etag}`]],
    status: 304,
  },
  {
    name: "GET with If-None-Match: * is 304",
    method: "GET",
    fields: () => [["If-None-Match", "*"]],
    status: 304,
  },
  {
    name: "HEAD with If-None-Match: * is 304",
    method: "HEAD",
    fields: () => [["If-None-Match", "*"]],
    status: 304,
  },
  {
    name: "GET with If-None-Match of another ETag is 200",
    method: "GET",
    fields: () => [["If-None-Match", OTHER_ETAG]],
    status: 200,
  },
  {
    name: "GET with a malformed If-None-Match is 200",
    method: "GET",
    fields: () => [["If-None-Match", "no-quotes"]],
    status: 200,
  },
  {
    name:
      "GET with If-None-Match of another ETag ignores a matching If-Modified-Since",
    method: "GET",
    fields: (now) => [
      ["If-None-Match", OTHER_ETAG],
      ["If-Modified-Since", now.lastModified],
    ],
    status: 200,
  },
  {
    name:
      "GET with If-None-Match of the current ETag ignores an older If-Modified-Since",
    method: "GET",
    fields: (now) => [
      ["If-None-Match", now.etag],
      ["If-Modified-Since", OLDER],
    ],
    status: 304,
  },
  // §13.2.2: the lost-update guards come before cache validation.
  {
    name: "GET with a failing If-Match is 412 even when If-None-Match matches",
    method: "GET",
    fields: (now) => [
      ["If-None-Match", now.etag],
      ["If-Match", OTHER_ETAG],
    ],
    status: 412,
  },
  {
    name:
      "GET with a failing If-Unmodified-Since is 412 even when If-None-Match matches",
    method: "GET",
    fields: (now) => [
      ["If-None-Match", now.etag],
      ["If-Unmodified-Since", OLDER],
    ],
    status: 412,
  },
  // §13.1.3 If-Modified-Since, for GET and HEAD; bad dates ignored.
  {
    name: "GET with If-Modified-Since equal to Last-Modified is 304",
    method: "GET",
    fields: (now) => [["If-Modified-Since", now.lastModified]],
    status: 304,
  },
  {
    name: "HEAD with If-Modified-Since equal to Last-Modified is 304",
    method: "HEAD",
    fields: (now) => [["If-Modified-Since", now.lastModified]],
    status: 304,
  },
  {
    name: "GET with If-Modified-Since after Last-Modified is 304",
    method: "GET",
    fields: () => [["If-Modified-Since", NEWER]],
    status: 304,
  },
  {
    name: "GET with If-Modified-Since before Last-Modified is 200",
    method: "GET",
    fields: () => [["If-Modified-Since", OLDER]],
    status: 200,
  },
  {
    name: "GET with an If-Modified-Since that is not a date is 200",
    method: "GET",
    fields: () => [["If-Modified-Since", "Tue, 02 Jan 2024 03:04:05"]],
    status: 200,
  },
  // RFC 2616 §14.25 called a future date invalid; RFC 9110 §13.1.3 does
  // not: the file has not been modified since, so 304.
  {
    name: "GET with If-Modified-Since in the future is 304",
    method: "GET",
    fields: () => [["If-Modified-Since", FUTURE]],
    status: 304,
  },
  {
    name: "GET with If-Modified-Since in RFC 850 format is 304",
    method: "GET",
    fields: () => [["If-Modified-Since", RFC850_LAST_MODIFIED]],
    status: 304,
  },
  {
    name: "GET with If-Modified-Since in asctime format is 304",
    method: "GET",
    fields: () => [["If-Modified-Since", ASCTIME_LAST_MODIFIED]],
    status: 304,
  },
];

for (const { name, kind } of SIZES) {
  Deno.test(`Preconditions on a ${kind} file follow RFC 9110 §13.2.2`, async (t) => {
    using fixture = semanticsRoot();
    await using server = startServer({ root: fixture.root });
    const target = `/${name}`;
    const bytes = fixture.read(name);
    // Settled, every file: a held one's ETag carries a hash of its bytes
    // for 2 s after a change, and would change under the rows below.
    await fixture.settled();
    const now = await current(server.port, target);
    for (const row of PRECONDITIONS) {
      await t.step(row.name, async () => {
        const response = await exchange(
          server.port,
          row.method,
          target,
          row.fields(now),
        );
        if (row.status === 304) assertNotModified(response, now);
        else if (row.status === 200) {
          assertWhole(response, bytes, row.method);
          assert.equal(header(response, "etag"), now.etag);
        } else {
          assert.equal(response.status, 412, response.head);
          assert.equal(response.after.length, 0);
          if (row.method === "HEAD") assert.equal(response.body.length, 0);
        }
      });
    }
    assert.deepEqual(server.reports, []);
  });
}

// ---------------------------------------------------------------------------
// Ranges (RFC 9110 §14)

type RangeExpectation =
  | { status: 200 | 304 | 412 | 416 }
  | { status: 206; ranges: [number, number][] };

interface RangeRow {
  name: string;
  fields: (now: Current) => Fields;
  expect: RangeExpectation;
}

/** The Range rows for a file of `size` bytes. */
function rangeRows(size: number): RangeRow[] {
  const last = size - 1;
  const range = (
    value: string,
    why: string,
    expect: RangeExpectation,
  ): RangeRow => ({
    name:
      `GET with Range: ${
        value.length > 40 ? `${value.slice(0, 37)}...` : value
      } ` +
      `(${why}) is ${expect.status}`,
    fields: () => [["Range", value]],
    expect,
  });
  const parts = (...ranges: [number, number][]) => ({
    status: 206 as const,
    ranges,
  });
  const whole = { status: 200 as const };
  const sixteen = Array.from({ length: 16 }, (_, i) => `${2 * i}-${2 * i}`);
  const rows: RangeRow[] = [
    range("bytes=0-99", "a-b", parts([0, 99])),
    range(`bytes=${size - 100}-`, "a- to the end", parts([size - 100, last])),
    range("bytes=-100", "-n suffix", parts([size - 100, last])),
    range("bytes=0-0", "the first byte", parts([0, 0])),
    range(`bytes=${last}-${last}`, "the last byte", parts([last, last])),
    range(`bytes=10-${size + 1000}`, "end clamped", parts([10, last])),
    range(
      `bytes=-${size + 1}`,
      "suffix longer than the file",
      parts([0, last]),
    ),
    range("bytes=0-", "the whole file as a range", parts([0, last])),
    range("BYTES=0-9", "the unit is case-insensitive", parts([0, 9])),
    range("bytes=0-9,20-29", "two ranges", parts([0, 9], [20, 29])),
    range(
      "bytes= 0-9 ,\t-10",
      "optional white space",
      parts([0, 9], [size - 10, last]),
    ),
    range("bytes=50-59,0-9", "in the order asked", parts([50, 59], [0, 9])),
    range("bytes=0-9,10-19", "contiguous", parts([0, 9], [10, 19])),
    range(`bytes=0-9,${size}-`, "an unsatisfiable one dropped", parts([0, 9])),
    range(
      `bytes=${sixteen.join(",")}`,
      "16 ranges",
      parts(...sixteen.map((_, i): [number, number] => [2 * i, 2 * i])),
    ),
    range(`bytes=${sixteen.join(",")},40-40`, "17 ranges", whole),
    range("bytes=0-99,50-149", "overlapping", whole),
    range("bytes=0-9,0-9", "the same range twice", whole),
    range(`bytes=${size}-`, "starts at the size", { status: 416 }),
    range(`bytes=${size}-${size + 9},${size + 100}-`, "none satisfiable", {
      status: 416,
    }),
    range("bytes=-0", "an empty suffix", { status: 416 }),
    range("bytes=abc", "not a range", whole),
    range("bytes=9-0", "last before first", whole),
    range("bytes=", "no range at all", whole),
    range("bytes 0-9", "no equals sign", whole),
    range("bytes=0-9,x", "one bad member", whole),
    range("bytes=0--9", "a negative end", whole),
    range("items=0-9", "an unknown unit", whole),
    // §13.1.5 If-Range: a strong ETag or an exact date, else the whole file.
    {
      name: "GET with Range and If-Range of the current ETag is 206",
      fields: (now) => [["Range", "bytes=0-99"], ["If-Range", now.etag]],
      expect: parts([0, 99]),
    },
    {
      name:
        "GET with two ranges and If-Range of the current ETag are 206 multipart",
      fields: (now) => [["If-Range", now.etag], ["Range", "bytes=0-9,-9"]],
      expect: parts([0, 9], [size - 9, last]),
    },
    {
      name: "GET with Range and If-Range of an old ETag is 200 whole",
      fields: () => [["Range", "bytes=0-99"], ["If-Range", OTHER_ETAG]],
      expect: whole,
    },
    {
      name: "GET with Range and If-Range of the weak current ETag is 200 whole",
      fields: (now) => [["Range", "bytes=0-99"], ["If-Range", `W/${now.etag}`]],
      expect: whole,
    },
    // The fixture's mtime was set back after the file was written, as
    // `touch -r` or `cp -p` do: its ctime tells that the content may be
    // newer than the date, so the date is no validator (see below for one).
    {
      name:
        "GET with Range and If-Range of the Last-Modified date, set back after a write, is 200 whole",
      fields: (now) => [["Range", "bytes=0-99"], [
        "If-Range",
        now.lastModified,
      ]],
      expect: whole,
    },
    {
      name: "GET with Range and If-Range of an older date is 200 whole",
      fields: () => [["Range", "bytes=0-99"], ["If-Range", OLDER]],
      expect: whole,
    },
    {
      name: "GET with Range and If-Range of a later date is 200 whole",
      fields: () => [["Range", "bytes=0-99"], ["If-Range", NEWER]],
      expect: whole,
    },
    {
      name:
        "GET with Range and an If-Range that is neither tag nor date is 200 whole",
      fields: () => [["Range", "bytes=0-99"], ["If-Range", "yesterday"]],
      expect: whole,
    },
    // Preconditions are evaluated before Range (§13.2.2 step 5).
    {
      name: "GET with Range and If-None-Match of the current ETag is 304",
      fields: (now) => [["Range", "bytes=0-99"], ["If-None-Match", now.etag]],
      expect: { status: 304 },
    },
    {
      name: "GET with Range and If-Match of another ETag is 412",
      fields: () => [["Range", "bytes=0-99"], ["If-Match", OTHER_ETAG]],
      expect: { status: 412 },
    },
  ];
  if (size > 140_000) {
    rows.push(
      range(
        "bytes=65530-65545,131070-140000,-5",
        "across 64 KiB read boundaries",
        parts([65530, 65545], [131070, 140000], [size - 5, last]),
      ),
      range("bytes=1000-150000", "longer than a read", parts([1000, 150000])),
    );
  }
  return rows;
}

/** Checks a GET answer to a range row against the file's bytes. */
function assertRangeAnswer(
  response: Exchange,
  expect: RangeExpectation,
  bytes: Uint8Array,
  now: Current,
) {
  const size = bytes.length;
  assert.equal(response.status, expect.status, response.head);
  assert.equal(response.after.length, 0, "bytes after the response");
  switch (expect.status) {
    case 200:
      assertWhole(response, bytes, "GET");
      assert.equal(header(response, "etag"), now.etag);
      return;
    case 304:
      assertNotModified(response, now);
      return;
    case 412:
      return;
    case 416:
      assert.equal(header(response, "content-range"), `bytes */${size}`);
      return;
  }
  assert.equal(header(response, "etag"), now.etag);
  assert.equal(header(response, "last-modified"), now.lastModified);
  assert.equal(
    header(response, "content-length"),
    String(response.body.length),
  );
  if (expect.ranges.length === 1) {
    const [start, end] = expect.ranges[0];
    assert.equal(header(response, "content-type"), now.contentType);
    assert.equal(
      header(response, "content-range"),
      `bytes ${start}-${end}/${size}`,
    );
    assertBytes(response.body, bytes.subarray(start, end + 1), "range");
    return;
  }
  assert.equal(header(response, "content-range"), undefined);
  const boundary = boundaryOf(header(response, "content-type") ?? "");
  const found = readByteParts(response.body, boundary);
  assert.equal(found.length, expect.ranges.length, "number of parts");
  expect.ranges.forEach(([start, end], i) => {
    const part = found[i];
    assert.equal(part.fields.get("content-type"), now.contentType, `part ${i}`);
    assert.equal(
      part.fields.get("content-range"),
      `bytes ${start}-${end}/${size}`,
      `part ${i}`,
    );
    assertBytes(part.data, bytes.subarray(start, end + 1), `part ${i}`);
  });
}

/** The fields a HEAD must repeat from the GET (RFC 9110 §9.3.2). */
function headFields(response: Exchange): (string | undefined)[] {
  const type = header(response, "content-type");
  return [
    type?.startsWith("multipart/byteranges;") ? "multipart/byteranges" : type,
    header(response, "content-length"),
    header(response, "content-range"),
    header(response, "etag"),
    header(response, "last-modified"),
    header(response, "accept-ranges"),
  ];
}

for (const { name, size, kind } of SIZES) {
  Deno.test(`Range requests on a ${kind} file follow RFC 9110 §14; HEAD ignores Range`, async (t) => {
    using fixture = semanticsRoot();
    await using server = startServer({ root: fixture.root });
    const target = `/${name}`;
    const bytes = fixture.read(name);
    // Settled, every file: see the preconditions above.
    await fixture.settled();
    const now = await current(server.port, target);
    for (const row of rangeRows(size)) {
      await t.step(row.name, async () => {
        const fields = row.fields(now);
        const got = await exchange(server.port, "GET", target, fields);
        assertRangeAnswer(got, row.expect, bytes, now);
        // Range is defined for GET alone, and MUST be ignored on HEAD
        // (§14.2): its answer is that of a GET without Range.
        const plain = await exchange(
          server.port,
          "GET",
          target,
          fields.filter(([name]) => !/^(if-)?range$/i.test(name)),
        );
        const head = await exchange(server.port, "HEAD", target, fields);
        assert.equal(head.status, plain.status, head.head);
        assert.notEqual(head.status, 206);
        assert.deepEqual(headFields(head), headFields(plain));
        assert.equal(head.after.length, 0, "HEAD has no body");
      });
    }
    assert.deepEqual(server.reports, []);
  });
}

Deno.test("GET with Range and If-Range of the Last-Modified date of a settled file is 206", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  // Written now and left alone: mtime and ctime in the same second.
  const files = SIZES.map(({ size }, i) => ({
    target: `/settled${i}.bin`,
    bytes: pseudoRandomBytes(size, 40 + i),
  }));
  for (const { target, bytes } of files) {
    Deno.writeFileSync(`${fixture.root}${target}`, bytes);
  }
  // A date is a strong validator only once its second is over (§8.8.2.2).
  const written = Math.max(
    ...files.map(({ target }) =>
      Deno.statSync(`${fixture.root}${target}`).mtime!.getTime()
    ),
  );
  // And the streamed one has its ETag 2 s after its change.
  await settledAfter(written);
  for (const { target, bytes } of files) {
    const now = await current(server.port, target);
    const response = await exchange(server.port, "GET", target, [
      ["Range", "bytes=0-99"],
      ["If-Range", now.lastModified],
    ]);
    assertRangeAnswer(response, { status: 206, ranges: [[0, 99]] }, bytes, now);
  }
  assert.deepEqual(server.reports, []);
});

// Not the streamed file: it has no ETag for 2 s after a change (see the
// test of that above), which `current` requires.
const REWRITTEN_SIZES = SIZES.filter(({ name }) => name !== "streamed.txt");

for (const { name, size, kind } of REWRITTEN_SIZES) {
  Deno.test(`A ${kind} file rewritten with its old mtime put back ignores If-Range of the old date, and keeps If-Modified-Since`, async () => {
    using fixture = semanticsRoot();
    await using server = startServer({ root: fixture.root });
    const target = `/${name}`;
    const path = `${fixture.root}/${name}`;
    const before = await current(server.port, target);
    // What `cp -p`, `rsync -t` and `touch -r` do: new content, same size,
    // the old mtime again. Only the ctime moves.
    const mtime = Deno.statSync(path).mtime!;
    const fresh = pseudoRandomBytes(size, 77);
    Deno.writeFileSync(path, fresh);
    Deno.utimeSync(path, mtime, mtime);

    // The cache may trust its entry for a moment; 2 s is a generous bound.
    let now: Current;
    const giveUp = performance.now() + 2000;
    for (;;) {
      now = await current(server.port, target);
      if (now.etag !== before.etag || performance.now() > giveUp) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.notEqual(now.etag, before.etag);
    assert.equal(now.lastModified, before.lastModified);

    // A client resuming its old copy by date must not get new bytes to
    // splice onto it: the whole new file instead.
    const resumed = await exchange(server.port, "GET", target, [
      ["Range", "bytes=10-19"],
      ["If-Range", before.lastModified],
    ]);
    assertRangeAnswer(resumed, { status: 200 }, fresh, now);
    // If-Modified-Since compares the mtime, like nginx: tools that keep it
    // (rsync -t) mean to keep caches valid.
    const revalidated = await exchange(server.port, "GET", target, [
      ["If-Modified-Since", before.lastModified],
    ]);
    assertNotModified(revalidated, now);
    assert.deepEqual(server.reports, []);
  });
}

Deno.test("GET of an empty file with Range is 200 with an empty body", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  for (const value of ["bytes=0-0", "bytes=-1", "bytes=0-"]) {
    const response = await exchange(server.port, "GET", "/empty.txt", [
      ["Range", value],
    ]);
    assertWhole(response, new Uint8Array(0), "GET");
  }
  assert.deepEqual(server.reports, []);
});

// ---------------------------------------------------------------------------
// Precompressed siblings (RFC 9110 §8.4, §12.5.3)

interface CodingRow {
  target: string;
  acceptEncoding: string | undefined;
  /** The coding served, undefined for the original. */
  coding: "br" | "gzip" | undefined;
  /** Whether `Vary: Accept-Encoding` is expected (the file has a sibling). */
  vary: boolean;
}

const CODINGS: CodingRow[] = [
  { target: "/app.js", acceptEncoding: "gzip", coding: "gzip", vary: true },
  { target: "/app.js", acceptEncoding: "gzip, br", coding: "br", vary: true },
  {
    target: "/app.js",
    acceptEncoding: "br;q=0.5, gzip",
    coding: "gzip",
    vary: true,
  },
  { target: "/app.js", acceptEncoding: "*", coding: "br", vary: true },
  {
    target: "/app.js",
    acceptEncoding: "gzip;q=0",
    coding: undefined,
    vary: true,
  },
  {
    target: "/app.js",
    acceptEncoding: "identity",
    coding: undefined,
    vary: true,
  },
  {
    target: "/app.js",
    acceptEncoding: "br;q=0, gzip;q=0, identity;q=0",
    coding: undefined,
    vary: true,
  },
  {
    target: "/app.js",
    acceptEncoding: undefined,
    coding: undefined,
    vary: true,
  },
  { target: "/style.css", acceptEncoding: "gzip", coding: "gzip", vary: true },
  {
    target: "/style.css",
    acceptEncoding: "x-gzip",
    coding: "gzip",
    vary: true,
  },
  {
    target: "/style.css",
    acceptEncoding: "gzip;q=0",
    coding: undefined,
    vary: true,
  },
  { target: "/style.css", acceptEncoding: "br", coding: undefined, vary: true },
  {
    target: "/style.css",
    acceptEncoding: undefined,
    coding: undefined,
    vary: true,
  },
  {
    target: "/plain.txt",
    acceptEncoding: "gzip, br",
    coding: undefined,
    vary: false,
  },
  // trap.txt.gz is a directory: not a sibling.
  {
    target: "/trap.txt",
    acceptEncoding: "gzip",
    coding: undefined,
    vary: false,
  },
  { target: "/big.txt", acceptEncoding: "gzip", coding: "gzip", vary: true },
  {
    target: "/big.txt",
    acceptEncoding: undefined,
    coding: undefined,
    vary: true,
  },
];

const SUFFIX = { br: ".br", gzip: ".gz" } as const;
const DECODE = { br: brotliDecompressSync, gzip: gunzipSync } as const;

Deno.test("Precompressed siblings are chosen by Accept-Encoding", async (t) => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  for (const row of CODINGS) {
    const name = `${row.target} with ${
      row.acceptEncoding === undefined
        ? "no Accept-Encoding"
        : `Accept-Encoding: ${row.acceptEncoding}`
    } is ${row.coding ?? "the original"}${
      row.vary ? " with Vary" : " without Vary"
    }`;
    await t.step(name, async () => {
      const original = fixture.read(row.target.slice(1));
      const identity = await current(server.port, row.target);
      const fields: Fields = row.acceptEncoding === undefined
        ? []
        : [["Accept-Encoding", row.acceptEncoding]];
      for (const method of ["GET", "HEAD"]) {
        const response = await exchange(
          server.port,
          method,
          row.target,
          fields,
        );
        const expected = row.coding === undefined
          ? original
          : fixture.read(row.target.slice(1) + SUFFIX[row.coding]);
        assertWhole(response, expected, method);
        assert.equal(header(response, "content-encoding"), row.coding);
        assert.equal(header(response, "content-type"), identity.contentType);
        assert.equal(
          header(response, "vary"),
          row.vary ? "Accept-Encoding" : undefined,
        );
        assert.equal(header(response, "accept-ranges"), "bytes");
        const etag = header(response, "etag") ?? "";
        assert.match(etag, STRONG_ETAG);
        if (row.coding === undefined) assert.equal(etag, identity.etag);
        else {
          assert.notEqual(etag, identity.etag);
          if (method === "GET") {
            const decoded = DECODE[row.coding](response.body);
            assertBytes(new Uint8Array(decoded), original, "decoded body");
          }
        }
      }
    });
  }
  assert.deepEqual(server.reports, []);
});

Deno.test("The .gz and .br siblings have ETags of their own, distinct from each other", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  const tags = new Set<string>();
  for (const coding of [undefined, "gzip", "br"]) {
    const fields: Fields = coding === undefined
      ? []
      : [["Accept-Encoding", coding]];
    tags.add((await current(server.port, "/app.js", fields)).etag);
  }
  assert.equal(tags.size, 3);
  assert.deepEqual(server.reports, []);
});

for (
  const { target, kind } of [
    { target: "/app.js", kind: "small" },
    { target: "/big.txt", kind: "big" },
  ]
) {
  Deno.test(`Range on a ${kind} gzip sibling applies to the encoded bytes`, async (t) => {
    using fixture = semanticsRoot();
    await using server = startServer({ root: fixture.root });
    const gzip: Fields = [["Accept-Encoding", "gzip"]];
    const encoded = fixture.read(`${target.slice(1)}.gz`);
    const now = await current(server.port, target, gzip);
    const identity = await current(server.port, target);
    assert.equal(now.contentType, identity.contentType);
    const size = encoded.length;
    const rows: [string, Fields, RangeExpectation][] = [
      ["one range", [["Range", "bytes=0-9"]], {
        status: 206,
        ranges: [[0, 9]],
      }],
      ["a suffix range", [["Range", "bytes=-20"]], {
        status: 206,
        ranges: [[size - 20, size - 1]],
      }],
      // A multipart body is not gzip itself, so Content-Encoding: gzip
      // could not describe it: the whole encoded file, like nginx.
      ["two ranges", [["Range", "bytes=0-9,-9"]], { status: 200 }],
      ["two ranges and If-Range of the gzip ETag", [
        ["Range", "bytes=0-9,20-29"],
        ["If-Range", now.etag],
      ], { status: 200 }],
      ["If-Range of the gzip ETag", [
        ["Range", "bytes=5-14"],
        ["If-Range", now.etag],
      ], { status: 206, ranges: [[5, 14]] }],
      ["If-Range of the identity ETag", [
        ["Range", "bytes=5-14"],
        ["If-Range", identity.etag],
      ], { status: 200 }],
      ["a range past the encoded size", [["Range", `bytes=${size}-`]], {
        status: 416,
      }],
      ["If-None-Match of the gzip ETag", [["If-None-Match", now.etag]], {
        status: 304,
      }],
    ];
    for (const [why, fields, expect] of rows) {
      await t.step(
        `GET with Accept-Encoding: gzip and ${why} is ${expect.status}`,
        async () => {
          const response = await exchange(server.port, "GET", target, [
            ...gzip,
            ...fields,
          ]);
          assertRangeAnswer(response, expect, encoded, now);
          assert.equal(header(response, "vary"), "Accept-Encoding");
          if (expect.status === 200 || expect.status === 206) {
            assert.equal(header(response, "content-encoding"), "gzip");
          }
        },
      );
    }
    await t.step(
      "HEAD with Accept-Encoding: gzip and two ranges is 200 like GET, and GET decodes",
      async () => {
        const fields: Fields = [...gzip, ["Range", "bytes=0-9,20-29"]];
        const got = await exchange(server.port, "GET", target, fields);
        const head = await exchange(server.port, "HEAD", target, fields);
        assert.equal(head.status, 200, head.head);
        assert.deepEqual(headFields(head), headFields(got));
        assert.equal(header(head, "content-encoding"), "gzip");
        assertBytes(
          new Uint8Array(gunzipSync(got.body)),
          fixture.read(target.slice(1)),
          "decoded body",
        );
      },
    );
    await t.step(
      "If-None-Match of the gzip ETag without Accept-Encoding is 200 identity",
      async () => {
        const response = await exchange(server.port, "GET", target, [
          ["If-None-Match", now.etag],
        ]);
        assertWhole(response, fixture.read(target.slice(1)), "GET");
        assert.equal(header(response, "content-encoding"), undefined);
      },
    );
    assert.deepEqual(server.reports, []);
  });
}

// ---------------------------------------------------------------------------
// Cache-Control, index.html

const CACHE_CONTROL = "public, max-age=60";

/** A 200, a 304, a 206 and a multipart 206 for one file. */
async function variety(port: number, target: string): Promise<Exchange[]> {
  const now = await current(port, target);
  const answers = [
    await exchange(port, "GET", target),
    await exchange(port, "HEAD", target),
    await exchange(port, "GET", target, [["If-None-Match", now.etag]]),
    await exchange(port, "GET", target, [["Range", "bytes=0-9"]]),
    await exchange(port, "GET", target, [["Range", "bytes=0-9,20-29"]]),
  ];
  assert.deepEqual(answers.map((a) => a.status), [200, 200, 304, 206, 206]);
  return answers;
}

Deno.test("serve({ cacheControl }) adds Cache-Control to 200, 304 and 206", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({
    root: fixture.root,
    cacheControl: CACHE_CONTROL,
  });
  for (const target of ["/small.bin", "/big.bin", "/app.js"]) {
    for (const answer of await variety(server.port, target)) {
      assert.equal(header(answer, "cache-control"), CACHE_CONTROL, answer.head);
    }
  }
  assert.deepEqual(server.reports, []);
});

Deno.test("serve({ cacheControl }) leaves Cache-Control off 412 and 416, which answer one request", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({
    root: fixture.root,
    cacheControl: CACHE_CONTROL,
  });
  for (const target of ["/small.bin", "/big.bin", "/app.js"]) {
    const refusals = [
      await exchange(server.port, "GET", target, [["If-Match", '"other"']]),
      await exchange(server.port, "GET", target, [[
        "Range",
        "bytes=99999999-",
      ]]),
    ];
    assert.deepEqual(refusals.map((a) => a.status), [412, 416]);
    for (const answer of refusals) {
      assert.equal(header(answer, "cache-control"), undefined, answer.head);
    }
  }
  assert.deepEqual(server.reports, []);
});

Deno.test("Without cacheControl no file response carries Cache-Control", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  for (const target of ["/small.bin", "/big.bin", "/app.js"]) {
    for (const answer of await variety(server.port, target)) {
      assert.equal(header(answer, "cache-control"), undefined, answer.head);
    }
  }
  assert.deepEqual(server.reports, []);
});

Deno.test("GET of /dir/index.html is 200 directly, like /dir/", async () => {
  using fixture = semanticsRoot();
  await using server = startServer({ root: fixture.root });
  const index = fixture.read("dir/index.html");
  const direct = await exchange(server.port, "GET", "/dir/index.html");
  const slash = await exchange(server.port, "GET", "/dir/");
  for (const response of [direct, slash]) {
    assertWhole(response, index, "GET");
    assert.equal(header(response, "location"), undefined);
    assert.match(header(response, "content-type") ?? "", /^text\/html/);
  }
  assert.equal(header(direct, "etag"), header(slash, "etag"));
  assert.deepEqual(server.reports, []);
});

// ---------------------------------------------------------------------------
Deno.test("A .svgz is sent as gzip-coded image/svg+xml, whatever the client accepts", async () => {
  // RFC 9110 §8.4: gzip is not implied by image/svg+xml, so a browser
  // renders the file only with Content-Encoding. There is no other form to
  // send, and no sibling is looked for.
  using dir = tempDir();
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n';
  const small = new Uint8Array(gzipSync(svg));
  Deno.writeFileSync(`${dir.path}/logo.svgz`, small);
  Deno.writeTextFileSync(`${dir.path}/logo.svgz.gz`, "a sibling never served");
  Deno.writeTextFileSync(`${dir.path}/plain.svg`, svg);
  // Over the in-memory limit: streamed from disk, the same fields.
  const big = pseudoRandomBytes(STREAMED_SIZE, 7);
  Deno.writeFileSync(`${dir.path}/big.svgz`, big);
  await using server = startServer({ root: dir.path });
  for (const fields of [[], [["Accept-Encoding", "br"]]] as Fields[]) {
    const response = await exchange(server.port, "GET", "/logo.svgz", fields);
    assert.equal(response.status, 200, response.head);
    assert.equal(header(response, "content-type"), "image/svg+xml");
    assert.equal(header(response, "content-encoding"), "gzip");
    assert.equal(header(response, "vary"), undefined);
    assert.deepEqual(response.body, small);
    assert.equal(new TextDecoder().decode(gunzipSync(response.body)), svg);
  }
  const streamed = await exchange(server.port, "GET", "/big.svgz", [
    ["Accept-Encoding", "br"],
  ]);
  assert.equal(streamed.status, 200, streamed.head);
  assert.equal(header(streamed, "content-type"), "image/svg+xml");
  assert.equal(header(streamed, "content-encoding"), "gzip");
  assert.equal(header(streamed, "vary"), undefined);
  assert.deepEqual(streamed.body, big);
  assert.equal(streamed.after.length, 0);
  const plain = await exchange(server.port, "GET", "/plain.svg", [
    ["Accept-Encoding", "gzip"],
  ]);
  assert.equal(header(plain, "content-type"), "image/svg+xml");
  assert.equal(header(plain, "content-encoding"), undefined);
});

// The command line: --cache-control, --quiet, the access log

Deno.test("httpd.ts --cache-control adds Cache-Control and --quiet writes no access log", async () => {
  using fixture = semanticsRoot();
  await using cli = await startLoggedCli([
    "-r",
    fixture.root,
    "--quiet",
    "--cache-control",
    CACHE_CONTROL,
  ]);
  for (const answer of await variety(cli.port, "/small.bin")) {
    assert.equal(header(answer, "cache-control"), CACHE_CONTROL, answer.head);
  }
  const status = await cli.stop();
  assert.equal(status.code, 0, cli.stderr());
  assert.equal(cli.stdout(), "");
});

/** Undoes the log's escapes (`\xHH`, and `\"` `\\` as Apache writes them). */
function unescapeLogField(field: string): string {
  return field.replace(
    /\\(x[0-9a-fA-F]{2}|["\\])/g,
    (_, escape: string) =>
      escape.length === 1
        ? escape
        : String.fromCharCode(parseInt(escape.slice(1), 16)),
  );
}

/** `client - - [time] "request" status bytes "referer" "user-agent"`. */
const COMBINED =
  /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

Deno.test("httpd.ts writes one Combined Log Format line per request, escaping the User-Agent", async () => {
  using fixture = semanticsRoot();
  await using cli = await startLoggedCli(["-r", fixture.root]);
  const plain = fixture.read("plain.txt");
  // A quote, a backslash, a tab and an obs-text byte: all legal in a field.
  const agent = 'agent "quoted" back\\slash\ttab \xff end';
  const referer = "http://127.0.0.1/page.html";
  const now = await current(cli.port, "/plain.txt");
  const sent: [string, string, Fields, number][] = [
    ["GET", "/plain.txt", [["User-Agent", agent], ["Referer", referer]], 200],
    ["HEAD", "/plain.txt", [], 200],
    ["GET", "/missing.txt?q=1", [], 404],
    ["GET", "/plain.txt", [["Range", "bytes=0-9"]], 206],
    ["GET", "/plain.txt", [["If-None-Match", now.etag]], 304],
  ];
  const bodyLengths: number[] = [];
  for (const [method, target, fields, status] of sent) {
    const response = await exchange(cli.port, method, target, fields);
    assert.equal(response.status, status, response.head);
    bodyLengths.push(response.body.length);
  }
  assert.deepEqual(bodyLengths.slice(0, 2), [plain.length, 0]);
  assert.deepEqual(bodyLengths.slice(3), [10, 0]);
  // One line for the `current()` request, then one per request, in order.
  const lines = await cli.waitForLines(sent.length + 1);
  const status = await cli.stop();
  assert.equal(status.code, 0, cli.stderr());
  const all = cli.stdout().split("\n");
  assert.equal(all.pop(), "", "the log ends with a newline");
  assert.equal(all.length, sent.length + 1, cli.stdout());
  assert.deepEqual(all.slice(0, lines.length), lines);

  const entries = all.slice(1).map((line) => {
    const match = COMBINED.exec(line);
    assert.ok(match !== null, `not a Combined Log Format line: ${line}`);
    return match;
  });
  entries.forEach((match, i) => {
    const [method, target, fields, status] = sent[i];
    const field = (name: string) =>
      fields.find(([n]) => n.toLowerCase() === name)?.[1] ?? "-";
    assert.equal(match[1], "127.0.0.1");
    assert.equal(match[3], `${method} ${target} HTTP/1.1`);
    assert.equal(Number(match[4]), status);
    // %b of Apache: body bytes sent, "-" for none.
    assert.equal(match[5], bodyLengths[i] === 0 ? "-" : String(bodyLengths[i]));
    assert.equal(unescapeLogField(match[6]), field("referer"));
    assert.equal(unescapeLogField(match[7]), field("user-agent"));
  });
  // The raw User-Agent field is one line of printable ASCII.
  const rawAgent = entries[0][7];
  assert.match(rawAgent, /^[\x20-\x7e]+$/);
  assert.ok(!rawAgent.includes("\t"));
  assert.equal(bytesOf(unescapeLogField(rawAgent)).length, agent.length);
});

Deno.test("httpd.ts logs a request, refused or not, with the line it came with", async () => {
  // An operator must see which URL a client without Host (say) asked for.
  using fixture = semanticsRoot();
  await using cli = await startLoggedCli([
    "-r",
    fixture.root,
    "--header-timeout",
    "1",
  ]);
  const sent: [string, number, string][] = [
    // Served, with the version it came with.
    ["GET /plain.txt HTTP/1.0\r\n\r\n", 200, "GET /plain.txt HTTP/1.0"],
    [
      "GET /plain.txt HTTP/1.1\r\nConnection: close\r\n\r\n",
      400,
      "GET /plain.txt HTTP/1.1",
    ],
    [
      "GET /a HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      400,
      "GET /a HTTP/1.1",
    ],
    [
      `HEAD /b HTTP/1.1\n${"X-F: v\r\n".repeat(101)}\r\n`,
      431,
      "HEAD /b HTTP/1.1",
    ],
    // Logged as sent, escaped, whether or not it parses.
    ["GET /c HTTP/9.9\r\nHost: t\r\n\r\n", 505, "GET /c HTTP/9.9"],
    ["G\x01T / HTTP/1.1\r\n\r\n", 400, "G\\x01T / HTTP/1.1"],
    // No line break yet: there is no line to log.
    ["\x16\x03\x01\x00", 400, "-"],
    // The head never ends: a 408 after a second, with its line.
    ["GET /slow HTTP/1.1\r\nHost: t\r\n", 408, "GET /slow HTTP/1.1"],
  ];
  for (const [request, status] of sent) {
    const response = await fetchRaw(cli.port, request, { head: true });
    assert.equal(response.status, status, request);
  }
  // Refused after a request it follows on the same connection: each is
  // logged with its own line.
  {
    using client = await RawClient.connect(cli.port);
    await client.send(
      "GET /plain.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
    );
    assert.equal((await client.readResponse()).status, 200);
    assert.equal((await client.readResponse()).status, 400);
  }
  const expected = [
    ...sent.map(([, status, line]): [number, string] => [status, line]),
    [200, "GET /plain.txt HTTP/1.1"],
    [400, "GET /after HTTP/1.1"],
  ];
  const lines = await cli.waitForLines(expected.length);
  assert.equal(lines.length, expected.length, lines.join("\n"));
  lines.forEach((line, i) => {
    const match = COMBINED.exec(line);
    assert.ok(match !== null, `not a Combined Log Format line: ${line}`);
    assert.equal(match[3], expected[i][1], line);
    assert.equal(Number(match[4]), expected[i][0], line);
  });
});
