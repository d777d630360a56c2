/**
 * Side-by-side benchmark of httpd, nginx, a Deno.serve baseline and a
 * canned-answer Deno.listen ceiling on loopback. Run
 * `deno run -A bench/run.ts --help` for the options.
 *
 * Results go to `bench/results/<suite>.json`, `.md` and `.svg`.
 *
 * @module
 */
import type { ClientFamily } from "./_clients.ts";
import { createDocumentRoot } from "./_fixtures.ts";
import { describeMachine, hasProgram } from "./_machine.ts";
import { type BenchOptions, parseOptions, USAGE } from "./_options.ts";
import { formatMarkdown } from "./_report_md.ts";
import { formatSvg } from "./_report_svg.ts";
import { runSuite } from "./_runner.ts";
import { failuresOf } from "./_stats.ts";
import { stopAllServers } from "./_server_process.ts";
import type { SuiteResult } from "./_types.ts";
import { selectSuites, type SuiteSpec } from "./_suites.ts";
import { errorMessage } from "../server/error_report.ts";

const PROJECT_DIR = new URL("..", import.meta.url).pathname;
const RESULTS_DIR = new URL("./results/", import.meta.url).pathname;
/** Temporary directories to remove on exit, also after a signal. */
const temporary: string[] = [];

async function main(args: string[]): Promise<number> {
  let options: BenchOptions;
  let suites: SuiteSpec[];
  try {
    options = parseOptions(args);
    suites = selectSuites(options.suites, options.servers, options.modes);
  } catch (error) {
    console.error(`${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const family = await chooseClient(options.client);
  const missing = await missingPrograms(family);
  if (missing.length > 0) {
    console.error(`Missing programs: ${missing.join(", ")}`);
    return 1;
  }
  const root = await createDocumentRoot();
  const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-state-" });
  if (options.keep) console.log(`Keeping ${root} and ${stateDir}`);
  else temporary.push(root, stateDir);
  const machine = await describeMachine(PROJECT_DIR);
  const command = ["deno run -A bench/run.ts", ...args].join(" ");
  let failures = 0;
  try {
    for (const suite of suites) {
      const result = await runSuite(
        suite,
        {
          family,
          rounds: options.rounds,
          requests: options.requests,
          durationSeconds: options.durationSeconds,
          ohaJsonFlag: family === "oha" ? await ohaJsonFlag() : undefined,
          root,
          stateDir,
          cwd: PROJECT_DIR,
          httpdPath: options.httpd,
        },
        machine,
        command,
      );
      const base = await writeResult(result, options.quick);
      console.log(`\n${formatMarkdown(result)}\nWrote ${base}.{json,md,svg}`);
      for (const line of failuresOf(result)) {
        console.error(`[${result.name}] ${line}`);
        failures++;
      }
    }
  } finally {
    removeTemporary();
  }
  return failures > 0 ? 1 : 0;
}

async function chooseClient(
  asked: ClientFamily | "auto",
): Promise<ClientFamily> {
  if (asked !== "auto") return asked;
  return await hasProgram("oha") ? "oha" : "ab-wrk";
}

async function missingPrograms(family: ClientFamily): Promise<string[]> {
  const needed = family === "oha"
    ? ["oha", "nginx", "timeout", "taskset"]
    : ["ab", "wrk", "nginx", "timeout", "taskset"];
  const found = await Promise.all(needed.map(hasProgram));
  return needed.filter((_, i) => !found[i]);
}

/** oha 1.5 renamed `-j` to `--output-format json`. */
async function ohaJsonFlag(): Promise<string[]> {
  const help = await new Deno.Command("oha", { args: ["--help"] }).output();
  return new TextDecoder().decode(help.stdout).includes("--output-format")
    ? ["--output-format", "json"]
    : ["-j"];
}

function removeTemporary(): void {
  for (const dir of temporary.splice(0)) {
    Deno.removeSync(dir, { recursive: true });
  }
}

async function writeResult(
  result: SuiteResult,
  quick: boolean,
): Promise<string> {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  const base = `${RESULTS_DIR}${result.name}${quick ? "-quick" : ""}`;
  await Deno.writeTextFile(`${base}.json`, JSON.stringify(result, null, 2));
  await Deno.writeTextFile(`${base}.md`, formatMarkdown(result));
  await Deno.writeTextFile(`${base}.svg`, formatSvg(result));
  return base;
}

if (import.meta.main) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      console.error(`${signal}: stopping the servers`);
      await stopAllServers();
      removeTemporary();
      Deno.exit(130);
    });
  }
  Deno.exit(await main(Deno.args));
}
