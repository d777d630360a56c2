/**
 * Reads oha's JSON report (`oha --no-tui --output-format json`).
 *
 * @module
 */
import type { LoadResult, Metric } from "./_types.ts";

interface OhaReport {
  summary: {
    total: number;
    requestsPerSec: number;
    totalData: number;
    sizePerSec: number;
  };
  statusCodeDistribution?: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

/** Extracts the figures from oha's JSON output. */
export function parseOhaOutput(text: string, metric: Metric): LoadResult {
  const start = text.indexOf("{");
  if (start < 0) throw new Error("Cannot parse oha output: no JSON");
  const report = JSON.parse(text.slice(start)) as OhaReport;
  const statuses = Object.entries(report.statusCodeDistribution ?? {});
  const count = (keep: (code: number) => boolean) =>
    statuses.reduce((n, [code, k]) => keep(Number(code)) ? n + k : n, 0);
  const errors = Object.values(report.errorDistribution ?? {});
  const { summary } = report;
  return {
    value: metric === "req/s" ? summary.requestsPerSec : summary.sizePerSec,
    requests: count(() => true),
    failed: errors.reduce((a, b) => a + b, 0),
    non2xx: count((code) => code < 200 || code > 299),
    bytes: summary.totalData,
    seconds: summary.total,
  };
}
