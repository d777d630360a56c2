import assert from "node:assert/strict";
import { currentHttpDate, currentSecond, tick } from "../../server/clock.ts";
import { encodeResponse } from "../../server/encode_response.ts";
import { Frame } from "../../server/frame.ts";
import type { Response } from "../../server/response.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A frame of `room` free bytes before "hello world", and a 200 with it. */
function helloFrame(room = 512): { frame: Frame; response: Response } {
  const frame = new Frame(room, 11);
  frame.body.set(new TextEncoder().encode("hello world"));
  const response = {
    status: 200,
    fields: "Content-Type: text/plain\r\n",
    contentLength: 11,
    body: frame.body,
    frame,
  } as const;
  return { frame, response };
}

/**
 * Runs `check` within one second of the clock, so that what it compares
 * was built with the same Date; tries again if a second boundary fell in it.
 */
function withinOneSecond(check: () => void): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    tick();
    const second = currentSecond();
    check();
    tick();
    if (currentSecond() === second) return;
  }
  assert.fail("the clock crossed a second on every attempt");
}

Deno.test("Frame.whole() writes the head in front of the body, as encodeResponse() would build it", () => {
  withinOneSecond(() => {
    for (const keepAlive of [true, false]) {
      const { frame, response } = helloFrame();
      const whole = frame.whole(response, keepAlive)!;
      assert.equal(whole.buffer, frame.body.buffer, "no copy");
      assert.equal(
        whole.byteOffset + whole.length,
        frame.body.byteOffset + frame.body.length,
      );
      assert.deepEqual(whole, encodeResponse(response, keepAlive));
    }
  });
});

Deno.test("Frame.whole() answers the same bytes again until the head changes", () => {
  withinOneSecond(() => {
    const { frame, response } = helloFrame();
    const first = frame.whole(response, true);
    assert.equal(frame.whole(response, true), first);
    // The same fields by value, not by identity, are the same head.
    const again = { ...response, fields: `Content-Type: ${"text/plain"}\r\n` };
    assert.equal(frame.whole(again, true), first);
  });
});

Deno.test("Frame.whole() rewrites the head in place for another Connection value or fields", () => {
  withinOneSecond(() => {
    const { frame, response } = helloFrame();
    frame.whole(response, true);
    const close = frame.whole(response, false)!;
    assert.equal(close.buffer, frame.body.buffer);
    assert.deepEqual(close, encodeResponse(response, false));
    const other = { ...response, fields: "Content-Type: text/html\r\n" };
    assert.deepEqual(frame.whole(other, false), encodeResponse(other, false));
    // And back: the first head is written again.
    assert.deepEqual(
      frame.whole(response, true),
      encodeResponse(response, true),
    );
  });
});

Deno.test("Frame.whole() writes the new second's Date once the clock moves on", async () => {
  const { frame, response } = helloFrame();
  tick();
  const before = frame.whole(response, true)!;
  const second = currentSecond();
  const deadline = Date.now() + 1500;
  while (currentSecond() === second) {
    assert.ok(Date.now() < deadline, "the clock moved on within 1.5 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
    tick();
  }
  const after = frame.whole(response, true)!;
  assert.equal(after.buffer, frame.body.buffer);
  // Written over the old head: the old view shows the new Date too.
  assert.ok(text(after).includes(`\r\nDate: ${currentHttpDate()}\r\n`));
  assert.ok(text(before).includes(`\r\nDate: ${currentHttpDate()}\r\n`));
});

Deno.test("Frame.whole() leaves a held head alone: another one is built elsewhere", () => {
  withinOneSecond(() => {
    const { frame, response } = helloFrame();
    const held = frame.whole(response, true)!;
    const sent = held.slice();
    frame.hold();
    frame.hold();
    // The head in place is still the right one for the same answer...
    assert.equal(frame.whole(response, true), held);
    // ...but not for another, which must not overwrite it mid-write.
    assert.equal(frame.whole(response, false), undefined);
    assert.deepEqual(held, sent);
    frame.release();
    assert.equal(frame.whole(response, false), undefined, "one write left");
    frame.release();
    assert.deepEqual(
      frame.whole(response, false),
      encodeResponse(response, false),
    );
  });
});

Deno.test("Frame.whole() declines a head bigger than its room", () => {
  const { frame, response } = helloFrame(64);
  assert.equal(frame.whole(response, true), undefined);
  // Exactly the room: fits.
  const head = encodeResponse({ ...response, body: undefined }, true, false);
  const exact = helloFrame(head.length);
  withinOneSecond(() => {
    assert.deepEqual(
      exact.frame.whole(exact.response, true),
      encodeResponse(exact.response, true),
    );
  });
});

Deno.test("Frame.whole() declines a response that does not carry its whole body", () => {
  const { frame, response } = helloFrame();
  assert.equal(
    frame.whole({ ...response, body: frame.body.subarray(0, 5) }, true),
    undefined,
  );
  assert.equal(
    frame.whole({ ...response, body: frame.body.slice() }, true),
    undefined,
  );
  assert.equal(frame.whole({ ...response, contentLength: 5 }, true), undefined);
  assert.equal(frame.whole({ ...response, body: undefined }, true), undefined);
});

Deno.test("Frame.whole() refuses a non-ASCII head, then frames the next one", () => {
  withinOneSecond(() => {
    const { frame, response } = helloFrame();
    frame.whole(response, true);
    assert.throws(
      () => frame.whole({ ...response, fields: "X-Name: caf\u00e9\r\n" }, true),
      TypeError,
    );
    assert.deepEqual(
      frame.whole(response, true),
      encodeResponse(response, true),
    );
  });
});

Deno.test("Frame.byteLength counts the room with the body", () => {
  assert.equal(new Frame(448, 1000).byteLength, 1448);
});

Deno.test("Frame.whole() rewrites the head in place for another status", () => {
  withinOneSecond(() => {
    const { frame, response } = helloFrame();
    frame.whole(response, true);
    // Same body, fields and Connection: only the status line differs.
    const partial = { ...response, status: 206 } as const;
    const whole = frame.whole(partial, true)!;
    assert.equal(whole.buffer, frame.body.buffer);
    assert.deepEqual(whole, encodeResponse(partial, true));
    assert.match(text(whole), /^HTTP\/1\.1 206 Partial Content\r\n/);
  });
});
