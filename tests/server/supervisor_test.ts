/**
 * Tests of the supervisor's state machine (server/_worker_supervisor.ts)
 * and of one worker process (server/_worker_process.ts), run in this
 * process over the fake worker in fixtures_workers/, with short timeouts:
 * the timing of stops, reloads and the heartbeat watchdog, which the
 * command-line tests in workers_test.ts cannot stage.
 */

import assert from "node:assert/strict";
import type { LineSink } from "../../server/line_sink.ts";
import { WorkerProcess } from "../../server/_worker_process.ts";
import { forwardLines, stripAnsi } from "../../server/_worker_output.ts";
import { settledWithin } from "../../server/_within.ts";
import { Supervisor } from "../../server/_worker_supervisor.ts";
import { tempDir } from "./_harness.ts";
import { isAlive, sleep, waitFor } from "./_waits.ts";

const FAKE_WORKER =
  new URL("./fixtures_workers/fake_worker.ts", import.meta.url)
    .pathname;

// ---------------------------------------------------------------------------
// Helpers

/**
 * A sink that keeps lines in memory. A stalled one keeps them too, but
 * never finishes a write: a destination nobody reads any more.
 */
class MemorySink implements LineSink {
  readonly lines: string[] = [];
  stalled = false;

  write(text: string): Promise<void> {
    this.lines.push(...text.split("\n").filter((line) => line !== ""));
    return this.stalled ? new Promise(() => {}) : Promise.resolve();
  }

  has(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }
}

/** A supervisor over fake workers, with its output kept in memory. */
interface Fixture {
  supervisor: Supervisor;
  stderr: MemorySink;
  /** Ids of the workers that said they were ready, in order. */
  ready(): number[];
  /** Stops everything, killing at once what does not stop; never throws. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface FixtureOptions {
  workers?: number;
  /** Whether the supervisor's stderr never finishes a write. */
  stalled?: boolean;
  /** Flags for every fake worker. */
  flags?: string[];
  /** The root the workers are given (a plan file must be under it). */
  root?: string;
  gracePeriodMs?: number;
  retireGraceMs?: number;
  hangTimeoutMs?: number;
}

function superviseFakeWorkers(options: FixtureOptions = {}): Fixture {
  const port = freePort();
  const root = options.root ?? Deno.cwd();
  const stderr = new MemorySink();
  stderr.stalled = options.stalled ?? false;
  const supervisor = new Supervisor({
    workers: options.workers ?? 1,
    command: (id) => ({
      program: Deno.execPath(),
      args: [
        "run",
        "-A",
        FAKE_WORKER,
        "-r",
        root,
        "-p",
        `${port}`,
        "--host",
        "127.0.0.1",
        "--worker-id",
        `${id}`,
        ...(options.flags ?? []),
      ],
    }),
    stdout: new MemorySink(),
    stderr,
    messagePrefix: "sup: ",
    gracePeriodMs: options.gracePeriodMs ?? 1_000,
    retireGraceMs: options.retireGraceMs ?? 1_000,
    readyTimeoutMs: 20_000,
    hangTimeoutMs: options.hangTimeoutMs ?? 10_000,
  });
  return {
    supervisor,
    stderr,
    ready: () =>
      stderr.lines.flatMap((line) =>
        line.match(/^\[w(\d+)\] worker \d+ ready\b/)?.[1] ?? []
      ).map(Number),
    async [Symbol.asyncDispose]() {
      void supervisor.stop(0);
      void supervisor.stop(0); // The second stop kills at once.
      await supervisor.done;
    },
  };
}

/** A loopback port nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Writes a plan (one line per worker id, see fake_worker.ts) under a new root. */
function planFile(dir: string, steps: string[]): string {
  const path = `${dir}/plan`;
  Deno.writeTextFileSync(path, steps.join("\n"));
  return path;
}

const HEARTBEAT_KILL = /^sup: worker 1 \(pid \d+\) sent no heartbeat/;

// ---------------------------------------------------------------------------
// Stopping

Deno.test("Supervisor: a stop during a start backoff ends start() at once", async () => {
  await using fixture = superviseFakeWorkers({ flags: ["--fail-start"] });
  const { supervisor, stderr } = fixture;
  const started = supervisor.start();
  // The fourth failure in a row is followed by a 2 s backoff.
  await waitFor("the fourth failure", () => stderr.has(/retrying in 2000 ms$/));
  void supervisor.stop(0);
  assert.ok(
    await settledWithin(started, 1_000),
    "start() waited out the backoff",
  );
  assert.equal(await started, false);
  await supervisor.done;
  assert.equal(stderr.count(/^\[w\d+\] httpd\.ts: Cannot start/), 4);
});

Deno.test("Supervisor: a second stop kills workers deaf to the first at once", async () => {
  await using fixture = superviseFakeWorkers({
    flags: ["--ignore-stop"],
    gracePeriodMs: 60_000,
  });
  const { supervisor } = fixture;
  assert.equal(await supervisor.start(), true);
  const [pid] = supervisor.pids();
  void supervisor.stop(0);
  await sleep(300); // The SIGTERM arrives, and is ignored.
  assert.ok(isAlive(pid));
  void supervisor.stop(0);
  // Bounded far below the grace: without the SIGKILL, done waits 60 s.
  assert.ok(await settledWithin(supervisor.done, 10_000), "not stopped");
  assert.equal(await supervisor.done, 0);
  assert.equal(isAlive(pid), false);
});

// ---------------------------------------------------------------------------
// Starting

Deno.test("Supervisor: a worker that dies 1.5 s after its start counts as failing to start", async () => {
  // Short of the 2 s a worker must last to count as healthy: five such
  // deaths in a row and the supervisor gives up. Worker 6 would stay up.
  using dir = tempDir();
  const plan = planFile(dir.path, [...Array(5).fill("crash=1500"), ""]);
  await using fixture = superviseFakeWorkers({
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  assert.ok(
    await settledWithin(supervisor.done, 30_000),
    `not given up:\n${stderr.lines.join("\n")}`,
  );
  assert.equal(await supervisor.done, 1);
  assert.ok(
    stderr.has(/^sup: worker died right after start 5 times in a row/),
    stderr.lines.join("\n"),
  );
  assert.deepEqual(fixture.ready(), [1, 2, 3, 4, 5]);
});

Deno.test("Supervisor: after the start, a slot whose replacements keep failing is retried while the other worker serves", async (t) => {
  // Worker 2, killed once it is healthy, has five failing successors in a
  // row (that many at the start would end everything); the sixth attempt,
  // worker 8, comes after a longer back-off and stays up. Worker 1 serves
  // throughout.
  for (const step of ["fail=0", "crash=100"]) {
    await t.step(step, async () => {
      using dir = tempDir();
      const plan = planFile(dir.path, ["", "", ...Array(5).fill(step), ""]);
      await using fixture = superviseFakeWorkers({
        workers: 2,
        flags: [`--plan=${plan}`],
        root: dir.path,
      });
      const { supervisor, stderr } = fixture;
      assert.equal(await supervisor.start(), true);
      const [first, second] = supervisor.pids();
      // Past the 2 s that make a worker healthy: its death is no failure.
      await sleep(2_100);
      Deno.kill(second, "SIGKILL");
      let ended = false;
      supervisor.done.then(() => ended = true);
      await waitFor(
        "worker 8, or the end",
        () => fixture.ready().includes(8) || ended,
        60_000,
      );
      const log = stderr.lines.join("\n");
      assert.equal(ended, false, log);
      assert.ok(!stderr.has(/giving up/), log);
      // Crashing ones were ready for a moment.
      assert.deepEqual(
        fixture.ready().toSorted((a, b) => a - b),
        step === "fail=0" ? [1, 2, 8] : [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal(supervisor.pids()[0], first);
      assert.ok(isAlive(first));
      // One line per failure, the fifth followed by a longer wait.
      const failed = step === "fail=0"
        ? /^sup: worker [3-7] failed to start \(.*\); retrying in \d+ ms$/
        : /^sup: worker [3-7] \(pid \d+\) exited with exit code 70; starting a replacement in \d+ ms$/;
      assert.equal(stderr.count(failed), 5, log);
      assert.ok(stderr.has(/^sup: worker 7 .* in 4000 ms$/), log);
    });
  }
});

Deno.test("Supervisor: after the start, it gives up once no worker is left and every slot failed 5 times in a row", async () => {
  using dir = tempDir();
  const plan = planFile(dir.path, ["", "", ...Array(10).fill("fail=0"), ""]);
  await using fixture = superviseFakeWorkers({
    workers: 2,
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  await sleep(2_100);
  for (const pid of supervisor.pids()) Deno.kill(pid, "SIGKILL");
  assert.ok(
    await settledWithin(supervisor.done, 60_000),
    `not given up:\n${stderr.lines.join("\n")}`,
  );
  assert.equal(await supervisor.done, 1);
  assert.ok(
    stderr.has(
      /^sup: worker failed to start 5 times in a row and no worker is left, giving up: httpd\.ts: Cannot start: failed as planned$/,
    ),
    stderr.lines.join("\n"),
  );
  // Five attempts per slot (workers 3 to 12), not one more.
  assert.ok(!stderr.has(/^\[w1[3-9]\] /), stderr.lines.join("\n"));
});

// ---------------------------------------------------------------------------
// Reloading

Deno.test("Supervisor: reloads asked for during a reload make one more pass, not several", async () => {
  await using fixture = superviseFakeWorkers();
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  const first = supervisor.reload();
  const second = supervisor.reload();
  const third = supervisor.reload();
  // The later calls only leave word for the running reload.
  assert.ok(await settledWithin(Promise.all([second, third]), 100));
  assert.equal(stderr.count(/^sup: reload done$/), 0);
  await first;
  assert.equal(stderr.count(/^sup: reloading 1 workers$/), 2);
  assert.equal(stderr.count(/^sup: reload done$/), 2);
  assert.deepEqual(fixture.ready(), [1, 2, 3]);
  assert.equal(supervisor.pids().length, 1);
});

Deno.test("Supervisor: a reload retires the old worker, killed once its retire grace is over", async () => {
  // Deaf to the retire signal, the old worker lasts the whole retire
  // grace; the reload does not wait for it (its downloads may be long).
  await using fixture = superviseFakeWorkers({
    flags: ["--ignore-stop"],
    gracePeriodMs: 60_000,
    retireGraceMs: 1_500,
  });
  const { supervisor } = fixture;
  assert.equal(await supervisor.start(), true);
  const [old] = supervisor.pids();
  const started = performance.now();
  await supervisor.reload();
  assert.ok(isAlive(old), "the reload waits for the new worker, not the old");
  const [fresh] = supervisor.pids();
  assert.notEqual(fresh, old);
  await waitFor("the old worker killed", () => !isAlive(old), 10_000);
  const took = performance.now() - started;
  assert.ok(took >= 1_400, `killed after ${took} ms, before its grace`);
  await waitFor(
    "word of the kill",
    () =>
      fixture.stderr.count(
        /did not finish within 1500 ms of its retirement; killed it$/,
      ) === 1,
    2_000,
  );
  assert.ok(isAlive(fresh));
});

Deno.test("Supervisor: a reload starts the count of quick deaths again", async () => {
  // Four quick deaths, then one that stays; after the reload, its
  // successor dies quickly too: the fifth quick death, but the first since
  // a worker was started fresh by the reload, so not a reason to give up.
  using dir = tempDir();
  const plan = planFile(dir.path, [
    ...Array(4).fill("crash=100"),
    "",
    "crash=100",
  ]);
  await using fixture = superviseFakeWorkers({
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  await waitFor("worker 5", () => fixture.ready().includes(5));
  await supervisor.reload();
  await waitFor("worker 7", () => fixture.ready().includes(7));
  assert.ok(
    stderr.has(/^sup: worker 6 \(pid \d+\) exited with exit code 70; starting/),
    stderr.lines.join("\n"),
  );
  assert.ok(!stderr.has(/giving up/), stderr.lines.join("\n"));
  assert.equal(supervisor.pids().length, 1);
});

Deno.test("Supervisor: a slot whose worker died during a failed reload is filled again", async () => {
  // Worker 1 crashes while the reload waits on worker 2, which then fails
  // to start: the reload gives up, and the empty slot gets worker 3.
  using dir = tempDir();
  const plan = planFile(dir.path, ["crash=700", "fail=1500", ""]);
  await using fixture = superviseFakeWorkers({
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  await supervisor.reload();
  assert.ok(
    stderr.has(/^sup: worker 1 \(pid \d+\) exited with exit code 70/),
    stderr.lines.join("\n"),
  );
  assert.ok(
    stderr.has(
      /^sup: reload stopped: worker 2 failed to start \(httpd\.ts: Cannot start: failed as planned\)/,
    ),
    stderr.lines.join("\n"),
  );
  await waitFor("worker 3", () => fixture.ready().includes(3));
  assert.equal(supervisor.pids().length, 1);
});

Deno.test("Supervisor: a reload that cannot start a worker keeps every old one and goes no further", async () => {
  // Worker 3, the first of the reload, fails to start: the reload stops
  // there, slot 2 is not touched, and worker 1 was not retired before its
  // successor was ready.
  using dir = tempDir();
  const plan = planFile(dir.path, ["", "", "fail=100", ""]);
  await using fixture = superviseFakeWorkers({
    workers: 2,
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  const before = supervisor.pids();
  await supervisor.reload();
  assert.ok(
    stderr.has(/^sup: reload stopped: worker 3 failed to start \(/),
    stderr.lines.join("\n"),
  );
  assert.ok(!stderr.has(/^sup: reload done$/), stderr.lines.join("\n"));
  assert.ok(!stderr.has(/^\[w4\] /), "the reload went on to slot 2");
  assert.deepEqual(supervisor.pids(), before);
  // Retired ones would be gone by now: the retire grace is 1 s.
  await sleep(1_500);
  assert.ok(before.every(isAlive), "an old worker was stopped");
  assert.deepEqual(supervisor.pids(), before);
});

// ---------------------------------------------------------------------------
// The heartbeat watchdog

Deno.test("Supervisor: after a pause of the supervisor, the watchdog restarts its clock", async () => {
  // A worker that never beats, and a supervisor frozen (as by Ctrl-Z) for
  // longer than the hang timeout: the worker is judged from the resume.
  await using fixture = superviseFakeWorkers({
    flags: ["--hang-at-ready"],
    hangTimeoutMs: 2_000,
    gracePeriodMs: 300,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000);
  const resumed = Date.now();
  await sleep(1_000);
  assert.ok(!stderr.has(HEARTBEAT_KILL), "killed for the supervisor's pause");
  await waitFor("the kill", () => stderr.has(HEARTBEAT_KILL), 5_000);
  // Judged from the resume (a little slack for the two clocks).
  assert.ok(Date.now() - resumed >= 1_900);
});

// ---------------------------------------------------------------------------
// A stderr nobody reads: the supervisor's output must hold up nothing

Deno.test("Supervisor: with its stderr stalled, it still kills a worker whose heartbeats stop", async () => {
  await using fixture = superviseFakeWorkers({
    flags: ["--hang-at-ready"],
    hangTimeoutMs: 1_000,
    gracePeriodMs: 300,
    stalled: true,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  const [pid] = supervisor.pids();
  await waitFor("the kill", () => stderr.has(HEARTBEAT_KILL), 5_000);
  await waitFor("the hung worker's end", () => !isAlive(pid), 5_000);
});

Deno.test("Supervisor: with its stderr stalled, it still replaces a worker that dies", async () => {
  using dir = tempDir();
  const plan = planFile(dir.path, ["crash=300", ""]);
  await using fixture = superviseFakeWorkers({
    flags: [`--plan=${plan}`],
    root: dir.path,
    stalled: true,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  await waitFor("worker 2", () => fixture.ready().includes(2), 10_000);
  assert.ok(
    stderr.has(/^sup: worker 1 \(pid \d+\) exited with exit code 70/),
    stderr.lines.join("\n"),
  );
  assert.equal(supervisor.pids().length, 1);
});

Deno.test("Supervisor: with its stderr stalled, a stop that must kill a worker still ends", async () => {
  await using fixture = superviseFakeWorkers({
    flags: ["--ignore-stop"],
    gracePeriodMs: 300,
    stalled: true,
  });
  const { supervisor, stderr } = fixture;
  assert.equal(await supervisor.start(), true);
  void supervisor.stop(0);
  assert.ok(await settledWithin(supervisor.done, 10_000), "not stopped");
  assert.ok(stderr.has(/did not stop within 300 ms; killed it$/));
  assert.equal(await supervisor.done, 0);
});

// ---------------------------------------------------------------------------
// Worker output

Deno.test("forwardLines() joins lines split across reads, strips CR, keeps a last line without newline", async () => {
  const encoder = new TextEncoder();
  const stream = ReadableStream.from(
    ["one\r\ntw", "o\nthr", "ee\r", "\nworker alive\nlast"].map((chunk) =>
      encoder.encode(chunk)
    ),
  );
  const sink = new MemorySink();
  const seen: string[] = [];
  await forwardLines(stream, "[w1] ", sink, (line) => {
    seen.push(line);
    return line !== "worker alive";
  });
  assert.deepEqual(seen, ["one", "two", "three", "worker alive", "last"]);
  assert.deepEqual(sink.lines, [
    "[w1] one",
    "[w1] two",
    "[w1] three",
    "[w1] last",
  ]);
});

Deno.test("stripAnsi() removes colour codes and other escape sequences, nothing else", () => {
  const cases: [string, string][] = [
    ["\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: boom", "error: boom"],
    ["\x1b[38;5;196mred\x1b[39m and \x1b[2Kcleared", "red and cleared"],
    ["\x1b]8;;https://x.test\x07link\x1b]8;;\x1b\\", "link"],
    ["\x1bcreset", "reset"],
    ["plain [31m text | with bars", "plain [31m text | with bars"],
  ];
  for (const [line, expected] of cases) {
    assert.equal(stripAnsi(line), expected, JSON.stringify(line));
  }
});

// ---------------------------------------------------------------------------
// One worker process

Deno.test("WorkerProcess: a worker silent past the ready timeout is killed, and says so", async () => {
  const worker = WorkerProcess.spawn({
    id: 1,
    program: Deno.execPath(),
    // Alive, never ready: it would sit there for a minute. Its line comes
    // once Deno has started, which takes over a second on a loaded machine.
    args: ["eval", "console.error('starting'); setTimeout(() => {}, 60_000);"],
    stdout: new MemorySink(),
    stderr: new MemorySink(),
    readyTimeoutMs: 3_000,
  });
  const since = performance.now();
  try {
    assert.equal(await worker.ready, false);
    const waited = performance.now() - since;
    assert.ok(waited >= 2_950, `gave up after ${waited} ms`);
    assert.equal(await settledWithin(worker.exited, 5_000), true);
    assert.equal(worker.status?.signal, "SIGKILL");
    assert.equal(
      worker.lastError(),
      "starting | no ready line within 3000 ms",
    );
  } finally {
    worker.kill("SIGKILL");
    await worker.exited;
  }
});

Deno.test("WorkerProcess: a worker that dies is explained by its last 8 lines", async () => {
  const stderr = new MemorySink();
  const worker = WorkerProcess.spawn({
    id: 1,
    program: Deno.execPath(),
    args: [
      "eval",
      "for (let i = 1; i <= 12; i++) console.error(`line ${i}`); Deno.exit(3);",
    ],
    stdout: new MemorySink(),
    stderr,
    readyTimeoutMs: 20_000,
  });
  assert.equal(await worker.ready, false);
  assert.equal((await worker.exited).code, 3);
  assert.equal(
    worker.lastError(),
    [5, 6, 7, 8, 9, 10, 11, 12].map((i) => `line ${i}`).join(" | "),
  );
  // Every line is still passed on.
  assert.equal(stderr.count(/^\[w1\] line \d+$/), 12);
});

Deno.test("WorkerProcess: remembers a worker's lines without colour codes, and forwards them as they came", async () => {
  // A coloured "httpd.ts: " line is still the one that explains a failure.
  const stderr = new MemorySink();
  const worker = WorkerProcess.spawn({
    id: 1,
    program: Deno.execPath(),
    args: [
      "eval",
      String
        .raw`console.error("\x1b[31mhttpd.ts: Cannot start: red\x1b[0m"); console.error("\x1b[1mmore\x1b[0m"); Deno.exit(2);`,
    ],
    stdout: new MemorySink(),
    stderr,
    readyTimeoutMs: 20_000,
  });
  assert.equal(await worker.ready, false);
  await worker.exited;
  assert.equal(worker.lastError(), "httpd.ts: Cannot start: red");
  assert.ok(
    stderr.lines.includes("[w1] \x1b[1mmore\x1b[0m"),
    stderr.lines.join("\n"),
  );
});

Deno.test("WorkerProcess: a worker runs with NO_COLOR=1 and the rest of the environment as it is", async () => {
  // Deno colours its own error output even into a pipe, unless told not to;
  // told here by the worker's spawn, not by a NO_COLOR this test runs with.
  const stderr = new MemorySink();
  const inherited = Deno.env.get("NO_COLOR");
  Deno.env.delete("NO_COLOR");
  const spawning = () =>
    WorkerProcess.spawn({
      id: 1,
      program: Deno.execPath(),
      args: [
        "eval",
        `console.error(JSON.stringify([Deno.env.get("NO_COLOR"), Deno.env.get("PATH")])); throw new Error("boom");`,
      ],
      stdout: new MemorySink(),
      stderr,
      readyTimeoutMs: 20_000,
    });
  let worker: WorkerProcess;
  try {
    worker = spawning();
  } finally {
    if (inherited !== undefined) Deno.env.set("NO_COLOR", inherited);
  }
  assert.equal(await worker.ready, false);
  assert.equal((await worker.exited).code, 1);
  const log = stderr.lines.join("\n");
  assert.ok(
    stderr.lines.includes(
      `[w1] ${JSON.stringify(["1", Deno.env.get("PATH")])}`,
    ),
    log,
  );
  assert.ok(stderr.has(/^\[w1\] error: Uncaught .*boom/), log);
  assert.ok(!log.includes("\x1b"), JSON.stringify(log));
});
