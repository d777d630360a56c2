/**
 * Parsing of raw HTTP/1.1 responses as received from the server, strict
 * enough to call a reply malformed.
 *
 * @module
 */

import { latin1 } from "./_bytes.ts";

/** A parsed response. */
export interface RawResponse {
  /** The status code, e.g. 200. */
  status: number;
  /** The status line without CRLF. */
  statusLine: string;
  /** Field names in lower case; repeated fields keep every value. */
  headers: Map<string, string[]>;
  /** The body as received (empty for HEAD, 1xx, 204 and 304). */
  body: Uint8Array;
}

/** The first value of a field, by case-insensitive name. */
export function header(
  response: RawResponse,
  name: string,
): string | undefined {
  return response.headers.get(name.toLowerCase())?.[0];
}

/** Whether the response announces that the connection closes. */
export function saysClose(response: RawResponse): boolean {
  const value = header(response, "connection");
  return value !== undefined &&
    value.toLowerCase().split(",").some((token) => token.trim() === "close");
}

const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) [^\r\n]*$/;
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/** Options for {@linkcode parseOneResponse}. */
export interface ParseResponseOptions {
  /** The request was HEAD: no body follows whatever Content-Length says. */
  head: boolean;
  /**
   * The request method is unknown (fuzzing): when fewer body bytes than
   * Content-Length follow and they begin another status line or nothing
   * follows at all, take the response as one to a HEAD request.
   * @default false
   */
  guessHead?: boolean;
  /** No more bytes will come (the connection is closed). @default false */
  final?: boolean;
}

/**
 * Parses one response from the start of `data`. Returns undefined when more
 * bytes are needed, a reason string when the bytes are not a well-formed
 * HTTP/1.1 response, or the response and the number of bytes it took.
 */
export function parseOneResponse(
  data: Uint8Array,
  options: ParseResponseOptions,
): { response: RawResponse; size: number } | string | undefined {
  const prefix = "HTTP/1.1 ";
  const start = latin1(data.subarray(0, prefix.length));
  if (!prefix.startsWith(start)) return "not a status line";
  // Only the head becomes text: a string sliced from a bigger one keeps it
  // alive, and thousands of responses parsed in turn would hold them all.
  const headEnd = indexOfHeadEnd(data.subarray(0, 256 * 1024));
  if (headEnd < 0) {
    if (data.length > 64 * 1024) return "response head over 64 KiB";
    return options.final ? "truncated response head" : undefined;
  }
  const lines = latin1(data.subarray(0, headEnd)).split("\r\n");
  const statusLine = lines[0];
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) return `bad status line ${JSON.stringify(statusLine)}`;
  const status = Number(match[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const field = FIELD_LINE.exec(line);
    if (field === null) return `bad field line ${JSON.stringify(line)}`;
    const name = field[1].toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(field[2]);
    headers.set(name, values);
  }
  const headSize = headEnd + 4;
  const noBody = options.head || status < 200 || status === 204 ||
    status === 304;
  const lengthText = headers.get("content-length");
  // RFC 9110 8.6 lets a 304 (and 1xx, 204) omit Content-Length: no body.
  if (
    status >= 200 && status !== 204 && status !== 304 &&
    lengthText === undefined
  ) {
    return "response without Content-Length";
  }
  const length = lengthText === undefined ? 0 : Number(lengthText[0]);
  if (!Number.isSafeInteger(length) || length < 0) {
    return `bad Content-Length ${JSON.stringify(lengthText)}`;
  }
  const response = (size: number): { response: RawResponse; size: number } => ({
    response: {
      status,
      statusLine,
      headers,
      body: data.slice(headSize, size),
    },
    size,
  });
  if (noBody) return response(headSize);
  const rest = data.length - headSize;
  if (options.guessHead && length > 0) {
    // No file the fuzzer asks for starts with a status line, so one right
    // after the head means the request was HEAD and no body was sent.
    const after = latin1(data.subarray(headSize, headSize + prefix.length));
    if (after === prefix) return response(headSize);
    if (rest === 0 && options.final) return response(headSize);
    if (rest < prefix.length && prefix.startsWith(after) && !options.final) {
      return undefined;
    }
  }
  if (rest >= length) return response(headSize + length);
  return options.final ? "truncated body" : undefined;
}

/** Where the first CRLFCRLF in `data` starts, or -1. */
function indexOfHeadEnd(data: Uint8Array): number {
  for (let i = data.indexOf(13); i >= 0; i = data.indexOf(13, i + 1)) {
    if (
      data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10
    ) return i;
  }
  return -1;
}

/**
 * Parses a whole reply stream (everything received until close) into
 * responses. Returns the responses, or a reason string for the first
 * malformation.
 */
export function parseReplyStream(
  data: Uint8Array,
  options: { guessHead?: boolean } = {},
): RawResponse[] | string {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const parsed = parseOneResponse(data.subarray(at), {
      head: false,
      guessHead: options.guessHead ?? false,
      final: true,
    });
    if (parsed === undefined) return "truncated response";
    if (typeof parsed === "string") {
      return `${parsed} at byte ${at} of ${data.length}`;
    }
    responses.push(parsed.response);
    at += parsed.size;
  }
  return responses;
}
