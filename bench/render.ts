/**
 * Re-renders `bench/results/*.md` and `*.svg` from the JSON files, e.g. after
 * a change to the report format: `deno run -A bench/render.ts`.
 *
 * @module
 */
import { formatMarkdown } from "./_report_md.ts";
import { formatSvg } from "./_report_svg.ts";
import type { SuiteResult } from "./_types.ts";

const RESULTS_DIR = new URL("./results/", import.meta.url).pathname;

if (import.meta.main) {
  for await (const entry of Deno.readDir(RESULTS_DIR)) {
    if (!entry.name.endsWith(".json")) continue;
    const base = RESULTS_DIR + entry.name.slice(0, -".json".length);
    const result = JSON.parse(
      await Deno.readTextFile(`${base}.json`),
    ) as SuiteResult;
    await Deno.writeTextFile(`${base}.md`, formatMarkdown(result));
    await Deno.writeTextFile(`${base}.svg`, formatSvg(result));
    console.log(`Rendered ${base}.{md,svg}`);
  }
}
