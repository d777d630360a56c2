/**
 * Runs a benchmark server on fresh fixtures for the length of a test.
 *
 * @module
 */
import { createDocumentRoot } from "../_fixtures.ts";
import { type RunningServer, startServer } from "../_server_process.ts";
import type { ServerSpec } from "../_types.ts";

/**
 * Starts `spec` on a free loopback port over a new document root, hands it
 * to `use`, then stops it and removes the root and its state.
 */
export async function withServer(
  spec: ServerSpec,
  use: (server: RunningServer, port: number) => Promise<void>,
): Promise<void> {
  const root = await createDocumentRoot();
  const stateDir = await Deno.makeTempDir({ prefix: "httpd-bench-test-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  try {
    const server = await startServer(
      spec,
      { root, port, stateDir, httpdPath: "httpd.ts" },
      stateDir,
    );
    try {
      await use(server, port);
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(stateDir, { recursive: true });
  }
}
