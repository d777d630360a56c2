/**
 * The command line: flag errors, help and version, the startup line,
 * graceful shutdown on signals, and the permission-scoped run.
 */

import assert from "node:assert/strict";
import { supervisorOptions } from "../httpd.ts";
import {
  type Config,
  parseCommandLine,
  USAGE,
  UsageError,
} from "../server/config.ts";
import { serveOptions } from "../server/run_server.ts";
import { startChild } from "./_child.ts";
import {
  fetchRaw,
  FIXTURE_ROOT,
  get,
  header,
  HTTPD,
  RawClient,
  REPO_ROOT,
  runCli,
  startCli,
  tempDir,
  text,
} from "./server/_harness.ts";
import { waitFor } from "./server/_waits.ts";

const BAD_FLAGS: [string, string[], RegExp][] = [
  ["an unknown flag", ["--nope"], /--nope/],
  // Only the supervisor's own --worker-id spares a worker the usage.
  [
    "a flag that only starts like --worker-id",
    ["--worker-idx=1"],
    /--worker-idx/,
  ],
  ["an unknown short flag", ["-z"], /-z/],
  ["a positional argument", ["www"], /www/],
  ["port 70000", ["-p", "70000"], /--port '70000'/],
  ["port 65536, one past the last", ["-p", "65536"], /--port '65536'/],
  ["a port that is not a number", ["-p", "http"], /--port 'http'/],
  ["a negative port", ["--port=-1"], /port/],
  // Not node:util's "looks like a flag": the range the value missed.
  ["a negative port, apart", ["-p", "-1"], /: Invalid --port '-1': expected/],
  ["negative workers", ["-w", "-2"], /: Invalid --workers '-2': expected/],
  [
    "a negative timeout",
    ["--header-timeout", "-1"],
    /: Invalid --header-timeout '-1': expected/,
  ],
  // A string's value that starts with a dash is left to node:util, whose
  // message (three lines, joined) suggests the --root=-x spelling.
  ["a value that looks like a flag", ["-r", "-x"], /'--root=-XYZ'/],
  [
    "a missing root",
    ["-r", "/no/such/root/dir"],
    /--root '\/no\/such\/root\/dir'/,
  ],
  [
    "a root that is a file",
    ["-r", `${FIXTURE_ROOT}/index.html`],
    /not a directory/,
  ],
  ["zero workers", ["-w", "0"], /--workers '0'/],
  ["an empty host", ["--host", ""], /--host/],
  ["zero connections", ["--max-connections", "0"], /--max-connections '0'/],
  ["a timeout past a day", ["--idle-timeout", "86401"], /--idle-timeout/],
  ["a zero idle timeout", ["--idle-timeout", "0"], /--idle-timeout '0'/],
  ["a zero header timeout", ["--header-timeout=0.000"], /--header-timeout/],
  ["a zero reload grace", ["--reload-grace", "0"], /--reload-grace '0'/],
  ["a Cache-Control with DEL", ["--cache-control", "a\x7f"], /--cache-control/],
  ["a zero cache size", ["--cache-size", "0"], /--cache-size '0'/],
  ["a cache size past 64 GiB", ["--cache-size=65537"], /--cache-size/],
  ["a cache size in fractions", ["--cache-size", "1.5"], /--cache-size/],
  ["a flag without its value", ["-r"], /root|-r/],
];

Deno.test("--cache-size is in MiB, 32 unless given", () => {
  for (const [args, size] of [[[], 32], [["--cache-size", "1"], 1]] as const) {
    const command = parseCommandLine(["-r", FIXTURE_ROOT, ...args]);
    assert.equal(command.kind === "serve" && command.config.cacheSize, size);
  }
});

Deno.test("-w 1 hands every flag to the listener in its units", () => {
  const serving = (args: string[]) => {
    const command = parseCommandLine(["-r", FIXTURE_ROOT, ...args]);
    assert.equal(command.kind, "serve");
    return command.kind === "serve"
      ? serveOptions(command.config, "/real/root")
      : undefined;
  };
  assert.deepEqual(
    serving([
      ...["-p", "8123", "--host", "127.0.0.1", "--quiet", "--dotfiles"],
      ...["--cache-control", "no-cache", "--header-timeout", "3"],
      ...["--idle-timeout", "4", "--max-connections", "99"],
      ...["--cache-size", "5"],
    ]),
    {
      root: "/real/root",
      hostname: "127.0.0.1",
      port: 8123,
      reusePort: false,
      dotfiles: true,
      cacheControl: "no-cache",
      accessLog: false,
      headerTimeout: 3,
      idleTimeout: 4,
      maxConnections: 99,
      cacheBytes: 5 * 1024 * 1024,
    },
  );
  // A worker of -w N shares the port; by default the log is on.
  const worker = serving(["--worker-id", "2"]);
  assert.deepEqual([worker?.reusePort, worker?.accessLog], [true, true]);
  assert.equal(worker?.cacheBytes, 32 * 1024 * 1024);
});

Deno.test("-w 1: --cache-size 1 holds a file of 100 KB in memory, not one of 400 KB", async () => {
  // A third of 1 MiB, less room for a head, is the largest file held.
  // Which files are held shows in one place only: a file changed in the
  // last 2 s (`racy`) has its content hashed into its ETag when held, and
  // no ETag when streamed, there being no content held to hash. New files
  // are written until the answers come within those 2 s (a loaded machine
  // may be slower).
  using dir = tempDir();
  await using cli = await startCli({
    args: ["-r", dir.path, "--quiet", "--cache-size", "1"],
  });
  const etagParts = async (target: string) => {
    const response = await fetchRaw(cli.port, get(target));
    assert.equal(response.status, 200);
    return header(response, "etag")?.split("-").length ?? 0;
  };
  let held = 0;
  let big = -1;
  for (let attempt = 1; attempt <= 5 && held !== 5; attempt++) {
    // The held file written first and asked for last: if its answer came
    // within 2 s of its change, the big file's did too.
    Deno.writeFileSync(`${dir.path}/held${attempt}`, new Uint8Array(100_000));
    Deno.writeFileSync(`${dir.path}/big${attempt}`, new Uint8Array(400_000));
    big = await etagParts(`/big${attempt}`);
    held = await etagParts(`/held${attempt}`);
  }
  // Inode, size, mtime, ctime, and the hash of the content held.
  assert.equal(held, 5, "held in memory (or 5 answers late)");
  assert.equal(big, 0, "streamed, so no ETag while just changed");
  assert.equal((await cli.stop("SIGTERM")).code, 0);
});

Deno.test("every default is the one --help states", () => {
  const command = parseCommandLine(["-r", FIXTURE_ROOT]);
  assert.equal(command.kind, "serve");
  const config = command.kind === "serve" ? command.config : undefined;
  const defaults: [string, unknown][] = [
    ["port", config?.port],
    ["host", config?.hostname],
    ["workers", config?.workers],
    ["header-timeout", config?.headerTimeout],
    ["idle-timeout", config?.idleTimeout],
    ["max-connections", config?.maxConnections],
    ["reload-grace", config?.reloadGrace],
    ["cache-size", config?.cacheSize],
  ];
  for (const [flag, value] of defaults) {
    const stated = new RegExp(`--${flag} [^]*?\\(default: ([^)]+)\\)`)
      .exec(USAGE)?.[1];
    assert.equal(String(value), stated, `--${flag}`);
  }
  assert.deepEqual(
    defaults.map(([, value]) => value),
    [8080, "0.0.0.0", 1, 10, 15, 4096, 300, 32],
  );
});

Deno.test("-w N hands every flag on: to the supervisor, or to its workers", () => {
  const flags = [
    ["-r", FIXTURE_ROOT, "-p", "8123", "--host", "127.0.0.1"],
    ["--quiet", "--dotfiles", "--cache-control=-no-cache"],
    ["--header-timeout", "3", "--idle-timeout", "4", "--reload-grace", "7"],
    ["--max-connections", "99", "--cache-size", "5", "--pid-file", "/tmp/p"],
  ].flat();
  const command = parseCommandLine([...flags, "-w", "2"]);
  assert.equal(command.kind, "serve");
  if (command.kind !== "serve") return;
  const options = supervisorOptions(command.config);
  assert.deepEqual(
    [options.workers, options.hostname, options.port, options.pidFile],
    [2, "127.0.0.1", 8123, "/tmp/p"],
  );
  assert.equal(options.reloadGraceMs, 7000, "the retired workers' grace");
  assert.equal(options.root, Deno.realPathSync(FIXTURE_ROOT));
  // A worker's command line, as the supervisor adds to its flags, parses
  // back to the same configuration but for what only the supervisor does.
  const worker = parseCommandLine([
    ...options.workerArgs,
    ...["-r", options.root, "-p", String(options.port), "--worker-id", "1"],
  ]);
  assert.deepEqual(worker, {
    kind: "serve",
    config: {
      ...command.config,
      root: options.root,
      workers: 1,
      pidFile: undefined,
      workerId: 1,
    },
  });
});

Deno.test("-w takes at most 1024 workers", () => {
  // Checked here rather than through the command line: a server that took
  // the flag would start a thousand processes before the test could stop it.
  const workers = (n: number) => {
    const command = parseCommandLine(["-r", FIXTURE_ROOT, "-w", String(n)]);
    return command.kind === "serve" && command.config.workers;
  };
  assert.equal(workers(1024), 1024);
  assert.throws(() => workers(1025), UsageError);
});

Deno.test("every number flag takes both ends of its range and nothing past them", () => {
  // [flag, lowest, highest, just below, just above, the value in Config]
  const seconds = ["0.001", "86400", "0.0009", "86400.001"] as const;
  const ranges: [string, string, string, string, string, keyof Config][] = [
    ["--port", "0", "65535", "-1", "65536", "port"],
    ["--workers", "1", "1024", "0", "1025", "workers"],
    ["--max-connections", "1", "1048576", "0", "1048577", "maxConnections"],
    ["--cache-size", "1", "65536", "0", "65537", "cacheSize"],
    ["--worker-id", "1", "1048576", "0", "1048577", "workerId"],
    ["--header-timeout", ...seconds, "headerTimeout"],
    ["--idle-timeout", ...seconds, "idleTimeout"],
    ["--reload-grace", ...seconds, "reloadGrace"],
  ];
  for (const [flag, lowest, highest, below, above, key] of ranges) {
    const parse = (value: string) =>
      parseCommandLine(["-r", FIXTURE_ROOT, `${flag}=${value}`]);
    for (const value of [lowest, highest]) {
      const command = parse(value);
      assert.equal(
        command.kind === "serve" && command.config[key],
        Number(value),
        `${flag}=${value}`,
      );
    }
    for (const value of [below, above]) {
      assert.throws(
        () => parse(value),
        (error) =>
          error instanceof UsageError &&
          error.message.startsWith(`Invalid ${flag} '${value}': expected `),
        `${flag}=${value}`,
      );
    }
  }
});

Deno.test("a usage error is one line even when a flag's value holds a newline", () => {
  const cases: [string[], string][] = [
    [["-r", "no\nsuch"], "Invalid --root 'no\\x0asuch': no such directory"],
    [
      ["-r", FIXTURE_ROOT, "-p", "80\n"],
      "Invalid --port '80\\x0a': expected an integer from 0 to 65535",
    ],
    [
      ["-r", FIXTURE_ROOT, "--idle-timeout", "\r5"],
      "Invalid --idle-timeout '\\x0d5': expected seconds from 0.001 to 86400",
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseCommandLine(args),
      (error) => error instanceof UsageError && error.message === message,
      JSON.stringify(args),
    );
  }
});

Deno.test("--cache-control takes one or more printable ASCII characters", () => {
  const cacheControl = (value: string) => {
    const command = parseCommandLine([
      "-r",
      FIXTURE_ROOT,
      "--cache-control",
      value,
    ]);
    return command.kind === "serve" && command.config.cacheControl;
  };
  assert.equal(cacheControl("public, max-age=60"), "public, max-age=60");
  // An empty value would send an empty field; the others would break it.
  for (const value of ["", "a\tb", "a\r\nb", "caf\xe9"]) {
    assert.throws(
      () => cacheControl(value),
      /^UsageError: Invalid --cache-control: printable ASCII only$/,
      JSON.stringify(value),
    );
  }
});

Deno.test("-w auto runs a worker per CPU", () => {
  const command = parseCommandLine(["-r", FIXTURE_ROOT, "-w", "auto"]);
  assert.equal(
    command.kind === "serve" && command.config.workers,
    navigator.hardwareConcurrency,
  );
});

Deno.test("the port may be anything from 0 to 65535", () => {
  for (const port of [0, 1, 65535]) {
    const command = parseCommandLine(["-r", FIXTURE_ROOT, "-p", String(port)]);
    assert.equal(command.kind === "serve" && command.config.port, port);
  }
});

Deno.test("a bad flag prints one line and the usage on stderr and exits 2", async (t) => {
  for (const [name, args, mention] of BAD_FLAGS) {
    await t.step(`${name}: ${args.join(" ")}`, async () => {
      const output = await runCli(args);
      assert.equal(output.code, 2, output.stderr);
      assert.equal(output.stdout, "");
      const [first, blank, usage] = output.stderr.split("\n");
      assert.match(first, /^httpd\.ts: \S/);
      assert.match(first, mention);
      assert.equal(blank, "");
      assert.match(usage, /^Usage: httpd\.ts/);
    });
  }
});

Deno.test("a worker's bad flag prints its one line without the usage, and exits 2", async () => {
  // The supervisor passes a worker's last line on: the usage would bury it.
  for (const idFlag of [["--worker-id", "1"], ["--worker-id=1"]]) {
    const output = await runCli([...idFlag, "-r", FIXTURE_ROOT, "-p", "x"]);
    assert.equal(output.code, 2, output.stderr);
    assert.equal(output.stdout, "");
    assert.equal(
      output.stderr,
      "httpd.ts: Invalid --port 'x': expected an integer from 0 to 65535\n",
      idFlag.join(" "),
    );
  }
});

Deno.test("a root the process may not read is a usage error that says so in one line", async () => {
  using dir = tempDir();
  Deno.mkdirSync(`${dir.path}/root`);
  Deno.mkdirSync(`${dir.path}/other`);
  const output = await runCli(
    ["-r", `${dir.path}/root`, "-p", "0", "--host", "127.0.0.1"],
    ["--no-prompt", `--allow-read=${dir.path}/other`, "--allow-net"],
  );
  assert.equal(output.code, 2, output.stderr);
  assert.equal(
    output.stderr.split("\n")[0],
    `httpd.ts: Invalid --root '${dir.path}/root': permission denied`,
  );
});

Deno.test("-h and --help print the usage on stdout and exit 0", async () => {
  for (const flag of ["-h", "--help"]) {
    const output = await runCli([flag]);
    assert.equal(output.code, 0);
    assert.match(output.stdout, /^Usage: httpd\.ts/);
    for (
      const option of [
        "-r, --root",
        "-p, --port",
        "--host",
        "-w, --workers",
        "--cache-size",
        "-h, --help",
        "-V, --version",
      ]
    ) {
      assert.ok(output.stdout.includes(option), option);
    }
    assert.equal(output.stderr, "");
  }
});

Deno.test("README's Usage block is what --help prints", () => {
  const readme = Deno.readTextFileSync(`${REPO_ROOT}/README.md`);
  const block = /## Usage\n\n```text\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(block !== null, "no Usage block in README.md");
  assert.equal(block[1], USAGE);
});

Deno.test("-V and --version print the version and exit 0", async () => {
  for (const flag of ["-V", "--version"]) {
    const output = await runCli([flag]);
    assert.equal(output.code, 0);
    assert.equal(output.stdout, "httpd.ts 0.1.0\n");
  }
});

Deno.test("the startup line names the address, the real root and the workers", async () => {
  await using cli = await startCli({ args: ["-r", FIXTURE_ROOT, "--quiet"] });
  assert.equal(
    cli.startupLine,
    `httpd.ts: listening on http://127.0.0.1:${cli.port} root=${
      Deno.realPathSync(FIXTURE_ROOT)
    } workers=1`,
  );
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0);
  assert.equal(cli.stderr(), `${cli.startupLine}\n`);
});

Deno.test("an address in use exits 1 with one line", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const output = await runCli([
    "-r",
    FIXTURE_ROOT,
    "--host",
    "127.0.0.1",
    "-p",
    String(listener.addr.port),
  ]);
  assert.equal(output.code, 1);
  assert.match(
    output.stderr,
    /^httpd\.ts: Cannot listen on 127\.0\.0\.1:\d+: address already in use\n$/,
  );
});

Deno.test("SIGTERM closes an idle keep-alive connection and exits 0", async () => {
  await using cli = await startCli({ args: ["-r", FIXTURE_ROOT, "--quiet"] });
  using client = await RawClient.connect(cli.port);
  await client.send("GET /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n");
  const response = await client.readResponse();
  assert.equal(header(response, "connection"), "keep-alive");
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
  assert.equal(exit.signal, null);
  assert.equal(await client.serverClosed(), true);
});

Deno.test("SIGTERM exits 0 even while a client holds a half-sent head", async () => {
  await using cli = await startCli({ args: ["-r", FIXTURE_ROOT, "--quiet"] });
  using client = await RawClient.connect(cli.port);
  await client.send("GET /dir/page.txt HTTP/1.1\r\nHo");
  // Make sure the server has the connection before the signal.
  using other = await RawClient.connect(cli.port);
  await other.send("GET /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n");
  assert.equal((await other.readResponse()).status, 200);
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
  assert.equal(exit.signal, null);
  assert.equal(await other.serverClosed(), true);
});

Deno.test("SIGINT stops accepting, lets a download in flight finish, exits 0", async () => {
  using dir = tempDir();
  // Well over what the socket buffers hold, so still in flight at the
  // signal; small enough to finish within the 5 s grace on a loaded
  // machine.
  const size = 16 * 1024 * 1024;
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(0));
  Deno.truncateSync(`${dir.path}/big.bin`, size);
  await using cli = await startCli({ args: ["-r", dir.path, "--quiet"] });
  using client = await RawClient.connect(cli.port);
  await client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
  const response = await client.readResponse({ head: true });
  assert.equal(header(response, "content-length"), String(size));
  await client.discard(1024 * 1024);

  const exited = cli.stop("SIGINT");
  // New connections are refused once the signal is handled.
  let refused = false;
  for (let i = 0; i < 40 && !refused; i++) {
    try {
      const probe = await Deno.connect({
        hostname: "127.0.0.1",
        port: cli.port,
      });
      probe.close();
      await new Promise((resolve) => setTimeout(resolve, 25));
    } catch (error) {
      // A connection the kernel queued just as the listener closed is reset.
      if (error instanceof Deno.errors.ConnectionReset) continue;
      assert.ok(error instanceof Deno.errors.ConnectionRefused, String(error));
      refused = true;
    }
  }
  assert.equal(refused, true);

  await client.discard(size - 1024 * 1024);
  assert.equal(await client.serverClosed(), true);
  const exit = await exited;
  assert.equal(exit.code, 0, cli.stderr());
});

/** write(2)'s number in /proc/PID/task/TID/syscall, on this architecture. */
const WRITE_SYSCALL: number | undefined =
  ({ x86_64: 1, aarch64: 64 } as Record<string, number>)[Deno.build.arch];

/** Why a process's blocked writes cannot be seen here, if they cannot. */
const syscallSkip = (() => {
  if (WRITE_SYSCALL === undefined) {
    return `write(2)'s number on ${Deno.build.arch} is not known here`;
  }
  try {
    Deno.readTextFileSync("/proc/self/syscall");
    return undefined;
  } catch (error) {
    return `/proc/self/syscall cannot be read (${error})`;
  }
})();

/**
 * Whether a thread of `pid` is inside write(2) on its fd 1, its stdout:
 * seen twice, 300 ms apart, that is a write blocked on a full pipe.
 */
function writingStdout(pid: number): boolean {
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    let line: string;
    try {
      line = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/syscall`);
    } catch (error) {
      // The thread ended while we looked.
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    // "NR ARG0 ARG1 ...": the number in decimal, the arguments in hex.
    const [nr, fd] = line.trim().split(" ");
    if (Number(nr) === WRITE_SYSCALL && Number(fd) === 1) return true;
  }
  return false;
}

if (syscallSkip !== undefined) {
  console.warn(
    `SKIPPED: SIGTERM with an unread stdout: cannot tell that the pipe ` +
      `filled: ${syscallSkip}`,
  );
}

Deno.test({
  name: "SIGTERM exits 0 even when nobody reads stdout (the access log)",
  ignore: syscallSkip !== undefined,
  async fn(t) {
    // A stalled log collector: the pipe fills, and the last lines can never
    // be written. They are dropped; the exit is not held.
    for (const workers of ["1", "2"]) {
      await t.step(`-w ${workers}`, async () => {
        await using cli = await startCli({
          args: ["-r", FIXTURE_ROOT, "-w", workers],
          stdout: "unread",
        });
        // About 150 KB of log lines against a 64 KiB pipe.
        const request = "GET /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n";
        for (let batch = 0; batch < 20; batch++) {
          using client = await RawClient.connect(cli.port);
          await client.send(request.repeat(50));
          for (let i = 0; i < 50; i++) {
            assert.equal((await client.readResponse()).status, 200);
          }
        }
        // The access log is written every 200 ms: once it is, the pipe is
        // full and the server's write to it (the supervisor's, with -w 2)
        // stays blocked. A server that logged nothing, or less than the
        // pipe holds, is never seen there.
        await waitFor(
          "a write to the full stdout pipe",
          () => writingStdout(cli.pid),
          5_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.ok(writingStdout(cli.pid), "the write to stdout went through");
        const exit = await cli.stop("SIGTERM");
        assert.equal(
          exit.signal,
          null,
          `killed after the grace: ${cli.stderr()}`,
        );
        assert.equal(exit.code, 0, cli.stderr());
      });
    }
  },
});

Deno.test("-w 1: SIGHUP is ignored with a note, and a second SIGTERM stops at once", async () => {
  using dir = tempDir();
  const size = 64 * 1024 * 1024;
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(0));
  Deno.truncateSync(`${dir.path}/big.bin`, size);
  await using cli = await startCli({ args: ["-r", dir.path, "--quiet"] });
  Deno.kill(cli.pid, "SIGHUP");
  using client = await RawClient.connect(cli.port);
  await client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
  // Still serving after the SIGHUP.
  const response = await client.readResponse({ head: true });
  assert.equal(response.status, 200);
  // The note is written as the signal is handled, and read by the test's
  // own stderr reader: it may arrive after the response.
  const note = /^httpd\.ts: SIGHUP ignored: .*-w 2/m;
  await waitFor("the SIGHUP note", () => note.test(cli.stderr()), 10_000);
  // The download stalls (the client reads no more): the first SIGTERM
  // waits for it, up to the 5 s grace; the second does not.
  Deno.kill(cli.pid, "SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopped = Date.now();
  Deno.kill(cli.pid, "SIGTERM");
  const exit = await cli.status();
  assert.ok(Date.now() - stopped < 3_000, "stopped before the grace ran out");
  assert.equal(exit.code, 0, cli.stderr());
});

Deno.test("-w 1: a pid file that cannot be written is one line and exit 1", async () => {
  using dir = tempDir();
  const output = await runCli([
    "-r",
    FIXTURE_ROOT,
    "-p",
    "0",
    "--host",
    "127.0.0.1",
    "--pid-file",
    `${dir.path}/missing/httpd.pid`,
  ]);
  assert.equal(output.code, 1, output.stderr);
  assert.match(
    output.stderr,
    /^httpd\.ts: Cannot write pid file .*missing\/httpd\.pid: .+\n$/,
  );
});

Deno.test("-w 1: stopping removes the pid file it wrote", async () => {
  using dir = tempDir();
  const pidFile = `${dir.path}/httpd.pid`;
  await using cli = await startCli({
    args: ["-r", FIXTURE_ROOT, "--quiet", "--pid-file", pidFile],
  });
  assert.equal(Deno.readTextFileSync(pidFile), `${cli.pid}\n`);
  assert.equal((await cli.stop("SIGTERM")).code, 0);
  assert.throws(() => Deno.statSync(pidFile), Deno.errors.NotFound);
});

/** Whether anything listens on 127.0.0.1:9229, Deno's inspector's address. */
function inspectorListening(): boolean {
  // /proc/net/tcp: local address as hex IP:port, state 0A for LISTEN.
  return Deno.readTextFileSync("/proc/net/tcp").split("\n").some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === "0100007F:2405" && fields[3] === "0A";
  });
}

/** Deno arms its SIGUSR1 inspector half a second after start. */
const INSPECTOR_ARMED_MS = 1000;

/**
 * Sends SIGUSR1 to `pid` until its stderr (`said()`) tells that it closed
 * the debugger: on a loaded machine Deno may not have armed its inspector
 * by the first signal, which is then only ignored. At most three tries.
 */
async function sigusr1UntilClosed(pid: number, said: () => string) {
  const count = (text: string) => said().split(text).length - 1;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const ignored = count("SIGUSR1: ignored");
    Deno.kill(pid, "SIGUSR1");
    await waitFor(
      "a SIGUSR1 note",
      () => count("SIGUSR1: closed") > 0 || count("SIGUSR1: ignored") > ignored,
      10_000,
    );
    if (count("SIGUSR1: closed") > 0) return;
    await new Promise((resolve) => setTimeout(resolve, INSPECTOR_ARMED_MS));
  }
  assert.fail(`no debugger was closed: ${said()}`);
}

Deno.test("-w 1: SIGUSR1 closes the debugger Deno opens for it, and SIGUSR2 is ignored, not the death it is by default", async () => {
  // Log rotation sends SIGUSR1 (nginx reopens its logs on it); Deno 2.9.2
  // and later answer it by opening their inspector on 127.0.0.1:9229, a
  // debugger anyone on the host could attach to.
  assert.equal(inspectorListening(), false, "127.0.0.1:9229 is taken already");
  using dir = tempDir();
  const pidFile = `${dir.path}/httpd.pid`;
  await using cli = await startCli({
    args: ["-r", FIXTURE_ROOT, "--quiet", "--pid-file", pidFile],
  });
  await new Promise((resolve) => setTimeout(resolve, INSPECTOR_ARMED_MS));
  await sigusr1UntilClosed(cli.pid, cli.stderr);
  assert.match(
    cli.stderr(),
    /^httpd\.ts: SIGUSR1: closed the debugger Deno opened for it on 127\.0\.0\.1:9229 \(.+\)$/m,
  );
  Deno.kill(cli.pid, "SIGUSR2");
  const usr2 = /^httpd\.ts: SIGUSR2 ignored \(.+\)$/m;
  await waitFor("the SIGUSR2 note", () => usr2.test(cli.stderr()), 10_000);
  assert.match(
    cli.stderr(),
    /^Debugger listening on ws:\/\/127\.0\.0\.1:9229\//m,
  );
  assert.equal(inspectorListening(), false, "the debugger left open");
  using client = await RawClient.connect(cli.port);
  await client.send("GET /dir/page.txt HTTP/1.1\r\nHost: test\r\n\r\n");
  assert.equal((await client.readResponse()).status, 200);
  assert.equal(Deno.readTextFileSync(pidFile), `${cli.pid}\n`);
  assert.equal((await cli.stop("SIGTERM")).code, 0, cli.stderr());
  assert.throws(() => Deno.statSync(pidFile), Deno.errors.NotFound);
});

Deno.test("-w 1: SIGUSR1 ends at once, with status 1, a process that may not close the debugger Deno opens for it", async () => {
  // Without --allow-sys the inspector cannot be closed from inside: only
  // the end of the process closes it, and a graceful stop would leave it
  // open for seconds. Status 1 lets a service manager restart the server.
  using dir = tempDir();
  const pidFile = `${dir.path}/httpd.pid`;
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(0));
  Deno.truncateSync(`${dir.path}/big.bin`, 64 * 1024 * 1024);
  await using cli = await startCli({
    args: ["-r", dir.path, "--quiet", "--pid-file", pidFile],
    permissions: [
      "--allow-net=127.0.0.1",
      `--allow-read=${dir.path}`,
      `--allow-write=${dir.path}`,
    ],
  });
  await new Promise((resolve) => setTimeout(resolve, INSPECTOR_ARMED_MS));
  // A download under way is not waited for.
  using client = await RawClient.connect(cli.port);
  await client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
  assert.equal((await client.readResponse({ head: true })).status, 200);
  Deno.kill(cli.pid, "SIGUSR1");
  const exit = await cli.status();
  assert.equal(exit.code, 1, cli.stderr());
  assert.match(
    cli.stderr(),
    /^httpd\.ts: SIGUSR1: .*only --allow-sys lets httpd\.ts close it: exiting at once, status 1$/m,
  );
  assert.throws(() => Deno.statSync(pidFile), Deno.errors.NotFound);
  assert.equal(inspectorListening(), false);
});

Deno.test("-w 1: stopping leaves a pid file another instance has claimed since", async () => {
  using dir = tempDir();
  const pidFile = `${dir.path}/httpd.pid`;
  await using cli = await startCli({
    args: ["-r", FIXTURE_ROOT, "--quiet", "--pid-file", pidFile],
  });
  assert.equal(Deno.readTextFileSync(pidFile), `${cli.pid}\n`);
  Deno.writeTextFileSync(pidFile, "999999\n"); // the instance started after
  assert.equal((await cli.stop("SIGTERM")).code, 0);
  assert.equal(Deno.readTextFileSync(pidFile), "999999\n");
});

/** Whether `path` and every directory above it let others read it. */
function othersMayRead(path: string): boolean {
  if ((Deno.statSync(path).mode! & 0o004) === 0) return false;
  for (let dir = path; dir !== "/";) {
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    if ((Deno.statSync(dir).mode! & 0o001) === 0) return false;
  }
  return true;
}

/**
 * How httpd runs as a user the file system holds to its permissions: as
 * this process, unless it is root, which may look inside any directory;
 * then as `nobody`, through setpriv, which needs the checkout readable to
 * others and a copy of the npm cache (root's own is not).
 */
const unprivileged = Deno.uid() !== 0
  ? "self"
  : ["/usr/bin/setpriv", "/bin/setpriv"].some((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    }) && othersMayRead(HTTPD)
  ? "nobody"
  : undefined;

if (unprivileged === undefined) {
  console.warn(
    "SKIPPED: a root the server may not look inside: running as root, " +
      "without setpriv to drop that or a checkout others may read",
  );
}

/** Runs httpd with `args` as {@linkcode unprivileged} says; `dir` is scratch. */
async function runUnprivileged(
  dir: string,
  args: string[],
): Promise<Deno.CommandOutput> {
  const run = async (
    command: string,
    args: string[],
    env?: Record<string, string>,
  ) => {
    // A server that starts instead of refusing is stopped here.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    try {
      return await new Deno.Command(command, {
        args,
        env,
        cwd: REPO_ROOT,
        stdin: "null",
        signal: controller.signal,
      }).output();
    } finally {
      clearTimeout(timer);
    }
  };
  if (unprivileged === "self") {
    return run(Deno.execPath(), ["run", "-A", HTTPD, ...args]);
  }
  const info = await run(Deno.execPath(), ["info", "--json"]);
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
  const ownDir = `${dir}/deno`;
  Deno.mkdirSync(ownDir);
  const copied = await run("cp", ["-r", `${denoDir}/npm`, `${ownDir}/npm`]);
  assert.ok(copied.success, "the npm cache copied");
  await run("chmod", ["-R", "a+rwX", ownDir]);
  return run("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    Deno.execPath(),
    "run",
    "--cached-only",
    "--no-check",
    "-A",
    HTTPD,
    ...args,
  ], { DENO_DIR: ownDir, HOME: dir, NO_COLOR: "1" });
}

Deno.test({
  name:
    "a root the server may not look inside is one line and exit 1, not a server that answers 403",
  ignore: unprivileged === undefined,
  async fn() {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o755);
    const root = `${dir.path}/root`;
    Deno.mkdirSync(root);
    Deno.writeTextFileSync(`${root}/index.html`, "hi\n");
    Deno.chmodSync(root, 0o600); // readable, not searchable
    try {
      const output = await runUnprivileged(dir.path, [
        "-r",
        root,
        "-p",
        "0",
        "--host",
        "127.0.0.1",
      ]);
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      assert.equal(
        stderr,
        `httpd.ts: Cannot serve ${root}: permission denied: cannot look inside it\n`,
      );
    } finally {
      Deno.chmodSync(root, 0o755);
    }
  },
});

for (const workers of ["1", "2"]) {
  Deno.test(`-w ${workers}: a root whose real path cannot be read says so in one line, not 'Cannot listen'`, async () => {
    using dir = tempDir();
    Deno.mkdirSync(`${dir.path}/root`);
    Deno.symlinkSync(`${dir.path}/root`, `${dir.path}/link`);
    const output = await runCli(
      [
        "-r",
        `${dir.path}/link`,
        "-p",
        "0",
        "--host",
        "127.0.0.1",
        "-w",
        workers,
      ],
      [`--allow-read=${dir.path}/link`, "--allow-net", "--allow-run"],
    );
    assert.equal(output.code, 1, output.stderr);
    assert.match(
      output.stderr,
      /^httpd\.ts: Cannot serve .*\/link: .*read access.*\n$/,
    );
  });
}

Deno.test("-w 2: Ctrl-C, which reaches every process of the group, lets a download finish", async () => {
  using dir = tempDir();
  // Well over what the socket buffers hold, so still in flight at the
  // signal; small enough to finish within the 5 s grace on a loaded
  // machine.
  const size = 16 * 1024 * 1024;
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(0));
  Deno.truncateSync(`${dir.path}/big.bin`, size);
  // A process group of its own, as a shell gives a job.
  await using server = await startChild("setsid", [
    Deno.execPath(),
    "run",
    "-A",
    HTTPD,
    "-r",
    dir.path,
    "--quiet",
    "-w",
    "2",
    "-p",
    "0",
    "--host",
    "127.0.0.1",
  ]);
  using client = await RawClient.connect(server.port);
  await client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
  const response = await client.readResponse({ head: true });
  assert.equal(header(response, "content-length"), String(size));
  await client.discard(1024 * 1024);
  // The worker gets the SIGINT, then the supervisor's SIGTERM: two
  // signals, one graceful stop.
  Deno.kill(-server.pid, "SIGINT");
  await client.discard(size - 1024 * 1024);
  assert.equal(await client.serverClosed(), true);
  const { status } = await server.stop(null);
  assert.equal(status.code, 0, server.stderr());
});

Deno.test("-w 2 passes a --cache-control value that starts with a dash to its workers", async () => {
  await using cli = await startCli({
    args: ["-r", FIXTURE_ROOT, "--quiet", "-w", "2", "--cache-control=-x"],
  });
  using client = await RawClient.connect(cli.port);
  await client.send(get("/dir/page.txt"));
  const response = await client.readResponse();
  assert.equal(response.status, 200);
  assert.equal(header(response, "cache-control"), "-x");
});

Deno.test("the permission-scoped run serves the root and refuses outside it", async () => {
  using dir = tempDir();
  const root = `${dir.path}/root`;
  Deno.mkdirSync(root);
  Deno.writeTextFileSync(`${root}/index.html`, "scoped\n");
  Deno.writeTextFileSync(`${dir.path}/outside.txt`, "outside\n");
  Deno.symlinkSync(`${dir.path}/outside.txt`, `${root}/link.txt`);
  await using cli = await startCli({
    args: ["-r", root],
    permissions: ["--allow-net", `--allow-read=${root}`],
  });
  const cases: [string, number, string?][] = [
    ["/", 200, "scoped\n"],
    ["/index.html", 200, "scoped\n"],
    ["/link.txt", 403],
    ["/../outside.txt", 403],
    ["/%2e%2e/outside.txt", 403],
    ["/missing", 404],
  ];
  for (const [target, status, body] of cases) {
    using client = await RawClient.connect(cli.port);
    await client.send(get(target));
    const response = await client.readResponse();
    assert.equal(response.status, status, target);
    if (body !== undefined) assert.equal(text(response), body);
  }
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

Deno.test("the README's run serves www/ with --allow-read=www only", async () => {
  await using cli = await startCli({
    args: [],
    permissions: ["--allow-net", "--allow-read=www"],
    cwd: REPO_ROOT,
  });
  assert.match(
    cli.startupLine,
    new RegExp(`root=${Deno.realPathSync(`${REPO_ROOT}/www`)} `),
  );
  using client = await RawClient.connect(cli.port);
  await client.send(get("/"));
  const response = await client.readResponse();
  assert.equal(response.status, 200);
  assert.equal(header(response, "content-type"), "text/html");
  const exit = await cli.stop("SIGTERM");
  assert.equal(exit.code, 0, cli.stderr());
});

/** Whether this machine has an IPv6 loopback to listen on. */
const hasIpv6Loopback = (() => {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();

if (!hasIpv6Loopback) {
  console.warn(
    "SKIPPED: an IPv6 --host is bracketed in the startup line's URL, " +
      "and in the line saying the address is in use: " +
      "this machine cannot listen on ::1",
  );
}

Deno.test({
  name: "an IPv6 --host is bracketed in the startup line's URL",
  ignore: !hasIpv6Loopback,
  async fn() {
    await using server = await startChild(Deno.execPath(), [
      "run",
      "-A",
      HTTPD,
      "-r",
      FIXTURE_ROOT,
      "--quiet",
      "-p",
      "0",
      "--host",
      "::1",
    ]);
    assert.match(
      server.startupLine,
      new RegExp(`^httpd\\.ts: listening on http://\\[::1\\]:${server.port} `),
    );
  },
});

Deno.test({
  name: "an IPv6 address in use is bracketed in the one line that says so",
  ignore: !hasIpv6Loopback,
  async fn() {
    using listener = Deno.listen({ hostname: "::1", port: 0 });
    const port = listener.addr.port;
    const output = await runCli([
      "-r",
      FIXTURE_ROOT,
      "--host",
      "::1",
      "-p",
      `${port}`,
    ]);
    assert.equal(output.code, 1);
    assert.equal(
      output.stderr,
      `httpd.ts: Cannot listen on [::1]:${port}: address already in use\n`,
    );
  },
});

Deno.test("a download cut short by a stop still gets its access log line", async () => {
  using dir = tempDir();
  const size = 64 << 20;
  Deno.writeFileSync(`${dir.path}/big.bin`, new Uint8Array(size));
  await using server = await startChild(Deno.execPath(), [
    "run",
    "-A",
    HTTPD,
    "-r",
    dir.path,
    "-p",
    "0",
    "--host",
    "127.0.0.1",
  ], { stdout: "lines" });
  // A client that never reads: the answer stalls in the socket buffers.
  using client = await RawClient.connect(server.port);
  await client.send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The second stop signal aborts the connections at once.
  Deno.kill(server.pid, "SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 100));
  const { status } = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  const line = server.stdout().split("\n").find((l) => l.includes("/big.bin"));
  assert.ok(line !== undefined, `no log line in ${server.stdout()}`);
  const match = / 200 (\d+) /.exec(line);
  assert.ok(match !== null, line);
  const sent = Number(match[1]);
  assert.ok(sent > 0 && sent < size, `logged ${sent} of ${size} bytes`);
});

Deno.test("-w 1: a stderr pipe that is full costs lines, not the serving", async () => {
  // The shell fills the pipe, whatever its size, before the server starts,
  // and nobody reads it: a server that wrote stderr synchronously would
  // block at its startup line, its port bound and never served.
  const port = freePort();
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'timeout 1 cat /dev/zero >&2; exec "$0" "$@"',
      Deno.execPath(),
      "run",
      "-A",
      HTTPD,
      "-r",
      FIXTURE_ROOT,
      "-p",
      `${port}`,
      "--host",
      "127.0.0.1",
      "--quiet",
    ],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const deadline = Date.now() + 30_000;
    let response;
    while (response === undefined) {
      try {
        // Each read bounded by the raw client's deadline.
        response = await fetchRaw(port, get("/index.html"));
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
        if (Date.now() > deadline) assert.fail("never listened");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    assert.equal(response.status, 200);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stderr.cancel();
  }
});

/** A loopback port nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
