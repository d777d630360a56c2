/**
 * Reads the JSON line that `_wrk_report.lua` makes wrk print.
 *
 * @module
 */
import type { LoadResult, Metric } from "./_types.ts";

/** The marker that starts the report line. */
const WRK_MARKER = "WRK_JSON ";

interface WrkSummary {
  requests: number;
  bytes: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
}

/**
 * Extracts the figures from wrk output. wrk's `status` error count covers
 * responses of status 400 or above; with plain GETs of existing files (no
 * 1xx, no redirect) that is every non-2xx answer.
 */
export function parseWrkOutput(text: string, metric: Metric): LoadResult {
  const line = text.split("\n").find((l) => l.startsWith(WRK_MARKER));
  if (line === undefined) {
    throw new Error("Cannot parse wrk output: no report line");
  }
  const s = JSON.parse(line.slice(WRK_MARKER.length)) as WrkSummary;
  const seconds = s.duration_us / 1e6;
  if (!(seconds > 0)) throw new Error("Cannot parse wrk output: zero duration");
  return {
    value: (metric === "req/s" ? s.requests : s.bytes) / seconds,
    requests: s.requests,
    failed: s.connect + s.read + s.write + s.timeout,
    non2xx: s.status,
    bytes: s.bytes,
    seconds,
  };
}
