/**
 * `deno task fuzz`: the CI fuzz generator run longer.
 *
 * ```sh
 * deno task fuzz --seed 7 --iterations 200000 --duration 600
 * deno task fuzz --port 8080   # fuzz a server already running on 127.0.0.1
 * deno task fuzz --seed 7 --replay 1234   # print and resend one case
 * ```
 *
 * Starts its own server (`--quiet`, short timeouts) unless `--port` is
 * given, runs cases until the iteration or time bound, prints every failure
 * with its seed, index and JSON-escaped input, checks that the server still
 * serves a known file, and exits 1 on any failure.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateCase } from "./_fuzz.ts";
import {
  checkReply,
  describeFailure,
  describeReport,
  distinctFailures,
  runFuzz,
  sendCase,
} from "./_fuzz_runner.ts";
import { fetchRaw, latin1, quote, textOf } from "./_raw.ts";
import {
  runTool,
  type Server,
  SMALL_PATH,
  startServer,
  stopAndReport,
  suiteFile,
} from "./_server.ts";
import { integerFlag } from "./_flags.ts";

const USAGE =
  `Usage: deno task fuzz [--seed N] [--iterations N] [--duration SECONDS]
                      [--concurrency N] [--case-timeout SECONDS] [--port PORT]
                      [--max-failures N] [--replay INDEX]
  --seed          run seed (default: random, printed)
  --iterations    at most this many cases (default 100000, max 10000000)
  --duration      at most this many seconds (default 300, max 86400)
  --concurrency   connections in flight (default 8, max 256)
  --case-timeout  seconds before a case counts as a hang (default 10)
  --port          fuzz a server already listening on 127.0.0.1:PORT
  --max-failures  stop after this many failures (default 20)
  --replay        send only case INDEX of --seed, print it whole and the reply`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string" },
      iterations: { type: "string" },
      duration: { type: "string" },
      concurrency: { type: "string" },
      "case-timeout": { type: "string" },
      port: { type: "string" },
      "max-failures": { type: "string" },
      replay: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = values.seed === undefined
    ? crypto.getRandomValues(new Uint32Array(1))[0]
    : Number(values.seed) >>> 0;
  const iterations = integerFlag(
    "iterations",
    values.iterations,
    100_000,
    10_000_000,
  );
  const durationS = integerFlag("duration", values.duration, 300, 86_400);
  const concurrency = integerFlag("concurrency", values.concurrency, 8, 256);
  const caseTimeoutS = integerFlag(
    "case-timeout",
    values["case-timeout"],
    10,
    600,
  );
  const maxFailures = integerFlag(
    "max-failures",
    values["max-failures"],
    20,
    100_000,
  );
  if (values.replay !== undefined && values.seed === undefined) {
    throw new Error("Missing --seed: --replay needs the seed of the run");
  }

  let server: Server | undefined;
  let port: number;
  if (values.port !== undefined) {
    port = integerFlag("port", values.port, 0, 65535);
  } else {
    server = await startServer({
      args: ["--header-timeout", "5", "--idle-timeout", "5"],
    });
    port = server.port;
  }
  console.log(
    `fuzzing 127.0.0.1:${port} seed=${seed} iterations<=${iterations} duration<=${durationS}s`,
  );
  let failed = false;
  try {
    if (values.replay !== undefined) {
      const index = Number(values.replay);
      const fuzzCase = generateCase(seed, index);
      console.log(
        `case ${index} (${fuzzCase.kind}), segments ${
          JSON.stringify(fuzzCase.segments)
        }`,
      );
      console.log(`input: ${JSON.stringify(latin1(fuzzCase.bytes))}`);
      const sent = await sendCase(port, fuzzCase, caseTimeoutS * 1000);
      console.log(
        `reply (${sent.end} after ${sent.elapsedMs} ms): ${
          quote(sent.bytes, 4000)
        }`,
      );
      const reason = checkReply(fuzzCase, sent.bytes, sent.end).reason;
      console.log(reason === undefined ? "ok" : `FAIL: ${reason}`);
      return reason === undefined ? 0 : 1;
    }
    const report = await runFuzz({
      port,
      seed,
      iterations,
      durationMs: durationS * 1000,
      concurrency,
      caseTimeoutMs: caseTimeoutS * 1000,
      maxFailures,
      progressEvery: 5000,
      onProgress: (done) => console.log(`  ${done} cases`),
    });
    console.log(describeReport(report));
    for (const failure of distinctFailures(report.failures)) {
      console.log(describeFailure(failure));
    }
    failed = report.failures.length > 0;
    if (server !== undefined && !server.alive()) {
      console.log(`server died: ${server.stderr()}`);
      return 1;
    }
    const response = await fetchRaw(port, SMALL_PATH);
    if (
      response.status !== 200 ||
      textOf(response.body) !== textOf(suiteFile(SMALL_PATH))
    ) {
      console.log(
        `server no longer serves ${SMALL_PATH} correctly: ${response.statusLine}`,
      );
      failed = true;
    } else {
      console.log(`after fuzzing: ${SMALL_PATH} still 200 with the right body`);
    }
  } finally {
    if (server !== undefined) {
      if (!await stopAndReport(server)) failed = true;
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) await runTool(main, USAGE);
