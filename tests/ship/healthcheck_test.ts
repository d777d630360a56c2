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

/** Runs deploy/healthcheck.ts against `address`; resolves with its status. */
async function runHealthcheck(address: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "deploy/healthcheck.ts", address],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
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
