import assert from "node:assert/strict";
import { join } from "node:path";
import { parseTarget } from "../../deploy/healthcheck.ts";
import {
  announceSkip,
  exists,
  findFreePort,
  REPO_ROOT,
  startServer,
} from "./_server.ts";

const ENTRY = ["deno", "run", "--cached-only", "/app/httpd.ts", "-r", "/www"];

const TARGETS: [string, string[], string][] = [
  ["defaults", [], "127.0.0.1:8080"],
  ["the image's CMD", ["--host", "0.0.0.0", "-p", "8080"], "127.0.0.1:8080"],
  ["-p N", ["-p", "9000"], "127.0.0.1:9000"],
  ["-pN", ["-p9001"], "127.0.0.1:9001"],
  ["--port=N", ["--port=9002"], "127.0.0.1:9002"],
  ["--host loopback", ["--host", "127.0.0.2", "-p", "1"], "127.0.0.2:1"],
  ["--host ::", ["--host", "::", "-p", "80"], "::1:80"],
  ["--host [::1]", ["--host=[::1]", "-p", "80"], "::1:80"],
  ["the last -p", ["-p", "1", "-w", "2", "-p", "2"], "127.0.0.1:2"],
];

for (const [label, args, want] of TARGETS) {
  Deno.test(`parseTarget() reads ${label}`, () => {
    const { hostname, port } = parseTarget([...ENTRY, ...args]);
    assert.equal(`${hostname}:${port}`, want);
  });
}

Deno.test("parseTarget() skips an init's own arguments before the script", () => {
  const argv = ["/run/podman-init", "--", ...ENTRY, "-p", "7000"];
  assert.deepEqual(parseTarget(argv), { hostname: "127.0.0.1", port: 7000 });
});

const HAS_SERVER = exists(join(REPO_ROOT, "httpd.ts"));
if (!HAS_SERVER) {
  announceSkip("healthcheck_test.ts", "httpd.ts does not exist yet");
}

/**
 * Runs deploy/healthcheck.ts against `address`; resolves with its status.
 * `signal` kills it (SIGTERM) when it aborts.
 */
async function runHealthcheck(
  address: string,
  signal?: AbortSignal,
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "deploy/healthcheck.ts", address],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
}

Deno.test({
  name: "deploy/healthcheck.ts exits 0 for a running server and 1 for a " +
    "closed port",
  ignore: !HAS_SERVER,
  async fn() {
    const server = await startServer(Deno.execPath(), [
      "run",
      "-A",
      "httpd.ts",
      "-r",
      "www",
      "-p",
      "0",
      "--host",
      "127.0.0.1",
      "--quiet",
    ]);
    try {
      const up = await runHealthcheck(`127.0.0.1:${server.port}`);
      assert.equal(up.code, 0, new TextDecoder().decode(up.stderr));
    } finally {
      await server.stop();
    }
    const down = await runHealthcheck(`127.0.0.1:${findFreePort()}`);
    assert.equal(down.code, 1);
    assert.match(
      new TextDecoder().decode(down.stderr),
      /^Health check failed: /,
    );
  },
});

/**
 * Listens on a loopback port of its own, hands one accepted connection to
 * `serve` (which must end once the peer has gone) and `use`s the address.
 * The listener and the connection are closed before it resolves.
 */
async function withPeer(
  serve: (conn: Deno.TcpConn) => Promise<void>,
  use: (address: string) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await serve(conn);
    } finally {
      conn.close();
    }
  })();
  try {
    await use(`127.0.0.1:${listener.addr.port}`);
  } finally {
    // An accept still waiting (the check never connected) ends here.
    listener.close();
    await served.catch(() => {});
  }
}

/** Reads what the peer sends up to the end of its head, or to its end. */
async function readHead(conn: Deno.TcpConn): Promise<string> {
  const buffer = new Uint8Array(1024);
  let text = "";
  // Bounded by the health check's own deadline: it exits within 3 s.
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

/** Reads and discards until the peer closes (or resets) the connection. */
async function readToEnd(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    while ((await conn.read(buffer)) !== null) {
      // Nothing to do: the check must get no answer.
    }
  } catch {
    // A reset is an end too.
  }
}

const ANSWERS: [string, string, number, RegExp][] = [
  [
    "a 503",
    "HTTP/1.1 503 Service Unavailable\r\n\r\n",
    1,
    /^Health check failed: unexpected answer HTTP\/1\.1 503 Service Unavailable\n$/,
  ],
  ["a 404", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, /^$/],
  ["an HTTP/1.0 200", "HTTP/1.0 200 OK\r\n\r\n", 0, /^$/],
  [
    "something that is not HTTP",
    "SSH-2.0-OpenSSH_9.6\r\n",
    1,
    /^Health check failed: unexpected answer SSH-2\.0-OpenSSH_9\.6\n$/,
  ],
];

for (const [label, answer, code, stderr] of ANSWERS) {
  Deno.test(`deploy/healthcheck.ts exits ${code} for ${label}`, async () => {
    let head = "";
    await withPeer(async (conn) => {
      head = await readHead(conn);
      await conn.write(new TextEncoder().encode(answer));
    }, async (address) => {
      const out = await runHealthcheck(address);
      const text = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, code, text);
      assert.match(text, stderr);
    });
    assert.match(head, /^HEAD \/ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  });
}

Deno.test("deploy/healthcheck.ts exits 1 for a peer that closes at once", async () => {
  await withPeer(() => Promise.resolve(), async (address) => {
    const out = await runHealthcheck(address);
    const text = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, text);
    // A close before the request arrived may reach the check as a reset.
    assert.match(
      text,
      /^Health check failed: (unexpected answer none|.*(reset|broken pipe).*)\n$/i,
    );
  });
});

Deno.test("deploy/healthcheck.ts exits 1 within its 3 s for a peer that never answers", async () => {
  await withPeer(readToEnd, async (address) => {
    const started = performance.now();
    // The script's deadline is 3 s; past 10 s it is killed, and fails here.
    const out = await runHealthcheck(address, AbortSignal.timeout(10_000));
    const elapsed = performance.now() - started;
    const text = new TextDecoder().decode(out.stderr);
    assert.equal(out.signal, null, `killed after ${elapsed} ms: ${text}`);
    assert.equal(out.code, 1, text);
    assert.equal(text, "Health check failed: no answer within 3 s\n");
    assert.ok(elapsed >= 2_900, `gave up after ${elapsed} ms`);
  });
});

Deno.test("deploy/healthcheck.ts says what it expected of an address without a port", async () => {
  const out = await runHealthcheck("8080");
  const text = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, text);
  assert.equal(text, "Health check failed: expected HOST:PORT, got 8080\n");
});
