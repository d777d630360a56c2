import assert from "node:assert/strict";
import { readTreeCpuSeconds } from "../_cpu.ts";
import { runLoad } from "../_load.ts";
import { hasProgram } from "../_machine.ts";
import { MODES } from "../_modes.ts";
import type { ModeSpec, ServerSpec } from "../_types.ts";
import { withServer } from "./_with_server.ts";

const HAS_AB = await hasProgram("ab");
const HAS_WRK = await hasProgram("wrk");
for (
  const [has, tool, pkg] of [[HAS_AB, "ab", "apache2-utils"], [
    HAS_WRK,
    "wrk",
    "wrk",
  ]] as const
) {
  if (!has) {
    console.warn(`SKIPPED: ${tool} is not installed (apt-get install ${pkg})`);
  }
}
const CEILING: ServerSpec = {
  id: "ceiling",
  label: "ceiling",
  kind: "deno-listen",
  workers: 1,
};
const LOAD = { requests: 200, durationSeconds: 1 };

/**
 * Enough new connections that the server spends many 10 ms clock ticks on
 * them (about 0.18 s of CPU in 0.35 s on a 2-core test machine).
 */
const CPU_LOAD = { requests: 2000, durationSeconds: 1 };

Deno.test({
  name:
    "runLoad() reads ab's counts and the server's CPU time of this run only",
  ignore: !HAS_AB,
  async fn() {
    await withServer(CEILING, async (server) => {
      const before = readTreeCpuSeconds(server.pid);
      const run = await runLoad(
        "ab-wrk",
        server,
        MODES["ab-r-1k"],
        CPU_LOAD,
        2,
      );
      const after = readTreeCpuSeconds(server.pid);
      assert.equal(run.error, undefined);
      assert.equal(run.round, 2);
      assert.equal(run.requests, CPU_LOAD.requests);
      assert.equal(run.failed, 0);
      assert.equal(run.non2xx, 0);
      // The server started before the run and spent CPU on it: a total
      // since it started would exceed what the run alone can have used.
      assert.ok(before > 0);
      const spent = `${run.serverCpuSeconds} s of ${before}–${after} s`;
      assert.ok(run.serverCpuSeconds <= after - before, spent);
      // The run cost the server several 10 ms ticks, and the server was idle
      // but for it between the two readings around it: most of that time is
      // the run's (a tick of rounding at either end aside). A figure of 0,
      // or one read over too short a span, fails here.
      assert.ok(
        after - before >= 0.02,
        `too light a load to measure: ${spent}`,
      );
      assert.ok(run.serverCpuSeconds > 0, spent);
      assert.ok(run.serverCpuSeconds >= 0.5 * (after - before), spent);
      assert.ok(run.peakTreeRssBytes >= run.peakProcessRssBytes);
      assert.ok(run.peakProcessRssBytes > 0);
      // Unpinned: no core is measured.
      assert.equal(run.clientCoreBusy, undefined);
      const missing: ModeSpec = { ...MODES["ab-r-1k"], path: "/missing" };
      const notFound = await runLoad("ab-wrk", server, missing, LOAD, 1);
      assert.equal(notFound.requests, 200);
      assert.equal(notFound.non2xx, 200);
    });
  },
});

Deno.test({
  name: "runLoad() reads wrk's report line: requests, bytes and non-2xx",
  ignore: !HAS_WRK,
  async fn() {
    await withServer(CEILING, async (server) => {
      const mode: ModeSpec = { ...MODES["wrk-1k"], connections: 2 };
      const ok = await runLoad("ab-wrk", server, mode, LOAD, 1);
      assert.equal(ok.error, undefined);
      assert.ok(ok.requests > 0);
      assert.equal(ok.non2xx, 0);
      assert.equal(ok.failed, 0);
      // The whole 1 KB body and a head for each request.
      assert.ok(ok.bytes > 1024 * ok.requests, `${ok.bytes} bytes`);
      assert.ok(ok.seconds > 0);
      assert.equal(ok.value, ok.requests / ok.seconds);
      const missing = { ...mode, path: "/missing" };
      const notFound = await runLoad("ab-wrk", server, missing, LOAD, 1);
      assert.equal(notFound.error, undefined);
      assert.ok(notFound.requests > 0);
      assert.equal(notFound.non2xx, notFound.requests);
      assert.equal(notFound.failed, 0);
    });
  },
});
