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
import { errorMessage } from "./server/error_report.ts";
import { serve, type Server } from "./server/listen.ts";
import { removePidFile, writePidFile } from "./server/pid_file.ts";
import { VERSION } from "./server/version.ts";
import {
  HEARTBEAT_MARK,
  linkToSupervisor,
  RETIRE_SIGNAL,
} from "./server/worker_link.ts";
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
    // A worker's supervisor passes on its last error: the usage would bury it.
    const worker = args.some((arg) => arg.startsWith("--worker-id"));
    console.error(`httpd.ts: ${error.message}${worker ? "" : `\n\n${USAGE}`}`);
    return 2;
  }

  if (config.workerId === undefined && config.workers > 1) {
    return await runSupervisor({
      workers: config.workers,
      workerArgs: workerArgs(config),
      root: Deno.realPathSync(config.root),
      rootPath: config.root,
      hostname: config.hostname,
      port: config.port,
      pidFile: config.pidFile,
      reloadGraceMs: config.reloadGrace * 1000,
    });
  }

  return await runServer(config);
}

/** Serves in this process (`-w 1`, or one worker of a supervisor). */
async function runServer(config: Config): Promise<number> {
  const worker = config.workerId !== undefined;
  // The root's real path must be readable too (a symlinked root under a
  // permission for the link alone): said as such, not as a listen failure.
  let root: string;
  try {
    root = Deno.realPathSync(config.root);
    if (!Deno.statSync(root).isDirectory) throw new Error("not a directory");
  } catch (error) {
    console.error(
      `httpd.ts: Cannot serve ${config.root}: ${errorMessage(error)}`,
    );
    return 1;
  }

  let server: Server;
  try {
    server = serve({
      root,
      hostname: config.hostname,
      port: config.port,
      reusePort: worker,
      dotfiles: config.dotfiles,
      cacheControl: config.cacheControl,
      accessLog: !config.quiet,
      headerTimeout: config.headerTimeout,
      idleTimeout: config.idleTimeout,
      maxConnections: config.maxConnections,
      cacheBytes: config.cacheSize * 2 ** 20,
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : errorMessage(error);
    console.error(
      `httpd.ts: Cannot listen on ${config.hostname}:${config.port}: ${why}`,
    );
    return 1;
  }

  // The first SIGINT or SIGTERM stops gracefully, a second one at once. A
  // worker stops gracefully whatever it gets: Ctrl-C reaches the whole
  // process group, and then the supervisor passes on its own SIGTERM (it
  // answers a second signal itself, with SIGKILL).
  let stops = 0;
  const stop = () =>
    void (worker || stops++ === 0 ? server.shutdown() : server.abort());
  // SIGHUP reloads under a supervisor, which restarts its workers; a
  // single process has nothing to reload, and must not die of it.
  const hangUp = () => {
    if (!worker) {
      console.error(
        "httpd.ts: SIGHUP ignored: a reload restarts workers, which needs -w 2 or more",
      );
    }
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGINT", stop],
    ["SIGTERM", stop],
    ["SIGHUP", hangUp],
  ];
  // Retired after a reload: responses in flight may take their time (a
  // stop signal later still shortens the wait).
  if (worker) {
    listeners.push([
      RETIRE_SIGNAL,
      () => void server.shutdown(config.reloadGrace * 1000),
    ]);
  }
  for (const [signal, listener] of listeners) {
    Deno.addSignalListener(signal, listener);
  }
  const pidFile = worker ? undefined : config.pidFile;
  /** The pid file once written: ours to remove. */
  let written: string | undefined;
  try {
    if (pidFile !== undefined) {
      const failure = await writePidFile(pidFile);
      if (failure !== undefined) {
        console.error(`httpd.ts: ${failure}`);
        await server.shutdown();
        return 1;
      }
      written = pidFile;
    }
    const { hostname, port } = server.addr;
    if (worker) {
      console.error(
        `worker ${config.workerId} ready pid=${Deno.pid} ${HEARTBEAT_MARK}`,
      );
      linkToSupervisor(() => server.shutdown());
    } else {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      console.error(
        `httpd.ts: listening on http://${host}:${port} root=${root} workers=1`,
      );
    }
    await server.finished;
    return 0;
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
    if (written !== undefined) await removePidFile(written);
  }
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
