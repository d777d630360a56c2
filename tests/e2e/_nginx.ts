/**
 * Runs Debian's nginx as the reference server: a generated configuration in
 * a temporary directory, one process in the foreground, loopback only.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CollectedChild,
  findExecutable,
  sleep,
  spawnCollected,
  stopChild,
  type StopResult,
} from "./_process.ts";

/** Printed when nginx is absent; the test fails rather than skip. */
export const NGINX_MISSING =
  "Cannot find nginx: install it (Debian: `apt-get install -y nginx`) " +
  "or point NGINX_BIN at an nginx executable";

/** A running nginx child. */
export interface RunningNginx {
  /** The loopback port it listens on. */
  port: number;
  /** The child and its output. */
  child: CollectedChild;
  /** SIGTERM (fast shutdown), then reap. */
  stop(): Promise<StopResult>;
}

/** Finds nginx: `NGINX_BIN` if set, else `nginx` on PATH or in sbin. */
export async function findNginx(): Promise<string> {
  const fromEnv = Deno.env.get("NGINX_BIN");
  if (fromEnv) {
    const found = await Deno.stat(fromEnv).then(
      (info) => info.isFile,
      () => false,
    );
    if (!found) {
      throw new Error(`${NGINX_MISSING} (NGINX_BIN=${fromEnv} does not exist)`);
    }
    return fromEnv;
  }
  const path = await findExecutable("nginx");
  if (path === undefined) throw new Error(NGINX_MISSING);
  return path;
}

/** Asks the kernel for a free loopback port, then releases it. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The configuration: the stock MIME table (Debian's mime.types) so its
 * Content-Type answers are an independent reference for httpd's, and every
 * path nginx might write to inside `dir`.
 */
function nginxConfig(dir: string, root: string, port: number): string {
  const mimeTypes = "/etc/nginx/mime.types";
  return [
    "daemon off;",
    // One process: nothing to orphan, and SIGTERM ends it.
    "master_process off;",
    "worker_processes 1;",
    `pid ${join(dir, "nginx.pid")};`,
    `error_log ${join(dir, "error.log")} warn;`,
    "events { worker_connections 256; }",
    "http {",
    `  include ${mimeTypes};`,
    "  default_type application/octet-stream;",
    "  access_log off;",
    "  server_tokens off;",
    `  client_body_temp_path ${join(dir, "client_body")};`,
    `  proxy_temp_path ${join(dir, "proxy")};`,
    `  fastcgi_temp_path ${join(dir, "fastcgi")};`,
    `  uwsgi_temp_path ${join(dir, "uwsgi")};`,
    `  scgi_temp_path ${join(dir, "scgi")};`,
    "  server {",
    `    listen 127.0.0.1:${port};`,
    `    root ${root};`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
async function accepts(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts nginx serving `root` on a free loopback port, its files in `dir`.
 * Retries a few times because the free port can be taken between asking
 * and binding; each wait is bounded.
 */
export async function startNginx(
  nginx: string,
  dir: string,
  root: string,
): Promise<RunningNginx> {
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const conf = join(dir, "nginx.conf");
    await Deno.writeTextFile(conf, nginxConfig(dir, root, port));
    // -e before the configuration is read keeps nginx from touching the
    // system log directory; -p keeps relative paths inside `dir`.
    const child = spawnCollected(nginx, {
      args: ["-p", `${dir}/`, "-e", join(dir, "error.log"), "-c", conf],
    });
    let exited = false;
    child.process.status.then(() => exited = true, () => exited = true);
    const end = Date.now() + 15_000;
    while (!exited && Date.now() < end) {
      if (await accepts(port)) {
        return { port, child, stop: () => stopChild(child) };
      }
      await sleep(50);
    }
    await stopChild(child, "SIGKILL");
    const log = await Deno.readTextFile(join(dir, "error.log")).catch(() => "");
    lastError = [...child.stderr, log].join("\n").trim();
  }
  throw new Error(`Cannot start nginx:\n${lastError}`);
}
