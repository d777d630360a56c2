import assert from "node:assert/strict";
import { createDocumentRoot } from "../_fixtures.ts";
import { hasProgram, type MachineInfo } from "../_machine.ts";
import { MODES } from "../_modes.ts";
import {
  roundOrder,
  type RunSettings,
  runSuite,
  warmUpLoad,
} from "../_runner.ts";
import type { ServerSpec, SuiteResult } from "../_types.ts";

Deno.test("roundOrder() starts each round one server further along", () => {
  const servers = ["a", "b", "c"];
  assert.deepEqual(roundOrder(servers, 1), ["a", "b", "c"]);
  assert.deepEqual(roundOrder(servers, 2), ["b", "c", "a"]);
  assert.deepEqual(roundOrder(servers, 3), ["c", "a", "b"]);
  assert.deepEqual(roundOrder(servers, 4), ["a", "b", "c"]);
  // Over as many rounds as servers, each runs first once and in each place.
  const places = new Map(servers.map((s) => [s, new Set<number>()]));
  for (let round = 1; round <= servers.length; round++) {
    roundOrder(servers, round).forEach((s, i) => places.get(s)!.add(i));
  }
  for (const seen of places.values()) assert.equal(seen.size, servers.length);
  assert.deepEqual(roundOrder([], 3), []);
  assert.deepEqual(servers, ["a", "b", "c"], "the input is left as it was");
});

Deno.test("warmUpLoad() doubles ab's requests up to 100,000 and halves wrk's time", () => {
  const load = { requests: 20_000, durationSeconds: 10, cpu: 1 };
  assert.deepEqual(warmUpLoad(load), {
    requests: 40_000,
    durationSeconds: 5,
    cpu: 1,
  });
  const long = warmUpLoad({ requests: 80_000, durationSeconds: 3 });
  assert.deepEqual(long, { requests: 100_000, durationSeconds: 2 });
  const short = warmUpLoad({ requests: 100, durationSeconds: 1 });
  assert.deepEqual(short, { requests: 200, durationSeconds: 1 });
});

/** A ceiling server spec: quick to start, right in its answers. */
const CEILING: ServerSpec = {
  id: "a",
  label: "A",
  kind: "deno-listen",
  workers: 1,
};

/**
 * Runs an unpinned suite of `servers` over `root` (`ab -r` at 1 KB, two
 * rounds of 200 requests), with a state directory of its own.
 */
async function runTestSuite(
  root: string,
  servers: ServerSpec[],
  reference: string,
  check?: RunSettings["check"],
): Promise<SuiteResult> {
  const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-test-" });
  try {
    return await runSuite(
      {
        name: "test",
        title: "Test",
        servers,
        modes: [MODES["ab-r-1k"]],
        reference,
        pinned: false,
      },
      {
        family: "ab-wrk",
        rounds: 2,
        requests: 200,
        durationSeconds: 1,
        root,
        stateDir,
        cwd: new URL("../..", import.meta.url).pathname,
        httpdPath: "httpd.ts",
        check,
      },
      {} as MachineInfo,
      "test",
    );
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
}

const HAS_AB = await hasProgram("ab");
if (!HAS_AB) {
  console.warn("SKIPPED: ab is not installed (apt-get install apache2-utils)");
}

Deno.test({
  name: "runSuite() runs every round, rotating the servers, and folds the runs",
  ignore: !HAS_AB,
  async fn() {
    const root = await createDocumentRoot();
    try {
      const result = await runTestSuite(
        root,
        [CEILING, { ...CEILING, id: "b", label: "B" }],
        "b",
      );
      assert.deepEqual(
        result.runs.map((r) => `${r.round}${r.server}`),
        ["1a", "1b", "2b", "2a"],
      );
      for (const run of result.runs) {
        assert.equal(run.error, undefined);
        assert.equal(run.requests, 200);
        // Not pinned: no taskset, no core measured.
        assert.doesNotMatch(run.command, /taskset/);
        assert.equal(run.clientCoreBusy, undefined);
      }
      assert.deepEqual(result.servers.map((s) => s.problems), [[], []]);
      assert.deepEqual(
        result.cells.map((c) => [c.server, c.values.length, c.errors]),
        [["a", 2, 0], ["b", 2, 0]],
      );
      assert.equal(result.cells[1].ratio, 1);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("runSuite() measures no server that fails its check", async () => {
  const root = await createDocumentRoot();
  // A file every server must serve, gone: each answers it 404.
  await Deno.remove(`${root}/38b.txt`);
  try {
    const result = await runTestSuite(root, [CEILING], "a");
    assert.equal(result.servers.length, 1);
    assert.match(result.servers[0].problems.join("\n"), /38b\.txt/);
    assert.deepEqual(result.runs, [], "not one load run");
    assert.deepEqual(result.cells, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("runSuite() stops a server whose check fails to run", async () => {
  const root = await createDocumentRoot();
  let checked: string | undefined;
  try {
    const result = await runTestSuite(root, [CEILING], "a", (origin) => {
      checked = origin;
      return Promise.reject(new Error("the check broke"));
    });
    assert.equal(result.servers[0].error, "the check broke");
    assert.deepEqual(result.runs, [], "not one load run");
    assert.ok(checked !== undefined, "the server was started and checked");
    // Nothing listens there any more: the server was stopped.
    await assert.rejects(fetch(checked), TypeError);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
