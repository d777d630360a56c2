import assert from "node:assert/strict";
import {
  createErrorReporter,
  isDisconnect,
  openFileLimit,
} from "../../server/error_report.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("isDisconnect() tells a peer that went away from an unexpected error", () => {
  for (
    const error of [
      new Deno.errors.BrokenPipe("x"),
      new Deno.errors.ConnectionReset("x"),
      new Deno.errors.ConnectionAborted("x"),
      new Deno.errors.NotConnected("x"),
      new Deno.errors.BadResource("x"),
      new Deno.errors.Interrupted("x"),
      new Deno.errors.UnexpectedEof("x"),
      new Deno.errors.TimedOut("x"),
    ]
  ) assert.equal(isDisconnect(error), true, error.name);
  for (const error of [new Error("x"), new Deno.errors.PermissionDenied("x")]) {
    assert.equal(isDisconnect(error), false, error.name);
  }
});

Deno.test("createErrorReporter() writes one line a second by default", () => {
  const lines: string[] = [];
  const report = createErrorReporter((line) => lines.push(line));
  report("handler", new Error("first"));
  report("handler", new Error("second"));
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^httpd\.ts: unexpected error in handler: Error: first/,
  );
});

Deno.test("createErrorReporter() counts what it suppressed since its last line", async () => {
  const lines: string[] = [];
  const report = createErrorReporter((line) => lines.push(line), 50);
  report("a", "one");
  report("a", "two");
  report("a", "three");
  await sleep(80);
  report("b", "four");
  report("b", "five");
  await sleep(80);
  report("c", "six");
  assert.deepEqual(lines, [
    "httpd.ts: unexpected error in a: one",
    "httpd.ts: unexpected error in b (2 more suppressed): four",
    "httpd.ts: unexpected error in c (1 more suppressed): six",
  ]);
});

Deno.test("createErrorReporter() reports running out of descriptors in one line, without a stack", () => {
  const lines: string[] = [];
  const report = createErrorReporter((line) => lines.push(line));
  const error = Object.assign(new Error("Too many open files (os error 24)"), {
    code: "EMFILE",
  });
  report("accept", error);
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0], /\n/);
  // The limit is named where /proc tells it (Linux, with -A as here).
  const limit = openFileLimit();
  if (Deno.build.os === "linux") assert.ok(limit !== undefined && limit > 0);
  assert.equal(
    lines[0].split("; ")[0],
    "httpd.ts: out of file descriptors in accept: " +
      "Too many open files (os error 24)" +
      (limit === undefined ? "" : ` (open file limit ${limit})`),
  );
  assert.match(lines[0], /ulimit -n/);
});
