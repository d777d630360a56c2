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

Deno.test("settleFraming() holds an absolute-form target's host to the Host rules", async (t) => {
  const invalid = [
    "http://x:80:80/a",
    "http:///a",
    "http://:80/a",
    "HTTP://user@x/a",
    "http://user:pw@x/a",
    "https://[::1/a",
    "http://a b/a",
    "http://x:8o/a",
    "http://",
  ];
  for (const target of invalid) {
    await t.step(target, () => {
      assert.throws(
        () => settleFraming("GET", target, 1, ["host", "x"]),
        (error) =>
          error instanceof RequestError && error.code === "InvalidHost" &&
          error.status === 400,
      );
    });
  }
  const valid = [
    "http://x/a",
    "HTTPS://example.com:8443/a?q=1",
    "http://[::1]:8080/",
    "http://127.0.0.1",
    "http://x?q",
    "http://x#f", // RFC 3986 §3.2: "#" ends the authority as "/" and "?" do
    "http://x:/a", // port = *DIGIT: empty is allowed
  ];
  for (const target of valid) {
    await t.step(target, () => {
      assert.equal(
        settleFraming("GET", target, 1, ["host", "x"]).target,
        target,
      );
    });
  }
});

Deno.test("settleFraming() allows no Host in 1.0 and an empty Host in 1.1", () => {
  assert.equal(settleFraming("GET", "/", 0, []).keepAlive, false);
  assert.equal(settleFraming("GET", "/", 1, ["host", ""]).keepAlive, true);
});
