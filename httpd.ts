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
import { runServer } from "./server/run_server.ts";
import { VERSION } from "./server/version.ts";
import { runSupervisor, type SupervisorOptions } from "./server/workers.ts";

/** Runs the command line; resolves to the process exit code. */
async function main(args: string[]): Promise<number> {
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
    // A worker's supervisor passes on its last error: the usage would bury it.
    const worker = args.some((arg) =>
      arg === "--worker-id" || arg.startsWith("--worker-id=")
    );
    console.error(`httpd.ts: ${error.message}${worker ? "" : `\n\n${USAGE}`}`);
    return 2;
  }

  if (config.workerId === undefined && config.workers > 1) {
    return await runSupervisor(supervisorOptions(config));
  }

  return await runServer(config);
}

/** What the supervisor of `-w N` is told: the workers' flags and its own. */
export function supervisorOptions(config: Config): SupervisorOptions {
  return {
    workers: config.workers,
    workerArgs: workerArgs(config),
    root: Deno.realPathSync(config.root),
    rootPath: config.root,
    hostname: config.hostname,
    port: config.port,
    pidFile: config.pidFile,
    reloadGraceMs: config.reloadGrace * 1000,
  };
}

/** The flags a worker needs besides root, port and its id. */
function workerArgs(config: Config): string[] {
  // One argument each, --flag=value: a value starting with "-" (a
  // Cache-Control extension, say) must not be taken for a flag.
  const args = [
    `--host=${config.hostname}`,
    `--header-timeout=${config.headerTimeout}`,
    `--idle-timeout=${config.idleTimeout}`,
    `--reload-grace=${config.reloadGrace}`,
    `--max-connections=${config.maxConnections}`,
    `--cache-size=${config.cacheSize}`,
  ];
  if (config.quiet) args.push("--quiet");
  if (config.dotfiles) args.push("--dotfiles");
  if (config.cacheControl !== undefined) {
    args.push(`--cache-control=${config.cacheControl}`);
  }
  return args;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
