import { deepEqual, equal, ok } from "node:assert/strict";
import {
  describeFailure,
  describeReport,
  distinctFailures,
  runFuzz,
} from "./_fuzz_runner.ts";
import { fetchRaw, textOf } from "./_raw.ts";
import {
  FD_SLACK,
  SMALL_PATH,
  startServer,
  suiteFile,
  waitForFds,
  warmUp,
} from "./_server.ts";

// A fixed seed keeps CI reproducible; HTTPD_FUZZ_SEED explores other ones.
const SEED = Number(Deno.env.get("HTTPD_FUZZ_SEED") ?? 20240601);
const ITERATIONS = 3000;
// Bounded well under a minute even on a loaded machine; on a slow run fewer
// cases are sent, never a longer wait.
const DURATION_MS = 40_000;

Deno.test("server replies to mutated, random and pipelined input with status lines or a close", async () => {
  await using server = await startServer({
    args: ["--header-timeout", "5", "--idle-timeout", "5"],
  });
  const baseline = await warmUp(server);

  const report = await runFuzz({
    port: server.port,
    seed: SEED,
    iterations: ITERATIONS,
    durationMs: DURATION_MS,
    concurrency: 8,
    caseTimeoutMs: 10_000,
    maxFailures: 50,
  });
  console.log(`fuzz seed=${SEED}: ${describeReport(report)}`);
  for (const failure of distinctFailures(report.failures)) {
    console.log(describeFailure(failure));
  }

  ok(server.alive(), `Server died during fuzzing: ${server.stderr()}`);
  deepEqual(report.failures.map((f) => `${f.index}: ${f.reason}`), []);
  ok(report.cases >= 500, `Only ${report.cases} cases ran`);
  // The cases with a pinned outcome did run (about 5% and 15% of them).
  ok(report.sanityCases >= 20, `Only ${report.sanityCases} sanity cases ran`);
  ok(
    report.oversizedCases >= 50,
    `Only ${report.oversizedCases} oversized cases ran`,
  );

  const response = await fetchRaw(server.port, SMALL_PATH);
  equal(response.status, 200);
  equal(textOf(response.body), textOf(suiteFile(SMALL_PATH)));

  const fds = await waitForFds(server, baseline);
  ok(
    fds <= baseline + FD_SLACK,
    `Descriptors did not return to baseline: ${fds} > ${baseline} + ${FD_SLACK}`,
  );
  equal(server.complaints(), "", "a quiet server logs nothing unexpected");
  const status = await server.stop();
  equal(status.code, 0, `Server exit code: ${server.stderr()}`);
});
