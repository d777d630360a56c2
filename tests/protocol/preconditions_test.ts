import assert from "node:assert/strict";
import {
  evaluatePreconditions,
  isRangeApplicable,
  type PreconditionResult,
  type Validators,
} from "../../protocol/preconditions.ts";

// Last modified half a second into a second: Last-Modified says 00:00:00.
const MTIME = Date.UTC(2024, 0, 1, 0, 0, 0, 500);
const AT_LM = "Mon, 01 Jan 2024 00:00:00 GMT";
const BEFORE_LM = "Sun, 31 Dec 2023 23:59:59 GMT";
const AFTER_LM = "Mon, 01 Jan 2024 00:00:01 GMT";
const VALIDATORS: Validators = { etag: '"v1"', lastModified: MTIME };

const PROCEED = "proceed";
const NOT_MODIFIED = "not-modified";
const FAILED = "precondition-failed";

interface Row {
  name: string;
  method?: string;
  headers: Record<string, string>;
  validators?: Validators;
  expected: PreconditionResult;
}

const ROWS: Row[] = [
  { name: "no condition proceeds", headers: {}, expected: PROCEED },

  // §13.1.1 If-Match: strong comparison, "*" matches an existing target.
  {
    name: "If-Match * passes",
    headers: { "if-match": "*" },
    expected: PROCEED,
  },
  {
    name: "If-Match with the tag passes",
    headers: { "if-match": '"v1"' },
    expected: PROCEED,
  },
  {
    name: "If-Match with the tag in a list passes",
    headers: { "if-match": '"v0", "v1"' },
    expected: PROCEED,
  },
  {
    name: "If-Match with another tag fails",
    headers: { "if-match": '"v0"' },
    expected: FAILED,
  },
  {
    name: "If-Match uses strong comparison (weak tag fails)",
    headers: { "if-match": 'W/"v1"' },
    expected: FAILED,
  },
  {
    name: "If-Match fails for HEAD too",
    method: "HEAD",
    headers: { "if-match": '"v0"' },
    expected: FAILED,
  },
  {
    name: "a malformed If-Match fails",
    headers: { "if-match": "v1" },
    expected: FAILED,
  },
  {
    name: "If-Match with a tag fails when the file has no ETag",
    headers: { "if-match": '"v1"' },
    validators: { lastModified: MTIME },
    expected: FAILED,
  },
  {
    name: "If-Match * passes when the file has no ETag",
    headers: { "if-match": "*" },
    validators: { lastModified: MTIME },
    expected: PROCEED,
  },

  // §13.1.4 If-Unmodified-Since, only without If-Match.
  {
    name:
      "If-Unmodified-Since equal to Last-Modified passes (second resolution)",
    headers: { "if-unmodified-since": AT_LM },
    expected: PROCEED,
  },
  {
    name: "If-Unmodified-Since after Last-Modified passes",
    headers: { "if-unmodified-since": AFTER_LM },
    expected: PROCEED,
  },
  {
    name: "If-Unmodified-Since before Last-Modified fails",
    headers: { "if-unmodified-since": BEFORE_LM },
    expected: FAILED,
  },
  {
    name: "an invalid If-Unmodified-Since is ignored",
    headers: { "if-unmodified-since": "yesterday" },
    expected: PROCEED,
  },
  {
    name: "an If-Unmodified-Since list of dates is ignored",
    headers: { "if-unmodified-since": `${BEFORE_LM}, ${BEFORE_LM}` },
    expected: PROCEED,
  },
  {
    name: "If-Unmodified-Since is ignored when If-Match is present",
    headers: { "if-match": '"v1"', "if-unmodified-since": BEFORE_LM },
    expected: PROCEED,
  },
  {
    name: "If-Unmodified-Since is ignored without a modification date",
    headers: { "if-unmodified-since": BEFORE_LM },
    validators: { etag: '"v1"' },
    expected: PROCEED,
  },

  // §13.1.2 If-None-Match: weak comparison, 304 for GET/HEAD, 412 otherwise.
  {
    name: "If-None-Match with the tag gives 304 to GET",
    headers: { "if-none-match": '"v1"' },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with the tag gives 304 to HEAD",
    method: "HEAD",
    headers: { "if-none-match": '"v1"' },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with the tag gives 412 to other methods",
    method: "POST",
    headers: { "if-none-match": '"v1"' },
    expected: FAILED,
  },
  {
    name: "If-None-Match uses weak comparison",
    headers: { "if-none-match": 'W/"v1"' },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with the tag in a list gives 304",
    headers: { "if-none-match": '"v0", W/"v1"' },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-None-Match with other tags proceeds",
    headers: { "if-none-match": '"v0", "v2"' },
    expected: PROCEED,
  },
  {
    name: "If-None-Match * gives 304 to GET",
    headers: { "if-none-match": "*" },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-None-Match * gives 412 to PUT",
    method: "PUT",
    headers: { "if-none-match": "*" },
    expected: FAILED,
  },
  {
    name: "a malformed If-None-Match proceeds",
    headers: { "if-none-match": "v1" },
    expected: PROCEED,
  },

  // §13.1.3 If-Modified-Since: GET/HEAD only, ignored with If-None-Match.
  {
    name: "If-Modified-Since equal to Last-Modified gives 304",
    headers: { "if-modified-since": AT_LM },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since after Last-Modified gives 304",
    headers: { "if-modified-since": AFTER_LM },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since before Last-Modified proceeds",
    headers: { "if-modified-since": BEFORE_LM },
    expected: PROCEED,
  },
  {
    name: "If-Modified-Since gives 304 to HEAD",
    method: "HEAD",
    headers: { "if-modified-since": AT_LM },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since accepts the RFC 850 form",
    headers: { "if-modified-since": "Monday, 01-Jan-24 00:00:00 GMT" },
    expected: NOT_MODIFIED,
  },
  {
    name: "If-Modified-Since accepts the asctime form",
    headers: { "if-modified-since": "Mon Jan  1 00:00:00 2024" },
    expected: NOT_MODIFIED,
  },
  {
    name: "an invalid If-Modified-Since is ignored",
    headers: { "if-modified-since": "Mon, 01 Jan 2024" },
    expected: PROCEED,
  },
  {
    name: "If-Modified-Since is ignored for POST",
    method: "POST",
    headers: { "if-modified-since": AT_LM },
    expected: PROCEED,
  },
  {
    name: "If-Modified-Since is ignored when If-None-Match is present",
    headers: { "if-none-match": '"v0"', "if-modified-since": AFTER_LM },
    expected: PROCEED,
  },
  {
    name: "If-Modified-Since is ignored without a modification date",
    headers: { "if-modified-since": AFTER_LM },
    validators: { etag: '"v1"' },
    expected: PROCEED,
  },

  // §13.2.2 order between the fields.
  {
    name: "a failing If-Match wins over a matching If-None-Match",
    headers: { "if-match": '"v0"', "if-none-match": '"v1"' },
    expected: FAILED,
  },
  {
    name: "a failing If-Unmodified-Since wins over a matching If-None-Match",
    headers: { "if-unmodified-since": BEFORE_LM, "if-none-match": '"v1"' },
    expected: FAILED,
  },
  {
    name: "a failing If-Unmodified-Since wins over If-Modified-Since",
    headers: {
      "if-unmodified-since": BEFORE_LM,
      "if-modified-since": AFTER_LM,
    },
    expected: FAILED,
  },
  {
    name: "a passing If-Match then a matching If-None-Match gives 304",
    headers: { "if-match": '"v1"', "if-none-match": '"v1"' },
    expected: NOT_MODIFIED,
  },
  {
    name: "a passing If-Unmodified-Since then If-Modified-Since gives 304",
    headers: { "if-unmodified-since": AFTER_LM, "if-modified-since": AFTER_LM },
    expected: NOT_MODIFIED,
  },
  // If-Modified-Since compares the date that was sent, Last-Modified: a
  // later status change (chmod, or cp -p and rsync -t, which keep the mtime
  // on purpose) must not cost every cache a full download.
  {
    name: "If-Modified-Since ignores a status change after the mtime",
    headers: { "if-modified-since": AT_LM },
    validators: { ...VALIDATORS, lastChanged: MTIME + 5000 },
    expected: NOT_MODIFIED,
  }, // Only SP and HTAB are white space around a value (RFC 9110 §5.6.3): a
  // no-break space (0xA0, obs-text) makes it something else.
  {
    name: "If-Unmodified-Since with OWS around the date still applies",
    headers: { "if-unmodified-since": ` \t${BEFORE_LM} ` },
    expected: FAILED,
  },
  {
    name: "If-Unmodified-Since with a trailing no-break space is ignored",
    headers: { "if-unmodified-since": `${BEFORE_LM}\xa0` },
    expected: PROCEED,
  },
  {
    name: "If-Modified-Since with a trailing no-break space is ignored",
    headers: { "if-modified-since": `${AT_LM}\xa0` },
    expected: PROCEED,
  },
  {
    name: "If-None-Match of * and a no-break space is no wildcard",
    headers: { "if-none-match": "*\xa0" },
    expected: PROCEED,
  },
];

Deno.test("evaluatePreconditions() follows RFC 9110 §13.1 and the §13.2.2 order", async (t) => {
  for (const row of ROWS) {
    await t.step(`evaluatePreconditions(): ${row.name}`, () => {
      const request = {
        method: row.method ?? "GET",
        header: (name: string) => row.headers[name],
      };
      assert.equal(
        evaluatePreconditions(request, row.validators ?? VALIDATORS),
        row.expected,
      );
    });
  }
});

Deno.test("evaluatePreconditions() asks for lowercase field names only", () => {
  const asked: string[] = [];
  evaluatePreconditions({
    method: "GET",
    header: (name) => {
      asked.push(name);
      return undefined;
    },
  }, VALIDATORS);
  assert.deepEqual(asked, asked.map((name) => name.toLowerCase()));
  assert.ok(asked.includes("if-none-match"));
});

const LONG_AGO = MTIME + 60_000;

const IF_RANGE_ROWS: {
  name: string;
  value: string | undefined;
  validators?: Validators;
  now?: number;
  expected: boolean;
}[] = [
  { name: "no If-Range: Range applies", value: undefined, expected: true },
  {
    name: "the current strong tag: Range applies",
    value: '"v1"',
    expected: true,
  },
  { name: "another tag: whole file", value: '"v0"', expected: false },
  {
    name: "a weak tag never matches strongly: whole file",
    value: 'W/"v1"',
    expected: false,
  },
  {
    name: "a list is not one entity-tag: whole file",
    value: '"v1", "v2"',
    expected: false,
  },
  {
    name: "a tag when the file has no ETag: whole file",
    value: '"v1"',
    validators: { lastModified: MTIME },
    expected: false,
  },
  {
    name: "the exact Last-Modified date: Range applies",
    value: AT_LM,
    expected: true,
  },
  { name: "an earlier date: whole file", value: BEFORE_LM, expected: false },
  { name: "a later date: whole file", value: AFTER_LM, expected: false },
  {
    name: "the exact date of a file changed under a second ago: whole file",
    value: AT_LM,
    now: MTIME + 400,
    expected: false,
  },
  {
    name:
      "the exact date of a file rewritten in a later second with its mtime put back: whole file",
    value: AT_LM,
    validators: { ...VALIDATORS, lastChanged: MTIME + 5000 },
    expected: false,
  },
  {
    name:
      "the exact date of a file whose status changed under a second ago: whole file",
    value: AT_LM,
    validators: { ...VALIDATORS, lastChanged: MTIME + 400 },
    now: MTIME + 1100,
    expected: false,
  },
  {
    name:
      "the exact date of a file whose status changed in the same second, over a second ago: Range applies",
    value: AT_LM,
    validators: { ...VALIDATORS, lastChanged: Date.UTC(2024, 0, 1) },
    expected: true,
  },
  {
    name:
      "the exact date of a file whose mtime was set after its last status change: Range applies",
    value: AT_LM,
    validators: { ...VALIDATORS, lastChanged: MTIME - 60_000 },
    expected: true,
  },
  {
    name: "a date when the file has no modification date: whole file",
    value: AT_LM,
    validators: { etag: '"v1"' },
    expected: false,
  },
  {
    name:
      "the exact date of a file changed a whole second before now: Range applies",
    value: AT_LM,
    validators: { etag: '"v1"', lastModified: Date.UTC(2024, 0, 1) },
    now: Date.UTC(2024, 0, 1) + 1000,
    expected: true,
  },
  {
    name: "a date with a trailing no-break space: whole file",
    value: `${AT_LM}\xa0`,
    validators: { etag: '"v1"', lastModified: Date.UTC(2024, 0, 1) },
    expected: false,
  },
  { name: "neither tag nor date: whole file", value: "v1", expected: false },
  { name: "an empty value: whole file", value: "", expected: false },
];

Deno.test("isRangeApplicable() follows RFC 9110 §13.1.5", async (t) => {
  for (const row of IF_RANGE_ROWS) {
    await t.step(`isRangeApplicable(): ${row.name}`, () => {
      const now = row.now ?? LONG_AGO;
      assert.equal(
        isRangeApplicable(row.value, row.validators ?? VALIDATORS, now),
        row.expected,
      );
    });
  }
});
