/**
 * Byte and text helpers shared by the hardening tests and tools.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a string as UTF-8 bytes; request text in tests is mostly ASCII. */
export function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes bytes as Latin-1 so every byte maps to exactly one character. */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** Decodes bytes as UTF-8 for assertion messages. */
export function textOf(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A JSON-escaped excerpt of raw bytes for failure messages. */
export function quote(data: Uint8Array, max = 400): string {
  const text = latin1(data.subarray(0, max));
  return JSON.stringify(text) +
    (data.length > max ? `…(${data.length} bytes)` : "");
}
