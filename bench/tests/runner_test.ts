import assert from "node:assert/strict";
import { createDocumentRoot } from "../_fixtures.ts";
import { hasProgram, type MachineInfo } from "../_machine.ts";
import { MODES } from "../_modes.ts";
import { roundOrder, runSuite, warmUpLoad } from "../_runner.ts";
import type { ServerSpec } from "../_types.ts";

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

const HAS_AB = await hasProgram("ab");
if (!HAS_AB) {
  console.warn("SKIPPED: ab is not installed (apt-get install apache2-utils)");
}

Deno.test({
  name: "runSuite() runs every round, rotating the servers, and folds the runs",
  ignore: !HAS_AB,
  async fn() {
    const ceiling: ServerSpec = {
      id: "a",
      label: "A",
      kind: "deno-listen",
      workers: 1,
    };
    const root = await createDocumentRoot();
    const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-test-" });
    try {
      const result = await runSuite(
        {
          name: "test",
          title: "Test",
          servers: [ceiling, { ...ceiling, id: "b", label: "B" }],
          modes: [MODES["ab-r-1k"]],
          reference: "b",
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
        },
        {} as MachineInfo,
        "test",
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
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test("runSuite() measures no server that fails its check", async () => {
  const ceiling: ServerSpec = {
    id: "a",
    label: "A",
    kind: "deno-listen",
    workers: 1,
  };
  const root = await createDocumentRoot();
  // A file every server must serve, gone: each answers it 404.
  await Deno.remove(`${root}/38b.txt`);
  const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-test-" });
  try {
    const result = await runSuite(
      {
        name: "test",
        title: "Test",
        servers: [ceiling],
        modes: [MODES["ab-r-1k"]],
        reference: "a",
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
      },
      {} as MachineInfo,
      "test",
    );
    assert.equal(result.servers.length, 1);
    assert.match(result.servers[0].problems.join("\n"), /38b\.txt/);
    assert.deepEqual(result.runs, [], "not one load run");
    assert.deepEqual(result.cells, []);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(stateDir, { recursive: true });
  }
});
