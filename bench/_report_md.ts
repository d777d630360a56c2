/**
 * Renders a suite result as Markdown: a ratio table for the README, then the
 * full table with ranges, errors and memory, then how it was measured.
 *
 * @module
 */
import type { Cell, SuiteResult } from "./_types.ts";
import { CLIENT_BOUND_SHARE, isClientBound, roundRatios } from "./_stats.ts";
import { formatMiB, formatShort, formatValue } from "./_units.ts";

/** The Markdown report of `result`. */
export function formatMarkdown(result: SuiteResult): string {
  const label = labeller(result);
  const ref = label(result.reference);
  const servers = measured(result);
  const lines = [
    `## ${result.title}`,
    "",
    `Median of ${result.settings.rounds} round(s). In brackets: ratio to ` +
    `${ref}'s median, then [the same ratio for work per server ` +
    "CPU-second, which other load on the machine disturbs much less]. " +
    `Rounds × ${ref}: the lowest and highest of each round's result over ` +
    `${ref}'s in the same round, seconds apart. Higher is better.`,
    ...clientBoundNote(result),
    "",
    `| Mode | ${servers.map(label).join(" | ")} |`,
    `| --- | ${servers.map(() => "---:").join(" | ")} |`,
  ];
  for (const mode of result.modes) {
    const row = servers.map((id) => summarise(find(result, mode.id, id)));
    lines.push(`| ${mode.label} | ${row.join(" | ")} |`);
  }
  lines.push(
    "",
    `| Mode | Server | Median | Min–max | × ${ref} | Rounds × ${ref} | ` +
      `Per CPU-s | × ${ref} | Failed | Non-2xx | Errors | ` +
      "Cores busy: server / client | Peak RSS tree / process |",
    `|${" --- |".repeat(2)}${" ---: |".repeat(11)}`,
  );
  for (const cell of result.cells) {
    const mode = result.modes.find((m) => m.id === cell.mode)!;
    const columns = [
      mode.label,
      label(cell.server),
      formatValue(cell.median, cell.metric),
      range(cell),
      cell.ratio?.toFixed(2) ?? "–",
      ratioRange(
        roundRatios(result.runs, cell.mode, cell.server, result.reference),
      ),
      perCpu(cell),
      cell.perCpuRatio?.toFixed(2) ?? "–",
      cell.failed,
      cell.non2xx,
      cell.errors,
      coresBusy(cell),
      `${formatMiB(cell.peakTreeRssBytes)} / ` +
      formatMiB(cell.peakProcessRssBytes),
    ];
    lines.push(`| ${columns.join(" | ")} |`);
  }
  lines.push("", ...describeRun(result), "");
  return lines.join("\n");
}

function summarise(cell: Cell | undefined): string {
  if (!cell || cell.values.length === 0) return "error";
  const value = formatValue(cell.median, cell.metric);
  if (cell.ratio === undefined) return value;
  const cpu = cell.perCpuRatio?.toFixed(2) ?? "–";
  const mark = isClientBound(cell) ? CLIENT_BOUND_MARK : "";
  return `${value}${mark} (${cell.ratio.toFixed(2)}× [${cpu}×])`;
}

/** Marks a summary figure whose run the client's pace set. */
const CLIENT_BOUND_MARK = "†";

/** The summary's note on client-bound figures, when there are any. */
function clientBoundNote(result: SuiteResult): string[] {
  if (!result.cells.some(isClientBound)) return [];
  const share = Math.round(CLIENT_BOUND_SHARE * 100);
  return [
    "",
    `${CLIENT_BOUND_MARK} The client's core was at least ${share}% busy ` +
    "(median over the rounds): the client set the pace, and the figure says the " +
    "server kept up with it, not how much more it could serve. Between " +
    "two such figures the ratio tells how fast the client ran each time " +
    "(on a shared host, that varies) more than how the servers compare; " +
    "the ratio per server CPU-second still compares them.",
  ];
}

/** The median busy shares of the server's and the client's cores. */
function coresBusy(cell: Cell): string {
  const percent = (share: number | undefined) =>
    share === undefined ? "–" : `${Math.round(share * 100)}%`;
  if (cell.serverCoreBusy === undefined && cell.clientCoreBusy === undefined) {
    return "–";
  }
  return `${percent(cell.serverCoreBusy)} / ${percent(cell.clientCoreBusy)}`;
}

function perCpu(cell: Cell): string {
  if (!(cell.perCpuSecond > 0)) return "–";
  return cell.metric === "req/s"
    ? `${formatShort(cell.perCpuSecond, "req/s")} req`
    : `${formatShort(cell.perCpuSecond, "bytes/s")}B`;
}

function describeRun(result: SuiteResult): string[] {
  const m = result.machine;
  const s = result.settings;
  const lines = [
    `Command: \`${result.command}\``,
    "",
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memTotal}, ${m.kernel}; ` +
    `${m.deno}; ${m.nginx}; ${m.wrk}; ${m.ab}; oha: ${m.oha}; ` +
    `commit ${m.commit}. Load average at start ${m.loadAverageAtStart}, ` +
    `at end ${result.loadAverageAtEnd}.`,
    "",
    (s.client === "oha"
      ? "Client: oha for every mode (the labels name the ab or wrk run it " +
        `stands in for), ${s.requests} requests per counted run, ` +
        `${s.durationSeconds} s per timed run, `
      : "Client: ab and wrk (wrk -t1), " +
        `${s.requests} requests per ab run, ${s.durationSeconds} s per wrk run, `) +
    `${s.rounds} round(s) alternating the servers. ` +
    (result.pinned
      ? "Servers pinned to CPU 0, client to CPU 1 (taskset)."
      : "Nothing pinned."),
    "",
    "Servers:",
    "",
  ];
  for (const server of result.servers) {
    const log = server.accessLogBytes
      ? ` (access log: ${server.accessLogBytes} bytes)`
      : "";
    const what = server.error
      ? `not started: ${server.error.split("\n")[0]}`
      : server.problems.length > 0
      ? `not measured, its answers were wrong: \`${server.command}\``
      : `\`${server.command}\`${log}`;
    lines.push(`- ${server.label}: ${what}`);
    for (const problem of server.problems) lines.push(`  - wrong: ${problem}`);
  }
  return lines;
}

/** The lowest and highest of `ratios`, or a dash when there are none. */
function ratioRange(ratios: number[]): string {
  if (ratios.length === 0) return "–";
  return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
}

function range(cell: Cell): string {
  if (cell.values.length === 0) return "–";
  return `${formatShort(cell.min, cell.metric)}–${
    formatShort(cell.max, cell.metric)
  }`;
}

/** The servers measured: started, and right in their answers. */
function measured(result: SuiteResult): string[] {
  return result.servers.filter((s) => !s.error && s.problems.length === 0)
    .map((s) => s.id);
}

function find(result: SuiteResult, mode: string, server: string) {
  return result.cells.find((c) => c.mode === mode && c.server === server);
}

function labeller(result: SuiteResult): (id: string) => string {
  return (id) => result.servers.find((s) => s.id === id)?.label ?? id;
}
