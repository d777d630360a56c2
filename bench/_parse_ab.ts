/**
 * Reads ApacheBench's text report.
 *
 * @module
 */
import type { LoadResult } from "./_types.ts";

/**
 * Extracts the figures from `ab` output. Throws when the report has no
 * "Requests per second" line (ab aborted before finishing).
 */
export function parseAbOutput(text: string): LoadResult {
  const rps = matchNumber(text, /^Requests per second:\s+([\d.]+)/m);
  if (rps === undefined) {
    throw new Error(`Cannot parse ab output: ${lastLine(text)}`);
  }
  const seconds = matchNumber(text, /^Time taken for tests:\s+([\d.]+)/m) ?? 0;
  return {
    value: rps,
    requests: matchNumber(text, /^Complete requests:\s+(\d+)/m) ?? 0,
    failed: matchNumber(text, /^Failed requests:\s+(\d+)/m) ?? 0,
    // ab prints this line only when the count is not zero.
    non2xx: matchNumber(text, /^Non-2xx responses:\s+(\d+)/m) ?? 0,
    bytes: matchNumber(text, /^Total transferred:\s+(\d+)/m) ?? 0,
    seconds,
  };
}

function matchNumber(text: string, pattern: RegExp): number | undefined {
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] || "empty output";
}
