/**
 * Renders a suite result as a self-contained SVG: one group of horizontal
 * bars per mode, bar length = ratio to the reference server, a whisker for
 * the min–max range, and a dashed line at 1×.
 *
 * @module
 */
import type { Cell, SuiteResult } from "./_types.ts";
import { isClientBound } from "./_stats.ts";
import { formatValue } from "./_units.ts";

const WIDTH = 920;
const LEFT = 160;
const RIGHT = 290;
const BAR = 16;
const GAP = 4;
const GROUP_GAP = 26;
const TOP = 70;
const COLORS = ["#2f6fdf", "#9a9a9a", "#e08a1e", "#3aa36b", "#b0479f"];

/** The SVG chart of `result`. */
export function formatSvg(result: SuiteResult): string {
  // Colours follow the suite's server order, so a server keeps its colour
  // when another one failed to start.
  const colorOf = new Map(
    result.servers.map((s, i) => [s.id, COLORS[i % COLORS.length]]),
  );
  // Only those measured: one that did not start or answered wrongly has
  // no bars.
  const servers = result.servers.filter((s) =>
    !s.error && s.problems.length === 0
  );
  const scaleMax = Math.ceil(Math.max(1.5, ...result.cells.map(maxRatio)) * 2) /
    2;
  const x = (ratio: number) =>
    round(
      LEFT + (Math.min(ratio, scaleMax) / scaleMax) * (WIDTH - LEFT - RIGHT),
    );
  const groupHeight = servers.length * (BAR + GAP) + GROUP_GAP;
  const height = TOP + result.modes.length * groupHeight + 30;
  const ref = servers.find((s) => s.id === result.reference)?.label ??
    result.reference;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" ` +
    `height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(10, 20, result.title, 'font-size="15" font-weight="bold"'),
    text(
      10,
      38,
      `Bar: ratio to ${ref} (median of ${result.settings.rounds}; ` +
        "whisker = min–max). “per CPU-s”: the same ratio for work per " +
        "server CPU-second. Higher is better.",
    ),
  ];
  servers.forEach((s, i) => {
    const lx = 10 + i * 170;
    out.push(
      `<rect x="${lx}" y="48" width="10" height="10" ` +
        `fill="${colorOf.get(s.id)}"/>`,
      text(lx + 14, 57, s.label),
    );
  });
  for (let tick = 0; tick <= scaleMax; tick += 0.5) {
    const style = tick === 1
      ? 'stroke="#000" stroke-dasharray="4 3"'
      : 'stroke="#e4e4e4"';
    out.push(
      `<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" ` +
        `y2="${height - 24}" ${style}/>`,
      text(x(tick) - 8, height - 10, `${tick}×`),
    );
  }
  result.modes.forEach((mode, g) => {
    const y0 = TOP + g * groupHeight;
    out.push(text(10, y0 + 12, mode.label, 'font-weight="bold"'));
    servers.forEach((server, i) => {
      const y = y0 + 18 + i * (BAR + GAP);
      const cell = result.cells.find((c) =>
        c.mode === mode.id && c.server === server.id
      );
      if (!cell || cell.ratio === undefined) {
        out.push(text(LEFT + 4, y + 12, "no result", 'fill="#c00"'));
        return;
      }
      // The reference's own median: a server that served nothing has a
      // ratio of 0, which cannot give it back.
      const reference = result.cells.find((c) =>
        c.mode === mode.id && c.server === result.reference
      )!.median;
      const bad = cell.failed + cell.non2xx + cell.errors;
      const label = `${cell.ratio.toFixed(2)}× · ` +
        formatValue(cell.median, cell.metric) +
        (cell.perCpuRatio === undefined
          ? ""
          : ` · ${cell.perCpuRatio.toFixed(2)}× per CPU-s`) +
        (isClientBound(cell) ? " · client-bound" : "") +
        (bad > 0 ? ` · ${bad} failed` : "");
      out.push(
        `<rect x="${LEFT}" y="${y}" width="${round(x(cell.ratio) - LEFT)}" ` +
          `height="${BAR}" fill="${colorOf.get(server.id)}"/>`,
        whisker(x(cell.min / reference), x(cell.max / reference), y + BAR / 2),
        text(
          x(cell.max / reference) + 6,
          y + 12,
          label,
          bad > 0 ? 'fill="#c00"' : "",
        ),
      );
    });
  });
  out.push("</svg>", "");
  return out.join("\n");
}

function maxRatio(cell: Cell): number {
  return cell.ratio === undefined || !(cell.median > 0)
    ? 0
    : cell.ratio * cell.max / cell.median;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function whisker(x1: number, x2: number, y: number): string {
  return `<path d="M${x1} ${y}H${x2}M${x1} ${y - 4}v8M${x2} ${y - 4}v8" ` +
    'stroke="#222" fill="none"/>';
}

function text(x: number, y: number, content: string, attrs = ""): string {
  const escaped = content.replace(/&/g, "&amp;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  return `<text x="${x}" y="${y}" ${attrs}>${escaped}</text>`;
}
