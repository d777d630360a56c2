/**
 * Builds the bounded load-generator command for a mode and knows how to read
 * its output. Every command is wrapped in `timeout` so no run can hang.
 *
 * @module
 */
import { parseAbOutput } from "./_parse_ab.ts";
import { parseOhaOutput } from "./_parse_oha.ts";
import { parseWrkOutput } from "./_parse_wrk.ts";
import type { LoadResult, ModeSpec } from "./_types.ts";

/** Which load generators to use: oha for everything, or ab and wrk. */
export type ClientFamily = "oha" | "ab-wrk";

/** How much load one run sends. */
export interface LoadSettings {
  /** Requests per ab/oha count-bounded run. */
  requests: number;
  /** Seconds per wrk/oha time-bounded run. */
  durationSeconds: number;
  /** CPU to pin the client to, or undefined for no pinning. */
  cpu?: number;
  /** CPU the server is pinned to, or undefined for no pinning. */
  serverCpu?: number;
  /** oha's flag for JSON output (`--output-format json`, or `-j` before 1.5). */
  ohaJsonFlag?: string[];
}

/** A ready-to-spawn client command and the parser for what it prints. */
export interface ClientCommand {
  argv: string[];
  parse: (stdout: string) => LoadResult;
}

const WRK_SCRIPT = new URL("./_wrk_report.lua", import.meta.url).pathname;
/** Seconds ab may run before its own time limit stops it. */
const AB_TIME_LIMIT = 120;
/** Extra seconds after which `timeout` kills a client that overruns. */
const GRACE = 15;

/** The command that runs `mode` against `url`. */
export function createClientCommand(
  family: ClientFamily,
  mode: ModeSpec,
  url: string,
  load: LoadSettings,
): ClientCommand {
  const body = family === "oha"
    ? ohaCommand(mode, url, load)
    : abWrkCommand(mode, url, load);
  const limit = mode.tool === "wrk"
    ? load.durationSeconds + GRACE
    : AB_TIME_LIMIT + GRACE;
  const pin = load.cpu === undefined ? [] : ["taskset", "-c", `${load.cpu}`];
  return {
    argv: ["timeout", "-k", "5", `${limit}`, ...pin, ...body.argv],
    parse: body.parse,
  };
}

function abWrkCommand(
  mode: ModeSpec,
  url: string,
  load: LoadSettings,
): ClientCommand {
  const c = `${mode.connections}`;
  switch (mode.tool) {
    case "ab-keepalive":
    case "ab-close": {
      // -t before -n: ab's -t resets -n to 50000, so -n must come after -t.
      // -r in both modes: a reset is counted as a failure instead of
      // aborting the run, so a flaky server still gets a figure.
      const argv = ["ab", "-q", "-r", "-t", `${AB_TIME_LIMIT}`, "-n"];
      argv.push(`${load.requests}`, "-c", c);
      if (mode.tool === "ab-keepalive") argv.push("-k");
      argv.push(url);
      return { argv, parse: parseAbOutput };
    }
    case "wrk":
      return {
        argv: [
          "wrk",
          "-t1",
          `-c${c}`,
          `-d${load.durationSeconds}s`,
          "--timeout",
          "5s",
          "-s",
          WRK_SCRIPT,
          url,
        ],
        parse: (out) => parseWrkOutput(out, mode.metric),
      };
  }
}

function ohaCommand(
  mode: ModeSpec,
  url: string,
  load: LoadSettings,
): ClientCommand {
  const argv = ["oha", "--no-tui", ...(load.ohaJsonFlag ?? ["-j"])];
  argv.push("-c", `${mode.connections}`);
  if (mode.tool === "wrk") argv.push("-z", `${load.durationSeconds}s`);
  else argv.push("-n", `${load.requests}`);
  if (mode.tool === "ab-close") argv.push("--disable-keepalive");
  argv.push(url);
  return { argv, parse: (out) => parseOhaOutput(out, mode.metric) };
}
