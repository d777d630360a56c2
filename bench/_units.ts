/**
 * Human formatting of figures.
 *
 * @module
 */
import type { Metric } from "./_types.ts";

/** `52.3k req/s`, `1.76 GB/s`. */
export function formatValue(value: number, metric: Metric): string {
  if (!Number.isFinite(value)) return "–";
  if (metric === "req/s") {
    return value >= 1000
      ? `${(value / 1000).toFixed(1)}k req/s`
      : `${value.toFixed(0)} req/s`;
  }
  return value >= 1e9
    ? `${(value / 1e9).toFixed(2)} GB/s`
    : `${(value / 1e6).toFixed(0)} MB/s`;
}

/** Figure without the unit, for table cells: `52.3k`, `1.76 G`. */
export function formatShort(value: number, metric: Metric): string {
  return formatValue(value, metric).replace(/ ?(req\/s|B\/s)$/, "");
}

/** `12 MiB`. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
