/**
 * Request head parser throughput: `deno bench bench/parser_bench.ts`.
 * iter/s is requests parsed per second (16 times that for the pipelined one).
 *
 * @module
 */
import { parseRequestHead } from "../protocol/request_head.ts";
import { readRequests } from "../protocol/request_reader.ts";

const encode = (text: string) => new TextEncoder().encode(text);

// What `ab -k` sends.
const AB = encode(
  "GET /1k.html HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1:8080\r\n" +
    "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
);
// What wrk sends.
const WRK = encode("GET /1k.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
// A browser's navigation request.
const BROWSER = encode(
  "GET /httptest/wikipedia_russia.html?lang=ru HTTP/1.1\r\n" +
    "Host: localhost:8080\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
    "Accept-Language: ru-RU,ru;q=0.8,en-US;q=0.5,en;q=0.3\r\n" +
    "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
    "Connection: keep-alive\r\n" +
    "Upgrade-Insecure-Requests: 1\r\n" +
    "Sec-Fetch-Dest: document\r\n" +
    "Sec-Fetch-Mode: navigate\r\n" +
    "Sec-Fetch-Site: none\r\n" +
    'If-None-Match: "e8fc8-18c3f2a1b40-1a2b3c"\r\n' +
    "If-Modified-Since: Tue, 05 Mar 2024 10:00:00 GMT\r\n\r\n",
);
// What a keep-alive connection parsed just before: the same request again.
const AB_HEAD = parseRequestHead(AB)!.head;
const BROWSER_HEAD = parseRequestHead(BROWSER)!.head;
// Sixteen wrk requests pipelined in one read.
const PIPELINED = encode(
  "GET /1k.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".repeat(16),
);

Deno.bench("parseRequestHead() ab -k request", { group: "head" }, () => {
  parseRequestHead(AB);
});

Deno.bench("parseRequestHead() ab -k request after the same one", {
  group: "head",
}, () => {
  parseRequestHead(AB, { previous: AB_HEAD });
});

Deno.bench("parseRequestHead() browser request after the same one", {
  group: "head",
}, () => {
  parseRequestHead(BROWSER, { previous: BROWSER_HEAD });
});

Deno.bench(
  "parseRequestHead() wrk request",
  { group: "head", baseline: true },
  () => {
    parseRequestHead(WRK);
  },
);

Deno.bench("parseRequestHead() browser request, 12 fields", {
  group: "head",
}, () => {
  parseRequestHead(BROWSER);
});

Deno.bench("parseRequestHead() browser request in two reads", {
  group: "head",
}, () => {
  const half = BROWSER.length >> 1;
  parseRequestHead(BROWSER.subarray(0, half));
  parseRequestHead(BROWSER, { scanFrom: half });
});

Deno.bench("parseRequestHead() 16 pipelined wrk requests", () => {
  let offset = 0;
  while (offset < PIPELINED.length) {
    const parsed = parseRequestHead(PIPELINED.subarray(offset));
    if (parsed === undefined) throw new Error("Cannot parse pipelined input");
    offset += parsed.consumed;
  }
});

/**
 * A keep-alive connection's reader whose every read delivers one of
 * `requests`, in turn: what a request costs the request pipeline.
 */
function endlessReader(requests: Uint8Array[]): AsyncIterator<unknown> {
  let turn = 0;
  return readRequests({
    read(buffer) {
      const request = requests[turn++ % requests.length];
      buffer.set(request);
      return Promise.resolve(request.length);
    },
  });
}

const REPEATED = endlessReader([AB]);
// The same request but for one byte of the path: each head is parsed anew.
const ALTERNATING = endlessReader([
  AB,
  encode(
    new TextDecoder().decode(AB).replace("/1k.html", "/1K.html"),
  ),
]);

Deno.bench("readRequests() ab -k request, the same one again", {
  group: "reader",
}, async () => {
  await REPEATED.next();
});

Deno.bench("readRequests() ab -k request, alternating paths", {
  group: "reader",
  baseline: true,
}, async () => {
  await ALTERNATING.next();
});

// What `ab -r` sends: one request per connection, which then closes.
const AB_CLOSE = encode(
  "GET /1k.html HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n" +
    "User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
);
const AB_CLOSE_OTHER = encode(
  new TextDecoder().decode(AB_CLOSE).replace("/1k.html", "/1K.html"),
);

/** A new connection's reader that gets `request` in one read, and its head. */
function firstRequest(request: Uint8Array): Promise<unknown> {
  return readRequests({
    read(buffer) {
      buffer.set(request);
      return Promise.resolve(request.length);
    },
  }).next();
}

let connections = 0;
Deno.bench("readRequests() ab -r: a new connection, the same request", {
  group: "connection",
}, async () => {
  await firstRequest(AB_CLOSE);
});

Deno.bench("readRequests() ab -r: a new connection, alternating paths", {
  group: "connection",
  baseline: true,
}, async () => {
  await firstRequest(connections++ % 2 === 0 ? AB_CLOSE : AB_CLOSE_OTHER);
});
