/**
 * The httpd.ts command line: `httpd.ts -r ROOT -p PORT --host H -w N`.
 *
 * @module
 */

import {
  type Config,
  parseCommandLine,
  USAGE,
  UsageError,
} from "./server/config.ts";
import { serve, type Server } from "./server/listen.ts";
import { VERSION } from "./server/version.ts";
import { stopWhenSupervisorGone } from "./server/worker_link.ts";
import { runSupervisor } from "./server/workers.ts";

/** Runs the command line; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let config: Config;
  try {
    const command = parseCommandLine(args);
    if (command.kind === "help") {
      console.log(USAGE);
      return 0;
    }
    if (command.kind === "version") {
      console.log(`httpd.ts ${VERSION}`);
      return 0;
    }
    config = command.config;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`httpd.ts: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  if (config.workerId === undefined && config.workers > 1) {
    return await runSupervisor({
      workers: config.workers,
      workerArgs: workerArgs(config),
      root: Deno.realPathSync(config.root),
      hostname: config.hostname,
      port: config.port,
      pidFile: config.pidFile,
    });
  }

  let server: Server;
  try {
    server = serve({
      root: config.root,
      hostname: config.hostname,
      port: config.port,
      reusePort: config.workerId !== undefined,
      dotfiles: config.dotfiles,
      cacheControl: config.cacheControl,
      accessLog: !config.quiet,
      headerTimeout: config.headerTimeout,
      idleTimeout: config.idleTimeout,
      maxConnections: config.maxConnections,
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : error instanceof Error
      ? error.message
      : String(error);
    console.error(
      `httpd.ts: cannot listen on ${config.hostname}:${config.port}: ${why}`,
    );
    return 1;
  }

  const stop = () => server.shutdown();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const { hostname, port } = server.addr;
  if (config.workerId !== undefined) {
    console.error(`worker ${config.workerId} ready pid=${Deno.pid}`);
    stopWhenSupervisorGone(stop);
  } else {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.error(
      `httpd.ts: listening on http://${host}:${port} root=${
        Deno.realPathSync(config.root)
      } workers=1`,
    );
    if (config.pidFile !== undefined) {
      Deno.writeTextFileSync(config.pidFile, `${Deno.pid}\n`);
    }
  }
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (config.workerId === undefined && config.pidFile !== undefined) {
    try {
      Deno.removeSync(config.pidFile);
    } catch {
      // Already gone: nothing to clean.
    }
  }
  return 0;
}

/** The flags a worker needs besides root, port and its id. */
function workerArgs(config: Config): string[] {
  const args = [
    "--host",
    config.hostname,
    "--header-timeout",
    String(config.headerTimeout),
    "--idle-timeout",
    String(config.idleTimeout),
    "--max-connections",
    String(config.maxConnections),
  ];
  if (config.quiet) args.push("--quiet");
  if (config.dotfiles) args.push("--dotfiles");
  if (config.cacheControl !== undefined) {
    args.push("--cache-control", config.cacheControl);
  }
  return args;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
