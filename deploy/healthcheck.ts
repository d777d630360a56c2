/**
 * Container health check for httpd.ts that needs nothing but deno: it opens a
 * TCP connection to the server, sends a raw `HEAD /` and exits 0 when an HTTP
 * response with a status below 500 comes back (a 404 still proves the server
 * answers), 1 otherwise.
 *
 * The address is read from the server's own command line, /proc/1/cmdline,
 * so `podman run … localhost/httpd:latest -p 9000` is checked on port 9000
 * without extra configuration. An explicit `HOST:PORT` argument overrides it.
 *
 * Permissions: deno allows reading /proc/<pid> files only with
 * `--allow-all`, so the HEALTHCHECK runs it that way; with an explicit
 * `HOST:PORT` argument `--allow-net` is enough.
 *
 * @module
 */

import { formatAuthority } from "../server/_authority.ts";

/** Give up after this long; the HEALTHCHECK --timeout is a bit longer. */
const DEADLINE_MS = 3000;

/** Where the health check connects. */
export interface Target {
  hostname: string;
  port: number;
}

/**
 * Finds the listen address in an httpd.ts argument vector, mapping wildcard
 * hosts to the loopback address the check can connect to.
 *
 * @example
 * ```ts
 * import { parseTarget } from "./healthcheck.ts";
 * import assert from "node:assert/strict";
 * const t = parseTarget(["deno", "run", "/app/httpd.ts", "-p", "9000"]);
 * assert.deepEqual(t, { hostname: "127.0.0.1", port: 9000 });
 * ```
 */
export function parseTarget(argv: readonly string[]): Target {
  // Only look after the script so deno's own flags are not mistaken for ours.
  const script = argv.findIndex((a) => a.endsWith("httpd.ts"));
  const args = script >= 0 ? argv.slice(script + 1) : argv;
  let host = "0.0.0.0";
  let port = 8080;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [name, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    if (name === "-p" || name === "--port") port = Number(value());
    else if (name === "--host") host = value() ?? host;
    else if (/^-p\d+$/.test(name)) port = Number(name.slice(2));
  }
  const hostname = host === "0.0.0.0" || host === ""
    ? "127.0.0.1"
    : host === "::" || host === "[::]"
    ? "::1"
    : host.replace(/^\[|\]$/g, "");
  return { hostname, port };
}

function readTarget(explicit: string | undefined): Target {
  if (explicit) {
    const colon = explicit.lastIndexOf(":");
    if (colon <= 0) throw new Error(`expected HOST:PORT, got ${explicit}`);
    return {
      hostname: explicit.slice(0, colon).replace(/^\[|\]$/g, ""),
      port: Number(explicit.slice(colon + 1)),
    };
  }
  const cmdline = Deno.readTextFileSync("/proc/1/cmdline");
  return parseTarget(cmdline.split("\0").filter((a) => a !== ""));
}

/** Sends `HEAD /` and resolves with the status line of the answer. */
async function probe(target: Target): Promise<string> {
  const conn = await Deno.connect(target);
  try {
    const host = formatAuthority(target.hostname, target.port);
    const request = `HEAD / HTTP/1.1\r\nHost: ${host}\r\n` +
      `User-Agent: httpd-healthcheck\r\nConnection: close\r\n\r\n`;
    const bytes = new TextEncoder().encode(request);
    for (let at = 0; at < bytes.length;) {
      at += await conn.write(bytes.subarray(at));
    }
    const buffer = new Uint8Array(512);
    let text = "";
    // The status line fits in one read almost always; loop for the rare split.
    while (!text.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.split("\r\n")[0];
  } finally {
    conn.close();
  }
}

async function main(): Promise<number> {
  const timer = setTimeout(() => {
    console.error("Health check failed: no answer within 3 s");
    Deno.exit(1);
  }, DEADLINE_MS);
  try {
    const target = readTarget(Deno.args[0]);
    if (!Number.isInteger(target.port) || target.port <= 0) {
      console.error("Health check failed: cannot tell the server's port");
      return 1;
    }
    const status = await probe(target);
    if (/^HTTP\/1\.[01] [1-4]\d\d /.test(status)) return 0;
    console.error(`Health check failed: unexpected answer ${status || "none"}`);
    return 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`Health check failed: ${message}`);
    return 1;
  } finally {
    clearTimeout(timer);
  }
}

if (import.meta.main) Deno.exit(await main());
