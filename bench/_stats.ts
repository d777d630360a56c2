/**
 * Folds the runs of a suite into one cell per (mode, server): median, range,
 * ratio to the reference server, error counts and peak memory.
 *
 * @module
 */
import type { Cell, ModeSpec, RunRecord, SuiteResult } from "./_types.ts";

/** Median of a non-empty list; NaN for an empty one. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One cell per mode and server, in the given orders. */
export function aggregate(
  runs: readonly RunRecord[],
  modes: readonly ModeSpec[],
  serverIds: readonly string[],
  referenceId: string,
): Cell[] {
  const cells: Cell[] = [];
  for (const mode of modes) {
    const row = serverIds.map((server) =>
      createCell(
        runs.filter((r) => r.mode === mode.id && r.server === server),
        mode,
        server,
      )
    );
    const reference = row.find((c) => c.server === referenceId);
    for (const cell of row) {
      if (reference && reference.median > 0 && cell.values.length > 0) {
        cell.ratio = cell.median / reference.median;
      }
      if (reference && reference.perCpuSecond > 0 && cell.perCpuSecond > 0) {
        cell.perCpuRatio = cell.perCpuSecond / reference.perCpuSecond;
      }
      cells.push(cell);
    }
  }
  return cells;
}

function createCell(
  runs: readonly RunRecord[],
  mode: ModeSpec,
  server: string,
): Cell {
  const ok = runs.filter((r) => r.error === undefined);
  const values = ok.map((r) => r.value);
  const work = (r: RunRecord) => mode.metric === "req/s" ? r.requests : r.bytes;
  const perCpu = ok.filter((r) => r.serverCpuSeconds > 0)
    .map((r) => work(r) / r.serverCpuSeconds);
  const busy = (pick: (r: RunRecord) => number | undefined) => {
    const shares = ok.map(pick).filter((b) => b !== undefined);
    return shares.length > 0 ? median(shares) : undefined;
  };
  const clientCoreBusy = busy((r) => r.clientCoreBusy);
  const serverCoreBusy = busy((r) => r.serverCoreBusy);
  const sum = (pick: (r: RunRecord) => number) =>
    runs.reduce((total, r) => total + pick(r), 0);
  const peak = (pick: (r: RunRecord) => number) =>
    runs.reduce((top, r) => Math.max(top, pick(r)), 0);
  return {
    server,
    mode: mode.id,
    metric: mode.metric,
    median: median(values),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    perCpuSecond: median(perCpu),
    ...(clientCoreBusy === undefined ? {} : { clientCoreBusy }),
    ...(serverCoreBusy === undefined ? {} : { serverCoreBusy }),
    failed: sum((r) => r.failed),
    non2xx: sum((r) => r.non2xx),
    errors: runs.length - ok.length,
    peakTreeRssBytes: peak((r) => r.peakTreeRssBytes),
    peakProcessRssBytes: peak((r) => r.peakProcessRssBytes),
    values,
  };
}

/**
 * Busy share of a pinned client's core from which the client, not the
 * server, is taken to set the pace: ab and wrk run one thread, so a core
 * they keep this busy has nothing left to send more requests with.
 */
export const CLIENT_BOUND_SHARE = 0.95;

/**
 * Whether the client's core was at least {@linkcode CLIENT_BOUND_SHARE}
 * busy, the median over the cell's rounds: then the client set the pace,
 * and the cell's figure says the server kept up with it, not how much more
 * it could serve. A ratio between two such cells tells how fast the client
 * ran in each more than how the servers compare; the work per server
 * CPU-second still compares them.
 */
export function isClientBound(cell: Cell): boolean {
  return cell.clientCoreBusy !== undefined &&
    cell.clientCoreBusy >= CLIENT_BOUND_SHARE;
}

/**
 * Each round's value of `server` in `mode` divided by the `reference`
 * server's value in the same round, in round order; rounds where either
 * produced no result are left out. The servers of one round run seconds
 * apart, so a ratio within a round cancels most of a shared host's drift,
 * which a ratio of medians over many minutes does not.
 */
export function roundRatios(
  runs: readonly RunRecord[],
  mode: string,
  server: string,
  reference: string,
): number[] {
  const valid = (r: RunRecord, id: string) =>
    r.mode === mode && r.server === id && r.error === undefined;
  const referenceValues = new Map<number, number>();
  for (const r of runs) {
    if (valid(r, reference) && r.value > 0) {
      referenceValues.set(r.round, r.value);
    }
  }
  const ratios: [number, number][] = [];
  for (const r of runs) {
    const base = referenceValues.get(r.round);
    if (valid(r, server) && base !== undefined) {
      ratios.push([r.round, r.value / base]);
    }
  }
  return ratios.sort((a, b) => a[0] - b[0]).map(([, ratio]) => ratio);
}

/**
 * What went wrong in a suite, one line each: a server that did not start or
 * failed its sanity check, and every cell with a failed request, a non-2xx
 * answer or a run without a result. Empty when every run was clean, as the
 * targets require.
 */
export function failuresOf(result: SuiteResult): string[] {
  const lines: string[] = [];
  for (const server of result.servers) {
    if (server.error) {
      lines.push(`${server.id}: did not start: ${server.error}`);
    }
    for (const problem of server.problems) {
      lines.push(`${server.id}: sanity check: ${problem}`);
    }
  }
  for (const cell of result.cells) {
    if (cell.failed + cell.non2xx + cell.errors > 0) {
      lines.push(
        `${cell.server} ${cell.mode}: ${cell.failed} failed, ` +
          `${cell.non2xx} non-2xx, ${cell.errors} runs without a result`,
      );
    }
  }
  return lines;
}
