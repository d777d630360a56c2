/**
 * The httpd.ts command line: `httpd.ts -r ROOT -p PORT --host H -w N`.
 *
 * @module
 */

import { realRoot } from "./server/_root.ts";
import {
  type Config,
  formatWorkerFlags,
  parseCommandLine,
  USAGE,
  UsageError,
} from "./server/config.ts";
import { errorMessage } from "./server/error_report.ts";
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
    let options: SupervisorOptions;
    try {
      options = supervisorOptions(config);
    } catch (error) {
      console.error(`httpd.ts: ${errorMessage(error)}`);
      return 1;
    }
    return await runSupervisor(options);
  }

  return await runServer(config);
}

/**
 * What the supervisor of `-w N` is told: the workers' flags and its own.
 * Throws one line when the root's real path cannot be had.
 */
export function supervisorOptions(config: Config): SupervisorOptions {
  return {
    workers: config.workers,
    workerArgs: formatWorkerFlags(config),
    root: realRoot(config.root),
    rootPath: config.root,
    hostname: config.hostname,
    port: config.port,
    pidFile: config.pidFile,
    reloadGraceMs: config.reloadGrace * 1000,
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
