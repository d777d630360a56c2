/**
 * A seeded pseudo-random generator and a request mutator for fuzzing the
 * server over TCP. Case `i` of seed `s` is always the same bytes and the same
 * write segmentation, so any failure replays from two numbers.
 *
 * @module
 */

import { bytesOf, concat } from "./_bytes.ts";
import { caseSeed, Rng } from "./_rng.ts";

/** Valid requests the mutations start from; only small files, for speed. */
export const BASE_REQUESTS: readonly string[] = [
  "GET /httptest/dir2/page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "HEAD /httptest/splash.css HTTP/1.1\r\nHost: a\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
  "GET /httptest/dir2/ HTTP/1.0\r\n\r\n",
  "GET /httptest/dir2/page.html?x=1 HTTP/1.1\r\nHost: a\r\nRange: bytes=0-10\r\n" +
  'If-None-Match: "abc"\r\nConnection: keep-alive\r\n\r\n',
  "POST /httptest/dir2/page.html HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "GET /httptest/dir2/page.html HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "5\r\nhello\r\n0\r\n\r\n",
  "GET /httptest/space%20in%20name.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET http://127.0.0.1/httptest/text..txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  "GET /httptest/dir1/dir12/dir123/deep.txt HTTP/1.1\r\nHost: a\r\n" +
  "Accept-Encoding: gzip, br\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
  "HEAD /httptest/pic_ask.gif HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "GET /httptest/dir2/%70%61%67%65%2e%68%74%6d%6c HTTP/1.1\r\nHost: a\r\n\r\n",
];

/** A plain GET and the file (under the suite root) its 200 must carry. */
export interface PlainRequest {
  /** The request, all of it. */
  request: string;
  /** The file it names, decoded, from the document root. */
  file: string;
}

/**
 * GETs that must each get exactly one 200 response with the file's bytes as
 * its body, for sanity cases.
 */
export const PLAIN_REQUESTS: readonly PlainRequest[] = [
  {
    request: "GET /httptest/dir2/page.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    file: "/httptest/dir2/page.html",
  },
  {
    request: "GET /httptest/text..txt HTTP/1.1\r\nHost: a\r\n\r\n",
    file: "/httptest/text..txt",
  },
  {
    request:
      "GET /httptest/dir1/dir12/dir123/deep.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    file: "/httptest/dir1/dir12/dir123/deep.txt",
  },
  {
    request: "GET /httptest/space%20in%20name.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    file: "/httptest/space in name.txt",
  },
];

/** Header lines that exercise framing and parsing edge cases. */
const HOSTILE_FIELDS: readonly string[] = [
  "Content-Length: 0",
  "Content-Length: -1",
  "Content-Length: 99999999999999999999999",
  "Content-Length: 5, 5",
  "Content-Length: 0x10",
  "Content-Length: 3",
  "Transfer-Encoding: gzip",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: chunked, identity",
  "Transfer-Encoding: identity",
  "Host: a",
  "Host:",
  "Host: a b",
  " folded continuation",
  "\tfolded",
  "X-Ctl: a\x01b",
  "X-Nul: a\x00b",
  "X-Del: \x7f",
  "X-Latin: \xe9\xff",
  ":no-name",
  "Bad Name: x",
  "Bad\tName: x",
  "NoColon",
  "Connection: close",
  "Connection: keep-alive, Upgrade",
  "Upgrade: websocket",
  "Expect: 100-continue",
  "Expect: nonsense",
  "Range: bytes=-1",
  "Range: bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9",
  "Range: bytes=99999999999999999999-",
  "If-Range: garbage",
  "If-None-Match: *",
  "If-Modified-Since: not a date",
  "X-Empty:",
  "X-Spaces:      ",
];

const INTERESTING_BYTES: readonly number[] = [
  0x00,
  0x09,
  0x0a,
  0x0d,
  0x20,
  0x7f,
  0x80,
  0xff,
  0x3a, // :
  0x25, // %
  0x2f, // /
  0x2e, // .
  0x5c, // backslash
  0x22, // "
  0x2c, // ,
  0x3b, // ;
  0x3f, // ?
  0x23, // #
];

const VERSIONS: readonly string[] = [
  "HTTP/2.0",
  "HTTP/1.2",
  "HTTP/0.9",
  "HTTP/1.10",
  "http/1.1",
  "HTTP/1.1x",
  "HTTP/1",
  "HTTP/11",
  "HTTP/3.0",
  "HTTP/1.1 ",
  "",
];

/** One fuzz input. */
export interface FuzzCase {
  /** The bytes to send. */
  bytes: Uint8Array;
  /** Sizes of the writes (their sum may be less; the rest goes last). */
  segments: number[];
  /** What produced it, for the failure message and the statistics. */
  kind: string;
  /**
   * For sanity cases (plain GETs, so no response may be read as one to a
   * HEAD): the files, in order, that the responses must carry, each in a
   * 200 whose body is the file byte for byte, and no other response.
   */
  expectFiles?: string[];
  /**
   * For oversized cases (one request, then the client's end of stream): the
   * status of the one response required.
   */
  expectStatus?: number;
}

type Mutation = (rng: Rng, input: Uint8Array) => Uint8Array;

const splitLines = (input: Uint8Array): string[] =>
  latin1Text(input).split("\r\n");
const joinLines = (lines: string[]): Uint8Array =>
  latin1Bytes(lines.join("\r\n"));

function latin1Text(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** The index of a header line (not the request line, not the blank end). */
function headerLineIndex(rng: Rng, lines: string[]): number {
  const end = lines.indexOf("");
  const last = end < 0 ? lines.length - 1 : end - 1;
  return last < 1 ? 1 : rng.range(1, last);
}

const MUTATIONS: readonly [string, Mutation][] = [
  ["flip", (rng, input) => {
    const out = input.slice();
    if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return out;
  }],
  ["set", (rng, input) => {
    const out = input.slice();
    if (out.length > 0) out[rng.int(out.length)] = rng.pick(INTERESTING_BYTES);
    return out;
  }],
  ["insert", (rng, input) => {
    const at = rng.int(input.length + 1);
    const n = rng.range(1, 8);
    const extra = rng.chance(0.5)
      ? rng.bytes(n)
      : Uint8Array.from({ length: n }, () => rng.pick(INTERESTING_BYTES));
    return concat([input.subarray(0, at), extra, input.subarray(at)]);
  }],
  ["delete", (rng, input) => {
    const at = rng.int(input.length);
    const n = rng.range(1, 16);
    return concat([input.subarray(0, at), input.subarray(at + n)]);
  }],
  ["duplicate-line", (rng, input) => {
    const lines = splitLines(input);
    const i = headerLineIndex(rng, lines);
    lines.splice(i, 0, lines[i] ?? "X: y");
    return joinLines(lines);
  }],
  ["drop-line", (rng, input) => {
    const lines = splitLines(input);
    lines.splice(rng.int(lines.length), 1);
    return joinLines(lines);
  }],
  ["swap-lines", (rng, input) => {
    const lines = splitLines(input);
    const i = rng.int(lines.length);
    const j = rng.int(lines.length);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return joinLines(lines);
  }],
  ["splice-field", (rng, input) => {
    const lines = splitLines(input);
    lines.splice(headerLineIndex(rng, lines), 0, rng.pick(HOSTILE_FIELDS));
    return joinLines(lines);
  }],
  ["line-ending", (rng, input) => {
    const text = latin1Text(input);
    const ending = rng.pick(["\n", "\r", "\r\r\n", "\n\r", "\r\n\r\n"]);
    const positions: number[] = [];
    for (
      let i = text.indexOf("\r\n");
      i >= 0;
      i = text.indexOf("\r\n", i + 1)
    ) {
      positions.push(i);
    }
    if (positions.length === 0) return input;
    const at = rng.pick(positions);
    return latin1Bytes(text.slice(0, at) + ending + text.slice(at + 2));
  }],
  ["version", (rng, input) => {
    const text = latin1Text(input);
    return latin1Bytes(text.replace(/HTTP\/1\.[01]/, rng.pick(VERSIONS)));
  }],
  ["method", (rng, input) => {
    const text = latin1Text(input);
    const method = rng.pick([
      "get",
      "GETT",
      "G\x00ET",
      "PUT",
      "DELETE",
      "CONNECT",
      "TRACE",
      "PRI",
      "",
      "GET GET",
      "X".repeat(200),
    ]);
    return latin1Bytes(text.replace(/^[A-Z]+/, method));
  }],
  ["target", (rng, input) => {
    const text = latin1Text(input);
    const target = rng.pick([
      "/%",
      "/%zz",
      "/%00",
      "/..",
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/httptest/dir2/page.html%2f",
      "//",
      "",
      "/a b",
      "/\xff\xfe",
      "*",
      "http://[::1]/x",
      "https://a/httptest/dir2/page.html",
      "a",
      "/" + "a/".repeat(200),
      "/httptest/dir2/page.html#frag",
    ]);
    return latin1Bytes(text.replace(/ \S* /, ` ${target} `));
  }],
  ["truncate", (rng, input) => input.subarray(0, rng.int(input.length))],
];

/**
 * The server's default head limits (protocol/limits.ts), which the fuzzed
 * server runs with: they fix the status of every oversized case. Written
 * out rather than imported, so that a changed default fails here too.
 */
const MAX_REQUEST_LINE = 8192;
const MAX_HEAD_SIZE = 32768;
const MAX_HEADER_FIELDS = 100;

/**
 * A request that exceeds one of the limits, or sits just under one, and
 * the status the server must answer it with (measured, and derived from
 * protocol/request_head.ts). Every outcome is the same whatever the write
 * segmentation: a partial head is held to the same limits as a whole one
 * (a request line without its LF is too long once it has more than
 * `MAX_REQUEST_LINE` + 1 bytes, its CR included; a head without its end,
 * once it has more than `MAX_HEAD_SIZE`), so each case has one status.
 * Under a limit, `GET /` is answered 404: the suite root has no index.html.
 */
function oversized(rng: Rng): [string, Uint8Array, number] {
  const which = rng.int(7);
  const host = "Host: a\r\n";
  switch (which) {
    case 0: {
      // 414 once the request line (without CRLF) is over the limit, i.e.
      // from 8179 a's; under it, a name of thousands of bytes is no file
      // (ENAMETOOLONG): 404.
      const line = `GET /${"a".repeat(rng.range(8000, 12000))} HTTP/1.1`;
      return [
        "long-target",
        bytesOf(`${line}\r\n${host}\r\n`),
        line.length > MAX_REQUEST_LINE ? 414 : 404,
      ];
    }
    case 1: {
      // The head's size counts every byte up to its final CRLF CRLF: 431
      // from 32733 b's on.
      const head = `GET / HTTP/1.1\r\n${host}X-Big: ${
        "b".repeat(rng.range(30000, 40000))
      }\r\n\r\n`;
      return [
        "long-field",
        bytesOf(head),
        head.length > MAX_HEAD_SIZE ? 431 : 404,
      ];
    }
    case 2: {
      // Host is a field too: n X-F fields make n + 1, so 431 from n = 100.
      const n = rng.range(95, 140);
      let fields = "";
      for (let i = 0; i < n; i++) fields += `X-F${i}: ${i}\r\n`;
      return [
        "many-fields",
        bytesOf(`GET / HTTP/1.1\r\n${host}${fields}\r\n`),
        n + 1 > MAX_HEADER_FIELDS ? 431 : 404,
      ];
    }
    case 3: {
      // A method longer than the request line limit is one no server
      // implements: 501 (RFC 9112 §3). A shorter one that still makes the
      // line too long: 414. A line within the limit: an unknown method,
      // 405 from a static file server.
      const method = "M".repeat(rng.range(100, 9000));
      const line = `${method} / HTTP/1.1`;
      return [
        "long-method",
        bytesOf(`${line}\r\n${host}\r\n`),
        method.length > MAX_REQUEST_LINE
          ? 501
          : line.length > MAX_REQUEST_LINE
          ? 414
          : 405,
      ];
    }
    case 4: {
      // 431 from a 32737-byte name on; under that, a valid field.
      const head = `GET / HTTP/1.1\r\n${host}${
        "N".repeat(rng.range(1000, 40000))
      }: v\r\n\r\n`;
      return [
        "long-name",
        bytesOf(head),
        head.length > MAX_HEAD_SIZE ? 431 : 404,
      ];
    }
    case 5:
      // No such file, whether or not the segment is over NAME_MAX (255, so
      // from 256 s's on): 404, never an error.
      return [
        "long-segment",
        bytesOf(
          `GET /${"s".repeat(rng.range(250, 7000))}/x HTTP/1.1\r\n${host}\r\n`,
        ),
        404,
      ];
    default: {
      // Empty lines before the request line count towards the head limit;
      // at most 10000 bytes of them stay well under it.
      const request = `${
        "\r\n".repeat(rng.range(1, 5000))
      }GET / HTTP/1.1\r\n${host}\r\n`;
      return [
        "many-blank-lines",
        bytesOf(request),
        request.length > MAX_HEAD_SIZE ? 431 : 404,
      ];
    }
  }
}

/** Applies 1 to 4 random mutations to `input`. */
export function mutate(rng: Rng, input: Uint8Array): [string, Uint8Array] {
  const count = rng.range(1, 4);
  const names: string[] = [];
  let out = input;
  for (let i = 0; i < count; i++) {
    const [name, mutation] = rng.pick(MUTATIONS);
    names.push(name);
    out = mutation(rng, out);
  }
  return [names.join("+"), out];
}

/** Random write sizes: usually one write, sometimes many small ones. */
function segmentation(rng: Rng, size: number): number[] {
  if (size <= 1 || rng.chance(0.5)) return [size];
  if (size <= 160 && rng.chance(0.1)) return new Array(size).fill(1);
  const cuts = rng.range(2, 8);
  const sizes: number[] = [];
  let left = size;
  for (let i = 0; i < cuts - 1 && left > 1; i++) {
    const n = rng.range(1, Math.max(1, Math.floor(left / 2)));
    sizes.push(n);
    left -= n;
  }
  sizes.push(left);
  return sizes;
}

/** The fuzz input number `index` of the run seeded with `seed`. */
export function generateCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const roll = rng.int(100);
  let kind: string;
  let bytes: Uint8Array;
  let expectFiles: string[] | undefined;
  let expectStatus: number | undefined;
  if (roll < 5) {
    const n = rng.range(1, 4);
    const parts: Uint8Array[] = [];
    expectFiles = [];
    for (let i = 0; i < n; i++) {
      const plain = rng.pick(PLAIN_REQUESTS);
      parts.push(bytesOf(plain.request));
      expectFiles.push(plain.file);
    }
    kind = `valid-x${n}`;
    bytes = concat(parts);
  } else if (roll < 60) {
    const [names, mutated] = mutate(rng, bytesOf(rng.pick(BASE_REQUESTS)));
    kind = `mutated:${names}`;
    bytes = mutated;
  } else if (roll < 75) {
    const n = rng.range(2, 6);
    const parts: Uint8Array[] = [];
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const base = bytesOf(rng.pick(BASE_REQUESTS));
      if (rng.chance(0.3)) {
        const [name, mutated] = mutate(rng, base);
        names.push(name);
        parts.push(mutated);
      } else {
        names.push("ok");
        parts.push(base);
      }
    }
    kind = `pipelined:${names.join(",")}`;
    bytes = concat(parts);
  } else if (roll < 85) {
    const size = rng.range(1, 600);
    const noise = rng.bytes(size);
    kind = "random";
    bytes = rng.chance(0.5) ? concat([bytesOf("GET /"), noise]) : noise;
  } else {
    [kind, bytes, expectStatus] = oversized(rng);
    kind = `oversized:${kind}`;
  }
  return {
    bytes,
    segments: segmentation(rng, bytes.length),
    kind,
    expectFiles,
    expectStatus,
  };
}
