import assert from "node:assert/strict";
import { MAX_REPEATED_HEAD, RecentHead } from "../../protocol/_recent_head.ts";
import { parseRequestHead } from "../../protocol/request_head.ts";

const encoder = new TextEncoder();

/** `text`'s head parsed, with the bytes it came from. */
function parsed(text: string) {
  const bytes = encoder.encode(text);
  const result = parseRequestHead(bytes);
  assert.ok(result !== undefined);
  return { bytes, ...result };
}

/** A head of `MAX_REPEATED_HEAD + extra` bytes. */
function longHead(extra: number) {
  const frame = "GET / HTTP/1.1\r\nHost: x\r\nA: \r\n\r\n";
  const filler = "x".repeat(MAX_REPEATED_HEAD - frame.length + extra);
  return parsed(`GET / HTTP/1.1\r\nHost: x\r\nA: ${filler}\r\n\r\n`);
}

Deno.test("RecentHead matches nothing before a head is kept", () => {
  const { bytes } = parsed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const recent = new RecentHead();
  assert.equal(recent.match(bytes, 0, bytes.length), 0);
  assert.equal(recent.head, undefined);
});

Deno.test("RecentHead recognises its head's exact bytes anywhere in a buffer, with more after", () => {
  const { bytes, head, consumed } = parsed(
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const recent = new RecentHead();
  recent.keep(head, bytes, 0, consumed);
  assert.equal(recent.head, head);
  const later = new Uint8Array(7 + consumed + 5);
  later.set(bytes, 7);
  assert.equal(recent.match(later, 7, later.length), consumed);
  // Only part of it here yet: no match.
  assert.equal(recent.match(later, 7, 7 + consumed - 1), 0);
});

Deno.test("RecentHead tells apart bytes that differ anywhere, case included", () => {
  const { bytes, head, consumed } = parsed(
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const recent = new RecentHead();
  recent.keep(head, bytes, 0, consumed);
  for (const index of [0, 5, consumed - 1]) {
    const changed = bytes.slice();
    changed[index] ^= 0x20;
    assert.equal(recent.match(changed, 0, changed.length), 0, `byte ${index}`);
  }
});

Deno.test("RecentHead keeps the bytes from where the head started, not the buffer's start", () => {
  const first = parsed("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  const second = parsed("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
  const both = new Uint8Array(first.consumed + second.consumed);
  both.set(first.bytes);
  both.set(second.bytes, first.consumed);
  const recent = new RecentHead();
  recent.keep(second.head, both, first.consumed, second.consumed);
  assert.equal(recent.match(second.bytes, 0, second.consumed), second.consumed);
  assert.equal(recent.match(first.bytes, 0, first.consumed), 0);
});

Deno.test("RecentHead keeps the newest head, and a head too long to compare forgets the old bytes", () => {
  const a = parsed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  const b = parsed("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  const recent = new RecentHead();
  recent.keep(a.head, a.bytes, 0, a.consumed);
  recent.keep(b.head, b.bytes, 0, b.consumed);
  assert.equal(recent.head, b.head);
  assert.equal(recent.match(a.bytes, 0, a.consumed), 0);
  assert.equal(recent.match(b.bytes, 0, b.consumed), b.consumed);
  // At the limit the bytes are still kept; one byte over, they are not,
  // and the bytes kept before are forgotten: they are not the head's now.
  const atLimit = longHead(0);
  assert.equal(atLimit.consumed, MAX_REPEATED_HEAD);
  recent.keep(atLimit.head, atLimit.bytes, 0, atLimit.consumed);
  assert.equal(
    recent.match(atLimit.bytes, 0, atLimit.consumed),
    atLimit.consumed,
  );
  assert.equal(recent.match(b.bytes, 0, b.consumed), 0, "b is forgotten");
  const over = longHead(1);
  recent.keep(over.head, over.bytes, 0, over.consumed);
  assert.equal(recent.head, over.head);
  assert.equal(recent.match(over.bytes, 0, over.consumed), 0);
  assert.equal(recent.match(atLimit.bytes, 0, atLimit.consumed), 0);
});
