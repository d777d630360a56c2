import assert from "node:assert/strict";
import { formatMarkdown } from "../_report_md.ts";
import { formatSvg } from "../_report_svg.ts";
import type { SuiteResult } from "../_types.ts";
import {
  aggregate,
  failuresOf,
  isClientBound,
  median,
  roundRatios,
} from "../_stats.ts";
import type { ModeSpec, RunRecord } from "../_types.ts";

const MODE: ModeSpec = {
  id: "wrk-1k",
  label: "1 KB, wrk <c100>",
  path: "/1k.html",
  tool: "wrk",
  connections: 100,
  metric: "req/s",
};

function run(server: string, round: number, value: number): RunRecord {
  return {
    server,
    mode: MODE.id,
    round,
    value,
    requests: 1000,
    failed: server === "a" ? 1 : 0,
    non2xx: 0,
    bytes: 1,
    seconds: 1,
    peakTreeRssBytes: round * 2 ** 20,
    peakProcessRssBytes: 2 ** 20,
    serverCpuSeconds: server === "a" ? 0.5 : 1,
    command: "wrk",
  };
}

const RUNS = [
  run("a", 1, 30),
  run("ref", 1, 10),
  run("a", 2, 10),
  run("ref", 2, 20),
  run("a", 3, 20),
  run("ref", 3, 30),
];

Deno.test("median() takes the middle value or the mean of the two middle ones", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("aggregate() gives median, range, ratio, sums and peaks per server", () => {
  const [a, ref] = aggregate(RUNS, [MODE], ["a", "ref"], "ref");
  assert.equal(a.median, 20);
  assert.equal(a.min, 10);
  assert.equal(a.max, 30);
  assert.equal(a.ratio, 1);
  assert.equal(a.failed, 3);
  assert.equal(a.peakTreeRssBytes, 3 * 2 ** 20);
  assert.equal(a.perCpuSecond, 2000);
  assert.equal(a.perCpuRatio, 2);
  assert.equal(ref.ratio, 1);
  assert.equal(ref.perCpuSecond, 1000);
});

Deno.test("aggregate() leaves errored runs out of the figures and counts them", () => {
  const broken = { ...run("a", 4, 0), error: "exit 124" };
  const [a] = aggregate([...RUNS, broken], [MODE], ["a", "ref"], "ref");
  assert.deepEqual(a.values, [30, 10, 20]);
  assert.equal(a.errors, 1);
});

Deno.test("roundRatios() divides each round by the reference's same round", () => {
  // Medians are equal (ratio 1.00), but round by round A ran 3×, 0.5× and
  // 0.67× as fast as the reference.
  const ratios = roundRatios(RUNS, MODE.id, "a", "ref");
  assert.deepEqual(ratios.map((r) => r.toFixed(2)), ["3.00", "0.50", "0.67"]);
  assert.deepEqual(roundRatios(RUNS, MODE.id, "ref", "ref"), [1, 1, 1]);
  // A round where either side produced no result is left out; rounds come
  // in round order whatever the order of the runs.
  const broken = { ...run("ref", 2, 5), error: "exit 124" };
  const runs = [
    ...RUNS.filter((r) => !(r.server === "ref" && r.round === 2)),
    broken,
  ].reverse();
  assert.deepEqual(
    roundRatios(runs, MODE.id, "a", "ref").map((r) => r.toFixed(2)),
    ["3.00", "0.67"],
  );
  assert.deepEqual(roundRatios(RUNS, "other-mode", "a", "ref"), []);
});

function result(): SuiteResult {
  return {
    name: "compare",
    title: "A vs ref",
    reference: "ref",
    pinned: true,
    command: "deno run -A bench/run.ts --quick",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:01:00.000Z",
    loadAverageAtEnd: "0.5",
    machine: {
      cpus: 2,
      cpuModel: "Test CPU",
      memTotal: "1 GiB RAM",
      kernel: "linux 6",
      deno: "deno 2",
      nginx: "nginx/1.22.1",
      wrk: "wrk 4.1.0",
      ab: "ApacheBench, Version 2.3",
      oha: "not installed",
      commit: "abc123",
      loadAverageAtStart: "0.1",
    },
    settings: {
      client: "ab-wrk",
      rounds: 3,
      requests: 50000,
      durationSeconds: 10,
    },
    servers: [
      { id: "a", label: "Server A", command: "a --serve", problems: [] },
      { id: "ref", label: "Reference", command: "ref", problems: [] },
      // Answered wrongly, so not measured: no cells.
      {
        id: "bad",
        label: "Wrong",
        command: "bad --serve",
        problems: ["GET /x: 500"],
      },
      {
        id: "gone",
        label: "Gone",
        error: "Cannot start gone: exited",
        problems: [],
      },
    ],
    modes: [MODE],
    cells: aggregate(RUNS, [MODE], ["a", "ref"], "ref"),
    runs: RUNS,
  };
}

Deno.test("formatMarkdown() shows ratios, ranges, failures and how it was run", () => {
  const md = formatMarkdown(result());
  assert.match(md, /^## A vs ref$/m);
  assert.match(md, /\| Mode \| Server A \| Reference \|/);
  assert.ok(md.includes(
    "| 1 KB, wrk <c100> | 20 req/s (1.00× [2.00×]) | 20 req/s (1.00× [1.00×]) |",
  ));
  assert.ok(md.includes(
    "| Server A | 20 req/s | 10–30 | 1.00 | 0.50–3.00 | 2.0k req | 2.00 | 3 | " +
      "0 | 0 | – | 3 MiB / 1 MiB |",
  ));
  // No core was measured, so nothing is said to be client-bound.
  assert.doesNotMatch(md, /†/);
  assert.match(md, /Command: `deno run -A bench\/run\.ts --quick`/);
  assert.match(md, /2 × Test CPU/);
  assert.match(md, /- Gone: not started: Cannot start gone: exited/);
  assert.ok(md.includes(
    "\n- Wrong: not measured, its answers were wrong: `bad --serve`\n" +
      "  - wrong: GET /x: 500\n",
  ));
});

Deno.test("formatSvg() draws one bar per result and escapes text", () => {
  const svg = formatSvg(result());
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.match(svg, /1 KB, wrk &lt;c100&gt;/);
  assert.doesNotMatch(svg, /<c100>/);
  // Background, two legend swatches, two bars.
  assert.equal(svg.match(/<rect /g)?.length, 5);
  assert.ok(svg.includes("1.00× · 20 req/s · 2.00× per CPU-s · 3 failed"));
});

/** RUNS with the cores' busy shares of pinned runs: A's client saturated. */
function pinnedRuns(): RunRecord[] {
  return RUNS.map((r) => ({
    ...r,
    clientCoreBusy: r.server === "a"
      ? 0.97 + r.round / 100
      : 0.5 + r.round / 10,
    serverCoreBusy: r.server === "a" ? 0.8 : 0.9,
  }));
}

Deno.test("aggregate() takes the median busy share of each core", () => {
  const [a, ref] = aggregate(pinnedRuns(), [MODE], ["a", "ref"], "ref");
  assert.equal(a.clientCoreBusy?.toFixed(2), "0.99");
  assert.equal(a.serverCoreBusy, 0.8);
  assert.equal(ref.clientCoreBusy?.toFixed(2), "0.70");
  // Unpinned runs measure no core: the cell says nothing rather than 0%.
  const [unpinned] = aggregate(RUNS, [MODE], ["a", "ref"], "ref");
  assert.equal(unpinned.clientCoreBusy, undefined);
  assert.equal(unpinned.serverCoreBusy, undefined);
});

Deno.test("isClientBound() holds from a 95% busy client core up", () => {
  const [a, ref] = aggregate(pinnedRuns(), [MODE], ["a", "ref"], "ref");
  assert.equal(isClientBound(a), true);
  assert.equal(isClientBound(ref), false);
  assert.equal(isClientBound({ ...ref, clientCoreBusy: 0.95 }), true);
  assert.equal(isClientBound({ ...ref, clientCoreBusy: 0.949 }), false);
  assert.equal(isClientBound({ ...ref, clientCoreBusy: undefined }), false);
});

Deno.test("formatMarkdown() marks client-bound figures and shows busy cores", () => {
  const runs = pinnedRuns();
  const md = formatMarkdown({
    ...result(),
    runs,
    cells: aggregate(runs, [MODE], ["a", "ref"], "ref"),
  });
  assert.ok(md.includes(
    "| 1 KB, wrk <c100> | 20 req/s† (1.00× [2.00×]) | 20 req/s (1.00× [1.00×]) |",
  ));
  assert.match(md, /^† The client's core was at least 95% busy/m);
  assert.ok(md.includes("| 0 | 0 | 80% / 99% | 3 MiB / 1 MiB |"));
  assert.ok(md.includes("| 0 | 0 | 90% / 70% | 3 MiB / 1 MiB |"));
  const svg = formatSvg({
    ...result(),
    runs,
    cells: aggregate(runs, [MODE], ["a", "ref"], "ref"),
  });
  assert.ok(svg.includes("2.00× per CPU-s · client-bound · 3 failed"));
  assert.equal(svg.match(/client-bound/g)?.length, 1);
});

Deno.test("median() orders numbers by value, not as text", () => {
  assert.equal(median([9, 10, 100]), 10);
  assert.equal(median([1000, 9, 20, 100]), 60);
});

/** Runs of `mode` for server "a" and the reference "ref", one per value. */
function runsOf(
  mode: ModeSpec,
  values: Record<string, (number | undefined)[]>,
): RunRecord[] {
  return Object.entries(values).flatMap(([server, list]) =>
    list.map((value, i) => ({
      ...run(server, i + 1, value ?? 0),
      mode: mode.id,
      requests: 1000,
      bytes: 4000,
      serverCpuSeconds: 2,
      ...(value === undefined ? { error: "exit 124" } : {}),
    }))
  );
}

Deno.test("aggregate() divides each server's median by the reference's", () => {
  const runs = runsOf(MODE, { a: [40, 50, 30], ref: [20, 10, 30] });
  const [a, ref] = aggregate(runs, [MODE], ["a", "ref"], "ref");
  assert.equal(a.ratio, 2);
  assert.equal(ref.ratio, 1);
});

Deno.test("aggregate() counts bytes per CPU-second in a bytes/s mode", () => {
  const bytesMode: ModeSpec = { ...MODE, id: "wrk-10m", metric: "bytes/s" };
  const runs = runsOf(bytesMode, { a: [8, 8, 8], ref: [4, 4, 4] });
  const [a] = aggregate(runs, [bytesMode], ["a", "ref"], "ref");
  assert.equal(a.perCpuSecond, 2000);
});

Deno.test("aggregate() gives no ratio without a result on either side", () => {
  // Every run of "a" failed: no figure, so no ratio (not NaN).
  const failed = runsOf(MODE, { a: [undefined, undefined], ref: [20, 10] });
  const [a, ref] = aggregate(failed, [MODE], ["a", "ref"], "ref");
  assert.equal(a.ratio, undefined);
  assert.equal(ref.ratio, 1);
  // The reference served nothing: no ratio rather than Infinity.
  const zero = runsOf(MODE, { a: [20, 10], ref: [0, 0] });
  const cells = aggregate(zero, [MODE], ["a", "ref"], "ref");
  assert.deepEqual(cells.map((c) => c.ratio), [undefined, undefined]);
});

Deno.test("roundRatios() leaves out a round the reference served nothing in, or one the server failed", () => {
  const runs = runsOf(MODE, { a: [30, 10, undefined], ref: [10, 0, 10] });
  // Round 2: the reference's 0 would make Infinity; round 3: a failed.
  assert.deepEqual(roundRatios(runs, MODE.id, "a", "ref"), [3]);
});

Deno.test("formatMarkdown() says error for a server without a result, and how it was pinned", () => {
  const runs = runsOf(MODE, { a: [undefined], ref: [20] });
  const md = formatMarkdown({
    ...result(),
    runs,
    cells: aggregate(runs, [MODE], ["a", "ref"], "ref"),
  });
  assert.ok(md.includes("| 1 KB, wrk <c100> | error | 20 req/s (1.00× ["));
  assert.ok(md.includes("Servers pinned to CPU 0, client to CPU 1 (taskset)."));
  const unpinned = formatMarkdown({ ...result(), pinned: false });
  assert.ok(unpinned.includes("Nothing pinned."));
  assert.doesNotMatch(unpinned, /taskset/);
});

Deno.test("formatMarkdown() gives bytes per CPU-second with their unit", () => {
  const bytesMode: ModeSpec = {
    ...MODE,
    id: "wrk-10m",
    label: "10 MB",
    metric: "bytes/s",
  };
  const runs = runsOf(bytesMode, { a: [3e9], ref: [1.5e9] }).map((r) => ({
    ...r,
    bytes: r.server === "a" ? 3e9 : 1.5e9,
    serverCpuSeconds: 1,
  }));
  const md = formatMarkdown({
    ...result(),
    modes: [bytesMode],
    runs,
    cells: aggregate(runs, [bytesMode], ["a", "ref"], "ref"),
  });
  assert.ok(md.includes("| 10 MB | 3.00 GB/s (2.00× [2.00×]) |"));
  assert.ok(md.includes("| 10 MB | Server A | 3.00 GB/s | 3.00 G–3.00 G |"));
  assert.ok(md.includes("| 3.00 GB | 2.00 |"), md);
  assert.ok(md.includes("| 1.50 GB | 1.00 |"));
});

Deno.test("formatSvg() whiskers span min to max over the reference, and non-2xx counts as failed", () => {
  // a: median 40 over the reference's 20 (2×), rounds from 20 (1×) to 60 (3×).
  const runs = runsOf(MODE, { a: [40, 20, 60], ref: [20, 20, 20] })
    .map((r) => ({ ...r, failed: 0, non2xx: r.server === "a" ? 2 : 0 }));
  const svg = formatSvg({
    ...result(),
    runs,
    cells: aggregate(runs, [MODE], ["a", "ref"], "ref"),
  });
  // One grid line per half ratio from 0× to 3×.
  const grid = [...svg.matchAll(/<line x1="([\d.]+)"/g)].map((m) =>
    Number(m[1])
  );
  assert.equal(grid.length, 7);
  const xAt = (ratio: number) => grid[ratio * 2];
  const whiskers = [...svg.matchAll(/<path d="M([\d.]+) [\d.]+H([\d.]+)M/g)]
    .map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(whiskers, [[xAt(1), xAt(3)], [xAt(1), xAt(1)]]);
  assert.ok(svg.includes("2.00× · 40 req/s · 1.00× per CPU-s · 6 failed"));
});

Deno.test("failuresOf() names every server that failed and every unclean cell", () => {
  assert.deepEqual(failuresOf(result()), [
    "bad: sanity check: GET /x: 500",
    "gone: did not start: Cannot start gone: exited",
    "a wrk-1k: 3 failed, 0 non-2xx, 0 runs without a result",
  ]);
  const clean = result();
  clean.servers = clean.servers.filter((s) => s.id === "a");
  const runs = RUNS.map((r) => ({ ...r, failed: 0 }));
  clean.cells = aggregate(runs, [MODE], ["a", "ref"], "ref");
  assert.deepEqual(failuresOf(clean), []);
  clean.cells = aggregate(
    [...runs, { ...run("ref", 4, 0), failed: 0, non2xx: 7 }],
    [MODE],
    ["a", "ref"],
    "ref",
  );
  assert.deepEqual(failuresOf(clean), [
    "ref wrk-1k: 0 failed, 7 non-2xx, 0 runs without a result",
  ]);
});

Deno.test("formatSvg() draws a server that served nothing at zero", () => {
  const runs = [
    ...RUNS.filter((r) => r.server === "ref"),
    ...[1, 2, 3].map((round) => ({ ...run("a", round, 0), failed: 500 })),
  ];
  const svg = formatSvg({
    ...result(),
    cells: aggregate(runs, [MODE], ["a", "ref"], "ref"),
    runs,
  });
  assert.doesNotMatch(svg, /NaN/);
  assert.ok(svg.includes("0.00× · 0 req/s"), svg);
  assert.ok(svg.includes("1500 failed"), svg);
  assert.match(svg, /<rect x="160" y="\d+" width="0" /);
});
