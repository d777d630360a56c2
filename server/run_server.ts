/**
 * One serving process from start to exit: `-w 1`, or one worker of a
 * supervisor. Signals, the pid file, the link to a supervisor and the
 * process's own lines on stderr live here, so that the command line only
 * parses flags and picks between this and the supervisor.
 *
 * @module
 */

import { guardInspector } from "./_inspector_guard.ts";
import type { Config } from "./config.ts";
import { errorMessage } from "./error_report.ts";
import { realRoot } from "./_root.ts";
import { formatAuthority } from "./_authority.ts";
import { LineWriter } from "./line_sink.ts";
import { serve, type ServeOptions, type Server } from "./listen.ts";
import { removePidFile, writePidFile } from "./pid_file.ts";
import {
  HEARTBEAT_MARK,
  linkToSupervisor,
  RETIRE_SIGNAL,
} from "./worker_link.ts";

/** How long a process that must exit at once gives its last line. */
const EXIT_DRAIN_MS = 100;

/** How long the last lines may take to be written at exit. */
const OUTPUT_DRAIN_MS = 1000;

/**
 * Serves `config` in this process until a stop signal (or the supervisor)
 * ends it; resolves to the process exit code.
 *
 * Everything the process says on stderr goes through one
 * {@linkcode LineWriter}: a stderr nobody reads (a full pipe, a stalled
 * log shipper) costs lines, never the serving, and holds the exit for at
 * most a second.
 *
 * @example
 * ```ts ignore
 * import { parseCommandLine } from "./config.ts";
 * import { runServer } from "./run_server.ts";
 * const command = parseCommandLine(["-r", "www", "-p", "8080"]);
 * if (command.kind === "serve") Deno.exit(await runServer(command.config));
 * ```
 */
export async function runServer(config: Config): Promise<number> {
  const stderr = new LineWriter(Deno.stderr);
  const say = (line: string) => void stderr.write(`${line}\n`);
  try {
    return await serveUntilStopped(config, stderr, say);
  } finally {
    await stderr.drained(OUTPUT_DRAIN_MS);
  }
}

/**
 * What the listener is told for `config`, with the root's real path
 * `root`: the flags in the units `serve` takes.
 */
export function serveOptions(config: Config, root: string): ServeOptions {
  return {
    root,
    hostname: config.hostname,
    port: config.port,
    reusePort: config.workerId !== undefined,
    dotfiles: config.dotfiles,
    cacheControl: config.cacheControl,
    accessLog: !config.quiet,
    headerTimeout: config.headerTimeout,
    idleTimeout: config.idleTimeout,
    maxConnections: config.maxConnections,
    cacheBytes: config.cacheSize * 2 ** 20,
  };
}

async function serveUntilStopped(
  config: Config,
  stderr: LineWriter,
  say: (line: string) => void,
): Promise<number> {
  const worker = config.workerId !== undefined;
  // The root's real path must be readable too (a symlinked root under a
  // permission for the link alone): said as such, not as a listen failure.
  let root: string;
  try {
    root = realRoot(config.root);
  } catch (error) {
    say(`httpd.ts: ${errorMessage(error)}`);
    return 1;
  }

  let server: Server;
  try {
    server = serve({ ...serveOptions(config, root), stderr });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : errorMessage(error);
    const address = formatAuthority(config.hostname, config.port);
    say(`httpd.ts: Cannot listen on ${address}: ${why}`);
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
      say(
        "httpd.ts: SIGHUP ignored: a reload restarts workers, which needs -w 2 or more",
      );
    }
  };
  const pidFile = worker ? undefined : config.pidFile;
  /** The pid file once written: ours to remove. */
  let written: string | undefined;
  // SIGUSR1 opens Deno's debugger, which the guard closes again (or exits
  // at once when it may not: a worker is then replaced); SIGUSR2 would
  // kill the process by default, cutting responses short and leaving its
  // pid file behind. (A worker's SIGUSR2 is the retire signal, below.)
  const exitNow = () => {
    if (written !== undefined) removePidFile(written);
    void stderr.drained(EXIT_DRAIN_MS).then(() => Deno.exit(1));
  };
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGINT", stop],
    ["SIGTERM", stop],
    ["SIGHUP", hangUp],
    ["SIGUSR1", guardInspector(say, exitNow)],
  ];
  if (!worker) {
    listeners.push([
      "SIGUSR2",
      () => say("httpd.ts: SIGUSR2 ignored (it means nothing to httpd.ts)"),
    ]);
  }
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
  try {
    if (pidFile !== undefined) {
      const failure = await writePidFile(pidFile);
      if (failure !== undefined) {
        say(`httpd.ts: ${failure}`);
        await server.shutdown();
        return 1;
      }
      written = pidFile;
    }
    const { hostname, port } = server.addr;
    if (worker) {
      say(`worker ${config.workerId} ready pid=${Deno.pid} ${HEARTBEAT_MARK}`);
      linkToSupervisor(() => server.shutdown(), say);
    } else {
      const address = formatAuthority(hostname, port);
      say(`httpd.ts: listening on http://${address} root=${root} workers=1`);
    }
    await server.finished;
    return 0;
  } finally {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
    if (written !== undefined) removePidFile(written);
  }
}
