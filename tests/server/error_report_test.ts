import assert from "node:assert/strict";
import {
  createErrorReporter,
  isDisconnect,
  isOutOfDescriptors,
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

/**
 * Runs `fn` with `performance.now()` reading `clock.now`, so that what a
 * reporter lets through can be checked at exact times, without waiting.
 */
function withClock(fn: (clock: { now: number }) => void): void {
  const realNow = performance.now;
  const clock = { now: 0 };
  performance.now = () => clock.now;
  try {
    fn(clock);
  } finally {
    performance.now = realNow;
  }
}

const outOfFiles = (message = "Too many open files (os error 24)") =>
  Object.assign(new Error(message), { code: "EMFILE" });

Deno.test("createErrorReporter() writes again once a whole second has passed since its last line, by default", () => {
  const lines: string[] = [];
  withClock((clock) => {
    const report = createErrorReporter((line) => lines.push(line));
    clock.now = 5000;
    report("a", "one");
    clock.now = 5999.9;
    report("a", "two");
    clock.now = 6000;
    report("a", "three");
  });
  assert.deepEqual(lines, [
    "httpd.ts: unexpected error in a: one",
    "httpd.ts: unexpected error in a (1 more suppressed): three",
  ]);
});

Deno.test("createErrorReporter() counts what it suppressed in the out-of-descriptors line too", () => {
  const lines: string[] = [];
  withClock((clock) => {
    const report = createErrorReporter((line) => lines.push(line), 100);
    report("accept", outOfFiles());
    report("accept", outOfFiles());
    report("open", outOfFiles());
    clock.now = 100;
    report("accept", outOfFiles());
  });
  assert.equal(lines.length, 2);
  assert.match(
    lines[1],
    /^httpd\.ts: out of file descriptors in accept \(2 more suppressed\): Too many open files/,
  );
});

Deno.test("isOutOfDescriptors() knows the process's limit (EMFILE) and the system's (ENFILE)", () => {
  const withCode = (code: unknown) => Object.assign(new Error("x"), { code });
  assert.equal(isOutOfDescriptors(withCode("EMFILE")), true);
  assert.equal(isOutOfDescriptors(withCode("ENFILE")), true);
  assert.equal(isOutOfDescriptors(withCode("ENOENT")), false);
  // Whatever was thrown, even nothing, is answered, not a TypeError.
  for (const thrown of [null, undefined, "EMFILE", 24, new Error("EMFILE")]) {
    assert.equal(isOutOfDescriptors(thrown), false, String(thrown));
  }
});

Deno.test("createErrorReporter() reports a thrown null or undefined as text", () => {
  const lines: string[] = [];
  const report = createErrorReporter((line) => lines.push(line), 0);
  report("handler", null);
  report("handler", undefined);
  assert.deepEqual(lines, [
    "httpd.ts: unexpected error in handler: null",
    "httpd.ts: unexpected error in handler: undefined",
  ]);
});

Deno.test("createErrorReporter() writes to stderr by default, never to stdout (the access log)", () => {
  const errors: unknown[][] = [];
  const logs: unknown[][] = [];
  const realError = console.error;
  const realLog = console.log;
  console.error = (...data: unknown[]) => void errors.push(data);
  console.log = (...data: unknown[]) => void logs.push(data);
  try {
    createErrorReporter()("handler", "broken");
  } finally {
    console.error = realError;
    console.log = realLog;
  }
  assert.deepEqual(errors, [["httpd.ts: unexpected error in handler: broken"]]);
  assert.deepEqual(logs, []);
});

Deno.test({
  name: "openFileLimit() is the soft limit on open files the shell reports",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // A child inherits the limit; `ulimit -Sn` reads it another way.
    const { stdout } = await new Deno.Command("sh", {
      args: ["-c", "ulimit -Sn"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const soft = new TextDecoder().decode(stdout).trim();
    assert.equal(
      openFileLimit(),
      soft === "unlimited" ? undefined : Number(soft),
      soft,
    );
  },
});
