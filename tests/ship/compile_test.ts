/**
 * Builds the single binary with deploy/compile.ts (what `deno task compile`
 * runs) into a temporary directory and runs it through a few conformance
 * cases against the suite's document root.
 *
 * `deno compile` needs the denort runtime (a download from dl.deno.land, or
 * DENORT_BIN). Where neither is available compile.ts exits with status 3 and
 * one line saying so; this file then registers its tests as ignored and
 * prints that line, so a missing runtime is a loud skip, never a pass. Any
 * other compile failure fails the test.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { EXIT_NO_RUNTIME } from "../../deploy/compile.ts";
import {
  announceSkip,
  exists,
  REPO_ROOT,
  request,
  type RunningServer,
  startServer,
  SUITE_FILE,
  SUITE_ROOT,
} from "./_server.ts";

/** Outcome of trying to build the binary, decided before tests register. */
type Build =
  | { kind: "built"; binary: string; dir: string }
  | { kind: "skipped"; reason: string }
  | { kind: "failed"; output: string };

async function tryBuild(): Promise<Build> {
  if (!exists(join(REPO_ROOT, "httpd.ts"))) {
    return { kind: "skipped", reason: "httpd.ts does not exist yet" };
  }
  const dir = await Deno.makeTempDir({ prefix: "httpd-compile-" });
  const binary = join(dir, "httpd");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "deploy/compile.ts", "--output", binary],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // Type-checking and embedding take a while on a loaded machine; a hung
    // download must still end.
    signal: AbortSignal.timeout(300_000),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.success && exists(binary)) return { kind: "built", binary, dir };
  await Deno.remove(dir, { recursive: true });
  if (out.code === EXIT_NO_RUNTIME) {
    return { kind: "skipped", reason: stderr.split("\n").pop() ?? stderr };
  }
  return {
    kind: "failed",
    output: `deploy/compile.ts exited ${out.code}:\n${stderr}`,
  };
}

const build = await tryBuild();
if (build.kind === "skipped") announceSkip("compile_test.ts", build.reason);

async function withBinary(
  binary: string,
  extraArgs: string[],
  workers: number,
  fn: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startServer(binary, [
    "-r",
    SUITE_ROOT,
    "-p",
    "0",
    "--host",
    "127.0.0.1",
    "--quiet",
    ...extraArgs,
  ]);
  let stopped = false;
  try {
    // Printed once every worker is ready: -w 2 really started two.
    assert.ok(
      server.startupLine.endsWith(` workers=${workers}`),
      `not ${workers} worker(s): ${server.startupLine}`,
    );
    await fn(server);
    const status = await server.stop("SIGTERM");
    stopped = true;
    assert.equal(status.code, 0, server.stderr());
  } finally {
    if (!stopped) await server.stop("SIGKILL");
  }
}

async function checkConformance(server: RunningServer): Promise<void> {
  const expected = await Deno.readFile(join(SUITE_ROOT, SUITE_FILE));

  const get = await request(server.port, "GET", SUITE_FILE);
  assert.equal(get.status, 200, server.stderr());
  assert.equal(get.headers.get("content-length"), String(expected.length));
  assert.deepEqual(get.body, expected);

  const missing = await request(server.port, "GET", "/httptest/no-such-file");
  assert.equal(missing.status, 404);

  const head = await request(server.port, "HEAD", SUITE_FILE);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(expected.length));
  assert.equal(head.body.length, 0);
}

Deno.test({
  // Not `deno task compile` itself: that writes dist/httpd in the checkout.
  // The same script, deploy/compile.ts, builds into a temporary directory.
  name: "deploy/compile.ts --output TMP builds a binary that serves GET, " +
    "404 and HEAD like deno run",
  ignore: build.kind === "skipped",
  async fn(t) {
    if (build.kind === "failed") assert.fail(build.output);
    if (build.kind !== "built") return;
    try {
      await t.step(
        "single process",
        () => withBinary(build.binary, [], 1, checkConformance),
      );
      await t.step({
        name: "-w 2 re-runs the binary itself for its workers",
        ignore: !exists(join(REPO_ROOT, "server/workers.ts")),
        fn: () => withBinary(build.binary, ["-w", "2"], 2, checkConformance),
      });
    } finally {
      await Deno.remove(build.dir, { recursive: true });
    }
  },
});
