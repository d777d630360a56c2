import assert from "node:assert/strict";
import { encodeResponse } from "../../server/encode_response.ts";

const decoder = new TextDecoder();

Deno.test("encodeResponse() writes head and body in one buffer, framing fields last", () => {
  const body = new TextEncoder().encode("hello");
  const bytes = encodeResponse(
    {
      status: 200,
      fields: "Content-Type: text/plain\r\n",
      contentLength: 5,
      body,
    },
    true,
  );
  const text = decoder.decode(bytes);
  assert.match(
    text,
    /^HTTP\/1\.1 200 OK\r\nServer: httpd\.ts\/\S+\r\nDate: [^\r]+ GMT\r\nContent-Type: text\/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello$/,
  );
  const head = decoder.decode(
    encodeResponse(
      { status: 200, fields: "", contentLength: 5, body },
      false,
      false,
    ),
  );
  assert.ok(head.endsWith("Content-Length: 5\r\nConnection: close\r\n\r\n"));
});

Deno.test("encodeResponse() refuses a field value it cannot send as ASCII", () => {
  // encodeInto() would write UTF-8: more bytes than characters, and the
  // head would be cut short of its end.
  assert.throws(
    () =>
      encodeResponse(
        { status: 200, fields: "X-Name: caf\u00e9\r\n", contentLength: 0 },
        true,
      ),
    TypeError,
  );
});

Deno.test("encodeResponse() refuses a non-ASCII field value ahead of a body", () => {
  // With room for the body after it, all of the head would be read in, but
  // as more bytes than characters: the body would overwrite its end.
  assert.throws(
    () =>
      encodeResponse(
        {
          status: 200,
          fields: "X-Name: caf\u00e9\r\n",
          contentLength: 4,
          body: new TextEncoder().encode("body"),
        },
        true,
      ),
    TypeError,
  );
});
