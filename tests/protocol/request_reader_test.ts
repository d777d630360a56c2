import assert from "node:assert/strict";
import { RequestError } from "../../protocol/errors.ts";
import {
  parseRequestHead,
  type RequestHead,
} from "../../protocol/request_head.ts";
import {
  type ByteSource,
  readRequests,
  type ReadRequestsOptions,
} from "../../protocol/request_reader.ts";

const encoder = new TextEncoder();

/** A source that hands out each of `texts` in one read of its own, then ends. */
function reads(texts: string[]): ByteSource {
  const chunks = texts.map((text) => encoder.encode(text));
  return {
    read(buffer) {
      const chunk = chunks.shift();
      if (chunk === undefined) return Promise.resolve(null);
      buffer.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
}

/** A source that hands out `input` in the given piece sizes, then ends. */
function pieces(
  input: Uint8Array,
  size: (index: number) => number,
): ByteSource {
  let offset = 0;
  let index = 0;
  return {
    read(buffer) {
      if (offset === input.length) return Promise.resolve(null);
      const n = Math.min(size(index++), buffer.length, input.length - offset);
      buffer.set(input.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

async function collect(
  source: ByteSource,
  options?: ReadRequestsOptions,
): Promise<RequestHead[]> {
  const heads: RequestHead[] = [];
  for await (const head of readRequests(source, options)) heads.push(head);
  return heads;
}

const PIPELINE = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" +
  "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n" +
  "GET /not-a-request HTTP/1.1" + // the body of /2: 27 bytes
  "\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n" +
  "GET /4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
  "GET /5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" +
  "GET /after-close HTTP/1.1\r\nHost: x\r\n\r\n";
const EXPECTED = ["/1", "/2", "/3", "/4", "/5"];

Deno.test("readRequests() yields pipelined requests in order from one read", async () => {
  const heads = await collect(pieces(encoder.encode(PIPELINE), () => 1 << 20));
  assert.deepEqual(heads.map((h) => h.target), EXPECTED);
});

Deno.test("readRequests() yields the same requests from any segmentation", async () => {
  const input = encoder.encode(PIPELINE);
  for (const size of [1, 2, 3, 7, 13, 64]) {
    const heads = await collect(pieces(input, () => size));
    assert.deepEqual(heads.map((h) => h.target), EXPECTED, `pieces of ${size}`);
  }
  let seed = 42;
  const random = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) % 40 + 1;
  const heads = await collect(pieces(input, random));
  assert.deepEqual(heads.map((h) => h.target), EXPECTED, "random pieces");
});

Deno.test("readRequests() never parses a body as the next request", async () => {
  const input = encoder.encode(
    "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n" +
      "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\n" +
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  for (const size of [1, 5, 1 << 20]) {
    const heads = await collect(pieces(input, () => size));
    assert.deepEqual(heads.map((h) => h.target), ["/form", "/next"]);
  }
});

Deno.test("readRequests() ends the connection after a body it will not read", async () => {
  const chunked = encoder.encode(
    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
      "GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const heads = await collect(pieces(chunked, () => 1 << 20));
  assert.deepEqual(heads.map((h) => [h.target, h.keepAlive]), [["/c", false]]);

  const expecting = encoder.encode(
    "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
  );
  const expectHeads = await collect(pieces(expecting, () => 1 << 20));
  assert.deepEqual(expectHeads.map((h) => [h.target, h.keepAlive]), [[
    "/e",
    false,
  ]]);

  // HTTP/1.0 has no 100 (Continue): the body follows at once, and the
  // expectation is ignored (RFC 9110 10.1.1), so the body is skipped.
  const expecting10 = encoder.encode(
    "POST /e HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n" +
      "Content-Length: 5\r\n\r\nhello" +
      "GET /next HTTP/1.0\r\n\r\n",
  );
  const expect10Heads = await collect(pieces(expecting10, () => 1 << 20));
  assert.deepEqual(expect10Heads.map((h) => [h.target, h.keepAlive]), [
    ["/e", true],
    ["/next", false],
  ]);

  const big = encoder.encode(
    "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
  );
  const bigHeads = await collect(pieces(big, () => 1 << 20));
  assert.deepEqual(bigHeads.map((h) => [h.target, h.keepAlive]), [[
    "/big",
    false,
  ]]);
});

Deno.test("readRequests() ends quietly on a bare newline, an empty stream or a cut head", async () => {
  for (const text of ["", "\n", "\r\n\r\n", "GET / HTTP/1.1\r\nHo"]) {
    assert.deepEqual(
      await collect(pieces(encoder.encode(text), () => 1)),
      [],
      JSON.stringify(text),
    );
  }
});

Deno.test("readRequests() throws the parser's error after the good requests", async () => {
  const input = encoder.encode(
    "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\n\r\n",
  );
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const head of readRequests(pieces(input, () => 3))) {
      seen.push(head.target);
    }
  }, (error) => error instanceof RequestError && error.code === "MissingHost");
  assert.deepEqual(seen, ["/ok"]);
});

Deno.test("readRequests() tells the method of a refused or unfinished head", async (t) => {
  const refused = async (text: string) => {
    try {
      const source = pieces(encoder.encode(text), () => 4096);
      for await (const _ of readRequests(source)) {
        // Good requests before the bad one are not what this is about.
      }
    } catch (error) {
      if (error instanceof RequestError) return error.method;
    }
    assert.fail(`not refused: ${JSON.stringify(text.slice(0, 40))}`);
  };
  await t.step("refused after its request line", async () => {
    assert.equal(await refused("HEAD / HTTP/1.1\r\n\r\n"), "HEAD");
    assert.equal(await refused("GET / HTTP/1.1\r\n\r\n"), "GET");
  });
  await t.step("refused within its request line", async () => {
    const long = "a".repeat(9000);
    assert.equal(await refused(`HEAD /${long} HTTP/1.1\r\n`), "HEAD");
    assert.equal(await refused("\x16\x03\x01"), undefined);
  });
  await t.step("still arriving", async () => {
    // The head's start, then a read that waits until the test ends it.
    const wait = Promise.withResolvers<number | null>();
    const chunks = [encoder.encode("HEAD / HTTP/1.1\r\nHos")];
    const requests = readRequests({
      read(buffer) {
        const chunk = chunks.shift();
        if (chunk === undefined) return wait.promise;
        buffer.set(chunk);
        return Promise.resolve(chunk.length);
      },
    });
    assert.equal(requests.pendingMethod(), undefined, "nothing yet");
    const next = requests.next();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(requests.pendingMethod(), "HEAD");
    wait.resolve(null);
    assert.deepEqual(await next, { done: true, value: undefined });
    assert.equal(requests.pendingMethod(), undefined, "once it ended");
  });
});

Deno.test("readRequests() grows its buffer for a large head and still enforces the limit", async () => {
  const large = `GET /large HTTP/1.1\r\nHost: x\r\nX: ${
    "a".repeat(30000)
  }\r\n\r\n`;
  const heads = await collect(pieces(encoder.encode(large), () => 4096));
  assert.deepEqual(heads.map((h) => h.target), ["/large"]);
  const tooLarge = `GET /large HTTP/1.1\r\nHost: x\r\nX: ${
    "a".repeat(40000)
  }\r\n\r\n`;
  await assert.rejects(
    () => collect(pieces(encoder.encode(tooLarge), () => 4096)),
    (error) => error instanceof RequestError && error.status === 431,
  );
});

Deno.test("readRequests() signals the start of each head and each idle wait", async () => {
  const events: string[] = [];
  const input = encoder.encode(
    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const source = pieces(input, () => 1 << 20);
  for await (
    const head of readRequests(source, {
      onIdle: () => events.push("idle"),
      onHeadStart: () => events.push("head"),
    })
  ) events.push(head.target);
  assert.deepEqual(events, ["idle", "head", "/1", "head", "/2", "idle"]);
});

Deno.test("readRequests() reads once for heads pipelined in one segment", async () => {
  let reads = 0;
  const inner = pieces(encoder.encode(PIPELINE), () => 1 << 20);
  const counting: ByteSource = {
    read(buffer) {
      reads++;
      return inner.read(buffer);
    },
  };
  const targets = [];
  for await (const head of readRequests(counting)) targets.push(head.target);
  assert.deepEqual(targets, EXPECTED);
  // The body of /2 and the heads after it all came in the first read; /5
  // closes the connection, so nothing more is read.
  assert.equal(reads, 1);
});

Deno.test("readRequests() stays done after return() or an error", async () => {
  const input = encoder.encode("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3));
  const requests = readRequests(pieces(input, () => 1 << 20));
  assert.equal((await requests.next()).value?.target, "/1");
  assert.deepEqual(await requests.return!(), { done: true, value: undefined });
  assert.deepEqual(await requests.next(), { done: true, value: undefined });

  const bad = readRequests(
    pieces(encoder.encode("GET / HTTP/1.1\r\n\r\n"), () => 1 << 20),
  );
  await assert.rejects(bad.next(), RequestError);
  assert.deepEqual(await bad.next(), { done: true, value: undefined });
});

/** A source that records the buffers it is given, answering from `input`. */
function recording(input: string) {
  const buffers: ArrayBufferLike[] = [];
  const inner = pieces(encoder.encode(input), () => 1 << 20);
  const source: ByteSource = {
    read(buffer) {
      buffers.push(buffer.buffer);
      return inner.read(buffer);
    },
  };
  return { source, buffers };
}

Deno.test("readRequests() hands a finished reader's buffer to the next one", async () => {
  const first = recording("GET /1 HTTP/1.0\r\n\r\n");
  await collect(first.source);
  const second = recording("GET /2 HTTP/1.0\r\n\r\n");
  await collect(second.source);
  assert.equal(second.buffers[0], first.buffers[0]);
});

Deno.test("readRequests() keeps its buffer while a read into it is pending", async () => {
  const pending = Promise.withResolvers<number | null>();
  const buffers: ArrayBufferLike[] = [];
  const stalled = readRequests({
    read(buffer) {
      buffers.push(buffer.buffer);
      return pending.promise;
    },
  });
  const next = stalled.next();
  await stalled.return!();
  // Another reader must not get the buffer the stalled read still fills.
  const other = recording("GET /2 HTTP/1.0\r\n\r\n");
  await collect(other.source);
  assert.notEqual(other.buffers[0], buffers[0]);
  pending.resolve(null);
  assert.deepEqual(await next, { done: true, value: undefined });
  const later = recording("GET /3 HTTP/1.0\r\n\r\n");
  await collect(later.source);
  assert.equal(later.buffers[0], buffers[0], "given back once the read ended");
});

Deno.test("readRequests() tells whether the next request has begun to arrive", async () => {
  const two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHo";
  const requests = readRequests(pieces(encoder.encode(two), () => 1 << 20));
  assert.equal((await requests.next()).value?.target, "/1");
  assert.equal(requests.pipelined, true);
  const body = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
  const posted = readRequests(pieces(encoder.encode(body), () => 1 << 20));
  assert.equal((await posted.next()).value?.target, "/b");
  assert.equal(posted.pipelined, false, "its own body is not a next request");
});

Deno.test("readRequests() yields a repeated head again, frozen, without parsing it", async () => {
  const request = "GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
  const heads = await collect(
    pieces(encoder.encode(request.repeat(3)), () => 1 << 20),
  );
  assert.equal(heads.length, 3);
  assert.equal(heads[1], heads[0], "the same object, not an equal one");
  assert.equal(heads[2], heads[0]);
  assert.ok(Object.isFrozen(heads[0]) && Object.isFrozen(heads[0].fields));
  assert.throws(() => (heads[0].fields as string[]).push("x", "y"), TypeError);
});

Deno.test("readRequests() yields a new connection's head again when the last one began with it", async () => {
  // A client that opens a connection per request sends the same head on
  // each; another connection in between starts the comparison over.
  const once = "GET /once HTTP/1.0\r\nHost: x\r\nAccept: */*\r\n\r\n";
  const [first] = await collect(reads([once]));
  const [second] = await collect(reads([once]));
  assert.equal(second, first, "the same object, not an equal one");
  assert.ok(Object.isFrozen(second));
  const [other] = await collect(reads([once.replace("once", "twice")]));
  assert.equal(other.target, "/twice");
  const [third] = await collect(reads([once]));
  assert.notEqual(third, first, "parsed again after another connection's");
  assert.deepEqual(third, first);
  // A connection's first head is what is compared, not its last one; one
  // that began with it goes on repeating it as its own.
  const kept = "GET /kept HTTP/1.1\r\nHost: x\r\n\r\n";
  const [ahead] = await collect(reads([kept + once]));
  const heads = await collect(reads([kept + kept + once]));
  assert.deepEqual(heads.map((h) => h.target), ["/kept", "/kept", "/once"]);
  assert.ok(heads[0] === ahead && heads[1] === ahead);
  const [again] = await collect(reads([kept]));
  assert.equal(again, ahead);
});

Deno.test("readRequests() parses a new connection's head anew under other limits", async () => {
  const head = "GET /a HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  const [accepted] = await collect(reads([head]));
  assert.equal(accepted.target, "/a");
  // The same bytes have too many fields under these limits: refused, not
  // taken from the connection before.
  const limits = { maxRequestLine: 64, maxHeadSize: 1024, maxHeaderFields: 3 };
  await assert.rejects(
    () => collect(reads([head]), { limits }),
    (error) => error instanceof RequestError && error.status === 431,
  );
});

Deno.test("readRequests() gives every head as parsed alone, however close to the one before", async () => {
  // Each differs from another in one place: the last byte of a value, a
  // field more, a leading empty line, the version, framing, or size (the
  // last is too large to be kept for comparison).
  const base = "GET /a HTTP/1.1\r\nHost: x\r\nAccept: a\r\n";
  const variants = [
    base + "\r\n",
    "GET /a HTTP/1.1\r\nHost: x\r\nAccept: b\r\n\r\n",
    base + "Accept: a\r\n\r\n",
    "\r\n" + base + "\r\n",
    "GET /b HTTP/1.1\r\nHost: x\r\nAccept: a\r\n\r\n",
    "GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    base + "Content-Length: 3\r\n\r\nabc",
    base + "Content-Length: 4\r\n\r\nabcd",
    base + `Cookie: ${"c".repeat(1100)}\r\n\r\n`,
    base + `Cookie: ${"c".repeat(1099)}d\r\n\r\n`,
  ];
  let seed = 7;
  const random = (n: number) =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const requests: string[] = [];
  for (let i = 0; i < 300; i++) {
    // Repeats are what the shortcut serves, so make them frequent.
    const repeat = i > 0 && random(3) === 0;
    requests.push(repeat ? requests[i - 1] : variants[random(variants.length)]);
  }
  const input = encoder.encode(requests.join(""));
  for (const size of [1 << 20, 7, 100]) {
    const heads = await collect(pieces(input, () => size));
    assert.equal(heads.length, requests.length, `pieces of ${size}`);
    heads.forEach((head, i) => {
      const alone = parseRequestHead(encoder.encode(requests[i]))!.head;
      assert.deepEqual(head, alone, `request ${i}, pieces of ${size}`);
    });
  }
});

Deno.test("readRequests() skips a body up to 64 KiB, and keeps the connection", async () => {
  const withBody = (size: number) =>
    encoder.encode(
      `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n` +
        "b".repeat(size) + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    );
  const kept = await collect(pieces(withBody(65536), () => 4096));
  assert.deepEqual(kept.map((h) => [h.target, h.keepAlive]), [
    ["/body", true],
    ["/next", true],
  ]);
  const ended = await collect(pieces(withBody(65537), () => 4096));
  assert.deepEqual(ended.map((h) => [h.target, h.keepAlive]), [
    ["/body", false],
  ]);
});

Deno.test("readRequests() keeps a connection whose Expect came without a body", async () => {
  const input = encoder.encode(
    "GET /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n" +
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const heads = await collect(pieces(input, () => 1 << 20));
  assert.deepEqual(heads.map((h) => [h.target, h.keepAlive]), [
    ["/e", true],
    ["/next", true],
  ]);
});

Deno.test("readRequests() counts the empty lines before a head towards its limit", async (t) => {
  const prefix = "GET /max HTTP/1.1\r\nHost: x\r\nX: ";
  const headOf = (size: number) =>
    `${prefix}${"v".repeat(size - prefix.length - 4)}\r\n\r\n`;
  for (const readSize of [1 << 20, 1000]) {
    await t.step(`in reads of up to ${readSize} bytes`, async () => {
      // 32 KiB in all, the empty line included, parses; one byte more does not.
      const heads = await collect(
        pieces(encoder.encode(`\n${headOf(32767)}`), () => readSize),
      );
      assert.deepEqual(heads.map((h) => h.target), ["/max"]);
      for (const input of [`\n${headOf(32768)}`, `\r\n${headOf(32767)}`]) {
        await assert.rejects(
          () => collect(pieces(encoder.encode(input), () => readSize)),
          (error) => error instanceof RequestError && error.status === 431,
        );
      }
      // Empty lines alone, over many reads, likewise.
      await assert.rejects(
        () =>
          collect(pieces(encoder.encode("\r\n".repeat(16385)), () => readSize)),
        (error) => error instanceof RequestError && error.status === 431,
      );
    });
  }
});

Deno.test("readRequests(): empty lines after a request start no head and keep the wait idle", async (t) => {
  // A client may send a CRLF after a request or its body (RFC 9112 2.2).
  const cases: [string, string[]][] = [
    ["after a head", ["GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r\n"]],
    ["after a body", [
      "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\r\n",
    ]],
    ["split between CR and LF", [
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r",
      "\n",
    ]],
    ["its CR read with the request", [
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r",
      "\n\r",
      "\n",
    ]],
    ["a CR, then the end", ["GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r"]],
    ["in reads of their own", [
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r\n",
      "\n",
      "\r\n\r\n",
    ]],
  ];
  for (const [name, texts] of cases) {
    await t.step(name, async () => {
      const events: string[] = [];
      const requests = readRequests(reads(texts), {
        onIdle: () => events.push("idle"),
        onHeadStart: () => events.push("head"),
      });
      for await (const head of requests) {
        events.push(head.target);
        // Nothing but empty lines behind it: no other request is here.
        assert.equal(requests.pipelined, false);
      }
      assert.deepEqual(events, ["idle", "head", "/1", "idle"]);
    });
  }
});

Deno.test("readRequests() parses a request that follows empty lines in its read", async () => {
  const heads = await collect(pieces(
    encoder.encode(
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r\n\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
    ),
    () => 1 << 20,
  ));
  assert.deepEqual(heads.map((h) => h.target), ["/1", "/2"]);
});

Deno.test("readRequests() is idle only once a skipped body is through", async () => {
  const events: string[] = [];
  const source = reads([
    "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
    "12345",
    "67890",
    "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
  ]);
  for await (
    const head of readRequests(source, { onIdle: () => events.push("idle") })
  ) events.push(head.target);
  assert.deepEqual(events, ["idle", "/1", "idle", "/2", "idle"]);
});

Deno.test("readRequests() holds a repeated head after empty lines to the shared limit", async () => {
  const limits = { maxRequestLine: 64, maxHeadSize: 100, maxHeaderFields: 10 };
  const head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"; // 27 bytes
  const within = head + "\r\n".repeat(36) + head; // 72 + 27 bytes
  const heads = await collect(
    pieces(encoder.encode(within), () => 1 << 20),
    { limits },
  );
  assert.equal(heads.length, 2);
  await assert.rejects(
    () =>
      collect(
        pieces(encoder.encode(head + "\r\n".repeat(37) + head), () => 1 << 20),
        { limits },
      ),
    (error) => error instanceof RequestError && error.status === 431,
  );
});
Deno.test("readRequests() parses a head again that differs from the one before only in its first byte", async () => {
  // Same length, same bytes but the first: a repeat check that skips the
  // first byte would yield the GET again for the other method.
  const input = encoder.encode(
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" + "PET /a HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const heads = await collect(pieces(input, () => 1 << 20));
  assert.deepEqual(heads.map((h) => h.method), ["GET", "PET"]);
});
Deno.test("readRequests() yields nothing a read brings in after return()", async () => {
  const pending = Promise.withResolvers<void>();
  const buffers: Uint8Array[] = [];
  const stalled = readRequests({
    async read(buffer) {
      buffers.push(buffer);
      await pending.promise;
      const head = encoder.encode("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
      buffer.set(head);
      return head.length;
    },
  });
  const next = stalled.next();
  await stalled.return!();
  pending.resolve();
  assert.deepEqual(await next, { done: true, value: undefined });
  const later = recording("GET /3 HTTP/1.0\r\n\r\n");
  await collect(later.source);
  assert.equal(
    later.buffers[0],
    buffers[0].buffer,
    "given back once the read ended",
  );
});

Deno.test("readRequests() lets exactly 32 KiB of empty lines through, refusing only more", async () => {
  // At the limit nothing is refused yet: a client that stops there is idle
  // and leaves; a head after it would exceed the limit (see above).
  for (const readSize of [1 << 20, 1000]) {
    const heads = await collect(
      pieces(encoder.encode("\r\n".repeat(16384)), () => readSize),
    );
    assert.deepEqual(heads, [], `reads of up to ${readSize} bytes`);
  }
});

Deno.test("readRequests() reads a skipped body to its end before it waits idle", async () => {
  const events: string[] = [];
  const inner = reads([
    "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
    "12345",
    "67890",
    "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
  ]);
  const source: ByteSource = {
    read(buffer) {
      events.push("read");
      return inner.read(buffer);
    },
  };
  for await (
    const head of readRequests(source, { onIdle: () => events.push("idle") })
  ) events.push(head.target);
  // The body's two reads come before the wait for /2, not within it.
  assert.deepEqual(events, [
    "idle",
    "read",
    "/1",
    "read",
    "read",
    "idle",
    "read",
    "/2",
    "idle",
    "read",
  ]);
});

Deno.test("readRequests() counts empty lines towards the head after them only", async () => {
  const limits = { maxRequestLine: 64, maxHeadSize: 100, maxHeaderFields: 10 };
  const head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"; // 27 bytes
  // Each head with an empty line after it: 100 bytes of them in all, more
  // than a head may have, but no more than 2 before any head.
  const input = encoder.encode((head + "\r\n").repeat(50));
  const heads = await collect(pieces(input, () => 1 << 20), { limits });
  assert.equal(heads.length, 50);
});

Deno.test("readRequests() tells no next request has begun after a body it will not read", async () => {
  const input = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" +
    "POST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "0\r\n\r\n";
  const requests = readRequests(pieces(encoder.encode(input), () => 1 << 20));
  assert.equal((await requests.next()).value?.target, "/1");
  assert.equal(requests.pipelined, true);
  const second = await requests.next();
  assert.deepEqual(
    [second.value?.target, second.value?.keepAlive],
    ["/2", false],
  );
  assert.equal(requests.pipelined, false, "its body is no next request");
  assert.deepEqual(await requests.next(), { done: true, value: undefined });
});

Deno.test("readRequests() reads nothing once return() came while it flushed", async () => {
  const flushed = Promise.withResolvers<void>();
  let reads = 0;
  const requests = readRequests({
    read() {
      reads++;
      return Promise.resolve(null);
    },
  }, { beforeRead: () => flushed.promise });
  const next = requests.next();
  await requests.return!();
  flushed.resolve();
  assert.deepEqual(await next, { done: true, value: undefined });
  assert.equal(reads, 0);
});

Deno.test("readRequests() stays done after an error in a head that came pipelined", async () => {
  const input = encoder.encode(
    "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\n\r\n",
  );
  const requests = readRequests(pieces(input, () => 1 << 20));
  assert.equal((await requests.next()).value?.target, "/ok");
  // The bad head is in the buffer already: refused without another read.
  await assert.rejects(
    requests.next(),
    (error) => error instanceof RequestError && error.code === "MissingHost",
  );
  assert.deepEqual(await requests.next(), { done: true, value: undefined });
});

Deno.test("readRequests() yields a repeated head of exactly 1 KiB again without parsing it", async () => {
  const prefix = "GET /a HTTP/1.1\r\nHost: x\r\nX: ";
  const head = `${prefix}${"v".repeat(1024 - prefix.length - 4)}\r\n\r\n`;
  assert.equal(head.length, 1024);
  const heads = await collect(
    pieces(encoder.encode(head.repeat(2)), () => 1 << 20),
  );
  assert.equal(heads.length, 2);
  assert.equal(heads[1], heads[0], "the same object, not an equal one");
});
