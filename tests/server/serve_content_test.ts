import assert from "node:assert/strict";
import { formatHttpDate, parseHttpDate } from "../../protocol/date.ts";
import { currentHttpDate, tick } from "../../server/clock.ts";
import type { FileEntry, Representation } from "../../server/representation.ts";
import { prepareFields } from "../../server/serve_content.ts";

/** A plain representation modified at `mtimeMs`. */
function modifiedAt(mtimeMs: number): [FileEntry, Representation] {
  const representation: Representation = {
    path: "/srv/a.txt",
    size: 1,
    mtimeMs,
    ctimeMs: mtimeMs,
    dev: 1,
    ino: 1,
    etag: '"1-1-1"',
    coding: undefined,
    bytes: new Uint8Array(1),
    frame: undefined,
    racy: false,
  };
  return [
    { contentType: "text/plain", original: representation, encoded: [] },
    representation,
  ];
}

function lastModified(fields: string): string {
  return /^Last-Modified: (.*)\r$/m.exec(fields)![1];
}

Deno.test("prepareFields() sends a past modification time as it is, for good", () => {
  const mtime = Date.UTC(2024, 0, 1, 12, 0, 0);
  const fields = prepareFields(...modifiedAt(mtime), "");
  assert.equal(lastModified(fields.full), formatHttpDate(new Date(mtime)));
  assert.equal(fields.lasting, true);
});

Deno.test("prepareFields() never sends a Last-Modified later than Date", () => {
  tick();
  // A skewed build host's future stamp, and one a second ahead of the
  // coarse clock (a file written just before the clock's next tick).
  for (const ahead of [365 * 86_400_000, 1000]) {
    const date = parseHttpDate(currentHttpDate())!;
    const fields = prepareFields(...modifiedAt(date + ahead), "");
    const sent = parseHttpDate(lastModified(fields.full))!;
    assert.ok(sent <= date, `${lastModified(fields.full)} after the Date`);
    assert.equal(
      lastModified(fields.notModified),
      lastModified(fields.full),
    );
    assert.equal(fields.lasting, false, "kept only until the clock catches up");
  }
});

Deno.test("prepareFields() keeps a modification time within Date's own second for good", () => {
  tick();
  // The first and the last millisecond of the second Date names: neither
  // is later than Date, so nothing has to be held back or built again.
  for (const into of [0, 999]) {
    const date = parseHttpDate(currentHttpDate())!;
    const fields = prepareFields(...modifiedAt(date + into), "");
    assert.equal(lastModified(fields.full), formatHttpDate(new Date(date)));
    assert.equal(fields.lastModifiedMs, date + into);
    assert.equal(fields.lasting, true);
  }
});

Deno.test("prepareFields() gives a 304 the validators, Vary and Cache-Control of the 200, and no Content-Type", () => {
  const mtime = Date.UTC(2024, 0, 1, 12, 0, 0);
  const [entry, original] = modifiedAt(mtime);
  const gzip: Representation = {
    ...original,
    path: "/srv/a.txt.gz",
    coding: "gzip",
  };
  const fields = prepareFields(
    { ...entry, encoded: [gzip] },
    gzip,
    "Cache-Control: max-age=60\r\n",
  );
  // RFC 9110 §15.4.5: no representation metadata beyond what updates a
  // cache's stored response.
  assert.equal(
    fields.notModified,
    'ETag: "1-1-1"\r\n' +
      `Last-Modified: ${formatHttpDate(new Date(mtime))}\r\n` +
      "Vary: Accept-Encoding\r\nCache-Control: max-age=60\r\n",
  );
});
