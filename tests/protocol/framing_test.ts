import assert from "node:assert/strict";
import { RequestError, type RequestErrorCode } from "../../protocol/errors.ts";
import { settleFraming } from "../../protocol/framing.ts";

Deno.test("settleFraming() passes the request line and fields through", () => {
  const fields = ["host", "x", "accept", "*/*"];
  const head = settleFraming("GET", "/a?b", 1, fields);
  assert.deepEqual(head, {
    method: "GET",
    target: "/a?b",
    minorVersion: 1,
    fields,
    keepAlive: true,
    contentLength: 0,
    chunked: false,
  });
  assert.equal(head.fields, fields, "the fields are not copied");
});

/** [name, minor version, fields, expected error code]. */
const ERRORS: [string, 0 | 1, string[], RequestErrorCode][] = [
  ["no Host in 1.1", 1, [], "MissingHost"],
  ["two Host fields", 1, ["host", "a", "host", "a"], "DuplicateHost"],
  [
    "two Host fields, one invalid",
    1,
    ["host", "a b", "host", "a"],
    "DuplicateHost",
  ],
  ["an invalid Host", 1, ["host", "a/b"], "InvalidHost"],
  ["an invalid Host in 1.0", 0, ["host", "[::1"], "InvalidHost"],
  [
    "an invalid Host before a bad Content-Length",
    1,
    ["host", "a b", "content-length", "1", "content-length", "1"],
    "InvalidHost",
  ],
];

Deno.test("settleFraming() checks Host presence before its value", async (t) => {
  for (const [name, minorVersion, fields, code] of ERRORS) {
    await t.step(name, () => {
      assert.throws(
        () => settleFraming("GET", "/", minorVersion, fields),
        (error) =>
          error instanceof RequestError && error.code === code &&
          error.status === 400,
      );
    });
  }
});

Deno.test("settleFraming() allows no Host in 1.0 and an empty Host in 1.1", () => {
  assert.equal(settleFraming("GET", "/", 0, []).keepAlive, false);
  assert.equal(settleFraming("GET", "/", 1, ["host", ""]).keepAlive, true);
});
