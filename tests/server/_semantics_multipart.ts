/**
 * A small `multipart/byteranges` reader for the semantics tests, written
 * apart from protocol/multipart.ts so that it checks the server's framing
 * instead of repeating its arithmetic: it finds every part by searching for
 * the delimiter (RFC 2046 §5.1.1) and reads no length from the server.
 *
 * @module
 */

/** One body part: its header fields (names lower case) and its bytes. */
export interface BytePart {
  fields: Map<string, string>;
  data: Uint8Array;
}

/**
 * The boundary parameter of a `multipart/byteranges` Content-Type value,
 * quoted or not; throws for any other media type.
 */
export function boundaryOf(contentType: string): string {
  const match =
    /^multipart\/byteranges\s*;\s*boundary=(?:"([^"]+)"|([^\s;"]+))\s*$/i
      .exec(contentType);
  if (match === null) {
    throw new Error(`Not multipart/byteranges: ${contentType}`);
  }
  return match[1] ?? match[2];
}

/**
 * Splits a body into its parts. The body must be exactly: the first
 * dash-boundary line, parts separated by CRLF dash-boundary CRLF, and the
 * close delimiter CRLF dash-boundary "--" CRLF at the very end (no preamble,
 * no epilogue). Throws on anything else.
 */
export function readByteParts(body: Uint8Array, boundary: string): BytePart[] {
  const first = bytesOf(`--${boundary}\r\n`);
  const delimiter = bytesOf(`\r\n--${boundary}`);
  if (!startsWithAt(body, first, 0)) {
    throw new Error("Body does not open with the dash-boundary line");
  }
  const parts: BytePart[] = [];
  let at = first.length;
  for (;;) {
    const headEnd = indexOf(body, bytesOf("\r\n\r\n"), at);
    // A part with no header fields has its blank line right away.
    const fieldsEnd = startsWithAt(body, bytesOf("\r\n"), at) ? at : headEnd;
    if (fieldsEnd < 0) {
      throw new Error(`Part ${parts.length} has no blank line`);
    }
    const fields = new Map<string, string>();
    const headText = latin1Text(body.subarray(at, fieldsEnd));
    for (const line of headText === "" ? [] : headText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`Bad part field line: ${line}`);
      const name = line.slice(0, colon).toLowerCase();
      if (fields.has(name)) throw new Error(`Repeated part field ${name}`);
      fields.set(name, line.slice(colon + 1).trim());
    }
    const dataStart = fieldsEnd + (fieldsEnd === at ? 2 : 4);
    const dataEnd = indexOf(body, delimiter, dataStart);
    if (dataEnd < 0) throw new Error(`Part ${parts.length} is not closed`);
    parts.push({ fields, data: body.subarray(dataStart, dataEnd) });
    at = dataEnd + delimiter.length;
    if (startsWithAt(body, bytesOf("--\r\n"), at)) {
      if (at + 4 !== body.length) {
        throw new Error(
          `${body.length - at - 4} bytes after the close delimiter`,
        );
      }
      return parts;
    }
    if (!startsWithAt(body, bytesOf("\r\n"), at)) {
      throw new Error("Delimiter not followed by CRLF or --");
    }
    at += 2;
  }
}

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}

function startsWithAt(bytes: Uint8Array, prefix: Uint8Array, at: number) {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[at + i] !== prefix[i]) return false;
  }
  return true;
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = from; i + needle.length <= bytes.length; i++) {
    if (bytes[i] === needle[0] && startsWithAt(bytes, needle, i)) return i;
  }
  return -1;
}
