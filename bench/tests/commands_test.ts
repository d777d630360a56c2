import assert from "node:assert/strict";
import { createClientCommand, type LoadSettings } from "../_clients.ts";
import { FIXTURES } from "../_fixtures.ts";
import { MODES } from "../_modes.ts";
import { createServerCommand } from "../_server_command.ts";
import { ACCESS_LOG, COMPARE, PERMISSIONS, WORKERS } from "../_suites.ts";

const URL = "http://127.0.0.1:8080/1k.html";
const LOAD: LoadSettings = { requests: 5000, durationSeconds: 7 };

Deno.test("createClientCommand() bounds ab by -t before -n, and -k only for keep-alive", () => {
  const keepAlive = createClientCommand("ab-wrk", MODES["ab-k-1k"], URL, LOAD);
  // ab's -t resets -n to 50000: -n must come after it to be the count run.
  assert.deepEqual(keepAlive.argv, [
    ...["timeout", "-k", "5", "135"],
    ...["ab", "-q", "-r", "-t", "120", "-n", "5000", "-c", "100", "-k", URL],
  ]);
  const close = createClientCommand("ab-wrk", MODES["ab-r-1k"], URL, LOAD);
  assert.deepEqual(close.argv, [
    ...["timeout", "-k", "5", "135"],
    ...["ab", "-q", "-r", "-t", "120", "-n", "5000", "-c", "100", URL],
  ]);
});

Deno.test("createClientCommand() gives wrk its duration plus a grace to finish", () => {
  const wrk = createClientCommand("ab-wrk", MODES["wrk-954k"], URL, {
    ...LOAD,
    durationSeconds: 30,
  });
  assert.deepEqual(wrk.argv.slice(0, 4), ["timeout", "-k", "5", "45"]);
  assert.deepEqual(wrk.argv.slice(4, 8), ["wrk", "-t1", "-c10", "-d30s"]);
  assert.equal(wrk.argv.at(-1), URL);
});

Deno.test("createClientCommand() pins the client with taskset only when asked", () => {
  const pinned = createClientCommand("ab-wrk", MODES["wrk-1k"], URL, {
    ...LOAD,
    cpu: 1,
    serverCpu: 0,
  });
  assert.deepEqual(pinned.argv.slice(4, 8), ["taskset", "-c", "1", "wrk"]);
  const oha = createClientCommand("oha", MODES["ab-r-1k"], URL, {
    ...LOAD,
    cpu: 1,
  });
  assert.deepEqual(oha.argv.slice(4, 8), ["taskset", "-c", "1", "oha"]);
  assert.ok(oha.argv.includes("--disable-keepalive"));
  const free = createClientCommand("ab-wrk", MODES["wrk-1k"], URL, LOAD);
  assert.equal(free.argv[4], "wrk");
  assert.ok(!free.argv.includes("taskset"));
});

Deno.test("createServerCommand() pins a server with taskset only when asked", () => {
  const ctx = { root: "/r", port: 8080, stateDir: "/s", httpdPath: "httpd.ts" };
  const httpd = { id: "h", label: "h", kind: "httpd", workers: 1 } as const;
  const pinned = createServerCommand(httpd, { ...ctx, cpu: 0 });
  assert.deepEqual(pinned.slice(0, 3), ["taskset", "-c", "0"]);
  assert.equal(pinned[3], Deno.execPath());
  assert.equal(createServerCommand(httpd, ctx)[0], Deno.execPath());
});

Deno.test("FIXTURES are the issue's 38 B, 1 KB, 954,824 B and 10 MiB files", () => {
  assert.deepEqual(
    Object.values(FIXTURES).map((f) => [f.path, f.size]),
    [
      ["/38b.txt", 38],
      ["/1k.html", 1024],
      ["/954k.html", 954_824],
      ["/10m.bin", 10_485_760],
    ],
  );
});

Deno.test("MODES bind each load pattern to its file, connections and figure", () => {
  assert.deepEqual(
    Object.values(MODES).map((
      m,
    ) => [m.id, m.path, m.tool, m.connections, m.metric]),
    [
      ["ab-k-1k", "/1k.html", "ab-keepalive", 100, "req/s"],
      ["ab-r-1k", "/1k.html", "ab-close", 100, "req/s"],
      ["wrk-1k", "/1k.html", "wrk", 100, "req/s"],
      ["wrk-38b", "/38b.txt", "wrk", 100, "req/s"],
      ["wrk-954k", "/954k.html", "wrk", 10, "bytes/s"],
      ["wrk-10m", "/10m.bin", "wrk", 10, "bytes/s"],
    ],
  );
});

Deno.test("every suite gives nginx as many workers as httpd, and pins only one-worker runs", () => {
  for (const suite of [COMPARE, WORKERS, ACCESS_LOG, PERMISSIONS]) {
    const workers = (kind: string) =>
      suite.servers.filter((s) => s.kind === kind).map((s) => s.workers);
    const nginx = workers("nginx");
    const httpd = workers("httpd");
    assert.ok(nginx.length > 0 && httpd.length > 0, suite.name);
    // Each nginx matches an httpd, and the most workers httpd has, nginx has.
    for (const n of nginx) assert.ok(httpd.includes(n), suite.name);
    assert.ok(nginx.includes(Math.max(...httpd)), suite.name);
    assert.ok(
      suite.servers.some((s) => s.id === suite.reference),
      `${suite.name}: the reference is one of its servers`,
    );
    const oneWorker = suite.servers.every((s) => s.workers === 1);
    assert.equal(suite.pinned, oneWorker, suite.name);
  }
  assert.equal(
    WORKERS.servers.find((s) => s.id === WORKERS.reference)?.workers,
    2,
  );
});
