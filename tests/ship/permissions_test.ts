/**
 * The least-privilege commands from the README, run for real: net only on the
 * listen address, read only on the root (and, for `-w N`, run only on deno
 * itself). A symlink inside the root that points outside it must be refused
 * with 403 by the sandbox or the server's real-path check, and the server
 * must keep serving afterwards.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  announceSkip,
  exists,
  findFreePort,
  REPO_ROOT,
  request,
  type RunningServer,
  startServer,
} from "./_server.ts";

const HAS_SERVER = exists(join(REPO_ROOT, "httpd.ts"));
const HAS_WORKERS = exists(join(REPO_ROOT, "server/workers.ts"));
const SECRET = "outside the root: must never be served\n";

/** A document root with one file and one symlink escaping to a sibling. */
interface Sandbox {
  root: string;
  dispose(): Promise<void>;
}

async function createSandbox(): Promise<Sandbox> {
  // Real paths, so the --allow-read grant and -r name the same directory.
  const base = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "httpd-perm-" }),
  );
  const root = join(base, "root");
  const outside = join(base, "outside");
  await Deno.mkdir(root);
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(root, "hello.txt"), "hello\n");
  await Deno.writeTextFile(join(outside, "secret.txt"), SECRET);
  await Deno.symlink(join(outside, "secret.txt"), join(root, "escape.txt"));
  return {
    root,
    dispose: () => Deno.remove(base, { recursive: true }),
  };
}

/** The scoped `deno run` argument list for `root` and `port`. */
function scopedArgs(
  root: string,
  port: number,
  denoFlags: string[],
  serverFlags: string[],
): string[] {
  return [
    "run",
    `--allow-net=127.0.0.1:${port}`,
    `--allow-read=${root}`,
    ...denoFlags,
    "httpd.ts",
    ...serverFlags,
    "-r",
    root,
    "-p",
    String(port),
    "--host",
    "127.0.0.1",
    "--quiet",
  ];
}

async function assertRefusesEscape(server: RunningServer): Promise<void> {
  const first = await request(server.port, "GET", "/hello.txt");
  assert.equal(first.status, 200, server.stderr());
  assert.equal(new TextDecoder().decode(first.body), "hello\n");

  const escaped = await request(server.port, "GET", "/escape.txt");
  assert.equal(escaped.status, 403, server.stderr());
  assert.ok(
    !new TextDecoder().decode(escaped.body).includes("outside the root"),
    "the refused response must not carry the file outside the root",
  );

  // Still alive and serving: the refusal was an answer, not a crash.
  const again = await request(server.port, "GET", "/hello.txt");
  assert.equal(again.status, 200, server.stderr());
  const head = await request(server.port, "HEAD", "/escape.txt");
  assert.equal(head.status, 403);
}

async function runScoped(
  denoFlags: string[],
  serverFlags: string[],
  workers: number,
): Promise<void> {
  const sandbox = await createSandbox();
  try {
    const port = findFreePort();
    const server = await startServer(
      Deno.execPath(),
      scopedArgs(sandbox.root, port, denoFlags, serverFlags),
    );
    let stopped = false;
    try {
      assert.equal(server.port, port);
      // The supervisor prints the line once every worker is ready: with
      // -w 2 under these grants, two workers really started.
      assert.ok(
        server.startupLine.endsWith(` workers=${workers}`),
        `not ${workers} worker(s): ${server.startupLine}`,
      );
      await assertRefusesEscape(server);
      const status = await server.stop("SIGTERM");
      stopped = true;
      assert.equal(status.code, 0, server.stderr());
    } finally {
      if (!stopped) await server.stop("SIGKILL");
    }
  } finally {
    await sandbox.dispose();
  }
}

if (!HAS_SERVER) {
  announceSkip(
    "permissions_test.ts",
    "httpd.ts does not exist yet, nothing to run",
  );
}

Deno.test({
  name: "httpd.ts under --allow-net=HOST:PORT --allow-read=ROOT refuses a " +
    "symlink out of the root with 403 and keeps serving",
  ignore: !HAS_SERVER,
  fn: () => runScoped([], [], 1),
});

if (HAS_SERVER && !HAS_WORKERS) {
  announceSkip(
    "permissions_test.ts -w 2",
    "server/workers.ts does not exist, so -w 2 cannot run",
  );
}

Deno.test({
  name: "httpd.ts -w 2 under --allow-run=DENO --allow-net=HOST:PORT " +
    "--allow-read=ROOT refuses a symlink out of the root with 403 and keeps " +
    "serving",
  ignore: !HAS_SERVER || !HAS_WORKERS,
  // The supervisor may run only deno itself, which it re-runs per worker.
  fn: () => runScoped([`--allow-run=${Deno.execPath()}`], ["-w", "2"], 2),
});
