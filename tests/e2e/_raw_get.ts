/**
 * A minimal HTTP/1.1 GET over a raw TCP connection, so nothing between the
 * test and the server rewrites the request or the response (no proxy from
 * the environment, no pooled connections left open).
 *
 * @module
 */

/** A response read by {@linkcode rawGet}. */
export interface RawResponse {
  /** The status code from the status line. */
  status: number;
  /** Header fields, names lower-cased; repeated fields joined with ", ". */
  headers: Map<string, string>;
  /** The body, exactly Content-Length bytes. */
  body: Uint8Array;
}

const CRLFCRLF = [13, 10, 13, 10];

function indexOfHeadEnd(bytes: Uint8Array, length: number): number {
  outer: for (let i = 0; i + 4 <= length; i++) {
    for (let j = 0; j < 4; j++) {
      if (bytes[i + j] !== CRLFCRLF[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Percent-encodes each path segment, keeping the slashes. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * Sends `GET path` to 127.0.0.1:`port` with `Connection: close` and reads
 * one response framed by Content-Length. The connection is closed by us once
 * the body is complete, so a server that keeps it open cannot stall the
 * test; `timeoutMs` bounds the whole exchange.
 */
export async function rawGet(
  port: number,
  path: string,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    close();
  }, timeoutMs);
  try {
    const request = `GET ${encodePath(path)} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\n` +
      "User-Agent: httpd-e2e\r\n" +
      "Connection: close\r\n\r\n";
    await conn.write(new TextEncoder().encode(request));
    let buffer = new Uint8Array(64 * 1024);
    let length = 0;
    let headEnd = -1;
    let status = 0;
    let headers = new Map<string, string>();
    let bodyLength = -1;
    while (true) {
      if (headEnd >= 0 && length - (headEnd + 4) >= bodyLength) break;
      if (length === buffer.length) {
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      let read: number | null;
      try {
        read = await conn.read(buffer.subarray(length));
      } catch (error) {
        if (timedOut) break;
        throw error;
      }
      if (read === null) break;
      length += read;
      if (headEnd < 0) {
        headEnd = indexOfHeadEnd(buffer, length);
        if (headEnd >= 0) {
          ({ status, headers } = parseHead(buffer.subarray(0, headEnd)));
          const declared = headers.get("content-length");
          if (declared === undefined || !/^\d+$/.test(declared)) {
            throw new Error(`Response to ${path} has no usable Content-Length`);
          }
          bodyLength = Number(declared);
        }
      }
    }
    if (timedOut) {
      throw new Error(`Timed out after ${timeoutMs} ms: GET ${path}`);
    }
    if (headEnd < 0) {
      throw new Error(`Connection closed before the head: GET ${path}`);
    }
    const body = buffer.slice(headEnd + 4, headEnd + 4 + bodyLength);
    if (body.length !== bodyLength) {
      throw new Error(
        `Body of ${path} ended after ${body.length} of ${bodyLength} bytes`,
      );
    }
    return { status, headers, body };
  } finally {
    clearTimeout(timer);
    close();
  }
}

function parseHead(
  head: Uint8Array,
): { status: number; headers: Map<string, string> } {
  const lines = new TextDecoder("latin1").decode(head).split("\r\n");
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (statusLine === null) {
    throw new Error(`Cannot parse status line: ${JSON.stringify(lines[0])}`);
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new Error(`Cannot parse header line: ${JSON.stringify(line)}`);
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(statusLine[1]), headers };
}
