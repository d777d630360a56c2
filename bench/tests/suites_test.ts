import assert from "node:assert/strict";
import { COMPARE, selectSuites, SUITES, WORKERS } from "../_suites.ts";

Deno.test("selectSuites() narrows each suite to the ids given, all by default", () => {
  assert.deepEqual(selectSuites(["compare"]), [COMPARE]);
  const [compare, workers] = selectSuites(
    ["compare", "workers"],
    ["httpd", "nginx-w2", "nginx"],
    ["wrk-1k"],
  );
  assert.deepEqual(compare.servers.map((s) => s.id), ["httpd", "nginx"]);
  assert.deepEqual(workers.servers.map((s) => s.id), ["httpd", "nginx-w2"]);
  assert.deepEqual(compare.modes.map((m) => m.id), ["wrk-1k"]);
  assert.equal(workers.reference, WORKERS.reference);
  assert.deepEqual(
    SUITES.map((s) => s.name),
    ["compare", "workers", "access-log", "permissions"],
  );
});

Deno.test("selectSuites() refuses an id no chosen suite has", () => {
  assert.throws(
    () => selectSuites(["compare"], ["htttpd"]),
    /^Error: Unknown server: htttpd \(known: httpd, nginx, deno-serve, ceiling\)$/,
  );
  assert.throws(
    () => selectSuites(["compare"], undefined, ["wrk-1kb", "wrk-1k"]),
    /^Error: Unknown mode: wrk-1kb \(known: /,
  );
  // An id of another suite is no id of this one.
  assert.throws(
    () => selectSuites(["compare"], ["httpd-w2"]),
    /Unknown server/,
  );
  assert.throws(() => selectSuites(["nope"]), /Unknown suite: nope/);
});

Deno.test("selectSuites() refuses to leave a suite empty, which would overwrite its results", () => {
  // nginx-w2 is the workers suite's: compare would be left with no server.
  assert.throws(
    () => selectSuites(["compare", "workers"], ["nginx-w2"]),
    /^Error: Suite compare has none of the servers asked for$/,
  );
  // The workers suite runs small files only.
  assert.throws(
    () => selectSuites(["compare", "workers"], undefined, ["wrk-954k"]),
    /^Error: Suite workers has none of the modes asked for$/,
  );
});
