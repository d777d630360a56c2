import assert from "node:assert/strict";
import { tick } from "../../server/clock.ts";
import { Frame } from "../../server/frame.ts";
import {
  createWire,
  type Response,
  SINGLE_WRITE_LIMIT,
} from "../../server/response.ts";
import { bodyBytesIn, wholeResponse } from "../../server/whole_response.ts";

const decoder = new TextDecoder();

/** A 200 with `body` in memory, and a wire when asked. */
function ok(body: Uint8Array, wire = false): Response {
  return {
    status: 200,
    fields: "Content-Type: text/plain\r\n",
    contentLength: body.length,
    body,
    wire: wire ? createWire() : undefined,
  };
}

/** Runs `body` with the clock set to `ms` (Unix milliseconds), then restores it. */
function at<T>(ms: number, body: () => T): T {
  const realNow = Date.now;
  Date.now = () => ms;
  try {
    tick();
    return body();
  } finally {
    Date.now = realNow;
    tick();
  }
}

Deno.test("wholeResponse() leaves a body from a file to be streamed", async () => {
  using file = await Deno.open(Deno.execPath());
  const response: Response = {
    status: 200,
    fields: "",
    contentLength: 10,
    body: { kind: "file", file, offset: 0, length: 10 },
    wire: createWire(),
  };
  assert.equal(wholeResponse(response, true), undefined);
});

Deno.test("wholeResponse() puts a body up to SINGLE_WRITE_LIMIT behind its head, no bigger", () => {
  const limit = new Uint8Array(SINGLE_WRITE_LIMIT).fill(0x61);
  const bytes = wholeResponse(ok(limit), true);
  assert.ok(bytes !== undefined);
  assert.deepEqual(bytes.subarray(bytes.length - limit.length), limit);
  const text = decoder.decode(bytes.subarray(0, bytes.length - limit.length));
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(
    text,
    /\r\nContent-Length: 65536\r\nConnection: keep-alive\r\n\r\n$/,
  );
  const over = new Uint8Array(SINGLE_WRITE_LIMIT + 1);
  assert.equal(wholeResponse(ok(over, true), true), undefined);
});

Deno.test("wholeResponse() answers a response without a body or a wire with a fresh buffer each time", () => {
  const response: Response = {
    status: 404,
    fields: "",
    contentLength: 0,
  };
  const first = wholeResponse(response, false);
  const second = wholeResponse(response, false);
  assert.ok(first !== undefined && second !== undefined);
  assert.notEqual(first, second);
  assert.deepEqual(first, second);
  assert.match(decoder.decode(first), /\r\nConnection: close\r\n\r\n$/);
});

Deno.test("wholeResponse() keeps a wire's bytes per Connection value for the second, then builds them again", () => {
  const response = ok(new TextEncoder().encode("hello"), true);
  const second = Date.UTC(2026, 0, 2, 3, 4, 5);
  const [keep, close, keepAgain, closeAgain] = at(second, () => [
    wholeResponse(response, true),
    wholeResponse(response, false),
    wholeResponse(response, true),
    wholeResponse(response, false),
  ]);
  assert.ok(keep !== undefined && close !== undefined);
  assert.equal(keepAgain, keep);
  assert.equal(closeAgain, close);
  assert.match(decoder.decode(keep), /Connection: keep-alive\r\n\r\nhello$/);
  assert.match(decoder.decode(close), /Connection: close\r\n\r\nhello$/);
  assert.match(
    decoder.decode(keep),
    /\r\nDate: Fri, 02 Jan 2026 03:04:05 GMT\r\n/,
  );
  // Later in the same second: still the same buffer.
  assert.equal(at(second + 999, () => wholeResponse(response, true)), keep);
  // The next second: new bytes with the new Date, for each value.
  const next = at(second + 1000, () => wholeResponse(response, true));
  assert.ok(next !== undefined);
  assert.notEqual(next, keep);
  assert.match(
    decoder.decode(next),
    /\r\nDate: Fri, 02 Jan 2026 03:04:06 GMT\r\n/,
  );
  const nextClose = at(second + 1000, () => wholeResponse(response, false));
  assert.notEqual(nextClose, close);
  assert.match(
    decoder.decode(nextClose!),
    /Date: Fri, 02 Jan 2026 03:04:06 GMT/,
  );
});

Deno.test("wholeResponse() writes the head in a frame's room, at any size, before using the wire", () => {
  const size = SINGLE_WRITE_LIMIT * 2;
  const frame = new Frame(512, size);
  frame.body.fill(0x62);
  const response: Response = {
    status: 200,
    fields: "",
    contentLength: size,
    body: frame.body,
    frame,
    wire: createWire(),
  };
  const bytes = wholeResponse(response, true);
  assert.ok(bytes !== undefined);
  assert.equal(bytes.buffer, frame.body.buffer, "no copy of the body");
  assert.equal(bytes.byteOffset + bytes.length, frame.byteLength);
  assert.match(
    decoder.decode(bytes.subarray(0, 200)),
    /^HTTP\/1\.1 200 OK\r\n/,
  );
  assert.equal(response.wire?.keepAlive, undefined, "the wire was not used");
});

Deno.test("wholeResponse() builds a small framed body elsewhere when its head does not fit the room", () => {
  const frame = new Frame(8, 5);
  frame.body.set(new TextEncoder().encode("tight"));
  const response: Response = {
    status: 200,
    fields: "",
    contentLength: 5,
    body: frame.body,
    frame,
  };
  const bytes = wholeResponse(response, false);
  assert.ok(bytes !== undefined);
  assert.notEqual(bytes.buffer, frame.body.buffer);
  assert.match(
    decoder.decode(bytes),
    /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ntight$/,
  );
});

Deno.test("bodyBytesIn() counts only the body bytes among those written", () => {
  const body = new Uint8Array(100);
  const response = ok(body);
  const whole = wholeResponse(response, true)!;
  const head = whole.length - body.length;
  assert.equal(bodyBytesIn(response, whole, 0), 0);
  assert.equal(bodyBytesIn(response, whole, head), 0);
  assert.equal(bodyBytesIn(response, whole, head + 1), 1);
  assert.equal(bodyBytesIn(response, whole, whole.length), 100);
  // A head alone (HEAD, 304) carries no body bytes, however much went out.
  const bare: Response = { status: 304, fields: "", contentLength: undefined };
  assert.equal(bodyBytesIn(bare, wholeResponse(bare, true)!, 500), 0);
});
