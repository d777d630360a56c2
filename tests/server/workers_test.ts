/**
 * Tests of `-w N`: the supervisor in server/workers.ts run through the
 * real command line (and, for faults the real worker cannot be made to
 * show, over the fake worker in fixtures_workers/), plus unit tests of
 * its helpers.
 */

import assert from "node:assert/strict";
import { createWorkerArgs } from "../../server/_worker_command.ts";
import { startDelayMs } from "../../server/_worker_supervisor.ts";
import { checkWorkerPlatform } from "../../server/workers.ts";
import { HEARTBEAT_REQUEST, RETIRE_SIGNAL } from "../../server/worker_link.ts";
import { tempDir } from "./_harness.ts";
import { isAlive, sleep, waitFor } from "./_waits.ts";

const HTTPD = new URL("../../httpd.ts", import.meta.url).href;
const FAKE_SUPERVISOR = new URL(
  "./fixtures_workers/supervisor.ts",
  import.meta.url,
).href;
const LINKED_CHILD = new URL(
  "./fixtures_workers/linked_child.ts",
  import.meta.url,
).href;
const SUITE_ROOT = Deno.realPathSync(
  new URL("../../../shared/suite-root", import.meta.url),
);
const PAGE = "/httptest/dir2/page.html";
const READY = /^\[w(\d+)\] worker \d+ ready pid=(\d+)( heartbeat)?$/;
const LISTENING = /listening on http:\/\/(\S+):(\d+)/;

// ---------------------------------------------------------------------------
// Helpers

/** A process under test whose output lines are collected as they come. */
class Running {
  readonly child: Deno.ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly #drained: Promise<unknown>;
  status: Deno.CommandStatus | undefined;

  constructor(program: string, args: string[]) {
    this.child = new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#drained = Promise.all([
      collect(this.child.stdout, this.stdout),
      collect(this.child.stderr, this.stderr),
    ]);
    this.child.status.then((status) => this.status = status);
  }

  /** Worker id → pid, from the forwarded ready lines. */
  workers(): Map<number, number> {
    const found = new Map<number, number>();
    for (const line of this.stderr) {
      const match = line.match(READY);
      if (match) found.set(Number(match[1]), Number(match[2]));
    }
    return found;
  }

  /** The port from the startup line. */
  port(): number {
    const line = this.stderr.find((l) => LISTENING.test(l));
    assert.ok(line, `no startup line in:\n${this.stderr.join("\n")}`);
    return Number(line.match(LISTENING)![2]);
  }

  signal(signal: Deno.Signal): void {
    if (!this.status) this.child.kill(signal);
  }

  /**
   * Waits for the exit; a process still running after `timeoutMs` is
   * killed and the wait fails, so a test that expects an exit never hangs.
   */
  async finished(timeoutMs = 60_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const status = await Promise.race([this.child.status, late]);
    clearTimeout(timer);
    if (status === undefined) {
      this.signal("SIGKILL");
      await this.child.status;
      await this.#drained;
      throw new Error(`still running after ${timeoutMs} ms; killed`);
    }
    await this.#drained;
    return status;
  }

  /** Kills the process and every worker it reported, then waits. */
  async cleanUp(): Promise<void> {
    this.signal("SIGKILL");
    await this.finished();
    for (const pid of this.workers().values()) {
      // The command line check guards against a recycled pid.
      if (isAlive(pid) && workerCommandLine(pid).includes("--worker-id")) {
        Deno.kill(pid, "SIGKILL");
      }
    }
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  into: string[],
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    into.push(...parts);
  }
  if (pending) into.push(pending);
}

/**
 * The real supervisor over the fake worker (fixtures_workers/), on a free
 * loopback port: `flags` go to every worker, the rest to runSupervisor().
 */
function overFakeWorkers(
  options:
    & { workers: number; flags?: string[]; root?: string }
    & Record<
      string,
      unknown
    >,
): Running {
  const { flags = [], root = SUITE_ROOT, ...rest } = options;
  return new Running(Deno.execPath(), [
    "run",
    "-A",
    FAKE_SUPERVISOR,
    JSON.stringify({
      workerArgs: ["--host", "127.0.0.1", ...flags],
      root,
      hostname: "127.0.0.1",
      port: 0,
      ...rest,
    }),
  ]);
}

/** Deno's arguments that run the real CLI with `-w 3` (on a free port by default). */
function httpdArgs(port = 0): string[] {
  return [
    "run",
    "-A",
    HTTPD,
    "-r",
    SUITE_ROOT,
    "--host",
    "127.0.0.1",
    "-p",
    String(port),
    "-w",
    "3",
  ];
}

/** Waits until `server` prints its startup line, or exits. */
async function waitForStartup(server: Running): Promise<void> {
  await waitFor(
    "the startup line",
    () => server.stderr.some((l) => LISTENING.test(l)) || !!server.status,
  );
}

/** Starts the real CLI with `-w 3` (plus `extra`) and waits until it listens. */
async function startHttpd(extra: string[] = []): Promise<Running> {
  const server = new Running(Deno.execPath(), [...httpdArgs(), ...extra]);
  await waitForStartup(server);
  return server;
}

/** One GET over a fresh connection; resolves to the status code. */
async function get(port: number, path = PAGE): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buffer = new Uint8Array(4096);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(text.match(/^HTTP\/1\.1 (\d{3}) /)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

function workerCommandLine(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// Through the real command line

Deno.test("runSupervisor() runs, spreads, replaces, reloads and stops -w 3 workers", async (t) => {
  const pidFile = await Deno.makeTempFile({ prefix: "httpd-workers-" });
  const server = await startHttpd(["--pid-file", pidFile]);
  try {
    const port = server.port();
    const first = server.workers();

    await t.step(
      "three distinct worker pids, none of them the supervisor",
      () => {
        assert.equal(first.size, 3);
        const pids = new Set(first.values());
        assert.equal(pids.size, 3);
        assert.ok(!pids.has(server.child.pid));
        // The mark that has the supervisor judge each worker's heartbeats
        // from its ready line on, even one that hangs before its first.
        const readyLines = server.stderr.filter((l) => READY.test(l));
        assert.equal(readyLines.length, 3);
        for (const line of readyLines) {
          assert.ok(line.endsWith(" heartbeat"), line);
        }
        for (const pid of pids) assert.ok(isAlive(pid));
        assert.equal(
          Deno.readTextFileSync(pidFile).trim(),
          `${server.child.pid}`,
        );
        assert.match(
          server.stderr.find((l) => LISTENING.test(l))!,
          /^httpd\.ts: listening on http:\/\/127\.0\.0\.1:\d+ root=\S+ workers=3$/,
        );
      },
    );

    await t.step("workers get scoped permissions, not -A", () => {
      for (const pid of first.values()) {
        const args = workerCommandLine(pid);
        assert.ok(args.includes(`--allow-read=${SUITE_ROOT}`), args.join(" "));
        assert.ok(
          args.includes(`--allow-net=127.0.0.1:${port}`),
          args.join(" "),
        );
        assert.ok(!args.includes("-A") && !args.includes("--allow-all"));
        assert.ok(!args.some((a) => a.startsWith("--allow-run")));
      }
    });

    await t.step(
      "a burst of connections is answered by more than one worker",
      async () => {
        const statuses = await Promise.all(
          Array.from({ length: 60 }, () => get(port)),
        );
        assert.deepEqual(statuses, Array(60).fill(200));
        const logged = () =>
          server.stdout.filter((l) => l.includes(`"GET ${PAGE} HTTP/1.1" 200`));
        await waitFor("60 access log lines", () => logged().length >= 60);
        const tags = new Set(logged().map((l) => l.match(/^\[w(\d+)\] /)?.[1]));
        assert.ok(!tags.has(undefined), "every access log line is tagged");
        assert.ok(tags.size > 1, `all answered by worker ${[...tags]}`);
      },
    );

    await t.step(
      "a worker killed with SIGKILL is replaced; requests keep getting 200",
      async () => {
        const victim = first.get(2)!;
        Deno.kill(victim, "SIGKILL");
        // Connections queued on the victim's socket when it dies are reset
        // by the kernel; the requests that follow its death must all work.
        // The supervisor reports the death once the kernel has reaped every
        // thread (and so closed the socket), unlike /proc, which shows the
        // main thread as a zombie earlier.
        const exited = `(pid ${victim}) exited with signal SIGKILL`;
        await waitFor(
          "the supervisor to see the worker die",
          () => server.stderr.some((l) => l.includes(exited)),
        );
        const statuses: number[] = [];
        for (let i = 0; i < 60; i++) statuses.push(await get(port));
        assert.deepEqual(statuses, Array(60).fill(200));
        await waitFor(
          "a replacement worker",
          () => server.workers().size === 4,
        );
        assert.ok(!isAlive(victim));
        const replacement = server.workers().get(4)!;
        assert.ok(isAlive(replacement));
      },
    );

    await t.step("SIGHUP replaces every worker, one at a time", async () => {
      const before = [...server.workers().entries()]
        .filter(([, pid]) => isAlive(pid));
      assert.equal(before.length, 3);
      server.signal("SIGHUP");
      await waitFor(
        "the reload",
        () => server.stderr.some((l) => l.endsWith("reload done")),
      );
      // Retired idle, the old workers exit at once, but after the reload.
      await waitFor(
        "the old workers gone",
        () => !before.some(([, pid]) => isAlive(pid)),
        5_000,
      );
      const after = [...server.workers().entries()]
        .filter(([, pid]) => isAlive(pid));
      assert.equal(after.length, 3);
      for (const [id] of before) assert.ok(!after.some(([a]) => a === id));
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push(await get(port));
      assert.deepEqual(statuses, Array(20).fill(200));
    });

    await t.step(
      "SIGTERM stops the supervisor and every worker with exit code 0",
      async () => {
        const pids = [...server.workers().values()];
        server.signal("SIGTERM");
        const status = await server.finished();
        assert.equal(status.code, 0);
        await waitFor("all workers gone", () => !pids.some(isAlive), 5_000);
        await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);
      },
    );
  } finally {
    await server.cleanUp();
    await Deno.remove(pidFile).catch(() => {});
  }
});

Deno.test("a reload lets a download outlast the few seconds a stop allows", async () => {
  // 48 MiB read at about 6 MiB/s: some 8 s, past a stop's 5 s of grace.
  const root = await Deno.makeTempDir({ prefix: "httpd-reload-" });
  const size = 48 << 20;
  await Deno.writeFile(`${root}/big.bin`, new Uint8Array(size));
  const server = await startHttpd(["-r", root, "--quiet"]);
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port() });
    await conn.write(
      new TextEncoder().encode(
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      ),
    );
    const buffer = new Uint8Array(65536);
    let received = 0;
    let reloaded = false;
    const started = Date.now();
    for (let n; (n = await conn.read(buffer)) !== null;) {
      received += n;
      if (!reloaded && received > 1 << 20) {
        reloaded = true;
        server.signal("SIGHUP");
      }
      await sleep(10);
      // Bounded, loosely: a loaded machine took up to 20 s.
      if (Date.now() - started > 60_000) break;
    }
    assert.ok(reloaded);
    const took = Date.now() - started;
    assert.ok(took > 6_000, `only ${took} ms: not past a stop's grace`);
    assert.ok(
      received > size && received < size + 1024,
      `got ${received} bytes of a ${size}-byte body and its head`,
    );
    assert.ok(server.stderr.some((l) => l.endsWith("reload done")));
  } finally {
    conn?.close();
    await server.cleanUp();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a reload follows a root symlink switched to a new release", async () => {
  const base = Deno.realPathSync(
    await Deno.makeTempDir({ prefix: "httpd-releases-" }),
  );
  for (const release of ["v1", "v2"]) {
    await Deno.mkdir(`${base}/${release}`);
    await Deno.writeTextFile(`${base}/${release}/index.html`, release);
  }
  await Deno.symlink(`${base}/v1`, `${base}/current`);
  const server = await startHttpd(["-r", `${base}/current`, "--quiet"]);
  const page = async () => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port(),
    });
    try {
      await conn.write(
        new TextEncoder().encode(
          "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
      );
      const text = new TextDecoder().decode(
        await new Response(conn.readable).arrayBuffer(),
      );
      return text.slice(text.indexOf("\r\n\r\n") + 4);
    } finally {
      try {
        conn.close();
      } catch {
        // Closed by the stream's end.
      }
    }
  };
  try {
    assert.equal(await page(), "v1");
    await Deno.symlink(`${base}/v2`, `${base}/next`);
    await Deno.rename(`${base}/next`, `${base}/current`);
    server.signal("SIGHUP");
    await waitFor(
      "the reload",
      () => server.stderr.some((l) => l.endsWith("reload done")),
    );
    assert.ok(
      server.stderr.some((l) =>
        l === `httpd.ts: root ${base}/current now leads to ${base}/v2`
      ),
      server.stderr.join("\n"),
    );
    const pages: string[] = [];
    for (let i = 0; i < 9; i++) pages.push(await page());
    assert.deepEqual(pages, Array(9).fill("v2"));
  } finally {
    await server.cleanUp();
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("-w 2 passes every serving flag on to its workers", async () => {
  const server = await startHttpd([
    "--quiet",
    "--dotfiles",
    "--max-connections",
    "7",
    "--header-timeout",
    "3",
    "--idle-timeout",
    "4",
    "--reload-grace",
    "5",
    "--cache-control",
    "no-cache",
    "--cache-size",
    "6",
  ]);
  try {
    const workers = server.workers();
    assert.ok(workers.size >= 2, server.stderr.join("\n"));
    for (const pid of workers.values()) {
      const args = workerCommandLine(pid);
      for (
        const flag of [
          "--quiet",
          "--dotfiles",
          "--max-connections=7",
          "--header-timeout=3",
          "--idle-timeout=4",
          "--reload-grace=5",
          "--cache-control=no-cache",
          "--cache-size=6",
        ]
      ) assert.ok(args.includes(flag), `${flag} in ${args.join(" ")}`);
    }
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() leaves no worker behind when it is killed with SIGKILL", async () => {
  const server = await startHttpd(["--quiet"]);
  try {
    const pids = [...server.workers().values()];
    assert.equal(pids.length, 3);
    server.signal("SIGKILL");
    await server.finished();
    await waitFor(
      "orphaned workers to exit",
      () => !pids.some(isAlive),
      10_000,
    );
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() fails clearly when the port is taken", async (t) => {
  // Another server's workers hold the port with SO_REUSEPORT too: joining
  // their group would split the traffic between two servers.
  for (const reusePort of [false, true]) {
    await t.step(
      reusePort ? "by a reusePort listener" : "plainly",
      async () => {
        const taken = Deno.listen({
          hostname: "127.0.0.1",
          port: 0,
          reusePort,
        });
        const port = (taken.addr as Deno.NetAddr).port;
        const server = new Running(Deno.execPath(), httpdArgs(port));
        try {
          const status = await server.finished();
          assert.notEqual(status.code, 0);
          assert.ok(
            server.stderr.includes(
              `httpd.ts: Cannot listen on 127.0.0.1:${port}: address already in use`,
            ),
            server.stderr.join("\n"),
          );
          assert.equal(server.workers().size, 0);
        } finally {
          taken.close();
          await server.cleanUp();
        }
      },
    );
  }
});

// A lossless reload needs the kernel to move the connections queued on a
// closing socket to its siblings (net.ipv4.tcp_migrate_req=1, Linux 5.14+);
// without it a few queued connections are reset. The test therefore runs
// the server and the load in a private network namespace with that switch
// on, or on the host if it is already on there.
const migrateHost = (() => {
  try {
    return Deno.readTextFileSync("/proc/sys/net/ipv4/tcp_migrate_req").trim();
  } catch {
    return "missing";
  }
})();
const canUnshare = (() => {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  try {
    return new Deno.Command("unshare", { args: ["--net", "ip", "link"] })
      .outputSync().success;
  } catch {
    return false;
  }
})();
const hasAb = (() => {
  try {
    return new Deno.Command("ab", { args: ["-V"] }).outputSync().success;
  } catch {
    return false;
  }
})();
const reloadSkip = !hasAb
  ? "ab (apache2-utils) is not installed"
  : migrateHost === "1" || (migrateHost === "0" && canUnshare)
  ? undefined
  : `net.ipv4.tcp_migrate_req is ${migrateHost} and no root to set it in a network namespace`;
if (reloadSkip) {
  console.warn(`SKIPPED: SIGHUP under load: ${reloadSkip}`);
}

Deno.test({
  name:
    "runSupervisor() reloads on SIGHUP under load with zero failed requests",
  ignore: reloadSkip !== undefined,
  async fn(t) {
    // A connection per request (the kernel's part), and kept-alive ones:
    // an old worker's idle connection gets a moment for a request already
    // on its way, which a close at once would fail.
    for (const mode of ["-r", "-k"]) {
      await t.step(`ab ${mode}`, () => reloadUnderLoad(mode));
    }
  },
});

/** Reloads `-w` workers while `ab` (with `mode`) loads them; none may fail. */
async function reloadUnderLoad(mode: string): Promise<void> {
  const inNamespace = migrateHost !== "1";
  const httpd = [...httpdArgs(), "--quiet"];
  const server = inNamespace
    ? new Running("unshare", [
      "--net",
      "sh",
      "-c",
      'ip link set lo up && sysctl -q -w net.ipv4.tcp_migrate_req=1 && exec "$@"',
      "sh",
      Deno.execPath(),
      ...httpd,
    ])
    : new Running(Deno.execPath(), httpd);
  try {
    await waitForStartup(server);
    const url = `http://127.0.0.1:${server.port()}${PAGE}`;
    const ab = [mode, "-n", "3000", "-c", "10", url];
    const reloaded = () => server.stderr.some((l) => l.endsWith("reload done"));
    // Bounded: the load repeats until the reload is over, at most 6 runs.
    for (let run = 0; run < 6 && (run === 0 || !reloaded()); run++) {
      const load = inNamespace
        ? new Running("nsenter", [
          `--net=/proc/${server.child.pid}/ns/net`,
          "ab",
          ...ab,
        ])
        : new Running("ab", ab);
      try {
        if (run === 0) {
          await sleep(200);
          server.signal("SIGHUP");
        }
        const status = await load.finished();
        const report = load.stdout.join("\n");
        assert.equal(status.code, 0, `${report}\n${load.stderr.join("\n")}`);
        assert.match(report, /^Complete requests: +3000$/m);
        assert.match(report, /^Failed requests: +0$/m, report);
        assert.doesNotMatch(report, /^Non-2xx responses:/m);
      } finally {
        await load.cleanUp();
      }
    }
    await waitFor(
      "the reload to finish",
      () => server.stderr.some((l) => l.endsWith("reload done")),
    );
    server.signal("SIGTERM");
    assert.equal((await server.finished()).code, 0);
  } finally {
    await server.cleanUp();
  }
}

// ---------------------------------------------------------------------------
// Over the fake worker

Deno.test("runSupervisor() gives up with the worker's error after repeated start failures", async () => {
  const server = overFakeWorkers({ workers: 2, flags: ["--fail-start"] });
  try {
    const status = await server.finished();
    assert.equal(status.code, 1);
    const spawned = new Set(
      server.stderr.flatMap((l) => l.match(/^\[w(\d+)\] /)?.[1] ?? []),
    );
    // At most MAX_START_FAILURES (5) attempts per slot: no spinning.
    assert.ok(spawned.size >= 5 && spawned.size <= 10, `${spawned.size}`);
    assert.ok(
      server.stderr.some((l) =>
        /^httpd\.ts: worker failed to start 5 times in a row, giving up: .*asked to fail/
          .test(l)
      ),
      server.stderr.join("\n"),
    );
    assert.ok(!server.stderr.some((l) => LISTENING.test(l)));
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() refuses a root with a comma, which --allow-read cannot take", async () => {
  using dir = tempDir();
  const root = `${dir.path}/a,b`;
  Deno.mkdirSync(root);
  const server = overFakeWorkers({ workers: 2, root });
  try {
    const status = await server.finished();
    assert.equal(status.code, 1);
    assert.ok(
      server.stderr.some((l) =>
        l.startsWith(`httpd.ts: Cannot run workers for root ${root}: a comma`)
      ),
      server.stderr.join("\n"),
    );
    assert.equal(server.workers().size, 0);
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() gives up on workers that keep dying right after start", async () => {
  const server = overFakeWorkers({
    workers: 1,
    flags: ["--crash-after-ready"],
  });
  try {
    const status = await server.finished();
    assert.equal(status.code, 1);
    const spawned = new Set(
      server.stderr.flatMap((l) => l.match(/^\[w(\d+)\] /)?.[1] ?? []),
    );
    assert.equal(spawned.size, 5, server.stderr.join("\n"));
    assert.ok(
      server.stderr.some((l) =>
        /^httpd\.ts: worker died right after start 5 times in a row, giving up: .*crashed after start/
          .test(l)
      ),
      server.stderr.join("\n"),
    );
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() kills a worker deaf to its stop request once the grace period is over", async () => {
  const server = overFakeWorkers({
    workers: 1,
    flags: ["--ignore-stop"],
    gracePeriodMs: 500,
  });
  try {
    await waitForStartup(server);
    const pid = server.workers().get(1)!;
    server.signal("SIGTERM");
    // Bounded: without its SIGKILL, the supervisor would wait forever.
    const status = await server.finished(15_000);
    assert.equal(status.code, 0, server.stderr.join("\n"));
    await waitFor("the deaf worker to be gone", () => !isAlive(pid), 5_000);
    assert.ok(
      server.stderr.some((l) =>
        l ===
          `httpd.ts: worker 1 (pid ${pid}) did not stop within 500 ms; killed it`
      ),
      server.stderr.join("\n"),
    );
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() gives a retired worker its reload grace plus a stop's grace before killing it", async () => {
  // Deaf to the retire signal, the old worker outlives both graces, and the
  // supervisor says which wait it gave it.
  const server = overFakeWorkers({
    workers: 1,
    flags: ["--ignore-stop"],
    reloadGraceMs: 400,
    gracePeriodMs: 700,
  });
  try {
    await waitForStartup(server);
    const pid = server.workers().get(1)!;
    server.signal("SIGHUP");
    const killed =
      /^httpd\.ts: worker 1 \(pid \d+\) did not finish within \d+ ms of its retirement; killed it$/;
    await waitFor(
      "the old worker's kill",
      () => server.stderr.some((l) => killed.test(l)),
      10_000,
    );
    assert.ok(
      server.stderr.includes(
        `httpd.ts: worker 1 (pid ${pid}) did not finish within 1100 ms of its retirement; killed it`,
      ),
      server.stderr.join("\n"),
    );
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() checks the root before a reload and keeps the old workers when it is no directory", async () => {
  using dir = tempDir();
  Deno.mkdirSync(`${dir.path}/v1`);
  Deno.writeTextFileSync(`${dir.path}/file`, "");
  Deno.symlinkSync(`${dir.path}/v1`, `${dir.path}/current`);
  const server = overFakeWorkers({
    workers: 1,
    root: Deno.realPathSync(`${dir.path}/v1`),
    rootPath: `${dir.path}/current`,
  });
  try {
    await waitForStartup(server);
    Deno.removeSync(`${dir.path}/current`);
    Deno.symlinkSync(`${dir.path}/file`, `${dir.path}/current`);
    server.signal("SIGHUP");
    await waitFor(
      "the reload's end",
      () => server.stderr.some((l) => /reload (done|stopped)/.test(l)),
    );
    assert.ok(
      server.stderr.includes(
        `httpd.ts: reload stopped: Cannot serve ${dir.path}/current: not a directory; the old workers keep running`,
      ),
      server.stderr.join("\n"),
    );
    assert.deepEqual([...server.workers().keys()], [1]);
  } finally {
    await server.cleanUp();
  }
});

/**
 * Two fake workers serving `base/current`, a symlink to the release
 * `base/v1`, with a second release, `base/<second>`, made beside it.
 */
function overReleases(base: string, second: string) {
  for (const release of ["v1", second]) Deno.mkdirSync(`${base}/${release}`);
  Deno.symlinkSync(`${base}/v1`, `${base}/current`);
  return overFakeWorkers({
    workers: 2,
    root: `${base}/v1`,
    rootPath: `${base}/current`,
  });
}

/** A symlink deploy: `base/current` switched to `release` in one rename. */
function switchCurrent(base: string, release: string): void {
  Deno.symlinkSync(`${base}/${release}`, `${base}/next`);
  Deno.renameSync(`${base}/next`, `${base}/current`);
}

Deno.test("runSupervisor() gives a replacement the recorded root while it exists, the root resolved again once it is gone", async (t) => {
  // A symlink deploy without a reload: `current` moves to v2, and v1 is
  // deleted later. Until then a replacement serves v1, like its sibling.
  using dir = tempDir();
  const base = Deno.realPathSync(dir.path);
  const server = overReleases(base, "v2");
  /** The -r and --allow-read a running worker got. */
  const rootOf = (id: number) => {
    const args = workerCommandLine(server.workers().get(id)!);
    const read = args.find((a) => a.startsWith("--allow-read="));
    return [args[args.indexOf("-r") + 1], read];
  };
  const replaced = async (victim: number, successor: number) => {
    Deno.kill(server.workers().get(victim)!, "SIGKILL");
    await waitFor(
      `worker ${successor}, or the end`,
      () => server.workers().has(successor) || !!server.status,
    );
    assert.equal(server.status, undefined, server.stderr.join("\n"));
  };
  try {
    await waitForStartup(server);
    switchCurrent(base, "v2");

    await t.step("v1 still there: kept", async () => {
      await replaced(1, 3);
      assert.deepEqual(rootOf(3), [`${base}/v1`, `--allow-read=${base}/v1`]);
      assert.ok(!server.stderr.some((l) => l.includes(" is gone")));
    });

    await t.step("v1 deleted: resolved again, and said once", async () => {
      Deno.renameSync(`${base}/v1`, `${base}/v1.deleted`);
      await replaced(2, 4);
      assert.deepEqual(rootOf(4), [`${base}/v2`, `--allow-read=${base}/v2`]);
      await replaced(3, 5);
      assert.deepEqual(rootOf(5), [`${base}/v2`, `--allow-read=${base}/v2`]);
      assert.deepEqual(
        server.stderr.filter((l) => l.includes(" is gone")),
        [
          `httpd.ts: root ${base}/v1 is gone; ${base}/current now leads to ${base}/v2, served from worker 4 on`,
        ],
      );
      assert.ok(
        !server.stderr.some((l) => l.includes("failed to start")),
        server.stderr.join("\n"),
      );
    });
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() says why a replacement keeps a root that is gone when the new one has a comma", async () => {
  // --allow-read cannot take a comma: the replacement keeps the old root
  // (and fails on it), and the supervisor says why.
  using dir = tempDir();
  const base = Deno.realPathSync(dir.path);
  const server = overReleases(base, "v,2");
  try {
    await waitForStartup(server);
    switchCurrent(base, "v,2");
    Deno.renameSync(`${base}/v1`, `${base}/v1.deleted`);
    Deno.kill(server.workers().get(1)!, "SIGKILL");
    const said =
      `httpd.ts: root ${base}/v1 is gone; Cannot run workers for root ${base}/v,2: a comma in its path cannot be passed in --allow-read; rename it, or use -w 1`;
    await waitFor(
      "the reason, or the end",
      () => server.stderr.includes(said) || !!server.status,
    );
    assert.equal(server.status, undefined, server.stderr.join("\n"));
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() closes the debugger Deno opens at SIGUSR1, ignores SIGUSR2, and still stops gracefully", async () => {
  // Deno 2.9.2 and later open their inspector on 127.0.0.1:9229 at a
  // SIGUSR1 (denoland/deno#35738): a debugger anyone on the host could
  // attach to, which the supervisor (run with -A here) closes again.
  using dir = tempDir();
  const pidFile = `${dir.path}/httpd.pid`;
  const server = overFakeWorkers({ workers: 1, pidFile });
  try {
    await waitForStartup(server);
    await sleep(1_000); // Deno arms its SIGUSR1 inspector after 500 ms.
    const closed =
      "httpd.ts: SIGUSR1: closed the debugger Deno opened for it on 127.0.0.1:9229 (there is no log file to reopen; do not send SIGUSR1)";
    const ignored =
      "httpd.ts: SIGUSR1: ignored (there is no log file to reopen)";
    const count = (line: string) =>
      server.stderr.filter((l) => l === line).length;
    // On a loaded machine Deno may not have armed its inspector by the
    // first signal, which is then only ignored: at most three tries.
    for (let attempt = 1; attempt <= 3 && count(closed) === 0; attempt++) {
      const before = count(ignored);
      server.signal("SIGUSR1");
      await waitFor(
        "a SIGUSR1 note, or the end",
        () => count(closed) > 0 || count(ignored) > before || !!server.status,
      );
      assert.equal(server.status, undefined, server.stderr.join("\n"));
      if (count(closed) === 0) await sleep(1_000);
    }
    assert.equal(count(closed), 1, server.stderr.join("\n"));
    const usr2 =
      "httpd.ts: SIGUSR2 ignored (the supervisor sends it to retire a worker; to reload, send SIGHUP)";
    server.signal("SIGUSR2");
    await waitFor(
      "the SIGUSR2 note, or the end",
      () => server.stderr.includes(usr2) || !!server.status,
    );
    assert.equal(server.status, undefined, server.stderr.join("\n"));
    const worker = server.workers().get(1)!;
    assert.deepEqual([...server.workers().keys()], [1]);
    assert.ok(isAlive(worker));
    assert.equal(Deno.readTextFileSync(pidFile).trim(), `${server.child.pid}`);
    server.signal("SIGTERM");
    assert.equal((await server.finished()).code, 0, server.stderr.join("\n"));
    assert.throws(() => Deno.statSync(pidFile), Deno.errors.NotFound);
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() exits 1 with one line when the pid file cannot be written", async () => {
  using dir = tempDir();
  const pidFile = `${dir.path}/missing/httpd.pid`;
  const server = overFakeWorkers({ workers: 2, pidFile });
  try {
    // Bounded: a supervisor that went on would run until killed.
    const status = await server.finished(20_000);
    assert.equal(status.code, 1);
    assert.equal(server.stderr.length, 1, server.stderr.join("\n"));
    assert.match(
      server.stderr[0],
      /^httpd\.ts: Cannot write pid file .*missing\/httpd\.pid: .+$/,
    );
    assert.equal(server.workers().size, 0);
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor()'s defaults: 10 s of grace for a stopping worker, 10 s of silence for a hung one, 30 s to get ready", async () => {
  // The three waits the README promises, side by side to take 30 s, not 50.
  const deaf = overFakeWorkers({ workers: 1, flags: ["--ignore-stop"] });
  const hung = overFakeWorkers({ workers: 1, flags: ["--hang-at-ready"] });
  const mute = overFakeWorkers({ workers: 1, flags: ["--never-ready"] });
  const since = Date.now();
  const elapsed = () => Date.now() - since;
  try {
    await Promise.all([waitForStartup(deaf), waitForStartup(hung)]);
    deaf.signal("SIGTERM");
    const stopAsked = Date.now();
    const killed = () => hung.stderr.some((l) => l.includes("no heartbeat"));
    await sleep(8_000);
    assert.equal(deaf.status, undefined, "the grace ended before 8 s");
    assert.ok(!killed(), "the hung worker was killed before 8 s");
    assert.equal((await deaf.finished(8_000)).code, 0);
    assert.ok(Date.now() - stopAsked < 18_000);
    await waitFor("the hung worker's kill", killed, 8_000);
    assert.ok(
      hung.stderr.some((l) =>
        /^httpd\.ts: worker 1 \(pid \d+\) sent no heartbeat for 10000 ms/.test(
          l,
        )
      ),
      hung.stderr.join("\n"),
    );
    // The mute worker, started with the others, is given up on at 30 s.
    const gaveUp = () => mute.stderr.some((l) => l.includes("no ready line"));
    await sleep(Math.max(0, 28_000 - elapsed()));
    assert.ok(!gaveUp(), `given up on before 28 s:\n${mute.stderr.join("\n")}`);
    await waitFor("the mute worker's kill", gaveUp, 10_000);
    assert.ok(elapsed() < 42_000, `${elapsed()} ms`);
    assert.ok(
      mute.stderr.some((l) =>
        /^httpd\.ts: worker 1 failed to start \(no ready line within 30000 ms\); retrying/
          .test(l)
      ),
      mute.stderr.join("\n"),
    );
  } finally {
    await Promise.all([deaf.cleanUp(), hung.cleanUp(), mute.cleanUp()]);
  }
});

Deno.test("runSupervisor() counts only deaths in a row: a worker that ran a while starts the count again", async () => {
  // Four quick deaths, one after 2.3 s of service (more than the 2 s that
  // make a worker healthy), then quick deaths until the supervisor gives up.
  using dir = tempDir();
  const plan = `${dir.path}/plan`;
  Deno.writeTextFileSync(
    plan,
    ["100", "100", "100", "100", "2300", ...Array(8).fill("100")]
      .map((ms) => `crash=${ms}`).join("\n"),
  );
  const server = overFakeWorkers({
    workers: 1,
    flags: [`--plan=${plan}`],
    root: dir.path,
  });
  try {
    const status = await server.finished(60_000);
    assert.equal(status.code, 1);
    // Five in a row after the healthy one, not one more after the first four.
    assert.equal(server.workers().size, 10, server.stderr.join("\n"));
  } finally {
    await server.cleanUp();
  }
});

Deno.test("runSupervisor() replaces a worker whose heartbeats stop", async (t) => {
  // One that hangs after beating for a while, and one that hangs as soon
  // as it is ready, before its first beat.
  for (const flag of ["--hang-after-ready", "--hang-at-ready"]) {
    await t.step(flag, () => expectHungWorkerReplaced(flag));
  }
});

async function expectHungWorkerReplaced(flag: string): Promise<void> {
  const server = overFakeWorkers({
    workers: 1,
    flags: [flag],
    hangTimeoutMs: 1500,
  });
  try {
    await waitFor(
      "the hung worker to be killed and replaced",
      () => server.workers().size >= 2,
      20_000,
    );
    const first = server.workers().get(1)!;
    assert.ok(
      server.stderr.some((l) =>
        l.startsWith(
          `httpd.ts: worker 1 (pid ${first}) sent no heartbeat for 1500 ms; killing it`,
        )
      ),
      server.stderr.join("\n"),
    );
    // Heartbeats are not passed on as worker output.
    assert.ok(!server.stderr.some((l) => l.includes("worker alive")));
  } finally {
    await server.cleanUp();
  }
}

Deno.test("linkToSupervisor() stops the worker when its stdin closes", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", LINKED_CHILD],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = child.stdout.pipeThrough(new TextDecoderStream());
  const reader = output.getReader();
  let text = "";
  while (!text.includes("watching")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await child.stdin.close();
  for (let part; !(part = await reader.read()).done;) text += part.value;
  const status = await child.status;
  assert.equal(status.code, 0);
  assert.equal(text, "watching\nstopped\n");
});

Deno.test("linkToSupervisor() sends heartbeats only once asked", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", LINKED_CHILD],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let text = "";
  const reading = (async () => {
    for await (const chunk of stderr) text += chunk;
  })();
  // A supervisor from before heartbeats never asks, and gets none.
  await sleep(1500);
  assert.equal(text, "");
  const link = child.stdin.getWriter();
  await link.write(HEARTBEAT_REQUEST);
  await waitFor("a heartbeat", () => text.includes("worker alive\n"), 5_000);
  // Then one a second (the README's figure): 3.5 s more hold three or so.
  await sleep(3_500);
  const beats = text.split("worker alive\n").length - 1;
  assert.ok(beats >= 3 && beats <= 5, `${beats} heartbeats in 3.5 s`);
  await link.close();
  await child.status;
  await reading;
});

Deno.test("linkToSupervisor()'s heartbeats never land inside a line written in parts", async () => {
  // The supervisor reads the worker's stderr by lines: a beat cut into
  // another line would be lost, and that line garbled in the log.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", LINKED_CHILD, "--long-lines"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let text = "";
  const reading = (async () => {
    for await (const chunk of stderr) text += chunk;
  })();
  const link = child.stdin.getWriter();
  await link.write(HEARTBEAT_REQUEST);
  const beats = () => text.split("worker alive").length - 1;
  await waitFor("three heartbeats", () => beats() >= 3, 10_000);
  await link.close();
  await child.status;
  await reading;
  const lines = text.split("\n").slice(0, -1);
  const garbled = lines.filter((l) =>
    l !== "worker alive" && l !== "x".repeat(200)
  );
  assert.deepEqual(garbled, []);
  assert.ok(lines.length > beats(), "long lines were written too");
});

Deno.test("linkToSupervisor() lets the worker exit after a signal", async (t) => {
  // SIGINT too: Ctrl-C in a terminal reaches every worker of the group;
  // and the signal that retires a worker after a reload.
  for (const signal of ["SIGTERM", "SIGINT", RETIRE_SIGNAL] as const) {
    await t.step(signal, () => expectExitAfter(signal));
  }
});

async function expectExitAfter(signal: Deno.Signal): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", LINKED_CHILD, "--stop-on-signal"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("watching")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  child.kill(signal);
  // stdin stays open: the child must still exit on its own, and soon.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(resolve, 10_000, false)),
  ]);
  clearTimeout(timer);
  if (!exited) child.kill("SIGKILL");
  for (let part; !(part = await reader.read()).done;) text += part.value;
  const status = await child.status;
  await child.stdin.close();
  assert.ok(exited, `still running 10 s after ${signal}`);
  assert.equal(status.code, 0);
  assert.equal(text, "watching\nsignal\n");
}

// ---------------------------------------------------------------------------
// Helpers, in isolation

Deno.test("createWorkerArgs() scopes permissions under deno run", () => {
  assert.deepEqual(
    createWorkerArgs({
      workerArgs: ["--host", "::1", "--quiet"],
      root: "/srv/www",
      hostname: "::1",
      port: 8080,
      workerModule: "file:///app/httpd.ts",
      standalone: false,
    }, 3),
    [
      "run",
      "--allow-read=/srv/www",
      "--allow-net=[::1]:8080",
      "--unstable-net",
      "--v8-flags=--max-semi-space-size=2",
      "file:///app/httpd.ts",
      "--host",
      "::1",
      "--quiet",
      "-r",
      "/srv/www",
      "-p",
      "8080",
      "--worker-id",
      "3",
    ],
  );
});

Deno.test("createWorkerArgs() passes only program arguments to a compiled binary", () => {
  assert.deepEqual(
    createWorkerArgs({
      workerArgs: ["--quiet"],
      root: "/www",
      hostname: "0.0.0.0",
      port: 9000,
      workerModule: "file:///unused.ts",
      standalone: true,
    }, 1),
    ["--quiet", "-r", "/www", "-p", "9000", "--worker-id", "1"],
  );
});

Deno.test("startDelayMs() backs off exponentially up to 30 s", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 40].map(startDelayMs),
    [0, 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
  );
});

Deno.test("checkWorkerPlatform() refuses several workers where the kernel does not balance", () => {
  assert.equal(checkWorkerPlatform(4, "linux"), undefined);
  assert.equal(checkWorkerPlatform(1, "darwin"), undefined);
  assert.equal(
    checkWorkerPlatform(2, "darwin"),
    "Cannot run 2 workers on darwin: only Linux spreads connections across SO_REUSEPORT listeners; use -w 1",
  );
  assert.match(checkWorkerPlatform(3, "windows")!, /^Cannot run 3 workers/);
});
