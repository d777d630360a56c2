/**
 * The command line: flag errors, help and version, the startup line,
 * graceful shutdown on signals, and the permission-scoped run.
 */

import assert from "node:assert/strict";
import {
  FIXTURE_ROOT,
  get,
  header,
  RawClient,
  REPO_ROOT,
  runCli,
  startCli,
  tempDir,
  text,
} from "./server/_harness.ts";

const BAD_FLAGS: [string, string[], RegExp][] = [
  ["an unknown flag", ["--nope"], /--nope/],
  ["an unknown short flag", ["-z"], /-z/],
  ["a positional argument", ["www"], /www/],
  ["port 70000", ["-p", "70000"], /--port '70000'/],
  ["a port that is not a number", ["-p", "http"], /--port 'http'/],
  ["a negative port", ["--port=-1"], /port/],
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
  ["a flag without its value", ["-r"], /root|-r/],
];

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
        "-h, --help",
        "-V, --version",
      ]
    ) {
      assert.ok(output.stdout.includes(option), option);
    }
    assert.equal(output.stderr, "");
  }
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
    /^httpd\.ts: cannot listen on 127\.0\.0\.1:\d+: address already in use\n$/,
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
  const size = 64 * 1024 * 1024;
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
